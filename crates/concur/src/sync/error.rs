//! What a misused primitive reports instead of hanging or corrupting state.

use std::fmt;

/// The calling thread does not hold the lock the call needs.
///
/// Returned by `RLock::release` and by `Condition::wait` and `notify` when the
/// caller does not hold the lock. Python raises `RuntimeError` for the same
/// cases ("cannot release un-acquired lock", "cannot wait on un-acquired
/// lock").
///
/// # Examples
///
/// ```
/// use concur::sync::Condition;
///
/// let cond = Condition::new();
/// let err = cond.notify(1).unwrap_err();
/// assert!(err.to_string().starts_with("Condition::notify:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOwner {
    pub(crate) call: &'static str,
    pub(crate) object: String,
}

impl fmt::Display for NotOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} is not held by the calling thread", self.call, self.object)
    }
}

impl std::error::Error for NotOwner {}

impl NotOwner {
    /// The call that was refused, such as `"RLock::release"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::{ReleaseError, RLock};
    ///
    /// let lock = RLock::new();
    /// let Err(ReleaseError::NotOwner(err)) = lock.release() else { unreachable!() };
    /// assert_eq!(err.call(), "RLock::release");
    /// ```
    pub fn call(&self) -> &'static str {
        self.call
    }
}

/// Why a `release` was refused. Nothing changes when it is returned.
///
/// # Examples
///
/// ```
/// use concur::sync::{Lock, ReleaseError};
///
/// let lock = Lock::new().with_name("counter");
/// let err = lock.release().unwrap_err();
/// assert!(matches!(err, ReleaseError::NotLocked { .. }));
/// assert_eq!(err.to_string(), "Lock::release: Lock \"counter\" is not locked");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReleaseError {
    /// A `Lock` was released while unlocked (Python: `RuntimeError: release
    /// unlocked lock`).
    NotLocked {
        /// The call that was refused.
        call: &'static str,
        /// The lock, by name or address.
        object: String,
    },
    /// An `RLock` was released by a thread that does not own it.
    NotOwner(NotOwner),
    /// A `BoundedSemaphore` was released more times than it was acquired
    /// (Python: `ValueError: Semaphore released too many times`).
    OverRelease {
        /// The call that was refused.
        call: &'static str,
        /// The semaphore, by name or address.
        object: String,
        /// The value the semaphore was created with, which it may not exceed.
        initial: usize,
    },
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseError::NotLocked { call, object } => write!(f, "{call}: {object} is not locked"),
            ReleaseError::NotOwner(not_owner) => fmt::Display::fmt(not_owner, f),
            ReleaseError::OverRelease { call, object, initial } => write!(
                f,
                "{call}: {object} was released more times than it was acquired (its initial value is {initial})"
            ),
        }
    }
}

impl std::error::Error for ReleaseError {}

impl From<NotOwner> for ReleaseError {
    fn from(not_owner: NotOwner) -> ReleaseError {
        ReleaseError::NotOwner(not_owner)
    }
}

/// A `Barrier` was broken while, or before, the caller waited on it.
///
/// A barrier breaks when a waiter times out, when `abort` or `reset` is called
/// while threads wait, or when its action panics; every waiter then gets this
/// error, as every Python waiter gets `BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// use concur::sync::Barrier;
///
/// let barrier = Barrier::new(2).unwrap().with_name("start line");
/// barrier.abort();
/// let err = barrier.wait().unwrap_err();
/// assert_eq!(err.to_string(), "Barrier::wait: Barrier \"start line\" is broken");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBarrier {
    pub(crate) call: &'static str,
    pub(crate) object: String,
}

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} is broken", self.call, self.object)
    }
}

impl std::error::Error for BrokenBarrier {}

/// A `Barrier` was asked for with no parties: nobody could ever pass it.
///
/// # Examples
///
/// ```
/// use concur::sync::{Barrier, ZeroParties};
///
/// let err = Barrier::new(0).unwrap_err();
/// assert_eq!(err, ZeroParties);
/// assert_eq!(err.to_string(), "Barrier::new: a barrier needs at least 1 party, and 0 was given");
/// ```
///
/// # Python
///
/// `ValueError: parties must be > 0`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroParties;

impl fmt::Display for ZeroParties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Barrier::new: a barrier needs at least 1 party, and 0 was given")
    }
}

impl std::error::Error for ZeroParties {}
