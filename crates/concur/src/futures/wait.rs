//! `wait` and `as_completed`: waiting on many futures at once.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::future::{ConcurrentFuture, Watcher};
use crate::deadline::Deadline;
use crate::loom::sync::{Condvar, Mutex};

/// When [`wait`] returns.
///
/// # Examples
///
/// ```
/// use concur::futures::{wait, ConcurrentFuture, ReturnWhen};
///
/// let (a, b) = (ConcurrentFuture::new(), ConcurrentFuture::<u8>::new());
/// a.set_result(1).unwrap();
/// let (done, not_done) = wait([&a, &b], ReturnWhen::FirstCompleted, None);
/// assert_eq!((done.len(), not_done.len()), (1, 1));
/// ```
///
/// # Python
///
/// `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any future is done.
    FirstCompleted,
    /// As soon as any future fails (panics or fails; cancelling is not
    /// failing), or when all are done.
    FirstException,
    /// When every future is done.
    #[default]
    AllCompleted,
}

/// What the futures being waited on have done so far.
#[derive(Default)]
struct Progress {
    /// Indexes of the futures done, in the order they finished.
    done: VecDeque<usize>,
    any_failed: bool,
}

/// Collects the completions of a set of futures and wakes the waiter.
struct Gather {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Watcher for Gather {
    fn finished(&self, index: usize, failed: bool) {
        let mut progress = self.progress.lock();
        progress.done.push_back(index);
        progress.any_failed |= failed;
        self.changed.notify_all();
    }
}

/// The futures, deduplicated, with a gatherer watching those not yet done.
struct Watched<'a, T> {
    futures: Vec<&'a ConcurrentFuture<T>>,
    gather: Arc<Gather>,
    watcher: Arc<dyn Watcher>,
}

impl<'a, T> Watched<'a, T> {
    fn new(futures: impl IntoIterator<Item = &'a ConcurrentFuture<T>>) -> Watched<'a, T> {
        let mut seen = HashSet::new();
        let unique: Vec<&'a ConcurrentFuture<T>> =
            futures.into_iter().filter(|future| seen.insert(std::ptr::from_ref(*future))).collect();
        let gather = Arc::new(Gather { progress: Mutex::new(Progress::default()), changed: Condvar::new() });
        let watcher: Arc<dyn Watcher> = gather.clone();
        for (index, future) in unique.iter().enumerate() {
            if let Some(failed) = future.watch(&watcher, index) {
                watcher.finished(index, failed);
            }
        }
        Watched { futures: unique, gather, watcher }
    }
}

impl<T> Drop for Watched<'_, T> {
    fn drop(&mut self) {
        for future in &self.futures {
            future.unwatch(&self.watcher);
        }
    }
}

/// Waits until the futures reach `return_when`, or `timeout` passes; returns
/// them split into `(done, not_done)`, each in the order given. A future
/// listed twice appears once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::executor::ThreadPool;
/// use concur::futures::{wait, ReturnWhen};
///
/// let pool = ThreadPool::new(2).unwrap();
/// let quick = pool.submit(|| 1).unwrap();
/// let slow = pool.submit(|| {
///     std::thread::sleep(Duration::from_millis(200));
///     2
/// }).unwrap();
/// let (done, not_done) = wait([&quick, &slow], ReturnWhen::FirstCompleted, None);
/// assert!(done.iter().any(|f| std::ptr::eq(*f, &quick)));
/// assert!(done.len() + not_done.len() == 2);
/// ```
///
/// # Python
///
/// `concurrent.futures.wait(fs, timeout=None, return_when=ALL_COMPLETED)`,
/// which returns two sets.
pub fn wait<'a, T>(
    futures: impl IntoIterator<Item = &'a ConcurrentFuture<T>>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> (Vec<&'a ConcurrentFuture<T>>, Vec<&'a ConcurrentFuture<T>>) {
    let watched = Watched::new(futures);
    let total = watched.futures.len();
    let deadline = Deadline::from_timeout(timeout);
    let reached = |progress: &Progress| match return_when {
        ReturnWhen::FirstCompleted => !progress.done.is_empty() || total == 0,
        ReturnWhen::FirstException => progress.any_failed || progress.done.len() == total,
        ReturnWhen::AllCompleted => progress.done.len() == total,
    };
    let mut done = vec![false; total];
    {
        let mut progress = watched.gather.progress.lock();
        while !reached(&progress) && !deadline.has_passed() {
            deadline.wait(&watched.gather.changed, &mut progress);
        }
        for &index in &progress.done {
            done[index] = true;
        }
    }
    // A future that finished after the last look counts as done too.
    let (finished, pending) =
        watched.futures.iter().enumerate().partition::<Vec<_>, _>(|&(i, f)| done[i] || f.is_done());
    (finished.into_iter().map(|(_, f)| *f).collect(), pending.into_iter().map(|(_, f)| *f).collect())
}

