//! `Lock`: Python's `threading.Lock`, a mutual-exclusion lock with no owner.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::time::Duration;

use super::error::ReleaseError;
use super::lock_order::Tracker;
use super::name::{self, Name};
use super::raw::RawLock;
use crate::deadline::Deadline;

/// A mutual-exclusion lock that any thread may release.
///
/// A `Lock` guards no data of its own: like Python's `threading.Lock`, it
/// protects whatever the program agrees to touch only while holding it. It is
/// not owned — one thread may acquire it and another release it, which makes it
/// usable as a hand-off signal — and releasing it while it is unlocked is an
/// error, not undefined behaviour.
///
/// When the data is yours to choose, `parking_lot::Mutex<T>` ties it to the
/// lock and the compiler checks the rest; use `Lock` for Python's model, for
/// locks shared with a [`Condition`](super::Condition), and for
/// [`acquire_all`](super::acquire_all).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use concur::sync::Lock;
///
/// let lock = Arc::new(Lock::new());
/// let total = Arc::new(AtomicU64::new(0));
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let (lock, total) = (lock.clone(), total.clone());
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 let _held = lock.guard();
///                 // A load and a store, not one atomic add: only the lock
///                 // keeps another thread from slipping in between.
///                 let now = total.load(Ordering::Relaxed);
///                 total.store(now + 1, Ordering::Relaxed);
///             }
///         })
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// assert_eq!(total.load(Ordering::Relaxed), 4000);
/// ```
///
/// # Python
///
/// | Python | concur |
/// |---|---|
/// | `lock.acquire()` | [`acquire`](Self::acquire) |
/// | `lock.acquire(blocking=False)` | [`try_acquire`](Self::try_acquire) |
/// | `lock.acquire(timeout=t)` | [`acquire_timeout`](Self::acquire_timeout) |
/// | `lock.release()` | [`release`](Self::release), `Err` where Python raises `RuntimeError` |
/// | `lock.locked()` | [`is_locked`](Self::is_locked) |
/// | `with lock:` | [`guard`](Self::guard) |
pub struct Lock {
    raw: RawLock,
    order: u64,
    name: Name,
    tracker: Tracker,
}

impl Lock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::Lock::new();
    /// assert!(!lock.is_locked());
    /// ```
    pub fn new() -> Lock {
        let order = name::next_id();
        Lock { raw: RawLock::new(), order, name: Name::default(), tracker: Tracker::new("Lock", order) }
    }

    /// Gives the lock a name for error messages and lock-order reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::Lock::new().with_name("accounts");
    /// assert_eq!(lock.name(), Some("accounts"));
    /// ```
    pub fn with_name(mut self, name: &str) -> Lock {
        self.name = Name::new(name);
        self.tracker.rename(&self.name);
        self
    }

    /// The name given by [`with_name`](Self::with_name), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::Lock::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.get()
    }

    /// The lock's place in the global order [`acquire_all`](super::acquire_all)
    /// takes locks in: a number fixed when the lock is created, unique in the
    /// process, larger for later locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::Lock;
    ///
    /// let first = Lock::new();
    /// let second = Lock::new();
    /// assert!(first.order() < second.order());
    /// ```
    pub fn order(&self) -> u64 {
        self.order
    }

    /// Blocks until the lock is free, then takes it.
    ///
    /// With the lock-order checker on, this first records which locks the
    /// thread holds and reports an order that could deadlock (see
    /// [`lock_order`](super::lock_order)).
    ///
    /// Acquiring a `Lock` the calling thread already holds blocks until some
    /// other thread releases it, as in Python; use an [`RLock`](super::RLock)
    /// to re-enter.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::Lock::new();
    /// lock.acquire();
    /// assert!(lock.is_locked());
    /// lock.release().unwrap();
    /// ```
    #[inline]
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn acquire(&self) {
        self.acquire_at(Location::caller());
    }

    /// Takes the lock if it is free, without blocking. Returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire()); // held, even by this thread
    /// lock.release().unwrap();
    /// ```
    #[inline]
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn try_acquire(&self) -> bool {
        let taken = self.raw.try_acquire();
        if taken {
            self.tracker.acquired(Location::caller());
        }
        taken
    }

    /// Waits up to `timeout` for the lock. Returns whether it was taken.
    ///
    /// A timeout too large to represent waits for ever.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = concur::sync::Lock::new();
    /// lock.acquire();
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10)));
    /// lock.release().unwrap();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)));
    /// # lock.release().unwrap();
    /// ```
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.tracker.acquire(Location::caller(), || self.raw.acquire_until(Deadline::after(timeout)))
    }

    /// Releases the lock. Any thread may release it, not only the one that
    /// took it.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::NotLocked`] if the lock is not locked; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::{Lock, ReleaseError};
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert_eq!(lock.release(), Ok(()));
    /// assert!(matches!(lock.release(), Err(ReleaseError::NotLocked { .. })));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.tracker.released();
        if self.raw.release() {
            Ok(())
        } else {
            Err(self.not_locked())
        }
    }

    #[cold]
    fn not_locked(&self) -> ReleaseError {
        ReleaseError::NotLocked { call: "Lock::release", object: self.describe() }
    }

    /// Whether some thread holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::Lock::new();
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

    /// Acquires the lock and returns a guard that releases it when dropped:
    /// Python's `with lock:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = concur::sync::Lock::new();
    /// {
    ///     let _held = lock.guard();
    ///     assert!(lock.is_locked());
    /// }
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    #[cfg_attr(concur_lock_order, track_caller)]
    pub fn guard(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self, _not_send: PhantomData }
    }

    #[inline]
    pub(crate) fn acquire_at(&self, site: &'static Location<'static>) {
        self.tracker.acquire(site, || {
            self.raw.acquire();
            true
        });
    }

    pub(crate) fn describe(&self) -> String {
        self.name.describe_id("Lock", self.order)
    }

    /// Releases without the error path, for guards: they only exist while the
    /// lock is held by them.
    #[inline]
    pub(crate) fn release_held(&self) {
        self.tracker.released();
        self.raw.release();
    }
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name)
            .field("order", &self.order)
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// Holds a [`Lock`] and releases it when dropped. Made by [`Lock::guard`].
///
/// The guard stays on the thread that made it. If another thread released
/// the lock by hand while the guard lived, the drop releases nothing more
/// than an unlocked lock — which Python's `with` would report as an error,
/// and a drop cannot.
///
/// # Examples
///
/// ```
/// let lock = concur::sync::Lock::new();
/// let guard = lock.guard();
/// drop(guard);
/// assert!(lock.try_acquire());
/// # lock.release().unwrap();
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.lock.release_held();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").field("lock", self.lock).finish()
    }
}
