//! `ThreadPool`: Python's `ThreadPoolExecutor`.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::error::{BuildError, SubmitError};
use super::shutdown::Shutdown;
use super::workers::{Job, Workers};
use crate::deadline::Deadline;
use crate::futures::{ConcurrentFuture, FutureError};

/// A call waiting in the pool's queue, with the future it completes.
trait Runnable: Job {
    /// Runs the call on a worker of `workers`, which is marked idle before
    /// the result is handed out.
    fn run(self: Box<Self>, workers: &Workers<dyn Runnable>);
}

struct Task<F, T> {
    call: F,
    future: ConcurrentFuture<T>,
}

impl<F: FnOnce() -> T + Send, T: Send> Runnable for Task<F, T> {
    fn run(self: Box<Self>, workers: &Workers<dyn Runnable>) {
        let Task { call, future } = *self;
        if !future.set_running_or_notify_cancel() {
            workers.job_done();
            return; // cancelled while it waited
        }
        let outcome = panic::catch_unwind(AssertUnwindSafe(call));
        // Idle before the result is out: the caller it wakes may submit
        // again at once, and must find this worker free rather than start
        // another (CPython's `test_idle_thread_reuse`).
        workers.job_done();
        // A panic fails this future only; the worker goes on. The future
        // was marked running above and only this job finishes it, so the
        // `set_` calls cannot find it done: their `Err` cannot happen.
        match outcome {
            Ok(value) => {
                let _ = future.set_result(value);
            }
            Err(payload) => {
                let _ = future.set_failure(FutureError::Panicked(panic_message(&*payload)));
            }
        }
    }
}

impl<F: FnOnce() -> T + Send, T: Send> Job for Task<F, T> {
    fn abandon(self: Box<Self>, why: FutureError) {
        if why == FutureError::Cancelled {
            self.future.cancel();
        } else {
            let _ = self.future.set_failure(why);
        }
    }
}

pub(crate) use crate::thread::panic_message;

type Initializer = Arc<dyn Fn() + Send + Sync>;

/// How to build a [`ThreadPool`]: worker count, thread names, initializer.
///
/// # Examples
///
/// ```
/// use concur::executor::ThreadPool;
///
/// let pool = ThreadPool::builder().max_workers(2).thread_name_prefix("fetch").build().unwrap();
/// let name = pool.submit(|| concur::thread::current().name().to_string()).unwrap();
/// assert!(name.result().unwrap().starts_with("fetch_"));
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl ThreadPoolBuilder {
    /// The most threads the pool will run; by default `min(32, cores + 4)`,
    /// as in Python. [`build`](Self::build) refuses 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(mut self, max_workers: usize) -> ThreadPoolBuilder {
        self.max_workers = Some(max_workers);
        self
    }

    /// Names the workers `{prefix}_0`, `{prefix}_1`, …; by default the prefix
    /// is `ThreadPool-N`, N counting pools.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::builder().thread_name_prefix("db").build().unwrap();
    /// let name = pool.submit(|| concur::thread::current().name().to_string()).unwrap();
    /// assert_eq!(name.result().unwrap(), "db_0");
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> ThreadPoolBuilder {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs `initializer` at the start of every worker thread. If it panics,
    /// the pool is broken: its queued calls fail and it refuses new ones.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let s = started.clone();
    /// let pool = concur::executor::ThreadPool::builder()
    ///     .max_workers(1)
    ///     .initializer(move || { s.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// pool.submit(|| ()).unwrap().result().unwrap();
    /// assert_eq!(started.load(Ordering::SeqCst), 1);
    /// ```
    pub fn initializer(mut self, initializer: impl Fn() + Send + Sync + 'static) -> ThreadPoolBuilder {
        self.initializer = Some(Arc::new(initializer));
        self
    }

    /// Builds the pool. Threads start as calls arrive, not before.
    ///
    /// # Errors
    ///
    /// [`BuildError::ZeroWorkers`] if `max_workers` was set to 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::{BuildError, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().build().unwrap();
    /// assert!(pool.max_workers() >= 5);
    /// assert_eq!(ThreadPool::builder().max_workers(0).build().unwrap_err(), BuildError::ZeroWorkers);
    /// ```
    ///
    /// # Python
    ///
    /// `ThreadPoolExecutor(...)`, which raises `ValueError` for
    /// `max_workers <= 0`.
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        static POOLS: AtomicUsize = AtomicUsize::new(0);
        let max_workers = self.max_workers.unwrap_or_else(default_workers);
        if max_workers == 0 {
            return Err(BuildError::ZeroWorkers);
        }
        let prefix = self.prefix.unwrap_or_else(|| format!("ThreadPool-{}", POOLS.fetch_add(1, Ordering::Relaxed)));
        Ok(ThreadPool { workers: Arc::new(Workers::new(max_workers)), prefix, initializer: self.initializer })
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

/// Python's default: `min(32, cores + 4)`, enough threads for I/O-bound
/// calls without one per call.
fn default_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores + 4).min(32)
}

