//! Locks, events, semaphores and conditions for tasks: Python's
//! `asyncio.Lock`, `Event`, `Semaphore`, `BoundedSemaphore` and `Condition`.
//!
//! Tasks of one loop take turns on one thread, so two of them never run at
//! the same instant — but a task that pauses at an `.await` in the middle of
//! an update lets the others run before it finishes. Whenever shared state is
//! read, awaited over, then written, the tasks need the same tools threads
//! do, built to *pause the task* instead of blocking the thread:
//!
//! | need | primitive |
//! |---|---|
//! | one task at a time through a section that awaits | [`Lock`] |
//! | "go" from one task to many | [`Event`] |
//! | at most N tasks inside (N connections, N downloads) | [`Semaphore`] |
//! | the same, refusing a release that was never acquired | [`BoundedSemaphore`] |
//! | sleep until shared state changes, with a lock held around the check | [`Condition`] |
//!
//! Never use [`crate::sync`]'s thread primitives in a task: they block the
//! thread, and with it every task of the loop — the holder of the lock
//! included.
//!
//! # Example
//!
//! Ten tasks add to a total with a read, a pause and a write. Without the
//! lock every task reads 0 and the total ends at 1; with it the total is 10.
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::time::Duration;
//! use concur::aio::{self, Lock};
//!
//! let total = aio::run(async {
//!     let lock = Rc::new(Lock::new());
//!     let total = Rc::new(Cell::new(0));
//!     let tasks = (0..10).map(|_| {
//!         let (lock, total) = (lock.clone(), total.clone());
//!         aio::create_task(async move {
//!             let _turn = lock.acquire().await?; // `async with lock:`
//!             let seen = total.get();
//!             aio::sleep(Duration::from_millis(1)).await?; // others run here
//!             total.set(seen + 1);
//!             Ok::<_, aio::Cancelled>(())
//!         })
//!     });
//!     aio::gather(tasks).await.unwrap();
//!     total.get()
//! })
//! .unwrap();
//! assert_eq!(total, 10);
//! ```
//!
//! # Python
//!
//! | Python `asyncio` | concur |
//! |---|---|
//! | `Lock()`; `async with lock:` | [`Lock::new`]; `let _guard = lock.acquire().await?;` |
//! | `await lock.acquire()` … `lock.release()` | `lock.acquire().await?.forget();` … [`Lock::release`] |
//! | `lock.locked()` | [`Lock::is_locked`] |
//! | `Event()`: `set`, `clear`, `is_set`, `await wait()` | [`Event`]: the same names |
//! | `Semaphore(n)`, `BoundedSemaphore(n)`: `acquire`, `release`, `locked`, `async with` | [`Semaphore`], [`BoundedSemaphore`]: [`acquire`](Semaphore::acquire) gives a [`SemaphoreGuard`] |
//! | `Condition(lock)`: `wait`, `wait_for`, `notify(n)`, `notify_all` | [`Condition`]: the same, each given the [`LockGuard`] that proves the lock is held |
//! | `RuntimeError: Lock is not acquired.` | [`ReleaseError::NotLocked`] |
//! | `ValueError: BoundedSemaphore released too many times` | [`ReleaseError::OverRelease`] |
//! | `CancelledError` at an `await` | [`Cancelled`] |
//!
//! The primitives are not bound to a loop, as Python's are since 3.10: they
//! hold no loop and work under any loop of their thread. They are not
//! `Send`; share one among tasks with an [`Rc`].
//!
//! # Fairness and cancellation
//!
//! Waiters are served first come, first served, as in Python. A release
//! *wakes* the first waiter; the waiter takes the lock (or the permit) when
//! it runs, and until it has, tasks that come later queue behind it.
//!
//! Every wait is a cancellation point: a task cancelled with
//! [`Task::cancel`](super::Task::cancel) gets [`Cancelled`] from the
//! `acquire` or `wait` it is paused on (or is about to start). A waiter that
//! leaves the queue — cancelled, or its future dropped — never takes a
//! wake-up with it: if the lock or a permit had already been passed to it,
//! it passes it on to the next waiter, as CPython's `locks.py` does. A
//! [`Condition::wait`] that is cancelled still takes its lock back before it
//! returns, and passes on a notification it may have consumed.
//!
//! A waiter whose task was cancelled and has not run yet counts as gone,
//! as a cancelled waiter future does in Python: a release, a permit or a
//! `notify(n)` goes past it to the next waiter in the same turn, and a
//! newcomer takes a free lock or permit whose only waiters are such tasks.
//! If the cancellation is withdrawn ([`Task::uncancel`](super::Task::uncancel))
//! before the task runs, the waiter is still in line: it takes the lock or
//! permit if it is free when it runs, and an event's or condition's waiter
//! returns as woken. (In Python its future stays cancelled and the task
//! gets `CancelledError` regardless.)
//!
//! # Why not `tokio::sync`
//!
//! tokio's `Semaphore` is fair and first-in first-out too, and its acquire
//! gives back a permit it was handed when it is dropped. But it hands a
//! released permit straight to the first waiter, where Python only wakes the
//! waiter and keeps later tasks behind it until it has run. The difference
//! shows: in Python `lock.locked()` is false between a release and the woken
//! task's turn, and a task that releases a semaphore and at once acquires it
//! again goes behind the tasks already woken, where with tokio it would take
//! a spare permit first (CPython's `test_acquire_fifo_order_2` and `_4`
//! check that order; so do this crate's tests). The queue here is therefore
//! written out, and small: the tasks of a loop share one thread, so it is a
//! `VecDeque` in a `RefCell`, with no atomics and no mutex, and a waiter
//! leaves it when its future is dropped. [`Event`] and [`Condition`] use the
//! same queue rather than `tokio::sync::Notify`, so that the four share one
//! wake-up rule.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use super::error::Cancelled;
use super::task::{current_task, take_cancellation, HasHeader};
use crate::sync::ReleaseError;

