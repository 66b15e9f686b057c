//! `Queue`, `LifoQueue` and `PriorityQueue`: one engine, three orders.
//!
//! The three types differ only in the order items leave. Their methods are
//! written once, in the `queue_kind!` macro below, each forwarding to the
//! shared engine; the macro exists so that each type has its own page of
//! documentation with examples that name it, as std does for its integer
//! types.

use std::fmt;
use std::time::Duration;

use super::engine::Engine;
use super::error::{GetError, PutError, ShutDown, TaskDoneError, ZeroCapacity};
use super::iter::Iter;
use super::store::{Fifo, Lifo, Lowest, Prioritized};
use crate::deadline::Deadline;

macro_rules! queue_kind {
    (
        $(#[$attr:meta])*
        $name:ident, $store:ident, [$($bound:tt)*], $python:literal
    ) => {
        $(#[$attr])*
        pub struct $name<T $($bound)*> {
            engine: Engine<T, $store<T>>,
        }

        impl<T $($bound)*> $name<T> {
            /// Creates a queue with no limit: `put` never waits.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use concur::queue::", stringify!($name), ";")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::unbounded();")]
            /// for n in 0..1000 {
            ///     q.put(n).unwrap();
            /// }
            /// assert!(!q.is_full());
            /// assert_eq!(q.capacity(), None);
            /// ```
            ///
            /// # Python
            ///
            #[doc = concat!("`", $python, "()`, or `", $python, "(maxsize=0)`.")]
            pub fn unbounded() -> Self {
                $name { engine: Engine::new(0) }
            }

            /// Creates a queue that holds at most `capacity` items: `put`
            /// waits while it is full, which slows a fast producer down to
            /// its consumers' pace.
            ///
            /// # Errors
            ///
            /// [`ZeroCapacity`] if `capacity` is 0. A queue with no room
            /// could never take an item; for a queue without a limit, use
            /// [`unbounded`](Self::unbounded). (In crossbeam and flume,
            /// `bounded(0)` is a rendezvous channel; in Python,
            /// `maxsize=0` means no limit. Refusing it here keeps either
            /// reader from being surprised.)
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use concur::queue::{", stringify!($name), ", ZeroCapacity};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::bounded(2).unwrap();")]
            /// q.put(1).unwrap();
            /// q.put(2).unwrap();
            /// assert!(q.is_full());
            /// assert_eq!(q.capacity(), Some(2));
            #[doc = concat!("assert_eq!(", stringify!($name), "::<u8>::bounded(0).unwrap_err(), ZeroCapacity);")]
            /// ```
            ///
            /// # Python
            ///
            #[doc = concat!("`", $python, "(maxsize)` with `maxsize > 0`.")]
            pub fn bounded(capacity: usize) -> Result<Self, ZeroCapacity> {
                if capacity == 0 {
                    return Err(ZeroCapacity);
                }
                Ok($name { engine: Engine::new(capacity) })
            }

            #[doc = concat!("Creates a queue by Python's rule for `", $python, "(maxsize)`: at most `maxsize` items, where `0` means no limit.")]
            ///
            /// For a limit known when writing the code, prefer
            /// [`bounded`](Self::bounded) or [`unbounded`](Self::unbounded);
            /// this one is for a size that comes from elsewhere in Python's
            /// form, such as a setting ported from a Python program.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use concur::queue::", stringify!($name), ";")]
            ///
            #[doc = concat!("let limited: ", stringify!($name), "<u8> = ", stringify!($name), "::with_maxsize(8);")]
            /// assert_eq!(limited.capacity(), Some(8));
            #[doc = concat!("let unlimited: ", stringify!($name), "<u8> = ", stringify!($name), "::with_maxsize(0);")]
            /// assert_eq!(unlimited.capacity(), None); // Python's rule: 0 is no limit
            /// ```
            ///
            /// # Python
            ///
            #[doc = concat!("`", $python, "(maxsize)`, whatever `maxsize` is.")]
            #[doc(alias = "maxsize")]
            pub fn with_maxsize(maxsize: usize) -> Self {
                $name { engine: Engine::new(maxsize) }
            }

            /// Puts `item`, waiting while the queue is full.
            ///
            /// # Errors
            ///
            /// [`ShutDown`] with the item if the queue is shut down, before or
            /// while waiting.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put("job").unwrap();
            /// assert_eq!(q.len(), 1);
            /// ```
            ///
            /// # Python
            ///
            /// `put(item)`.
            pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
                self.engine.put(item)
            }

            /// Puts `item`, waiting up to `timeout` for room.
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] with the item if there was no room for the
            /// whole timeout; [`PutError::ShutDown`] with the item if the
            /// queue is shut down.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// use concur::queue::PutError;
            ///
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::bounded(1).unwrap();")]
            /// q.put(1).unwrap();
            /// let late = q.put_timeout(2, Duration::from_millis(5));
            /// assert_eq!(late, Err(PutError::Full(2)));
            /// ```
            ///
            /// # Python
            ///
            /// `put(item, timeout=t)`, which raises `Full`.
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                self.engine.put_until(item, Deadline::after(timeout))
            }

            /// Puts `item` if there is room now, without waiting.
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::bounded(1).unwrap();")]
            /// assert!(q.try_put(1).is_ok());
            /// assert!(q.try_put(2).is_err());
            /// ```
            ///
            /// # Python
            ///
            /// `put_nowait(item)`.
            #[doc(alias = "put_nowait")]
            pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                self.engine.try_put(item)
            }

            /// Puts `item` from an async task, waiting while the queue is full
            /// without blocking the thread. Works on any executor.
            ///
            /// # Errors
            ///
            /// [`ShutDown`] with the item if the queue is shut down.
            ///
            /// # Cancel safety
            ///
            /// Dropping the future before it completes leaves the queue
            /// unchanged: the item was not put, and it is dropped with the
            /// future. No other waiter loses a wake-up.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::bounded(1).unwrap();")]
            /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            /// rt.block_on(async {
            ///     q.put_async(7).await.unwrap();
            ///     assert_eq!(q.get_async().await, Ok(7));
            /// });
            /// ```
            pub async fn put_async(&self, item: T) -> Result<(), ShutDown<T>> {
                self.engine.put_async(item).await
            }

            /// Takes the next item, waiting while the queue is empty.
            ///
            /// # Errors
            ///
            /// [`ShutDown`] once the queue is shut down and empty: after a
            /// shutdown the items left are still handed out first (unless it
            /// was immediate).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            ///
            #[doc = concat!("let q = Arc::new(concur::queue::", stringify!($name), "::unbounded());")]
            /// let producer = {
            ///     let q = q.clone();
            ///     std::thread::spawn(move || q.put(42).unwrap())
            /// };
            /// assert_eq!(q.get(), Ok(42)); // waits for the producer
            /// producer.join().unwrap();
            /// ```
            ///
            /// # Python
            ///
            /// `get()`.
            pub fn get(&self) -> Result<T, ShutDown> {
                self.engine.get()
            }

            /// Takes the next item, waiting up to `timeout` for one.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`] if none came for the whole timeout;
            /// [`GetError::ShutDown`] if the queue is shut down and empty.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// use concur::queue::GetError;
            ///
            #[doc = concat!("let q: concur::queue::", stringify!($name), "<u32> = concur::queue::", stringify!($name), "::unbounded();")]
            /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
            /// ```
            ///
            /// # Python
            ///
            /// `get(timeout=t)`, which raises `Empty`.
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                self.engine.get_until(Deadline::after(timeout))
            }

            /// Takes the next item if there is one now, without waiting.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`], or [`GetError::ShutDown`] if the queue is
            /// shut down and empty.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// assert!(q.try_get().is_err());
            /// q.put(1).unwrap();
            /// assert_eq!(q.try_get(), Ok(1));
            /// ```
            ///
            /// # Python
            ///
            /// `get_nowait()`.
            #[doc(alias = "get_nowait")]
            pub fn try_get(&self) -> Result<T, GetError> {
                self.engine.try_get()
            }

            /// Takes the next item from an async task, waiting while the queue
            /// is empty without blocking the thread. Works on any executor.
            ///
            /// # Errors
            ///
            /// [`ShutDown`] once the queue is shut down and empty.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: an item leaves the queue only in the poll that
            /// returns it, so dropping the future never loses one. If the
            /// future had been woken for an item, the wake-up passes to the
            /// next waiter, thread or task.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            ///
            #[doc = concat!("let q = Arc::new(concur::queue::", stringify!($name), "::unbounded());")]
            /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            /// // A thread feeds an async task.
            /// let feeder = {
            ///     let q = q.clone();
            ///     std::thread::spawn(move || q.put("from a thread").unwrap())
            /// };
            /// assert_eq!(rt.block_on(q.get_async()), Ok("from a thread"));
            /// feeder.join().unwrap();
            /// ```
            pub async fn get_async(&self) -> Result<T, ShutDown> {
                self.engine.get_async().await
            }

            /// Marks one item taken with `get` as fully handled. When every
            /// item put has been marked, [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put;
            /// nothing changes.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.get().unwrap();
            /// q.task_done().unwrap();
            /// assert!(q.task_done().is_err());
            /// ```
            ///
            /// # Python
            ///
            /// `task_done()`, which raises `ValueError` when called too often.
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.engine.task_done()
            }

            /// Waits until every item ever put has been marked with
            /// [`task_done`](Self::task_done).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            ///
            #[doc = concat!("let q = Arc::new(concur::queue::", stringify!($name), "::unbounded());")]
            /// for n in 0..3 {
            ///     q.put(n).unwrap();
            /// }
            /// let worker = {
            ///     let q = q.clone();
            ///     std::thread::spawn(move || {
            ///         for _ in 0..3 {
            ///             q.get().unwrap();
            ///             q.task_done().unwrap();
            ///         }
            ///     })
            /// };
            /// q.join(); // returns once the worker has marked all three
            /// worker.join().unwrap();
            /// ```
            ///
            /// # Python
            ///
            /// `join()`.
            pub fn join(&self) {
                self.engine.join_until(Deadline::NEVER);
            }

            /// How many items have been put and not yet marked with
            /// [`task_done`](Self::task_done): [`join`](Self::join) waits for
            /// this to reach 0.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.get().unwrap(); // taken, not yet done
            /// assert_eq!(q.unfinished_tasks(), 1);
            /// q.task_done().unwrap();
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// ```
            ///
            /// # Python
            ///
            /// The `unfinished_tasks` attribute.
            pub fn unfinished_tasks(&self) -> usize {
                self.engine.unfinished_tasks()
            }

            /// As [`join`](Self::join), giving up after `timeout`. Returns
            /// whether every item was marked done.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            ///
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// assert!(!q.join_timeout(Duration::from_millis(5)));
            /// ```
            ///
            /// # Python
            ///
            /// None: Python's `join()` has no timeout.
            pub fn join_timeout(&self, timeout: Duration) -> bool {
                self.engine.join_until(Deadline::after(timeout))
            }

            /// As [`join`](Self::join), from an async task.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: it changes nothing, so dropping it loses nothing.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.get().unwrap();
            /// q.task_done().unwrap();
            /// tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(q.join_async());
            /// ```
            pub async fn join_async(&self) {
                self.engine.join_async().await
            }

            /// Shuts the queue down: every later `put` fails with
            /// [`ShutDown`], getters still receive the items left and then
            /// fail, and every blocked caller wakes.
            ///
            /// # Examples
            ///
            /// ```
            /// use concur::queue::ShutDown;
            ///
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.shutdown();
            /// assert_eq!(q.put(2), Err(ShutDown(2)));
            /// assert_eq!(q.get(), Ok(1)); // what was left still comes out
            /// assert_eq!(q.get(), Err(ShutDown(())));
            /// ```
            ///
            /// # Python
            ///
            /// `shutdown()` (`immediate=False`), new in Python 3.13.
            pub fn shutdown(&self) {
                self.engine.shutdown()
            }

            /// Shuts the queue down and throws away the items left: they
            /// are dropped and marked done (which may release
            /// [`join`](Self::join)), getters fail at once, every later
            /// `put` fails, and every blocked caller wakes.
            ///
            /// # Examples
            ///
            /// ```
            /// use concur::queue::ShutDown;
            ///
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.shutdown_immediate();
            /// assert_eq!(q.get(), Err(ShutDown(())));
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// assert!(q.is_shut_down());
            /// ```
            ///
            /// # Python
            ///
            /// `shutdown(immediate=True)`, new in Python 3.13.
            #[doc(alias = "shutdown")]
            pub fn shutdown_immediate(&self) {
                self.engine.shutdown_immediate()
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q: concur::queue::", stringify!($name), "<u8> = concur::queue::", stringify!($name), "::unbounded();")]
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
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// assert_eq!(q.len(), 1);
            /// ```
            ///
            /// # Python
            ///
            /// `qsize()`; as there, the answer may be stale by the time it is read.
            #[doc(alias = "qsize")]
            pub fn len(&self) -> usize {
                self.engine.len()
            }

            /// Whether the queue holds no item now.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q: concur::queue::", stringify!($name), "<u8> = concur::queue::", stringify!($name), "::unbounded();")]
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

            /// Whether the queue has a limit and holds that many items now.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::bounded(1).unwrap();")]
            /// q.put(1).unwrap();
            /// assert!(q.is_full());
            /// ```
            ///
            /// # Python
            ///
            /// `full()`.
            #[doc(alias = "full")]
            pub fn is_full(&self) -> bool {
                self.engine.is_full()
            }

            /// The most items the queue holds, or `None` for no limit.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q: concur::queue::", stringify!($name), "<u8> = concur::queue::", stringify!($name), "::bounded(8).unwrap();")]
            /// assert_eq!(q.capacity(), Some(8));
            /// ```
            ///
            /// # Python
            ///
            /// The `maxsize` attribute, with `None` where Python has 0.
            #[doc(alias = "maxsize")]
            pub fn capacity(&self) -> Option<usize> {
                Some(self.engine.maxsize()).filter(|&maxsize| maxsize != 0)
            }

            /// Takes every item in the queue now, in the order `get` would,
            /// without waiting. Each still counts for
            /// [`task_done`](Self::task_done).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.put(1).unwrap();
            /// assert_eq!(q.drain().collect::<Vec<_>>(), [1, 1]);
            /// assert!(q.is_empty());
            /// ```
            pub fn drain(&self) -> std::vec::IntoIter<T> {
                self.engine.drain().into_iter()
            }

            /// An iterator that takes items with [`get`](Self::get), blocking
            /// while the queue is empty, and ends when the queue is shut down
            /// and empty.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = concur::queue::", stringify!($name), "::unbounded();")]
            /// q.put(3).unwrap();
            /// q.shutdown();
            /// assert_eq!(q.iter().collect::<Vec<_>>(), [3]);
            /// ```
            pub fn iter(&self) -> Iter<'_, T> {
                Iter::new(&self.engine)
            }
        }

        impl<'a, T $($bound)*> IntoIterator for &'a $name<T> {
            type Item = T;
            type IntoIter = Iter<'a, T>;

            fn into_iter(self) -> Iter<'a, T> {
                self.iter()
            }
        }

        impl<T $($bound)*> Default for $name<T> {
            /// A queue with no size limit, as [`unbounded`](Self::unbounded).
            fn default() -> Self {
                $name::unbounded()
            }
        }

        impl<T $($bound)*> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.engine.debug(stringify!($name), Some(self.engine.unfinished_tasks()), f)
            }
        }
    };
}