/// A pool of threads that run submitted calls and hand back
/// [`ConcurrentFuture`]s.
///
/// Threads start as calls arrive, up to `max_workers`, and are reused. A
/// call that panics fails its own future; the thread goes on to the next
/// call. [`shutdown`](Self::shutdown) stops new calls; dropping the pool
/// shuts it down and waits for the queued calls, as leaving Python's `with`
/// block does.
///
/// # Examples
///
/// ```
/// use concur::executor::ThreadPool;
///
/// let pool = ThreadPool::new(4).unwrap();
/// let squares: Vec<u64> = pool.map(|n: u64| n * n, 1..=5).unwrap().map(Result::unwrap).collect();
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
/// ```
///
/// # Python
///
/// `concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix,
/// initializer)`: `submit`, `map`, `shutdown(wait, cancel_futures)`, and
/// `with` as drop.
pub struct ThreadPool {
    workers: Arc<Workers<dyn Runnable>>,
    prefix: String,
    initializer: Option<Initializer>,
}

impl ThreadPool {
    /// A pool of at most `max_workers` threads.
    ///
    /// # Errors
    ///
    /// [`BuildError::ZeroWorkers`] if `max_workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::new(2).unwrap();
    /// assert_eq!(pool.submit(|| 2 + 2).unwrap().result(), Ok(4));
    /// assert!(concur::executor::ThreadPool::new(0).is_err());
    /// ```
    ///
    /// # Python
    ///
    /// `ThreadPoolExecutor(max_workers)`, which raises `ValueError` for 0.
    pub fn new(max_workers: usize) -> Result<ThreadPool, BuildError> {
        ThreadPoolBuilder::default().max_workers(max_workers).build()
    }

