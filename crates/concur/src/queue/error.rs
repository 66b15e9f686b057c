//! What a queue call reports when it cannot do what was asked. Every error
//! for a rejected item hands the item back: nothing given to a queue is lost.

use std::fmt;

/// A `put` that could not place its item, with the item handed back.
///
/// Returned by `try_put` and `put_timeout`.
///
/// # Examples
///
/// ```
/// use concur::queue::{PutError, Queue};
///
/// let q = Queue::bounded(1).unwrap();
/// q.try_put("first").unwrap();
/// match q.try_put("second") {
///     Err(PutError::Full(item)) => assert_eq!(item, "second"),
///     other => panic!("{other:?}"),
/// }
/// q.shutdown();
/// assert_eq!(q.try_put("third"), Err(PutError::ShutDown("third")));
/// ```
///
/// # Python
///
/// `queue.Full` and, since Python 3.13, `queue.ShutDown`, raised by `put`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue was full (for `put_timeout`: for the whole timeout).
    Full(T),
    /// The queue was shut down; it takes no more items.
    ShutDown(T),
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("cannot put: the queue is full"),
            PutError::ShutDown(_) => f.write_str("cannot put: the queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::Queue::bounded(1).unwrap();
    /// q.put(1).unwrap();
    /// assert_eq!(q.try_put(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Like crossbeam's `TrySendError`: the item need not be `Debug`.
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

/// Why a `get` returned no item.
///
/// Returned by `try_get` and `get_timeout`.
///
/// # Examples
///
/// ```
/// use concur::queue::{GetError, Queue};
///
/// let q: Queue<u8> = Queue::unbounded();
/// assert_eq!(q.try_get(), Err(GetError::Empty));
/// q.shutdown();
/// assert_eq!(q.try_get(), Err(GetError::ShutDown));
/// ```
///
/// # Python
///
/// `queue.Empty` and, since Python 3.13, `queue.ShutDown`, raised by `get`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// The queue was empty (for `get_timeout`: for the whole timeout).
    Empty,
    /// The queue was shut down and has no item left to give.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("cannot get: the queue is empty"),
            GetError::ShutDown => f.write_str("cannot get: the queue is shut down and empty"),
        }
    }
}

impl std::error::Error for GetError {}

/// The queue was shut down. For a `put`, it carries the item back; for a
/// `get`, it carries nothing (`ShutDown<()>`).
///
/// Returned by the blocking and async `put` and `get`, which wait for as long
/// as it takes, so the only way they fail is a shutdown.
///
/// # Examples
///
/// ```
/// use concur::queue::{Queue, ShutDown};
///
/// let q = Queue::unbounded();
/// q.put("kept").unwrap();
/// q.shutdown();
/// assert_eq!(q.put("refused"), Err(ShutDown("refused")));
/// assert_eq!(q.get(), Ok("kept")); // what was in the queue still comes out
/// assert_eq!(q.get(), Err(ShutDown(())));
/// ```
///
/// # Python
///
/// `queue.ShutDown` (Python 3.13).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShutDown<T = ()>(pub T);

impl<T> fmt::Display for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down")
    }
}

impl<T> std::error::Error for ShutDown<T> {}

impl<T> fmt::Debug for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutDown(..)")
    }
}

/// `task_done` was called more times than items were put.
///
/// # Examples
///
/// ```
/// let q: concur::queue::Queue<i32> = concur::queue::Queue::unbounded();
/// let err = q.task_done().unwrap_err();
/// assert_eq!(err.to_string(), "task_done() called more times than there were items put");
/// ```
///
/// # Python
///
/// `ValueError: task_done() called too many times`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items put")
    }
}

impl std::error::Error for TaskDoneError {}

/// A bounded queue was asked for with room for no item.
///
/// Returned by `bounded(0)` on [`Queue`](super::Queue),
/// [`LifoQueue`](super::LifoQueue) and [`PriorityQueue`](super::PriorityQueue).
///
/// # Examples
///
/// ```
/// use concur::queue::{Queue, ZeroCapacity};
///
/// let err = Queue::<u8>::bounded(0).unwrap_err();
/// assert_eq!(err, ZeroCapacity);
/// assert!(err.to_string().contains("unbounded()"));
/// ```
///
/// # Python
///
/// None: Python's `Queue(maxsize=0)` is a queue without a limit, which is
/// [`Queue::with_maxsize(0)`](super::Queue::with_maxsize) or
/// [`Queue::unbounded()`](super::Queue::unbounded) here.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroCapacity;

impl fmt::Display for ZeroCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a bounded queue needs a capacity of at least 1; for a queue without a limit use `unbounded()`, \
             or `with_maxsize(0)` for Python's spelling",
        )
    }
}

impl std::error::Error for ZeroCapacity {}