/// Futures left unfinished when [`as_completed`] timed out.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::futures::{as_completed, ConcurrentFuture};
///
/// let never: ConcurrentFuture<u8> = ConcurrentFuture::new();
/// let err = as_completed([&never], Some(Duration::from_millis(5))).next().unwrap().unwrap_err();
/// assert_eq!(err.unfinished(), 1);
/// assert_eq!(err.to_string(), "1 (of 1) futures unfinished");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsCompletedTimeout {
    unfinished: usize,
    total: usize,
}

impl fmt::Display for AsCompletedTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (of {}) futures unfinished", self.unfinished, self.total)
    }
}

impl std::error::Error for AsCompletedTimeout {}

impl AsCompletedTimeout {
    /// How many futures were not done when time ran out.
    ///
    /// # Examples
    ///
    /// See [`AsCompletedTimeout`].
    ///
    /// ```
    /// # use concur::futures::{as_completed, ConcurrentFuture};
    /// # let f: ConcurrentFuture<()> = ConcurrentFuture::new();
    /// # let err = as_completed([&f], Some(std::time::Duration::ZERO)).next().unwrap().unwrap_err();
    /// assert_eq!(err.unfinished(), 1);
    /// ```
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }
}

/// Yields the futures as they finish (those already done first), ending
/// when all have been yielded; with a timeout, an `Err` when it passes, after
/// which the iteration ends. A future listed twice is yielded once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::executor::ThreadPool;
/// use concur::futures::as_completed;
///
/// let pool = ThreadPool::new(3).unwrap();
/// let naps: Vec<_> = [30, 10, 20]
///     .into_iter()
///     .map(|ms| pool.submit(move || {
///         std::thread::sleep(Duration::from_millis(ms));
///         ms
///     }).unwrap())
///     .collect();
/// let mut total = 0;
/// for finished in as_completed(&naps, None) {
///     total += finished.unwrap().result().unwrap();
/// }
/// assert_eq!(total, 60);
/// ```
///
/// # Python
///
/// `concurrent.futures.as_completed(fs, timeout=None)`, whose iterator raises
/// `TimeoutError`.
pub fn as_completed<'a, T>(
    futures: impl IntoIterator<Item = &'a ConcurrentFuture<T>>,
    timeout: Option<Duration>,
) -> AsCompleted<'a, T> {
    let watched = Watched::new(futures);
    AsCompleted { yielded: 0, deadline: Deadline::from_timeout(timeout), watched, ended: false }
}

/// The iterator [`as_completed`] returns.
///
/// # Examples
///
/// ```
/// let f = concur::futures::ConcurrentFuture::new();
/// f.set_result(1).unwrap();
/// assert_eq!(concur::futures::as_completed([&f], None).count(), 1);
/// ```
pub struct AsCompleted<'a, T> {
    watched: Watched<'a, T>,
    yielded: usize,
    deadline: Deadline,
    ended: bool,
}

impl<'a, T> Iterator for AsCompleted<'a, T> {
    type Item = Result<&'a ConcurrentFuture<T>, AsCompletedTimeout>;

    fn next(&mut self) -> Option<Self::Item> {
        let total = self.watched.futures.len();
        if self.ended || self.yielded == total {
            return None;
        }
        let mut progress = self.watched.gather.progress.lock();
        loop {
            if let Some(index) = progress.done.pop_front() {
                self.yielded += 1;
                return Some(Ok(self.watched.futures[index]));
            }
            if self.deadline.has_passed() {
                self.ended = true;
                return Some(Err(AsCompletedTimeout { unfinished: total - self.yielded, total }));
            }
            self.deadline.wait(&self.watched.gather.changed, &mut progress);
        }
    }
}

impl<T> fmt::Debug for AsCompleted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("futures", &self.watched.futures.len())
            .field("yielded", &self.yielded)
            .finish()
    }
}
