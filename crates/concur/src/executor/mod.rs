//! Executors: pools that run calls for you and hand back futures.
//!
//! Starting a thread per call is wasteful when calls are many and short,
//! and unbounded when they are many and slow. A pool keeps a few threads
//! and feeds them from a queue: [`ThreadPool::submit`] returns a
//! [`Future`](crate::futures::Future) at once, and the call runs on the next
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
//! let pool = ThreadPool::new(8);
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
//! | `shutdown(wait, cancel_futures)`, `with` | [`ThreadPool::shutdown`], drop |
//! | `RuntimeError` after shutdown, `BrokenThreadPool` | [`SubmitError`] |

// Worker processes are reached over Unix sockets and reported by signal:
// Unix only, and compiled out elsewhere.
#[cfg(all(unix, feature = "process-pool"))]
mod process_pool;
#[cfg(all(unix, feature = "process-pool"))]
mod registry;
mod thread_pool;
mod workers;

#[cfg(all(unix, feature = "process-pool"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "process-pool"))))]
pub use process_pool::{ProcessPool, ProcessPoolBuilder};
#[cfg(all(unix, feature = "process-pool"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "process-pool"))))]
pub use registry::{Function, Registry, WORKER_ENV};
pub use thread_pool::{MapResults, SubmitError, ThreadPool, ThreadPoolBuilder};
