//! `RLock`: Python's `threading.RLock`, a lock its owner may take again.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::time::Duration;

use super::error::{NotOwner, ReleaseError};
use super::lock_order::Tracker;
use super::name::{self, Name};
use super::raw::RawLock;
use crate::deadline::Deadline;
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::thread::current_ident;

/// A reentrant lock: the thread that holds it may acquire it again, and must
/// release it as many times as it acquired it.
///
/// An `RLock` has an owner. Only the owner may release it; any other thread
/// gets [`ReleaseError::NotOwner`]. Use it where a function that takes the
/// lock calls another that takes it too.
///
/// # Examples
///
/// ```
/// use concur::sync::RLock;
///
/// let lock = RLock::new();
/// lock.acquire();
/// lock.acquire(); // a plain `Lock` would block here for ever
/// lock.release().unwrap();
/// assert!(lock.is_owned()); // still held once
/// lock.release().unwrap();
/// assert!(!lock.is_locked());
/// ```
///
/// # Python
///
/// `threading.RLock` with the same calls as [`Lock`](super::Lock); a release
/// by a thread that does not hold it returns `Err` where Python raises
/// `RuntimeError: cannot release un-acquired lock`.
pub struct RLock {
    raw: RawLock,
    /// The ident of the owning thread, 0 when unowned. Only the owner writes a
    /// value equal to its own ident, so a thread that reads its own ident here
    /// reads its own write: `Relaxed` is enough for that test.
    owner: AtomicU64,
    /// How many times the owner holds it; touched only by the owner.
    depth: AtomicUsize,
    order: u64,
    name: Name,
    tracker: Tracker,
}

impl RLock {
    /// Creates an unlocked reentrant lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new();
    /// assert!(!lock.is_locked());
    /// ```
    pub fn new() -> RLock {
        let order = name::next_id();
        RLock {
            raw: RawLock::new(),
            owner: AtomicU64::new(0),
            depth: AtomicUsize::new(0),
            order,
            name: Name::default(),
            tracker: Tracker::new("RLock", order),
        }
    }

    /// Gives the lock a name for error messages and lock-order reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new().with_name("tree");
    /// assert_eq!(lock.name(), Some("tree"));
    /// ```
    pub fn with_name(mut self, name: &str) -> RLock {
        self.name = Name::new(name);
        self.tracker.rename(&self.name);
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::RLock::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.get()
    }

    /// Takes the lock, blocking while another thread owns it. If the calling
    /// thread owns it already, adds one level and returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new();
    /// lock.acquire();
    /// lock.acquire();
    /// lock.release().unwrap();
    /// lock.release().unwrap();
    /// ```
    #[inline]
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn acquire(&self) {
        if self.reenter() {
            return;
        }
        self.take(Location::caller(), 1);
    }

    /// Takes the lock if it is free or already the caller's, without
    /// blocking. Returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new();
    /// assert!(lock.try_acquire());
    /// assert!(lock.try_acquire()); // the owner may re-enter
    /// lock.release().unwrap();
    /// lock.release().unwrap();
    /// ```
    #[inline]
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn try_acquire(&self) -> bool {
        if self.reenter() {
            return true;
        }
        let taken = self.raw.try_acquire();
        if taken {
            self.own(1);
            self.tracker.acquired(Location::caller());
        }
        taken
    }

