//! `Condition`: Python's `threading.Condition`, waiting for a change another
//! thread announces.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::error::{NotOwner, ReleaseError};
use super::lock::Lock;
use super::rlock::RLock;
use crate::deadline::Deadline;
use crate::loom::sync::{Condvar, Mutex};

mod sealed {
    use std::time::Duration;

    use crate::sync::ReleaseError;

    /// What a `Condition` needs from its lock. Sealed: the crate's own locks
    /// implement it, so `wait` can rely on exact release and restore. The
    /// acquiring calls track their caller so lock-order reports name the
    /// user's code, not this module.
    pub trait Sealed {
        #[track_caller]
        fn take(&self);
        #[track_caller]
        fn try_take(&self) -> bool;
        #[track_caller]
        fn take_timeout(&self, timeout: Duration) -> bool;
        fn give_back(&self) -> Result<(), ReleaseError>;
        /// Whether the caller may wait and notify (Python's `_is_owned`).
        fn is_held(&self) -> bool;
        /// Releases completely; returns what `restore` needs, or `None` when
        /// the lock is not held.
        fn release_save(&self) -> Option<usize>;
        #[track_caller]
        fn restore(&self, saved: usize);
        fn describe(&self) -> String;
    }
}

/// A lock a [`Condition`] can be built on: [`Lock`], [`RLock`], or an `Arc`
/// of either, to share the lock with code outside the condition.
///
/// The trait is sealed; its methods are the crate's own.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use concur::sync::{Condition, Lock};
///
/// let shared = Arc::new(Lock::new());
/// let cond = Condition::with_lock(shared.clone());
/// let _held = cond.guard();
/// assert!(shared.is_locked());
/// ```
pub trait ConditionLock: sealed::Sealed + Send + Sync {}

impl sealed::Sealed for Lock {
    fn take(&self) {
        self.acquire();
    }
    fn try_take(&self) -> bool {
        self.try_acquire()
    }
    fn take_timeout(&self, timeout: Duration) -> bool {
        self.acquire_timeout(timeout)
    }
    fn give_back(&self) -> Result<(), ReleaseError> {
        self.release()
    }
    /// Python's rule for a plain lock: held by someone counts as held, since
    /// a `Lock` has no owner to compare with.
    fn is_held(&self) -> bool {
        self.is_locked()
    }
    fn release_save(&self) -> Option<usize> {
        self.release().ok().map(|()| 1)
    }
    fn restore(&self, _saved: usize) {
        self.acquire();
    }
    fn describe(&self) -> String {
        Lock::describe(self)
    }
}
impl ConditionLock for Lock {}

impl sealed::Sealed for RLock {
    fn take(&self) {
        self.acquire();
    }
    fn try_take(&self) -> bool {
        self.try_acquire()
    }
    fn take_timeout(&self, timeout: Duration) -> bool {
        self.acquire_timeout(timeout)
    }
    fn give_back(&self) -> Result<(), ReleaseError> {
        self.release()
    }
    fn is_held(&self) -> bool {
        self.is_owned()
    }
    fn release_save(&self) -> Option<usize> {
        self.release_all()
    }
    fn restore(&self, saved: usize) {
        self.acquire_restore(saved);
    }
    fn describe(&self) -> String {
        RLock::describe(self)
    }
}
impl ConditionLock for RLock {}

