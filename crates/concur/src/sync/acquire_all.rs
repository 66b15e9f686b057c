//! `acquire_all`: several locks taken in one global order, so no two threads
//! can deadlock on them.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;

use super::lock::Lock;
use super::lock_order::{LockOrderViolation, LockSite};

/// The locks this thread holds through `acquire_all`, in the order taken.
struct HeldByAll {
    order: u64,
    /// Described when taken, so a later violation can name it without a
    /// reference to a lock whose guard may have been leaked.
    lock: String,
    site: &'static Location<'static>,
}

thread_local! {
    static HELD: RefCell<Vec<HeldByAll>> = const { RefCell::new(Vec::new()) };
}

/// Takes every lock in `locks`, in ascending [`Lock::order`] whatever order
/// they are listed in, and returns a guard that releases them all.
///
/// Deadlock needs two threads taking two locks in opposite orders. When every
/// thread takes its locks through `acquire_all`, all of them follow one global
/// order and the cycle cannot form. A thread may nest calls, but each nested
/// call must ask only for locks that come after every lock it already holds
/// through `acquire_all`; asking for an earlier one is refused up front, so the
/// mistake shows on every run, not on the unlucky one.
///
/// A lock listed twice is taken once. An empty list takes nothing.
///
/// # Errors
///
/// [`LockOrderViolation`] when the thread already holds, through
/// `acquire_all`, a lock that comes at or after the first of `locks`. Nothing
/// is taken.
///
/// # Examples
///
/// The reference's two threads, one asking for `x` then `y`, the other for `y`
/// then `x`, cannot deadlock:
///
/// ```
/// use std::sync::Arc;
/// use concur::sync::{acquire_all, Lock};
///
/// let x = Arc::new(Lock::new().with_name("x"));
/// let y = Arc::new(Lock::new().with_name("y"));
/// let threads: Vec<_> = [(x.clone(), y.clone()), (y.clone(), x.clone())]
///     .into_iter()
///     .map(|(first, second)| {
///         std::thread::spawn(move || {
///             for _ in 0..1000 {
///                 let _both = acquire_all(&[&first, &second]).unwrap();
///             }
///         })
///     })
///     .collect();
/// for t in threads {
///     t.join().unwrap();
/// }
/// ```
///
/// Nested out of order, the second call is refused:
///
/// ```
/// use concur::sync::{acquire_all, Lock};
///
/// let a = Lock::new();
/// let b = Lock::new(); // created later: comes after `a`
/// let _b = acquire_all(&[&b]).unwrap();
/// assert!(acquire_all(&[&a]).is_err());
/// ```
///
/// # Python
///
/// The reference's `acquire(*locks)` context manager, which sorts by `id()`
/// and raises `RuntimeError('Lock Order Violation')`. Rust values move, so
/// the order is a number each lock is given when created instead of its
/// address.
#[track_caller]
pub fn acquire_all<'a>(locks: &[&'a Lock]) -> Result<AllGuard<'a>, LockOrderViolation> {
    let site = Location::caller();
    let mut sorted: Vec<&'a Lock> = locks.to_vec();
    sorted.sort_by_key(|lock| lock.order());
    sorted.dedup_by_key(|lock| lock.order());
    let Some(first) = sorted.first() else {
        return Ok(AllGuard { locks: sorted, _not_send: PhantomData });
    };
    HELD.with(|held| {
        let held = held.borrow();
        match held.iter().max_by_key(|h| h.order) {
            Some(last) if last.order >= first.order() => Err(LockOrderViolation::out_of_order(
                LockSite::new(first.describe(), site),
                LockSite::new(last.lock.clone(), last.site),
            )),
            _ => Ok(()),
        }
    })?;
    for lock in &sorted {
        lock.acquire_at(site);
    }
    HELD.with(|held| {
        held.borrow_mut().extend(sorted.iter().map(|lock| HeldByAll {
            order: lock.order(),
            lock: lock.describe(),
            site,
        }))
    });
    Ok(AllGuard { locks: sorted, _not_send: PhantomData })
}

/// The locks taken by [`acquire_all`]; dropping it releases them in reverse
/// order. It stays on the thread that made it.
///
/// # Examples
///
/// ```
/// use concur::sync::{acquire_all, Lock};
///
/// let (a, b) = (Lock::new(), Lock::new());
/// let both = acquire_all(&[&b, &a]).unwrap();
/// assert_eq!(both.len(), 2);
/// assert!(a.is_locked() && b.is_locked());
/// drop(both);
/// assert!(!a.is_locked() && !b.is_locked());
/// ```
#[must_use = "the locks are released as soon as the guard is dropped"]
pub struct AllGuard<'a> {
    locks: Vec<&'a Lock>,
    _not_send: PhantomData<*const ()>,
}

impl AllGuard<'_> {
    /// How many distinct locks the guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = concur::sync::Lock::new();
    /// let guard = concur::sync::acquire_all(&[&a, &a]).unwrap();
    /// assert_eq!(guard.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.locks.len()
    }

    /// Whether the guard holds no lock (it was given an empty list).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(concur::sync::acquire_all(&[]).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }
}

impl Drop for AllGuard<'_> {
    fn drop(&mut self) {
        let _ = HELD.try_with(|held| {
            held.borrow_mut().retain(|h| self.locks.iter().all(|lock| lock.order() != h.order));
        });
        for lock in self.locks.iter().rev() {
            lock.release_held();
        }
    }
}

impl fmt::Debug for AllGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllGuard").field("locks", &self.locks).finish()
    }
}