    /// Waits up to `timeout` for the lock. Returns whether it was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use concur::sync::RLock;
    ///
    /// let lock = Arc::new(RLock::new());
    /// lock.acquire();
    /// let other = lock.clone();
    /// let got = std::thread::spawn(move || other.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!got.join().unwrap());
    /// lock.release().unwrap();
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        if self.reenter() {
            return true;
        }
        let taken = self.tracker.acquire(Location::caller(), || self.raw.acquire_until(Deadline::after(timeout)));
        if taken {
            self.own(1);
        }
        taken
    }

    /// Releases one level. The lock is free for others once the owner has
    /// released it as many times as it acquired it.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::NotOwner`] if the calling thread does not hold the
    /// lock (held by another thread, or by none); nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::{ReleaseError, RLock};
    ///
    /// let lock = RLock::new();
    /// assert!(matches!(lock.release(), Err(ReleaseError::NotOwner(_))));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        if !self.is_owned() {
            return Err(self.not_owner());
        }
        let depth = self.depth.load(Ordering::Relaxed) - 1;
        if depth > 0 {
            self.depth.store(depth, Ordering::Relaxed);
        } else {
            self.disown();
        }
        Ok(())
    }

    /// Whether some thread holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new();
    /// let held = lock.guard();
    /// assert!(lock.is_locked());
    /// drop(held);
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    #[doc(alias = "locked")]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether the calling thread holds the lock (Python's private
    /// `_is_owned`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new();
    /// assert!(!lock.is_owned());
    /// let _held = lock.guard();
    /// assert!(lock.is_owned());
    /// ```
    #[inline]
    #[doc(alias = "_is_owned")]
    pub fn is_owned(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == current_ident()
    }

    /// Acquires and returns a guard that releases one level when dropped:
    /// Python's `with rlock:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::RLock::new();
    /// let outer = lock.guard();
    /// let inner = lock.guard();
    /// drop(inner);
    /// assert!(lock.is_owned());
    /// drop(outer);
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn guard(&self) -> RLockGuard<'_> {
        self.acquire();
        RLockGuard { lock: self, _not_send: PhantomData }
    }

    #[cold]
    fn not_owner(&self) -> ReleaseError {
        NotOwner { call: "RLock::release", object: self.describe() }.into()
    }

    pub(crate) fn describe(&self) -> String {
        self.name.describe_id("RLock", self.order)
    }

    #[inline]
    fn reenter(&self) -> bool {
        if self.is_owned() {
            self.depth.store(self.depth.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// Blocks for the lock, checking the order first, and owns it at `depth`.
    #[inline]
    fn take(&self, site: &'static Location<'static>, depth: usize) {
        self.tracker.acquire(site, || {
            self.raw.acquire();
            true
        });
        self.own(depth);
    }

    #[inline]
    fn own(&self, depth: usize) {
        self.owner.store(current_ident(), Ordering::Relaxed);
        self.depth.store(depth, Ordering::Relaxed);
    }

    #[inline]
    fn disown(&self) {
        self.depth.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        self.tracker.released();
        self.raw.release();
    }

    /// Releases every level at once, for `Condition::wait`. Returns the depth
    /// to restore, or `None` when the caller does not own the lock.
    pub(crate) fn release_all(&self) -> Option<usize> {
        if !self.is_owned() {
            return None;
        }
        let depth = self.depth.load(Ordering::Relaxed);
        self.disown();
        Some(depth)
    }

    /// Takes the lock back at the depth `release_all` returned.
    #[cfg_attr(concur_lock_order, track_caller)]
    pub(crate) fn acquire_restore(&self, depth: usize) {
        self.take(Location::caller(), depth);
    }
}

impl Default for RLock {
    fn default() -> RLock {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("name", &self.name)
            .field("order", &self.order)
            .field("locked", &self.is_locked())
            .field("owned", &self.is_owned())
            .finish()
    }
}

/// Holds one level of an [`RLock`] and releases it when dropped. Made by
/// [`RLock::guard`]; it stays on the owning thread.
///
/// # Examples
///
/// ```
/// let lock = concur::sync::RLock::new();
/// drop(lock.guard());
/// assert!(!lock.is_locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
    _not_send: PhantomData<*const ()>,
}

impl Drop for RLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // Cannot fail: the guard is `!Send`, so the dropping thread is the one
        // that acquired, and it holds at least the guard's level.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").field("lock", self.lock).finish()
    }
}
