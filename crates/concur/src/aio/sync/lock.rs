//! [`Lock`]: one task at a time.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::wait_queue::{WaitQueue, Waiter};
use crate::aio::error::Cancelled;
use crate::aio::header::take_cancellation;
use crate::sync::ReleaseError;

/// A lock for tasks: one task at a time holds it; the others pause in
/// [`acquire`](Self::acquire) until it is free, and get it in the order they
/// asked.
///
/// The lock has no owner, as in Python: any task may
/// [`release`](Self::release) it. Most code holds it for a block through the
/// [`LockGuard`] `acquire` returns, which releases it when dropped — Rust's
/// `async with lock:`.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use concur::aio::{self, Lock};
///
/// let log = aio::run(async {
///     let lock = Rc::new(Lock::new());
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let writers = ["a", "b"].map(|name| {
///         let (lock, log) = (lock.clone(), log.clone());
///         aio::create_task(async move {
///             let _turn = lock.acquire().await?;
///             log.borrow_mut().push(format!("{name} starts"));
///             aio::sleep(Duration::from_millis(2)).await?;
///             log.borrow_mut().push(format!("{name} ends"));
///             Ok::<_, aio::Cancelled>(())
///         })
///     });
///     aio::gather(writers).await.unwrap();
///     log.take()
/// })
/// .unwrap();
/// assert_eq!(log, ["a starts", "a ends", "b starts", "b ends"]); // never interleaved
/// ```
///
/// # Python
///
/// `asyncio.Lock()`. `async with lock:` is `let _guard =
/// lock.acquire().await?;`; `await lock.acquire()` without a block is
/// `lock.acquire().await?.forget()`, to be paired with
/// [`release`](Self::release).
#[derive(Default)]
pub struct Lock {
    locked: Cell<bool>,
    /// Counts acquisitions, so that a guard can tell its own hold from a
    /// later one after an explicit `release`.
    holds: Cell<u64>,
    waiters: WaitQueue,
}

impl Lock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Lock::new().is_locked());
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Lock()`.
    pub fn new() -> Lock {
        Lock::default()
    }

    /// Takes the lock, pausing the task until it is free; returns a guard
    /// that releases it when dropped.
    ///
    /// A free lock nobody waits for is taken at once. Otherwise the task
    /// queues, and tasks get the lock in the order they asked for it.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task is cancelled before it has the lock (a
    /// cancellation already pending when `acquire` starts counts too); the
    /// lock is then not held.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Lock};
    ///
    /// aio::run(async {
    ///     let lock = Lock::new();
    ///     {
    ///         let _guard = lock.acquire().await?;
    ///         assert!(lock.is_locked());
    ///     }
    ///     assert!(!lock.is_locked()); // the guard released it
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a cancelled or dropped `acquire` leaves the queue, and if
    /// the lock had been passed to it, passes it to the next waiter. It loses
    /// its place in line.
    ///
    /// # Python
    ///
    /// `await lock.acquire()`, `async with lock:`. In Python an acquire of a
    /// free lock does not pause, so a pending cancellation waits for the
    /// task's next await; here every `acquire` is a cancellation point.
    pub async fn acquire(&self) -> Result<LockGuard<'_>, Cancelled> {
        LockAcquire { lock: self, waiter: None }.await
    }

    /// Releases the lock, whoever took it, and wakes the first waiter.
    ///
    /// Use it with [`LockGuard::forget`], for a lock taken in one place and
    /// released in another (another task, a callback).
    ///
    /// # Errors
    ///
    /// [`ReleaseError::NotLocked`] if the lock is not locked; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Lock};
    /// use concur::sync::ReleaseError;
    ///
    /// aio::run(async {
    ///     let lock = Lock::new();
    ///     lock.acquire().await.unwrap().forget(); // held, with no guard
    ///     assert!(lock.is_locked());
    ///     lock.release().unwrap();
    ///     assert!(matches!(lock.release(), Err(ReleaseError::NotLocked { .. })));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `lock.release()`, which raises `RuntimeError` on an unlocked lock.
    pub fn release(&self) -> Result<(), ReleaseError> {
        if !self.locked.get() {
            return Err(ReleaseError::NotLocked {
                call: "aio::Lock::release",
                object: format!("aio::Lock at {self:p}"),
            });
        }
        self.unlock();
        Ok(())
    }

    /// Whether a task holds the lock now.
    ///
    /// Between a release and the turn of the task it woke, the lock reads
    /// unlocked, as in Python — yet a task that asks in between queues
    /// behind the woken one.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Lock};
    ///
    /// aio::run(async {
    ///     let lock = Lock::new();
    ///     let guard = lock.acquire().await.unwrap();
    ///     assert!(lock.is_locked());
    ///     drop(guard);
    ///     assert!(!lock.is_locked());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `lock.locked()`.
    pub fn is_locked(&self) -> bool {
        self.locked.get()
    }

    /// How many tasks wait in [`acquire`](Self::acquire), counting one woken
    /// by a release that has not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Lock};
    ///
    /// aio::run(async {
    ///     let lock = Rc::new(Lock::new());
    ///     let _held = lock.acquire().await.unwrap();
    ///     let other = lock.clone();
    ///     let waiter = aio::create_task(async move { other.acquire().await.map(drop) });
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(lock.waiters(), 1);
    ///     waiter.cancel();
    ///     assert!(waiter.await.is_err());
    ///     assert_eq!(lock.waiters(), 0); // the cancelled waiter left the queue
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `len(lock._waiters)`, shown by `repr(lock)` as `waiters:N`.
    pub fn waiters(&self) -> usize {
        self.waiters.len()
    }

    fn take(&self) -> LockGuard<'_> {
        self.locked.set(true);
        let hold = self.holds.get() + 1;
        self.holds.set(hold);
        LockGuard { lock: self, hold }
    }

    pub(super) fn unlock(&self) {
        self.locked.set(false);
        self.waiters.wake_first();
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").field("locked", &self.is_locked()).field("waiters", &self.waiters()).finish()
    }
}

/// The future inside [`Lock::acquire`].
struct LockAcquire<'a> {
    lock: &'a Lock,
    waiter: Option<Rc<Waiter>>,
}

impl LockAcquire<'_> {
    /// Leaves the queue without the lock (Python's `except CancelledError`
    /// in `Lock.acquire`).
    fn leave(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.lock.waiters.remove(&waiter);
            // The release may have woken this waiter: if the lock is free,
            // the waiter now first in line must run.
            if !self.lock.locked.get() {
                self.lock.waiters.wake_first();
            }
        }
    }
}

impl<'a> Future for LockAcquire<'a> {
    type Output = Result<LockGuard<'a>, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        if let Some(cancelled) = take_cancellation() {
            this.leave();
            return Poll::Ready(Err(cancelled));
        }
        match &this.waiter {
            // Free, and nobody waits but cancelled tasks that have not run
            // yet to leave: taken at once, as Python's fast path does.
            None if !lock.locked.get() && lock.waiters.all_cancelled() => Poll::Ready(Ok(lock.take())),
            None => {
                this.waiter = Some(lock.waiters.push(cx));
                Poll::Pending
            }
            Some(waiter) => {
                if !waiter.woken.get() && !lock.locked.get() {
                    // A release went past this waiter while its task was
                    // cancelled, and the cancellation was withdrawn since
                    // (`uncancel`): the free lock goes to the first in line.
                    lock.waiters.wake_first();
                }
                if !waiter.woken.get() {
                    waiter.register(cx);
                    return Poll::Pending;
                }
                // Only the first waiter is ever woken, and only while the
                // lock is free; nobody can take it before this waiter runs,
                // because the fast path above passes only cancelled waiters,
                // and a woken one is not.
                debug_assert!(!lock.locked.get(), "a woken waiter found the lock taken");
                lock.waiters.remove(waiter);
                this.waiter = None;
                Poll::Ready(Ok(lock.take()))
            }
        }
    }
}

impl Drop for LockAcquire<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Holds a [`Lock`]; dropping it releases the lock.
///
/// A guard releases only its own hold: if the lock was released with
/// [`Lock::release`] while the guard lived (and maybe taken again by another
/// task), dropping the guard changes nothing.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, Lock};
///
/// aio::run(async {
///     let lock = Lock::new();
///     let guard = lock.acquire().await.unwrap();
///     assert!(lock.is_locked());
///     drop(guard);
///     assert!(!lock.is_locked());
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// The body of `async with lock:`; dropping the guard is leaving the block.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    pub(super) lock: &'a Lock,
    /// Which acquisition of the lock this guard stands for.
    pub(super) hold: u64,
}

impl LockGuard<'_> {
    /// Keeps the lock locked without the guard: it stays held until
    /// [`Lock::release`] is called, by this task or any other.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Lock};
    ///
    /// aio::run(async {
    ///     let lock = Rc::new(Lock::new());
    ///     lock.acquire().await.unwrap().forget();
    ///     let releaser = lock.clone();
    ///     // Another task releases what this one took: the lock has no owner.
    ///     aio::create_task(async move { releaser.release().unwrap() }).await.unwrap();
    ///     assert!(!lock.is_locked());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `await lock.acquire()` outside `async with`, whose `release()` comes
    /// later.
    pub fn forget(self) {
        std::mem::forget(self);
    }

    /// Whether this guard's acquisition still holds the lock.
    pub(super) fn is_live(&self) -> bool {
        self.lock.locked.get() && self.lock.holds.get() == self.hold
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if self.is_live() {
            self.lock.unlock();
        }
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").field("lock", self.lock).field("live", &self.is_live()).finish()
    }
}
