//! [`Semaphore`] and [`BoundedSemaphore`]: at most N tasks inside.

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