    /// A builder for the pool's settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::builder().max_workers(1).build().unwrap();
    /// assert_eq!(pool.max_workers(), 1);
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::default()
    }

    /// The most threads the pool runs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::executor::ThreadPool::new(3).unwrap().max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers.max()
    }

    /// Schedules `call` and returns its future at once.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Self::shutdown);
    /// [`SubmitError::Broken`] once an initializer has panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::new(2).unwrap();
    /// let fut = pool.submit(|| "hello".len()).unwrap();
    /// assert_eq!(fut.result(), Ok(5));
    /// ```
    ///
    /// # Python
    ///
    /// `submit(fn, *args, **kwargs)`, with the arguments captured by the
    /// closure.
    pub fn submit<F, T>(&self, call: F) -> Result<ConcurrentFuture<T>, SubmitError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let future = ConcurrentFuture::new();
        let job: Box<dyn Runnable> = Box::new(Task { call, future: future.twin() });
        let initializer = self.initializer.clone();
        self.workers.submit(
            job,
            |slot| format!("{}_{slot}", self.prefix),
            move |workers, _| work(workers, initializer),
        )?;
        Ok(future)
    }

    /// Calls `call` on every item, on the pool, and yields the results in the
    /// order of the items. All calls are submitted before this returns.
    ///
    /// Dropping the iterator cancels the calls that have not started.
    ///
    /// # Errors
    ///
    /// A [`SubmitError`] if the pool refuses the calls.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::new(3).unwrap();
    /// let lengths: Vec<_> = pool.map(|w: &str| w.len(), ["a", "bb", "ccc"]).unwrap().collect();
    /// assert_eq!(lengths, [Ok(1), Ok(2), Ok(3)]);
    /// ```
    ///
    /// # Python
    ///
    /// `map(fn, *iterables)`; each item here is a `Result`, so one failed
    /// call does not end the iteration.
    pub fn map<F, I, T>(&self, call: F, items: I) -> Result<MapResults<T>, SubmitError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.map_until(call, items, Deadline::NEVER, None)
    }

    /// As [`map`](Self::map), with every result due within `timeout` of this
    /// call: one that is late comes out as [`FutureError::Timeout`], and the
    /// iteration ends there, cancelling the calls not started.
    ///
    /// # Errors
    ///
    /// A [`SubmitError`] if the pool refuses the calls.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::futures::FutureError;
    ///
    /// let pool = concur::executor::ThreadPool::new(1).unwrap();
    /// let mut results = pool
    ///     .map_timeout(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), [0, 500], Duration::from_millis(100))
    ///     .unwrap();
    /// assert_eq!(results.next(), Some(Ok(())));
    /// assert!(matches!(results.next(), Some(Err(FutureError::Timeout(_)))));
    /// assert_eq!(results.next(), None);
    /// ```
    ///
    /// # Python
    ///
    /// `map(fn, *iterables, timeout=t)`, whose iterator raises `TimeoutError`.
    pub fn map_timeout<F, I, T>(&self, call: F, items: I, timeout: Duration) -> Result<MapResults<T>, SubmitError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        self.map_until(call, items, Deadline::after(timeout), Some(timeout))
    }

    fn map_until<F, I, T>(
        &self,
        call: F,
        items: I,
        deadline: Deadline,
        timeout: Option<Duration>,
    ) -> Result<MapResults<T>, SubmitError>
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
    {
        let call = Arc::new(call);
        let mut futures = std::collections::VecDeque::new();
        for item in items {
            let call = Arc::clone(&call);
            match self.submit(move || call(item)) {
                Ok(future) => futures.push_back(future),
                Err(refused) => {
                    futures.iter().for_each(|f: &ConcurrentFuture<T>| {
                        f.cancel();
                    });
                    return Err(refused);
                }
            }
        }
        Ok(MapResults { futures, deadline, timeout })
    }

    /// Stops the pool taking calls, as `how` says: the calls already queued
    /// still run, unless [`Shutdown::cancel_futures`], which cancels those
    /// no worker has taken; [`Shutdown::wait`] returns once every worker has
    /// finished, [`Shutdown::no_wait`] at once. Calling it again does no
    /// harm.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::{Shutdown, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// let fut = pool.submit(|| 1).unwrap();
    /// pool.shutdown(Shutdown::wait());
    /// assert_eq!(fut.result(), Ok(1)); // queued work still ran
    /// assert!(pool.submit(|| 2).is_err());
    /// ```
    ///
    /// # Python
    ///
    /// `shutdown(wait=True, *, cancel_futures=False)`; see [`Shutdown`] for
    /// each spelling.
    pub fn shutdown(&self, how: Shutdown) {
        self.workers.shutdown(how);
    }
}

/// A worker: runs the initializer, then jobs until the queue shuts down.
fn work(workers: &Workers<dyn Runnable>, initializer: Option<Initializer>) {
    if let Some(initializer) = initializer {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| initializer())) {
            workers.break_with(format!("an initializer panicked: {}", panic_message(&*payload)));
            return;
        }
    }
    while let Some(job) = workers.next_job() {
        job.run(workers);
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown(Shutdown::wait());
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("ThreadPool");
        self.workers.describe(&mut out);
        out.finish()
    }
}

/// The results of [`ThreadPool::map`], in the order of the items.
///
/// # Examples
///
/// ```
/// let pool = concur::executor::ThreadPool::new(2).unwrap();
/// let results = pool.map(|n: i32| n + 1, [1, 2]).unwrap();
/// assert_eq!(results.len(), 2);
/// ```
pub struct MapResults<T> {
    futures: std::collections::VecDeque<ConcurrentFuture<T>>,
    deadline: Deadline,
    timeout: Option<Duration>,
}

impl<T> Iterator for MapResults<T> {
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let future = self.futures.pop_front()?;
        if let Some(timeout) = self.timeout {
            if !future.wait_until(self.deadline) {
                future.cancel();
                self.cancel_rest();
                return Some(Err(FutureError::Timeout(timeout)));
            }
        }
        Some(future.into_result())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.futures.len(), Some(self.futures.len()))
    }
}

impl<T> ExactSizeIterator for MapResults<T> {}

impl<T> MapResults<T> {
    fn cancel_rest(&mut self) {
        for future in self.futures.drain(..) {
            future.cancel();
        }
    }
}

impl<T> Drop for MapResults<T> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<T> fmt::Debug for MapResults<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapResults").field("left", &self.futures.len()).finish()
    }
}