/// One paused `acquire` or `wait`, as the queue sees it.
struct Waiter {
    /// A release or notification chose this waiter (Python: its future
    /// got a result).
    woken: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// The task that waits, to see a cancellation it has not run to take.
    task: Option<Weak<dyn HasHeader>>,
    /// A wake-up went past this waiter because its task was cancelled.
    passed_over: Cell<bool>,
}

impl Waiter {
    /// Whether the waiting task was cancelled and has not run since
    /// (Python: the waiter's future was cancelled). Such a waiter takes no
    /// wake-up: it leaves the queue when its task runs. Python cancels the
    /// future inside `task.cancel()`; here the task's pending cancellation
    /// is read, to the same effect.
    fn cancelled(&self) -> bool {
        let cancelled = !self.woken.get()
            && self.task.as_ref().and_then(Weak::upgrade).is_some_and(|task| {
                let header = task.header();
                header.is_pending() && !header.is_forwarded()
            });
        if cancelled {
            self.passed_over.set(true);
        }
        cancelled
    }

    fn register(&self, cx: &Context<'_>) {
        let mut waker = self.waker.borrow_mut();
        match &*waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
    }

    /// Marks the waiter woken and hands back its waker, to be woken once the
    /// queue is no longer borrowed.
    fn choose(&self) -> Option<Waker> {
        self.woken.set(true);
        self.waker.borrow_mut().take()
    }
}

/// The waiters of one primitive, first come first served.
#[derive(Default)]
struct WaitQueue(RefCell<VecDeque<Rc<Waiter>>>);

impl WaitQueue {
    fn push(&self, cx: &Context<'_>) -> Rc<Waiter> {
        let waiter = Rc::new(Waiter {
            woken: Cell::new(false),
            waker: RefCell::new(Some(cx.waker().clone())),
            task: current_task().map(|task| task.downgrade()),
            passed_over: Cell::new(false),
        });
        self.0.borrow_mut().push_back(waiter.clone());
        waiter
    }

    fn remove(&self, waiter: &Rc<Waiter>) {
        let mut queue = self.0.borrow_mut();
        // A waiter that leaves is nearly always the first: the scan is short.
        if let Some(at) = queue.iter().position(|queued| Rc::ptr_eq(queued, waiter)) {
            queue.remove(at);
        }
    }

