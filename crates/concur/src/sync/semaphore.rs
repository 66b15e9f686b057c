//! `Semaphore` and `BoundedSemaphore`: Python's counters of permits.

use std::fmt;
use std::time::Duration;

use super::error::ReleaseError;
use super::name::{self, Name};
use crate::deadline::Deadline;
use crate::loom::sync::{Condvar, Mutex};

/// A counter of permits: `acquire` takes one, waiting while none is left;
/// `release` gives one back.
///
/// Use it to let at most N threads into a section at once — N connections to
/// a server, N downloads in flight. Any thread may release; nothing checks
/// that it acquired first. For that check, use [`BoundedSemaphore`].
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use concur::sync::Semaphore;
///
/// let slots = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let most = Arc::new(AtomicUsize::new(0));
/// let workers: Vec<_> = (0..6)
///     .map(|_| {
///         let (slots, inside, most) = (slots.clone(), inside.clone(), most.clone());
///         std::thread::spawn(move || {
///             let _permit = slots.guard();
///             let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
///             most.fetch_max(now, Ordering::SeqCst);
///             std::thread::sleep(std::time::Duration::from_millis(2));
///             inside.fetch_sub(1, Ordering::SeqCst);
///         })
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// assert!(most.load(Ordering::SeqCst) <= 2);
/// ```
///
/// # Python
///
/// `threading.Semaphore(value)`: `acquire()`, `acquire(blocking=False)` as
/// [`try_acquire`](Self::try_acquire), `acquire(timeout=t)` as
/// [`acquire_timeout`](Self::acquire_timeout), `release(n)` as
/// [`release_n`](Self::release_n), `with sem:` as [`guard`](Self::guard).
/// Python refuses `release(0)` with `ValueError`; here releasing zero
/// permits changes nothing, as tokio's `add_permits(0)`.
pub struct Semaphore {
    permits: Mutex<Permits>,
    available: Condvar,
}

#[derive(Debug)]
struct Permits {
    value: usize,
    /// Threads asleep in `acquire`: `release_n` wakes at most this many.
    waiting: usize,
}

impl Semaphore {
    /// Creates a semaphore holding `value` permits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::Semaphore::new(3).value(), 3);
    /// ```
    pub fn new(value: usize) -> Semaphore {
        Semaphore { permits: Mutex::new(Permits { value, waiting: 0 }), available: Condvar::new() }
    }

    /// Takes a permit, waiting until one is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::Semaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// sem.release();
    /// ```
    pub fn acquire(&self) {
        self.acquire_until(Deadline::NEVER);
    }

    /// Takes a permit if one is free now. Returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        let mut permits = self.permits.lock();
        if permits.value > 0 {
            permits.value -= 1;
            true
        } else {
            false
        }
    }

    /// Waits up to `timeout` for a permit. Returns whether it took one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let sem = concur::sync::Semaphore::new(0);
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(Deadline::after(timeout))
    }

    fn acquire_until(&self, deadline: Deadline) -> bool {
        let mut permits = self.permits.lock();
        loop {
            if permits.value > 0 {
                permits.value -= 1;
                return true;
            }
            if deadline.has_passed() {
                return false;
            }
            permits.waiting += 1;
            deadline.wait(&self.available, &mut permits);
            permits.waiting -= 1;
        }
    }

    /// Gives one permit back, waking one waiter.
    ///
    /// It returns `()`, not a `Result`: a plain semaphore never refuses a
    /// release, so there is nothing to report (the crate's rule, in the
    /// [`sync`](super) module documentation). [`BoundedSemaphore::release`],
    /// which can refuse, returns a `Result`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::Semaphore::new(0);
    /// sem.release(); // a plain semaphore may grow past its start value
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(&self) {
        self.release_n(1);
    }

    /// Gives `n` permits back, waking up to `n` waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::Semaphore::new(0);
    /// sem.release_n(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    pub fn release_n(&self, n: usize) {
        self.add(n, None);
    }

    /// Adds `n` permits unless that would pass `limit`; returns whether it
    /// added them. Without a limit the count saturates at `usize::MAX`, a
    /// number of permits no program can take.
    fn add(&self, n: usize, limit: Option<usize>) -> bool {
        let mut permits = self.permits.lock();
        permits.value = match limit {
            None => permits.value.saturating_add(n),
            Some(limit) => match permits.value.checked_add(n) {
                Some(new) if new <= limit => new,
                _ => return false,
            },
        };
        for _ in 0..n.min(permits.waiting) {
            self.available.notify_one();
        }
        true
    }

    /// The number of permits free now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::Semaphore::new(2);
    /// let _one = sem.guard();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn value(&self) -> usize {
        self.permits.lock().value
    }

    /// Takes a permit and returns a guard that gives it back when dropped:
    /// Python's `with sem:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::Semaphore::new(1);
    /// {
    ///     let _permit = sem.guard();
    ///     assert!(!sem.try_acquire());
    /// }
    /// assert!(sem.try_acquire());
    /// ```
    pub fn guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { semaphore: self, limit: None }
    }
}

