//! [`Condition`]: a lock and a queue of tasks waiting for a change.

use std::fmt;
use std::ptr;
use std::rc::Rc;

use super::lock::{Lock, LockGuard};
use super::wait_queue::{Parked, WaitQueue};
use crate::aio::error::Cancelled;

/// A condition variable for tasks: a [`Lock`] and a queue of tasks waiting
/// for shared state to change.
///
/// A task takes the lock, checks the state, and if it must wait, calls
/// [`wait`](Self::wait), which releases the lock, pauses until another task
/// calls [`notify`](Self::notify), and takes the lock back. The guard of the
/// lock is passed to `wait` and `notify` as proof that the lock is held.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use concur::aio::{self, Condition};
///
/// let got = aio::run(async {
///     let cond = Rc::new(Condition::new());
///     let items = Rc::new(RefCell::new(Vec::new()));
///     let (c, i) = (cond.clone(), items.clone());
///     let consumer = aio::create_task(async move {
///         let mut guard = c.acquire().await?;
///         c.wait_for(&mut guard, || !i.borrow().is_empty()).await?;
///         Ok::<_, aio::Cancelled>(i.borrow_mut().remove(0))
///     });
///     aio::sleep(std::time::Duration::from_millis(1)).await.unwrap();
///     {
///         let guard = cond.acquire().await.unwrap();
///         items.borrow_mut().push("parcel");
///         cond.notify(&guard, 1);
///     }
///     consumer.await.unwrap()
/// })
/// .unwrap();
/// assert_eq!(got.unwrap(), "parcel");
/// ```
///
/// # Python
///
/// `asyncio.Condition(lock=None)`: [`Condition::new`] or
/// [`Condition::with_lock`].
pub struct Condition {
    lock: Rc<Lock>,
    waiters: WaitQueue,
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl Condition {
    /// Creates a condition with a lock of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Condition::new().is_locked());
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Condition()`.
    pub fn new() -> Condition {
        Condition::with_lock(Rc::new(Lock::new()))
    }

    /// Creates a condition over a lock shared with other code (or other
    /// conditions).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Condition, Lock};
    ///
    /// aio::run(async {
    ///     let lock = Rc::new(Lock::new());
    ///     let cond = Condition::with_lock(lock.clone());
    ///     let _held = lock.acquire().await.unwrap();
    ///     assert!(cond.is_locked()); // one lock, seen from both
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Condition(lock)`.
    pub fn with_lock(lock: Rc<Lock>) -> Condition {
        Condition { lock, waiters: WaitQueue::default() }
    }

    /// Takes the condition's lock, as [`Lock::acquire`].
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task is cancelled before it has the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Condition};
    ///
    /// aio::run(async {
    ///     let cond = Condition::new();
    ///     let _guard = cond.acquire().await?;
    ///     assert!(cond.is_locked());
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As [`Lock::acquire`].
    ///
    /// # Python
    ///
    /// `await cond.acquire()`, `async with cond:`.
    pub async fn acquire(&self) -> Result<LockGuard<'_>, Cancelled> {
        self.lock.acquire().await
    }

    /// Whether the condition's lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Condition::new().is_locked());
    /// ```
    ///
    /// # Python
    ///
    /// `cond.locked()`.
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }

    /// Releases the lock held through `guard`, pauses until notified, then
    /// takes the lock back. `guard` holds the lock again when this returns,
    /// with or without an error.
    ///
    /// A wake-up does not promise the state changed (another task may have
    /// changed it back first, and a cancelled waiter passes its notification
    /// on): check again, or use [`wait_for`](Self::wait_for).
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task was cancelled while it waited or while it
    /// took the lock back; the lock is held again all the same, and a
    /// notification this task may have consumed is passed to another waiter.
    ///
    /// # Panics
    ///
    /// If `guard` is a guard of another lock than the condition's, or its
    /// hold was already released through [`Lock::release`] — as std's
    /// `Condvar` panics when given the guard of another mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Condition};
    ///
    /// aio::run(async {
    ///     let cond = Rc::new(Condition::new());
    ///     let waker = cond.clone();
    ///     aio::create_task(async move {
    ///         let guard = waker.acquire().await.unwrap();
    ///         waker.notify_all(&guard);
    ///     });
    ///     let mut guard = cond.acquire().await?;
    ///     cond.wait(&mut guard).await?; // the lock is free while we wait
    ///     assert!(cond.is_locked()); // and ours again now
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancelling the task is safe: the lock is taken back before the error
    /// returns, as in Python. Dropping the future while it waits (not
    /// cancelling the task) cannot wait for the lock: the lock stays
    /// released and `guard` then holds nothing.
    ///
    /// # Python
    ///
    /// `await cond.wait()`, which raises `RuntimeError` where this panics.
    pub async fn wait(&self, guard: &mut LockGuard<'_>) -> Result<(), Cancelled> {
        self.check(guard, "wait");
        // Python's `except BaseException: self._notify(1)`: whatever ends
        // this wait early, a notification it consumed goes to another task.
        let pass_on = PassOn(&self.waiters);
        guard.lock.unlock();
        let mut cancelled = Parked::new(&self.waiters, None).await.err();
        let retaken = loop {
            // The lock is taken back even when cancelled, as Python's
            // `wait` loops on `acquire`; the last cancellation is returned.
            match guard.lock.acquire().await {
                Ok(retaken) => break retaken,
                Err(again) => cancelled = Some(again),
            }
        };
        guard.hold = retaken.hold;
        std::mem::forget(retaken);
        match cancelled {
            Some(cancelled) => Err(cancelled),
            None => {
                std::mem::forget(pass_on);
                Ok(())
            }
        }
    }

    /// Waits until `predicate` is true: checks it, and [`wait`](Self::wait)s
    /// again while it is false. Returns at once if it is true already.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] as [`wait`](Self::wait); the lock is held again.
    ///
    /// # Panics
    ///
    /// As [`wait`](Self::wait), once it has to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use concur::aio::{self, Condition};
    ///
    /// aio::run(async {
    ///     let cond = Rc::new(Condition::new());
    ///     let count = Rc::new(Cell::new(0));
    ///     for _ in 0..3 {
    ///         let (cond, count) = (cond.clone(), count.clone());
    ///         aio::create_task(async move {
    ///             let guard = cond.acquire().await.unwrap();
    ///             count.set(count.get() + 1);
    ///             cond.notify_all(&guard);
    ///         });
    ///     }
    ///     let mut guard = cond.acquire().await?;
    ///     cond.wait_for(&mut guard, || count.get() == 3).await?;
    ///     assert_eq!(count.get(), 3);
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Python
    ///
    /// `await cond.wait_for(predicate)`; Python returns the predicate's last
    /// value, which here is `true`.
    pub async fn wait_for(
        &self,
        guard: &mut LockGuard<'_>,
        mut predicate: impl FnMut() -> bool,
    ) -> Result<(), Cancelled> {
        while !predicate() {
            self.wait(guard).await?;
        }
        Ok(())
    }

    /// Wakes up to `n` tasks waiting in [`wait`](Self::wait). They return
    /// from it once they have taken the lock back, so after the caller
    /// releases it.
    ///
    /// # Panics
    ///
    /// As [`wait`](Self::wait), if `guard` does not hold the condition's
    /// lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Condition};
    ///
    /// aio::run(async {
    ///     let cond = Rc::new(Condition::new());
    ///     let sleepers: Vec<_> = (0..2)
    ///         .map(|_| {
    ///             let cond = cond.clone();
    ///             aio::create_task(async move {
    ///                 let mut guard = cond.acquire().await?;
    ///                 cond.wait(&mut guard).await
    ///             })
    ///         })
    ///         .collect();
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     let guard = cond.acquire().await.unwrap();
    ///     cond.notify(&guard, 1);
    ///     drop(guard);
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert!(sleepers[0].is_done() && !sleepers[1].is_done()); // one woken, in order
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `cond.notify(n)`, which raises `RuntimeError` where this panics.
    pub fn notify(&self, guard: &LockGuard<'_>, n: usize) {
        self.check(guard, "notify");
        self.waiters.wake_unwoken(n);
    }

    /// Wakes every task waiting in [`wait`](Self::wait).
    ///
    /// # Panics
    ///
    /// As [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Condition};
    ///
    /// aio::run(async {
    ///     let cond = Condition::new();
    ///     let guard = cond.acquire().await.unwrap();
    ///     cond.notify_all(&guard); // nobody waits: nothing happens
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `cond.notify_all()`.
    pub fn notify_all(&self, guard: &LockGuard<'_>) {
        self.notify(guard, usize::MAX);
    }

    /// How many tasks wait in [`wait`](Self::wait) to be notified, counting
    /// those notified that have not run yet (not those taking the lock back).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::aio::Condition::new().waiters(), 0);
    /// ```
    ///
    /// # Python
    ///
    /// `len(cond._waiters)`.
    pub fn waiters(&self) -> usize {
        self.waiters.len()
    }

    fn check(&self, guard: &LockGuard<'_>, call: &str) {
        assert!(
            ptr::eq(guard.lock, &*self.lock),
            "aio::Condition::{call}: the guard is of another lock than the condition's"
        );
        assert!(
            guard.is_live(),
            "aio::Condition::{call}: the guard's hold on the lock was already released with Lock::release"
        );
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").field("locked", &self.is_locked()).field("waiters", &self.waiters()).finish()
    }
}

/// Wakes one more waiter of a condition when dropped.
struct PassOn<'a>(&'a WaitQueue);

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        self.0.wake_unwoken(1);
    }
}
