//! Iterating over a queue: taking items until it is shut down.

use std::fmt;

use super::engine::Engine;
use super::store::Store;

/// Something items can be taken from, blocking; `None` once shut down and
/// empty. Lets one iterator type serve every queue kind.
trait Source<T> {
    fn next_item(&self) -> Option<T>;
}

impl<T, S: Store<T>> Source<T> for Engine<T, S> {
    fn next_item(&self) -> Option<T> {
        self.get().ok()
    }
}

/// A blocking iterator over a queue's items: each `next` is a `get`, and the
/// iteration ends when the queue is shut down and empty.
///
/// Made by `iter()` or by iterating over `&queue`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use concur::queue::Queue;
///
/// let q = Arc::new(Queue::unbounded());
/// let consumer = {
///     let q = q.clone();
///     std::thread::spawn(move || q.iter().sum::<u32>())
/// };
/// for n in 1..=4 {
///     q.put(n).unwrap();
/// }
/// q.shutdown();
/// assert_eq!(consumer.join().unwrap(), 10);
/// ```
pub struct Iter<'a, T> {
    queue: &'a dyn Source<T>,
}

impl<'a, T> Iter<'a, T> {
    pub(crate) fn new<S: Store<T>>(engine: &'a Engine<T, S>) -> Iter<'a, T> {
        Iter { queue: engine }
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.next_item()
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}