impl<L: ConditionLock> sealed::Sealed for Arc<L> {
    fn take(&self) {
        (**self).take();
    }
    fn try_take(&self) -> bool {
        (**self).try_take()
    }
    fn take_timeout(&self, timeout: Duration) -> bool {
        (**self).take_timeout(timeout)
    }
    fn give_back(&self) -> Result<(), ReleaseError> {
        (**self).give_back()
    }
    fn is_held(&self) -> bool {
        (**self).is_held()
    }
    fn release_save(&self) -> Option<usize> {
        (**self).release_save()
    }
    fn restore(&self, saved: usize) {
        (**self).restore(saved);
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}
impl<L: ConditionLock> ConditionLock for Arc<L> {}

/// What a [`Condition::wait_for`] predicate returns: whether the wait is
/// over, as Python asks whether the predicate's value is true.
///
/// Python's `wait_for` returns the predicate's last value, which need not
/// be a `bool`: a predicate can return the very thing it waited for. Here
/// that is an `Option`: `Some(x)` ends the wait and `wait_for` hands `x`
/// back; `None` keeps waiting. A `bool` predicate works as in Python.
///
/// # Examples
///
/// ```
/// use std::collections::VecDeque;
/// use std::sync::{Arc, Mutex};
/// use concur::sync::Condition;
///
/// let cond = Arc::new(Condition::new());
/// let jobs = Arc::new(Mutex::new(VecDeque::new()));
/// let (c, j) = (cond.clone(), jobs.clone());
/// let producer = std::thread::spawn(move || {
///     let _held = c.guard();
///     j.lock().unwrap().push_back("job 1");
///     c.notify(1).unwrap();
/// });
///
/// let _held = cond.guard();
/// // Waits until there is a job, and takes it under the lock.
/// let job = cond.wait_for(|| jobs.lock().unwrap().pop_front()).unwrap();
/// assert_eq!(job, Some("job 1"));
/// # drop(_held);
/// producer.join().unwrap();
/// ```
///
/// # Python
///
/// Python's truth test of the value `predicate()` returns.
pub trait Truthy {
    /// Whether the value counts as true, ending the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::Truthy;
    ///
    /// assert!(true.is_truthy());
    /// assert!(!None::<u8>.is_truthy());
    /// ```
    fn is_truthy(&self) -> bool;
}

impl Truthy for bool {
    fn is_truthy(&self) -> bool {
        *self
    }
}

impl<T> Truthy for Option<T> {
    fn is_truthy(&self) -> bool {
        self.is_some()
    }
}

/// One thread parked in `wait`. Each waiter has its own flag, so `notify(n)`
/// wakes exactly the `n` longest waiting, in order, as CPython's deque of
/// waiter locks does.
#[derive(Debug)]
struct Waiter {
    notified: Mutex<bool>,
    wake: Condvar,
}

/// A lock plus a way to sleep until another thread announces a change.
///
/// A thread takes the lock, checks some shared state, and if it must wait,
/// calls [`wait`](Self::wait): the lock is released while it sleeps and taken
/// back before `wait` returns. Another thread changes the state under the
/// lock and calls [`notify`](Self::notify) or
/// [`notify_all`](Self::notify_all). Because the state may have changed again
/// by the time a waiter runs, check it in a loop, or let
/// [`wait_for`](Self::wait_for) do so.
///
/// The lock is an [`RLock`] by default ([`Condition::new`]), or any
/// [`ConditionLock`] given to [`with_lock`](Self::with_lock).
///
/// # Examples
///
/// A one-slot mailbox:
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use concur::sync::Condition;
///
/// let cond = Arc::new(Condition::new());
/// let mail = Arc::new(AtomicU32::new(0));
///
/// let (c, m) = (cond.clone(), mail.clone());
/// let postman = std::thread::spawn(move || {
///     let _held = c.guard();
///     m.store(42, Ordering::Relaxed);
///     c.notify_all().unwrap();
/// });
///
/// let held = cond.guard();
/// cond.wait_for(|| mail.load(Ordering::Relaxed) != 0).unwrap();
/// assert_eq!(mail.load(Ordering::Relaxed), 42);
/// drop(held);
/// postman.join().unwrap();
/// ```
///
/// # Python
///
/// `threading.Condition(lock=None)`: `acquire`, `release`, `with cond:` as
/// [`guard`](Self::guard), `wait(timeout)`, `wait_for(predicate, timeout)`
/// (returning the predicate's last value, as Python's does), `notify(n)`,
/// `notify_all()`. Waiting or notifying without the lock returns
/// [`NotOwner`] where Python raises `RuntimeError`. One difference: a waiter
/// whose timeout expires just as it is notified reports the notification
/// (returns `true`) instead of losing it.
pub struct Condition<L: ConditionLock = RLock> {
    lock: L,
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

impl Condition<RLock> {
    /// Creates a condition over a new [`RLock`], as Python's `Condition()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// cond.acquire();
    /// cond.acquire(); // reentrant
    /// cond.release().unwrap();
    /// cond.release().unwrap();
    /// ```
    pub fn new() -> Condition<RLock> {
        Condition::with_lock(RLock::new())
    }
}

impl Default for Condition<RLock> {
    fn default() -> Condition<RLock> {
        Condition::new()
    }
}

impl<L: ConditionLock> Condition<L> {
    /// Creates a condition over `lock`: Python's `Condition(lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::{Condition, Lock};
    ///
    /// let cond = Condition::with_lock(Lock::new().with_name("queue"));
    /// assert_eq!(cond.lock().name(), Some("queue"));
    /// ```
    pub fn with_lock(lock: L) -> Condition<L> {
        Condition { lock, waiters: Mutex::new(VecDeque::new()) }
    }

    /// The lock under the condition.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// let _held = cond.guard();
    /// assert!(cond.lock().is_owned());
    /// ```
    pub fn lock(&self) -> &L {
        &self.lock
    }