queue_kind! {
    /// A first-in, first-out queue for threads and async tasks together.
    ///
    /// Items leave in the order they were put. A
    /// [`bounded`](Self::bounded) queue makes `put` wait for room, which
    /// slows a fast producer down to its consumers' pace. Every item put counts as a task until a
    /// consumer calls [`task_done`](Self::task_done) for it, so
    /// [`join`](Self::join) can wait for all the work, not only for an empty
    /// queue.
    ///
    /// The same queue may be used at once by blocked threads (`put`, `get`)
    /// and by async tasks (`put_async`, `get_async`) on any executor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use concur::queue::Queue;
    ///
    /// let orders = Arc::new(Queue::bounded(8).unwrap());
    /// let kitchen = {
    ///     let orders = orders.clone();
    ///     std::thread::spawn(move || {
    ///         let mut cooked = Vec::new();
    ///         for dish in orders.iter() {
    ///             cooked.push(dish);
    ///             orders.task_done().unwrap();
    ///         }
    ///         cooked
    ///     })
    /// };
    /// for dish in ["soup", "bread", "tea"] {
    ///     orders.put(dish).unwrap();
    /// }
    /// orders.join(); // all three cooked
    /// orders.shutdown(); // ends the kitchen's loop
    /// assert_eq!(kitchen.join().unwrap(), ["soup", "bread", "tea"]);
    /// ```
    ///
    /// # Python
    ///
    /// `queue.Queue(maxsize)`: [`unbounded`](Self::unbounded),
    /// [`bounded`](Self::bounded), or [`with_maxsize`](Self::with_maxsize)
    /// for Python's own rule. `put` and `get` without a timeout return
    /// `Err` only for a shutdown; the `_timeout` and `try_` forms return
    /// [`PutError`] / [`GetError`] where Python raises `Full` / `Empty`.
    Queue, Fifo, [], "queue.Queue"
}