    /// Takes out the first waiter whose task was not cancelled.
    fn pop_first_live(&self) -> Option<Rc<Waiter>> {
        let mut queue = self.0.borrow_mut();
        let at = queue.iter().position(|waiter| !waiter.cancelled())?;
        queue.remove(at)
    }

    /// Whether every waiter's task was cancelled (true when none waits).
    fn all_cancelled(&self) -> bool {
        self.0.borrow().iter().all(|waiter| waiter.cancelled())
    }

    fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// Wakes the first waiter unless it was woken already or its task was
    /// cancelled (Python's `Lock._wake_up_first`: a cancelled first waiter
    /// passes the wake-up on itself when its task runs).
    fn wake_first(&self) {
        let waker = match self.0.borrow().front() {
            Some(first) if !first.woken.get() && !first.cancelled() => first.choose(),
            _ => None,
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes up to `n` waiters not woken yet, in order, passing over those
    /// whose task was cancelled (Python's `Condition._notify`, and
    /// `Event.set` with every waiter).
    fn wake_unwoken(&self, n: usize) {
        let wakers: Vec<Waker> = self
            .0
            .borrow()
            .iter()
            .filter(|waiter| !waiter.woken.get() && !waiter.cancelled())
            .take(n)
            .filter_map(|w| w.choose())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }
}

// ---------------------------------------------------------------- Lock ----

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
    ///     waiter.cancel("");
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

    fn unlock(&self) {
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
    lock: &'a Lock,
    /// Which acquisition of the lock this guard stands for.
    hold: u64,
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
    fn is_live(&self) -> bool {
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

// --------------------------------------------------------------- Event ----

/// A flag tasks wait on: [`wait`](Self::wait) pauses until the flag is set;
/// [`set`](Self::set) wakes every waiting task at once.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use concur::aio::{self, Event};
///
/// let ran = aio::run(async {
///     let start = Rc::new(Event::new());
///     let runners: Vec<_> = (0..3)
///         .map(|n| {
///             let start = start.clone();
///             aio::create_task(async move {
///                 start.wait().await?; // all three wait for the signal
///                 Ok::<_, aio::Cancelled>(n)
///             })
///         })
///         .collect();
///     aio::sleep(std::time::Duration::from_millis(1)).await.unwrap();
///     assert!(runners.iter().all(|r| !r.done()));
///     start.set();
///     aio::gather(runners).await.unwrap()
/// })
/// .unwrap();
/// assert_eq!(ran.into_iter().collect::<Result<Vec<_>, _>>().unwrap(), [0, 1, 2]);
/// ```
///
/// # Python
///
/// `asyncio.Event()`.
#[derive(Default)]
pub struct Event {
    set: Cell<bool>,
    waiters: WaitQueue,
}

impl Event {
    /// Creates an event whose flag is not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Event::new().is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Event()`.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the flag and wakes every task waiting. Tasks that call
    /// [`wait`](Self::wait) while it is set do not pause.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::aio::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `event.set()`.
    pub fn set(&self) {
        if !self.set.replace(true) {
            self.waiters.wake_unwoken(usize::MAX);
        }
    }

    /// Clears the flag: later calls to [`wait`](Self::wait) pause until the
    /// next [`set`](Self::set). Tasks a `set` already woke still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::aio::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `event.clear()`.
    pub fn clear(&self) {
        self.set.set(false);
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Event::new().is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `event.is_set()`.
    pub fn is_set(&self) -> bool {
        self.set.get()
    }

    /// Pauses the task until the flag is set; returns at once if it is set.
    ///
    /// A task woken by [`set`](Self::set) returns even if the flag was
    /// cleared again before it ran.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task is cancelled while it waits (or before it
    /// starts to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Event};
    ///
    /// aio::run(async {
    ///     let ready = Rc::new(Event::new());
    ///     let setter = ready.clone();
    ///     aio::running_loop().unwrap().call_soon(move || setter.set());
    ///     ready.wait().await?;
    ///     assert!(ready.is_set());
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a cancelled or dropped `wait` leaves the queue and takes
    /// nothing from the other waiters.
    ///
    /// # Python
    ///
    /// `await event.wait()`, which returns `True`; here `Ok(())`.
    pub async fn wait(&self) -> Result<(), Cancelled> {
        Parked { queue: &self.waiters, unless: Some(&self.set), waiter: None }.await
    }

    /// How many tasks wait in [`wait`](Self::wait), counting those a `set`
    /// woke that have not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Event};
    ///
    /// aio::run(async {
    ///     let event = Rc::new(Event::new());
    ///     let other = event.clone();
    ///     let waiter = aio::create_task(async move { other.wait().await });
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(event.waiters(), 1);
    ///     event.set();
    ///     waiter.await.unwrap().unwrap();
    ///     assert_eq!(event.waiters(), 0);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `len(event._waiters)`, shown by `repr(event)` as `waiters:N`.
    pub fn waiters(&self) -> usize {
        self.waiters.len()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("set", &self.is_set()).field("waiters", &self.waiters()).finish()
    }
}

// ----------------------------------------------------------- Semaphore ----

/// A counter of permits for tasks: [`acquire`](Self::acquire) takes one,
/// pausing while none is free; releasing gives one back.
///
/// Use it to let at most N tasks into a section at once — N requests to a
/// server in flight. Any task may [`release`](Self::release), and nothing
/// checks it acquired first; [`BoundedSemaphore`] does.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use concur::aio::{self, Semaphore};
///
/// let most = aio::run(async {
///     let slots = Rc::new(Semaphore::new(2));
///     let (inside, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
///     let fetches = (0..6).map(|_| {
///         let (slots, inside, most) = (slots.clone(), inside.clone(), most.clone());
///         aio::create_task(async move {
///             let _permit = slots.acquire().await?;
///             inside.set(inside.get() + 1);
///             most.set(most.get().max(inside.get()));
///             aio::sleep(Duration::from_millis(2)).await?;
///             inside.set(inside.get() - 1);
///             Ok::<_, aio::Cancelled>(())
///         })
///     });
///     aio::gather(fetches).await.unwrap();
///     most.get()
/// })
/// .unwrap();
/// assert_eq!(most, 2);
/// ```
///
/// # Python
///
/// `asyncio.Semaphore(value)`; `async with sem:` is `let _permit =
/// sem.acquire().await?;`.
pub struct Semaphore {
    /// Permits free now (Python's `_value`).
    value: Cell<usize>,
    /// Waiters woken with a permit that have not run yet (Python's
    /// `_wakeups`); while there are any, newcomers queue.
    wakeups: Cell<usize>,
    /// Waiters not woken yet; a woken waiter leaves the queue at once.
    waiters: WaitQueue,
    /// For a `BoundedSemaphore`: the value a release may not go beyond.
    bound: Option<usize>,
}

impl Semaphore {
    /// Creates a semaphore with `value` free permits (zero is allowed: every
    /// acquire then waits for a release).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::aio::Semaphore::new(3);
    /// assert_eq!(sem.value(), 3);
    /// assert!(concur::aio::Semaphore::new(0).is_locked());
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Semaphore(value)`; a negative value, Python's `ValueError`,
    /// cannot be written here.
    pub fn new(value: usize) -> Semaphore {
        Semaphore { value: Cell::new(value), wakeups: Cell::new(0), waiters: WaitQueue::default(), bound: None }
    }

    /// Takes a permit, pausing the task until one is free; returns a guard
    /// that gives it back when dropped.
    ///
    /// While tasks wait, or tasks were woken and have not run yet, a newcomer
    /// queues behind them even if a permit is free: permits go first come,
    /// first served.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task is cancelled before it has a permit (a
    /// cancellation already pending when `acquire` starts counts too).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Semaphore};
    ///
    /// aio::run(async {
    ///     let sem = Semaphore::new(1);
    ///     let permit = sem.acquire().await?;
    ///     assert!(sem.is_locked());
    ///     drop(permit);
    ///     assert_eq!(sem.value(), 1);
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a cancelled or dropped `acquire` leaves the queue, and if
    /// a permit had been passed to it, gives it to the next waiter. It loses
    /// its place in line.
    ///
    /// # Python
    ///
    /// `await sem.acquire()`, `async with sem:`; `forget` the guard for an
    /// acquire whose release comes later. In Python an acquire that need
    /// not wait does not pause; here every `acquire` is a cancellation point.
    pub async fn acquire(&self) -> Result<SemaphoreGuard<'_>, Cancelled> {
        SemaphoreAcquire { sem: self, waiter: None }.await
    }

    /// Gives a permit back and wakes the first waiter, if any.
    ///
    /// # Panics
    ///
    /// If the count of free permits would pass `usize::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::aio::Semaphore::new(0);
    /// sem.release(); // any task may add a permit
    /// assert_eq!(sem.value(), 1);
    /// ```
    ///
    /// # Python
    ///
    /// `sem.release()`.
    pub fn release(&self) {
        self.give_back();
    }

    /// Whether an [`acquire`](Self::acquire) now would wait: no permit is
    /// free, or tasks wait or were woken and have not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Semaphore};
    ///
    /// aio::run(async {
    ///     let sem = Semaphore::new(1);
    ///     assert!(!sem.is_locked());
    ///     let _permit = sem.acquire().await.unwrap();
    ///     assert!(sem.is_locked());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `sem.locked()`.
    pub fn is_locked(&self) -> bool {
        self.value.get() == 0 || self.wakeups.get() > 0 || !self.waiters.all_cancelled()
    }

    /// How many permits are free now. A permit passed to a woken task that
    /// has not run yet is not free.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Semaphore};
    ///
    /// aio::run(async {
    ///     let sem = Semaphore::new(3);
    ///     let _one = sem.acquire().await.unwrap();
    ///     assert_eq!(sem.value(), 2);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `sem._value`, shown by `repr(sem)` as `value:N`.
    pub fn value(&self) -> usize {
        self.value.get()
    }

    /// How many tasks wait in [`acquire`](Self::acquire), counting those
    /// woken with a permit that have not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Semaphore};
    ///
    /// aio::run(async {
    ///     let sem = Rc::new(Semaphore::new(0));
    ///     let other = sem.clone();
    ///     let waiter = aio::create_task(async move { other.acquire().await.map(|p| p.forget()) });
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(sem.waiters(), 1);
    ///     sem.release();
    ///     waiter.await.unwrap().unwrap();
    ///     assert_eq!(sem.waiters(), 0);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `len(sem._waiters) + sem._wakeups`.
    pub fn waiters(&self) -> usize {
        self.waiters.len() + self.wakeups.get()
    }

    fn bounded(value: usize) -> Semaphore {
        Semaphore { bound: Some(value), ..Semaphore::new(value) }
    }

    /// Returns a permit, unless that would pass the bound.
    fn give_back(&self) -> bool {
        let value = self.value.get();
        if self.bound.is_some_and(|bound| value >= bound) {
            return false;
        }
        self.value.set(value.checked_add(1).expect("aio::Semaphore: more than usize::MAX permits released"));
        self.wake_next();
        true
    }

    /// Passes a free permit to the first waiter (Python's `_wake_up_next`).
    fn wake_next(&self) -> bool {
        if self.value.get() == 0 {
            return false;
        }
        let Some(waiter) = self.waiters.pop_first_live() else { return false };
        self.value.set(self.value.get() - 1);
        self.wakeups.set(self.wakeups.get() + 1);
        if let Some(waker) = waiter.choose() {
            waker.wake();
        }
        true
    }

    /// Wakes as many waiters as there are free permits: waiters may have
    /// queued behind a woken task only because of the first-come rule.
    fn wake_spare(&self) {
        while self.wake_next() {}
    }

    fn permit(&self) -> SemaphoreGuard<'_> {
        SemaphoreGuard { sem: self }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Semaphore");
        out.field("value", &self.value()).field("locked", &self.is_locked()).field("waiters", &self.waiters());
        if let Some(bound) = self.bound {
            out.field("bound", &bound);
        }
        out.finish()
    }
}

/// The future inside [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
struct SemaphoreAcquire<'a> {
    sem: &'a Semaphore,
    waiter: Option<Rc<Waiter>>,
}

impl SemaphoreAcquire<'_> {
    /// Leaves without a permit (Python's `except CancelledError` and
    /// `finally` in `Semaphore.acquire`).
    fn leave(&mut self) {
        let Some(waiter) = self.waiter.take() else { return };
        let sem = self.sem;
        if waiter.woken.get() {
            // A permit was passed to this waiter: put it back for the next.
            sem.wakeups.set(sem.wakeups.get() - 1);
            sem.value.set(sem.value.get() + 1);
        } else {
            sem.waiters.remove(&waiter);
        }
        sem.wake_spare();
    }
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = Result<SemaphoreGuard<'a>, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let sem = this.sem;
        if let Some(cancelled) = take_cancellation() {
            this.leave();
            return Poll::Ready(Err(cancelled));
        }
        match &this.waiter {
            None if !sem.is_locked() => {
                sem.value.set(sem.value.get() - 1);
                Poll::Ready(Ok(sem.permit()))
            }
            None => {
                this.waiter = Some(sem.waiters.push(cx));
                Poll::Pending
            }
            Some(waiter) => {
                if !waiter.woken.get() {
                    // A release may have gone past this waiter while its
                    // task was cancelled, and the cancellation was withdrawn
                    // since (`uncancel`): free permits go to those in line.
                    sem.wake_spare();
                }
                if !waiter.woken.get() {
                    waiter.register(cx);
                    return Poll::Pending;
                }
                this.waiter = None;
                sem.wakeups.set(sem.wakeups.get() - 1);
                sem.wake_spare();
                Poll::Ready(Ok(sem.permit()))
            }
        }
    }
}

impl Drop for SemaphoreAcquire<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives
/// the permit back.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, Semaphore};
///
/// aio::run(async {
///     let sem = Semaphore::new(2);
///     let permit = sem.acquire().await.unwrap();
///     assert_eq!(sem.value(), 1);
///     drop(permit);
///     assert_eq!(sem.value(), 2);
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// The body of `async with sem:`; dropping the guard is leaving the block.
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    sem: &'a Semaphore,
}

