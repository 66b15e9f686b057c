//! Executors: pools that run calls for you and hand back futures.
//!
//! Starting a thread per call is wasteful when calls are many and short,
//! and unbounded when they are many and slow. A pool keeps a few threads
//! and feeds them from a queue: [`ThreadPool::submit`] returns a
//! [`ConcurrentFuture`](crate::futures::ConcurrentFuture) at once, and the call runs on the next
//! free thread. [`ThreadPool::map`] runs one call per item and yields the
//! results in order.
//!
//! Threads suit calls that wait — on the network, the disk, a sleep — and,
//! since there is no global interpreter lock here, CPU-bound Rust calls too.
//!
//! ```
//! use std::time::Duration;
//! use concur::executor::ThreadPool;
//!
//! let pool = ThreadPool::new(8).unwrap();
//! let started = std::time::Instant::now();
//! let naps: Vec<_> = (0..8)
//!     .map(|_| pool.submit(|| std::thread::sleep(Duration::from_millis(100))).unwrap())
//!     .collect();
//! for nap in &naps {
//!     nap.result().unwrap();
//! }
//! // Eight 100 ms waits overlapped: far less than 800 ms in all.
//! assert!(started.elapsed() < Duration::from_millis(800));
//! ```
//!
//! # Python
//!
//! | Python `concurrent.futures` | concur |
//! |---|---|
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPool::new`], [`ThreadPool::builder`] |
//! | `submit(fn, *args)` | [`ThreadPool::submit`] with a closure |
//! | `map(fn, *iterables, timeout)` | [`ThreadPool::map`], [`ThreadPool::map_timeout`] |
//! | `shutdown(wait, cancel_futures)`, `with` | [`ThreadPool::shutdown`] with a [`Shutdown`], drop |
//! | `RuntimeError` after shutdown, `BrokenThreadPool` | [`SubmitError`] |
//! | `ValueError` for `max_workers=0` or `max_tasks_per_child=0` | [`BuildError`] |
//!
//! A worker started for a call is running, with that call in hand, when
//! `submit` returns (Python's `Thread.start()` waits for the thread in the
//! same way), and a worker that finishes a call is idle before the caller
//! sees the result: a program that submits and waits, one call at a time,
//! runs every call on one thread.

mod error;
// Worker processes are reached over Unix sockets and reported by signal:
// Unix only, and compiled out elsewhere.
#[cfg(all(unix, feature = "process-pool"))]
mod process_pool;
#[cfg(all(unix, feature = "process-pool"))]
mod registry;
mod shutdown;
mod thread_pool;
mod workers;

pub use error::{BuildError, SubmitError};
#[cfg(all(unix, feature = "process-pool"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "process-pool"))))]
pub use process_pool::{ProcessPool, ProcessPoolBuilder};
#[cfg(all(unix, feature = "process-pool"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "process-pool"))))]
pub use registry::{CallError, Function, Registry, WORKER_ENV};
pub use shutdown::Shutdown;
pub use thread_pool::{MapResults, ThreadPool, ThreadPoolBuilder};