queue_kind! {
    /// A last-in, first-out queue: a stack that threads and async tasks can
    /// share.
    ///
    /// Everything else is as for [`Queue`].
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = concur::queue::LifoQueue::unbounded();
    /// for n in 1..=3 {
    ///     stack.put(n).unwrap();
    /// }
    /// assert_eq!(stack.drain().collect::<Vec<_>>(), [3, 2, 1]);
    /// ```
    ///
    /// # Python
    ///
    /// `queue.LifoQueue(maxsize)`.
    LifoQueue, Lifo, [], "queue.LifoQueue"
}

queue_kind! {
    /// A queue that hands out its lowest item first; equal items leave in
    /// the order they were put.
    ///
    /// Items are compared with `Ord`. To queue items that cannot be compared
    /// (or should not be), wrap them in [`Prioritized`] with
    /// [`put_with_priority`](PriorityQueue::put_with_priority). Everything
    /// else is as for [`Queue`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tasks = concur::queue::PriorityQueue::unbounded();
    /// tasks.put((2, "write report")).unwrap();
    /// tasks.put((0, "fix outage")).unwrap();
    /// tasks.put((1, "review")).unwrap();
    /// assert_eq!(tasks.get().unwrap(), (0, "fix outage"));
    /// assert_eq!(tasks.get().unwrap(), (1, "review"));
    /// ```
    ///
    /// # Panics
    ///
    /// A put or get panics if `Ord::cmp` does, and the call is then undone:
    /// a put leaves the queue as it was (its item is dropped with the
    /// panic), a get leaves every item in, in order. The queue stays usable.
    ///
    /// # Python
    ///
    /// `queue.PriorityQueue(maxsize)`. Python's heap leaves equal entries in
    /// no particular order; here they keep their arrival order. A
    /// comparison that raises in Python's `put` leaves the item in the heap,
    /// perhaps out of place, and uncounted by `join`.
    PriorityQueue, Lowest, [: Ord], "queue.PriorityQueue"
}

impl<P: Ord, T> PriorityQueue<Prioritized<P, T>> {
    /// Puts `item` with `priority`, waiting while the queue is full: lower
    /// priorities leave first, equal ones in arrival order.
    ///
    /// # Errors
    ///
    /// [`ShutDown`] with the prioritized item if the queue is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::queue::PriorityQueue;
    ///
    /// let q = PriorityQueue::unbounded();
    /// q.put_with_priority("later", 9).unwrap();
    /// q.put_with_priority("first", 1).unwrap();
    /// q.put_with_priority("second", 1).unwrap();
    /// let order: Vec<_> = q.drain().map(|p| p.item).collect();
    /// assert_eq!(order, ["first", "second", "later"]);
    /// ```
    pub fn put_with_priority(&self, item: T, priority: P) -> Result<(), ShutDown<Prioritized<P, T>>> {
        self.put(Prioritized { priority, item })
    }
}