impl Default for Semaphore {
    /// One permit, as Python's `Semaphore()`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::Semaphore::default().value(), 1);
    /// ```
    fn default() -> Semaphore {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("value", &self.value()).finish()
    }
}

/// A [`Semaphore`] that refuses to be released above its initial value.
///
/// Releasing more than was acquired is nearly always a bug — a permit given
/// back twice lets one thread too many in later. `BoundedSemaphore` reports
/// it at the release that went wrong.
///
/// # Examples
///
/// ```
/// use concur::sync::{BoundedSemaphore, ReleaseError};
///
/// let pool = BoundedSemaphore::new(2).with_name("pool");
/// pool.acquire();
/// pool.release().unwrap();
/// let err = pool.release().unwrap_err();
/// assert!(matches!(err, ReleaseError::OverRelease { initial: 2, .. }));
/// ```
///
/// # Python
///
/// `threading.BoundedSemaphore(value)`; [`ReleaseError::OverRelease`] where
/// Python raises `ValueError: Semaphore released too many times`.
pub struct BoundedSemaphore {
    semaphore: Semaphore,
    initial: usize,
    id: u64,
    name: Name,
}

impl BoundedSemaphore {
    /// Creates a semaphore holding `value` permits, which it may never exceed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::BoundedSemaphore::new(4).value(), 4);
    /// ```
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            semaphore: Semaphore::new(value),
            initial: value,
            id: name::next_id(),
            name: Name::default(),
        }
    }

    /// Gives the semaphore a name for error messages.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::BoundedSemaphore::new(1).with_name("db");
    /// assert!(sem.release().unwrap_err().to_string().contains("\"db\""));
    /// ```
    pub fn with_name(mut self, name: &str) -> BoundedSemaphore {
        self.name = Name::new(name);
        self
    }

    /// Takes a permit, waiting until one is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::BoundedSemaphore::new(1);
    /// sem.acquire();
    /// sem.release().unwrap();
    /// ```
    pub fn acquire(&self) {
        self.semaphore.acquire();
    }

    /// Takes a permit if one is free now. Returns whether it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::BoundedSemaphore::new(0);
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.semaphore.try_acquire()
    }

    /// Waits up to `timeout` for a permit. Returns whether it took one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let sem = concur::sync::BoundedSemaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.semaphore.acquire_timeout(timeout)
    }

    /// Gives one permit back.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::OverRelease`] if that would pass the initial value;
    /// nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.add(1, "BoundedSemaphore::release")
    }

    /// Gives `n` permits back, all or none.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::OverRelease`] if that would pass the initial value;
    /// nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::BoundedSemaphore::new(3);
    /// sem.acquire();
    /// sem.acquire();
    /// assert!(sem.release_n(3).is_err());
    /// assert_eq!(sem.value(), 1);
    /// sem.release_n(2).unwrap();
    /// ```
    pub fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        self.add(n, "BoundedSemaphore::release_n")
    }

    /// Adds `n` permits within the bound; `call` names the caller in the error.
    fn add(&self, n: usize, call: &'static str) -> Result<(), ReleaseError> {
        if self.semaphore.add(n, Some(self.initial)) {
            Ok(())
        } else {
            Err(ReleaseError::OverRelease {
                call,
                object: self.name.describe_id("BoundedSemaphore", self.id),
                initial: self.initial,
            })
        }
    }

    /// The number of permits free now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::BoundedSemaphore::new(2).value(), 2);
    /// ```
    pub fn value(&self) -> usize {
        self.semaphore.value()
    }

    /// Takes a permit and returns a guard that gives it back when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = concur::sync::BoundedSemaphore::new(1);
    /// drop(sem.guard());
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { semaphore: &self.semaphore, limit: Some(self.initial) }
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("name", &self.name)
            .field("value", &self.value())
            .field("initial", &self.initial)
            .finish()
    }
}

/// One permit of a [`Semaphore`] or [`BoundedSemaphore`], given back when
/// dropped.
///
/// # Examples
///
/// ```
/// let sem = concur::sync::Semaphore::new(1);
/// let permit = sem.guard();
/// assert_eq!(sem.value(), 0);
/// drop(permit);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    semaphore: &'a Semaphore,
    limit: Option<usize>,
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // Refused only if the program over-released a bounded semaphore by
        // hand meanwhile; the permit is then already back.
        self.semaphore.add(1, self.limit);
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").field("semaphore", self.semaphore).finish()
    }
}