    /// Acquires the underlying lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// cond.acquire();
    /// cond.notify(1).unwrap();
    /// cond.release().unwrap();
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn acquire(&self) {
        self.lock.take();
    }

    /// Takes the underlying lock if that needs no wait. Returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// assert!(cond.try_acquire());
    /// cond.release().unwrap();
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn try_acquire(&self) -> bool {
        self.lock.try_take()
    }

    /// Waits up to `timeout` for the underlying lock. Returns whether it was
    /// taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = concur::sync::Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(1)));
    /// cond.release().unwrap();
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.lock.take_timeout(timeout)
    }

    /// Releases the underlying lock.
    ///
    /// # Errors
    ///
    /// Whatever the lock's own `release` refuses: [`ReleaseError::NotLocked`]
    /// for a [`Lock`], [`ReleaseError::NotOwner`] for an [`RLock`].
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// assert!(cond.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.lock.give_back()
    }

    /// Acquires the lock and returns a guard that releases it when dropped:
    /// Python's `with cond:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// let held = cond.guard();
    /// cond.notify_all().unwrap();
    /// drop(held);
    /// assert!(cond.notify_all().is_err());
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn guard(&self) -> ConditionGuard<'_, L> {
        self.acquire();
        ConditionGuard { condition: self, _not_send: PhantomData }
    }

    /// Releases the lock, sleeps until notified, and takes the lock back.
    ///
    /// A waiter may wake when another thread has already consumed what it
    /// waited for; re-check the state, or use [`wait_for`](Self::wait_for).
    ///
    /// # Errors
    ///
    /// [`NotOwner`] if the calling thread does not hold the lock (for a plain
    /// [`Lock`]: if nobody holds it). It does not wait then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let cond = Arc::new(concur::sync::Condition::new());
    /// let done = Arc::new(AtomicBool::new(false));
    /// let (c, d) = (cond.clone(), done.clone());
    /// std::thread::spawn(move || {
    ///     let _held = c.guard();
    ///     d.store(true, Ordering::Relaxed);
    ///     c.notify(1).unwrap();
    /// });
    /// let _held = cond.guard();
    /// while !done.load(Ordering::Relaxed) {
    ///     cond.wait().unwrap();
    /// }
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn wait(&self) -> Result<(), NotOwner> {
        self.wait_until(Deadline::NEVER, "Condition::wait").map(|_| ())
    }

    /// As [`wait`](Self::wait), giving up after `timeout`. Returns `false` if
    /// it gave up, `true` if it was notified. The lock is held again either
    /// way.
    ///
    /// # Errors
    ///
    /// [`NotOwner`], as for [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = concur::sync::Condition::new();
    /// let _held = cond.guard();
    /// assert_eq!(cond.wait_timeout(Duration::from_millis(5)), Ok(false));
    /// assert!(cond.lock().is_owned());
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, NotOwner> {
        self.wait_until(Deadline::after(timeout), "Condition::wait_timeout")
    }

    /// Waits until `predicate` returns a true value ([`Truthy`]: `true`, or
    /// `Some`), evaluating it under the lock first and after every wake-up.
    /// Returns that value.
    ///
    /// # Errors
    ///
    /// [`NotOwner`] if the predicate is false and the calling thread does not
    /// hold the lock. As in Python, a predicate already true returns `Ok`
    /// without looking at the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// let _held = cond.guard();
    /// assert_eq!(cond.wait_for(|| true), Ok(true));
    /// assert_eq!(cond.wait_for(|| Some("ready")), Ok(Some("ready")));
    /// ```
    ///
    /// # Python
    ///
    /// `wait_for(predicate)`, which returns the predicate's last value.
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn wait_for<R: Truthy>(&self, predicate: impl FnMut() -> R) -> Result<R, NotOwner> {
        self.wait_for_until(predicate, Deadline::NEVER, "Condition::wait_for")
    }

    /// As [`wait_for`](Self::wait_for), giving up after `timeout` in all.
    /// Returns the predicate's last value: a false one (`false`, `None`)
    /// means it timed out.
    ///
    /// # Errors
    ///
    /// [`NotOwner`], as for [`wait_for`](Self::wait_for).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = concur::sync::Condition::new();
    /// let _held = cond.guard();
    /// let mut calls = 0;
    /// let ok = cond.wait_for_timeout(|| { calls += 1; false }, Duration::from_millis(5));
    /// assert_eq!(ok, Ok(false));
    /// assert!(calls >= 2); // once before waiting, once after the timeout
    /// ```
    ///
    /// # Python
    ///
    /// `wait_for(predicate, timeout)`.
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn wait_for_timeout<R: Truthy>(&self, predicate: impl FnMut() -> R, timeout: Duration) -> Result<R, NotOwner> {
        self.wait_for_until(predicate, Deadline::after(timeout), "Condition::wait_for_timeout")
    }

    /// Wakes up to `n` waiting threads, longest waiting first. Each takes the
    /// lock back in turn once the notifier releases it.
    ///
    /// # Errors
    ///
    /// [`NotOwner`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// let _held = cond.guard();
    /// cond.notify(2).unwrap(); // nobody waits: nothing happens
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), NotOwner> {
        self.check_held("Condition::notify")?;
        self.wake(n);
        Ok(())
    }

    /// Wakes every waiting thread.
    ///
    /// # Errors
    ///
    /// [`NotOwner`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = concur::sync::Condition::new();
    /// assert!(cond.notify_all().is_err());
    /// ```
    pub fn notify_all(&self) -> Result<(), NotOwner> {
        self.check_held("Condition::notify_all")?;
        self.wake(usize::MAX);
        Ok(())
    }

    fn check_held(&self, call: &'static str) -> Result<(), NotOwner> {
        if self.lock.is_held() {
            Ok(())
        } else {
            Err(self.not_owner(call))
        }
    }

    fn not_owner(&self, call: &'static str) -> NotOwner {
        NotOwner { call, object: format!("the lock of this Condition ({})", self.lock.describe()) }
    }

    fn wake(&self, n: usize) {
        let mut waiters = self.waiters.lock();
        for _ in 0..n {
            let Some(waiter) = waiters.pop_front() else { break };
            *waiter.notified.lock() = true;
            waiter.wake.notify_one();
        }
    }

    #[cfg_attr(concur_lock_order, track_caller)]
    fn wait_until(&self, deadline: Deadline, call: &'static str) -> Result<bool, NotOwner> {
        let waiter = Arc::new(Waiter { notified: Mutex::new(false), wake: Condvar::new() });
        self.waiters.lock().push_back(Arc::clone(&waiter));
        let Some(saved) = self.lock.release_save() else {
            self.forget(&waiter);
            return Err(self.not_owner(call));
        };
        let mut notified = waiter.notified.lock();
        while !*notified && !deadline.has_passed() {
            deadline.wait(&waiter.wake, &mut notified);
        }
        let was_notified = *notified;
        drop(notified);
        // Timed out: leave the queue, unless a notifier took this waiter off
        // it in the meantime — then the notification is this waiter's, and
        // reporting it keeps a `notify(1)` from vanishing.
        let got_it = was_notified || !self.forget(&waiter);
        self.lock.restore(saved);
        Ok(got_it)
    }

    /// Removes `waiter` from the queue; returns whether it was still there.
    fn forget(&self, waiter: &Arc<Waiter>) -> bool {
        let mut waiters = self.waiters.lock();
        match waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            Some(i) => {
                waiters.remove(i);
                true
            }
            None => false,
        }
    }

    #[cfg_attr(concur_lock_order, track_caller)]
    fn wait_for_until<R: Truthy>(
        &self,
        mut predicate: impl FnMut() -> R,
        deadline: Deadline,
        call: &'static str,
    ) -> Result<R, NotOwner> {
        loop {
            let value = predicate();
            if value.is_truthy() || deadline.has_passed() {
                return Ok(value);
            }
            self.wait_until(deadline, call)?;
        }
    }
}

impl<L: ConditionLock + fmt::Debug> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").field("lock", &self.lock).field("waiters", &self.waiters.lock().len()).finish()
    }
}

/// Holds a [`Condition`]'s lock and releases it when dropped. Made by
/// [`Condition::guard`]; it stays on the thread that made it. The condition
/// can be waited on and notified while the guard lives.
///
/// # Examples
///
/// ```
/// let cond = concur::sync::Condition::new();
/// let held = cond.guard();
/// cond.notify(1).unwrap();
/// drop(held);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a, L: ConditionLock> {
    condition: &'a Condition<L>,
    _not_send: PhantomData<*const ()>,
}

impl<L: ConditionLock> Drop for ConditionGuard<'_, L> {
    fn drop(&mut self) {
        // Fails only if the program released the lock by hand under the
        // guard; a drop has no way to report that, and Python's `with` would
        // raise in the same case.
        let _ = self.condition.release();
    }
}

impl<L: ConditionLock + fmt::Debug> fmt::Debug for ConditionGuard<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard").field("condition", self.condition).finish()
    }
}
