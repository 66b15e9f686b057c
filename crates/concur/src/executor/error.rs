//! What the pools report when they refuse: a call ([`SubmitError`]) or a
//! setting ([`BuildError`]). Both pools share them, so they sit below both.

use std::fmt;

/// Why a pool refused a call.
///
/// # Examples
///
/// ```
/// use concur::executor::{Shutdown, SubmitError, ThreadPool};
///
/// let pool = ThreadPool::new(1).unwrap();
/// pool.shutdown(Shutdown::wait());
/// assert_eq!(pool.submit(|| 1).unwrap_err(), SubmitError::ShutDown);
/// ```
///
/// # Python
///
/// `RuntimeError: cannot schedule new futures after shutdown` and
/// `BrokenThreadPool`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError {
    /// `shutdown` was called, or the pool was dropped.
    ShutDown,
    /// A worker's initializer panicked; the pool runs nothing more.
    Broken(String),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::ShutDown => f.write_str("cannot submit: the pool is shut down"),
            SubmitError::Broken(reason) => write!(f, "cannot submit: the pool is broken: {reason}"),
        }
    }
}

impl std::error::Error for SubmitError {}

/// Why a pool could not be built with the settings given.
///
/// # Examples
///
/// ```
/// use concur::executor::{BuildError, ThreadPool};
///
/// let refused = ThreadPool::new(0).unwrap_err();
/// assert_eq!(refused, BuildError::ZeroWorkers);
/// assert_eq!(refused.to_string(), "a pool needs max_workers of at least 1, and 0 was given");
/// ```
///
/// # Python
///
/// `ValueError: max_workers must be greater than 0` and `ValueError:
/// max_tasks_per_child must be >= 1`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// `max_workers` was 0: such a pool could never run a call.
    ZeroWorkers,
    /// A process pool's `max_tasks_per_child` was 0: a worker would have to
    /// be replaced before its first call.
    ZeroTasksPerChild,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroWorkers => f.write_str("a pool needs max_workers of at least 1, and 0 was given"),
            BuildError::ZeroTasksPerChild => {
                f.write_str("a process pool needs max_tasks_per_child of at least 1, and 0 was given")
            }
        }
    }
}

impl std::error::Error for BuildError {}