impl SemaphoreGuard<'_> {
    /// Keeps the permit taken without the guard; give it back later with
    /// `release`, from this task or any other.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Semaphore};
    ///
    /// aio::run(async {
    ///     let sem = Semaphore::new(1);
    ///     sem.acquire().await.unwrap().forget();
    ///     assert_eq!(sem.value(), 0);
    ///     sem.release();
    ///     assert_eq!(sem.value(), 1);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `await sem.acquire()` outside `async with`, whose `release()` comes
    /// later.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // A bounded semaphore refuses only if releases without an acquire
        // already filled it: this permit was given back by one of those.
        self.sem.give_back();
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").field("semaphore", self.sem).finish()
    }
}

/// A [`Semaphore`] that refuses a release that would take it above its
/// initial value: a release without an acquire, a bug the plain semaphore
/// hides by growing.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, BoundedSemaphore};
/// use concur::sync::ReleaseError;
///
/// aio::run(async {
///     let pool = BoundedSemaphore::new(2);
///     pool.acquire().await.unwrap().forget();
///     pool.release().unwrap();
///     assert!(matches!(pool.release(), Err(ReleaseError::OverRelease { initial: 2, .. })));
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `asyncio.BoundedSemaphore(value)`.
pub struct BoundedSemaphore {
    sem: Semaphore,
}

