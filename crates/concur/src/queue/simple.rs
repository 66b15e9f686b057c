//! `SimpleQueue`: an unbounded first-in, first-out queue without task
//! tracking.

use std::fmt;
use std::time::Duration;

use super::engine::Engine;
use super::error::{GetError, ShutDown};
use super::iter::Iter;
use super::list::List;
use crate::deadline::Deadline;

/// An unbounded first-in, first-out queue with no `task_done` or `join`:
/// `put` never waits.
///
/// Use it where nothing needs to know when the work is finished — a log
/// sink, a results channel. It is the same engine as [`Queue`](super::Queue),
/// so threads and async tasks share it in the same way.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use concur::queue::SimpleQueue;
///
/// let results = Arc::new(SimpleQueue::new());
/// let workers: Vec<_> = (0..4)
///     .map(|n| {
///         let results = results.clone();
///         std::thread::spawn(move || results.put(n * n).unwrap())
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// let mut squares: Vec<_> = results.drain().collect();
/// squares.sort();
/// assert_eq!(squares, [0, 1, 4, 9]);
/// ```
///
/// # Python
///
/// `queue.SimpleQueue`. Python's has no `shutdown`; this one has it, so its
/// iterator can end.
pub struct SimpleQueue<T> {
    engine: Engine<T, List<T>>,
}

impl<T> SimpleQueue<T> {
    /// Creates an empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: concur::queue::SimpleQueue<i32> = concur::queue::SimpleQueue::new();
    /// assert!(q.is_empty());
    /// ```
    pub fn new() -> Self {
        SimpleQueue { engine: Engine::new(0) }
    }

    /// Puts `item`; never waits, since the queue has no limit.
    ///
    /// # Errors
    ///
    /// [`ShutDown`] with the item if the queue is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put("line").unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
        self.engine.put(item)
    }

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`ShutDown`] once the queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.get(), Ok(1));
    /// ```
    pub fn get(&self) -> Result<T, ShutDown> {
        self.engine.get()
    }

    /// Takes the next item, waiting up to `timeout` for one.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] after the timeout; [`GetError::ShutDown`] if the
    /// queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q: concur::queue::SimpleQueue<u8> = concur::queue::SimpleQueue::new();
    /// assert!(q.get_timeout(Duration::from_millis(5)).is_err());
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.engine.get_until(Deadline::after(timeout))
    }

    /// Takes the next item if there is one now.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], or [`GetError::ShutDown`] if shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: concur::queue::SimpleQueue<u8> = concur::queue::SimpleQueue::new();
    /// assert!(q.try_get().is_err());
    /// ```
    ///
    /// # Python
    ///
    /// `get_nowait()`.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.engine.try_get()
    }

    /// Takes the next item from an async task.
    ///
    /// # Errors
    ///
    /// [`ShutDown`] once the queue is shut down and empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future never loses an item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put(5).unwrap();
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.block_on(q.get_async()), Ok(5));
    /// ```
    pub async fn get_async(&self) -> Result<T, ShutDown> {
        self.engine.get_async().await
    }

    /// Shuts the queue down: later puts fail; getters drain what is left
    /// and then fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put(1).unwrap();
    /// q.shutdown();
    /// assert!(q.put(2).is_err());
    /// assert_eq!(q.get(), Ok(1));
    /// ```
    pub fn shutdown(&self) {
        self.engine.shutdown()
    }

    /// Shuts the queue down and drops the items left: getters fail at
    /// once.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put(1).unwrap();
    /// q.shutdown_immediate();
    /// assert!(q.get().is_err());
    /// ```
    #[doc(alias = "shutdown")]
    pub fn shutdown_immediate(&self) {
        self.engine.shutdown_dropping()
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: concur::queue::SimpleQueue<u8> = concur::queue::SimpleQueue::new();
    /// assert!(!q.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.engine.is_shut_down()
    }

    /// The number of items in the queue now.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put(()).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    ///
    /// # Python
    ///
    /// `qsize()`.
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        self.engine.len()
    }

    /// Whether the queue holds no item now.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: concur::queue::SimpleQueue<u8> = concur::queue::SimpleQueue::new();
    /// assert!(q.is_empty());
    /// ```
    ///
    /// # Python
    ///
    /// `empty()`.
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.engine.len() == 0
    }

    /// Takes every item in the queue now, in order, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put('a').unwrap();
    /// q.put('b').unwrap();
    /// assert_eq!(q.drain().collect::<String>(), "ab");
    /// ```
    pub fn drain(&self) -> std::vec::IntoIter<T> {
        self.engine.drain().into_iter()
    }

    /// A blocking iterator of `get`s that ends at shutdown.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = concur::queue::SimpleQueue::new();
    /// q.put(1).unwrap();
    /// q.shutdown();
    /// assert_eq!(q.iter().count(), 1);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(&self.engine)
    }
}

impl<'a, T> IntoIterator for &'a SimpleQueue<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        SimpleQueue::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.engine.debug("SimpleQueue", None, f)
    }
}