impl BoundedSemaphore {
    /// Creates a semaphore with `value` free permits, which is also the most
    /// it may hold.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::aio::BoundedSemaphore::new(4).value(), 4);
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.BoundedSemaphore(value)`.
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore { sem: Semaphore::bounded(value) }
    }

    /// Takes a permit, pausing until one is free, as
    /// [`Semaphore::acquire`].
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task is cancelled before it has a permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, BoundedSemaphore};
    ///
    /// aio::run(async {
    ///     let sem = BoundedSemaphore::new(1);
    ///     let _permit = sem.acquire().await?;
    ///     assert!(sem.is_locked());
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As [`Semaphore::acquire`]: cancel-safe, and a permit passed to a
    /// cancelled waiter goes to the next.
    ///
    /// # Python
    ///
    /// `await sem.acquire()`, `async with sem:`.
    pub async fn acquire(&self) -> Result<SemaphoreGuard<'_>, Cancelled> {
        self.sem.acquire().await
    }

    /// Gives a permit back and wakes the first waiter, if any.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::OverRelease`] if every permit is already back (the
    /// value equals the initial value); nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::ReleaseError;
    ///
    /// let sem = concur::aio::BoundedSemaphore::new(1);
    /// let err = sem.release().unwrap_err(); // nothing was acquired
    /// assert!(matches!(err, ReleaseError::OverRelease { initial: 1, .. }));
    /// ```
    ///
    /// # Python
    ///
    /// `sem.release()`, which raises `ValueError` when released too many
    /// times.
    pub fn release(&self) -> Result<(), ReleaseError> {
        if self.sem.give_back() {
            return Ok(());
        }
        Err(ReleaseError::OverRelease {
            call: "aio::BoundedSemaphore::release",
            object: format!("aio::BoundedSemaphore at {:p}", self),
            initial: self.sem.bound.unwrap_or_default(),
        })
    }

    /// Whether an acquire now would wait, as [`Semaphore::is_locked`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(concur::aio::BoundedSemaphore::new(0).is_locked());
    /// ```
    ///
    /// # Python
    ///
    /// `sem.locked()`.
    pub fn is_locked(&self) -> bool {
        self.sem.is_locked()
    }

    /// How many permits are free now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::aio::BoundedSemaphore::new(2).value(), 2);
    /// ```
    ///
    /// # Python
    ///
    /// `sem._value`.
    pub fn value(&self) -> usize {
        self.sem.value()
    }

    /// How many tasks wait in [`acquire`](Self::acquire), as
    /// [`Semaphore::waiters`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::aio::BoundedSemaphore::new(1).waiters(), 0);
    /// ```
    ///
    /// # Python
    ///
    /// `len(sem._waiters) + sem._wakeups`.
    pub fn waiters(&self) -> usize {
        self.sem.waiters()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.sem, f)
    }
}

// ----------------------------------------------------------- Condition ----

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
        let mut cancelled = Parked { queue: &self.waiters, unless: None, waiter: None }.await.err();
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
    ///     assert!(sleepers[0].done() && !sleepers[1].done()); // one woken, in order
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

/// A task parked in a queue until a `set` or `notify` wakes it: the future
/// inside [`Event::wait`] and [`Condition::wait`].
struct Parked<'a> {
    queue: &'a WaitQueue,
    /// A flag that, when set at the start, makes the wait return at once
    /// (the event's).
    unless: Option<&'a Cell<bool>>,
    waiter: Option<Rc<Waiter>>,
}

impl Parked<'_> {
    fn leave(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.queue.remove(&waiter);
        }
    }
}

impl Future for Parked<'_> {
    type Output = Result<(), Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(cancelled) = take_cancellation() {
            this.leave();
            return Poll::Ready(Err(cancelled));
        }
        match &this.waiter {
            None if this.unless.is_some_and(Cell::get) => Poll::Ready(Ok(())),
            None => {
                this.waiter = Some(this.queue.push(cx));
                Poll::Pending
            }
            // Woken; or passed over by a wake-up while its task was
            // cancelled, the cancellation withdrawn since (`uncancel`): that
            // wake-up is taken as this waiter's, so it is never missed (for
            // a condition, a spurious wake-up, which its protocol allows).
            Some(waiter) if waiter.woken.get() || waiter.passed_over.get() => {
                this.leave();
                Poll::Ready(Ok(()))
            }
            Some(waiter) => {
                waiter.register(cx);
                Poll::Pending
            }
        }
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}
