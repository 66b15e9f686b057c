//! Futures: results that arrive later, waited on by threads or awaited by
//! async tasks.
//!
//! Hand a call to a pool and you get a [`Future`] back at once; the call runs
//! elsewhere, and the future holds its result when it is done. Ask for the
//! value with [`Future::result`] (blocking the thread) or `.await` it from an
//! async task; check on it with [`Future::done`]; call it off with
//! [`Future::cancel`] if it has not started; or have a callback run when it
//! finishes. [`wait`] and [`as_completed`] watch many futures at once.
//!
//! ```
//! use std::time::Duration;
//! use concur::executor::ThreadPool;
//! use concur::futures::{as_completed, wait, ReturnWhen};
//!
//! let pool = ThreadPool::new(4);
//! let pages: Vec<_> = ["a", "bb", "ccc"]
//!     .into_iter()
//!     .map(|page| pool.submit(move || {
//!         std::thread::sleep(Duration::from_millis(10)); // a download
//!         page.len()
//!     }).unwrap())
//!     .collect();
//!
//! // Whichever finishes first, then the rest.
//! let sizes: usize = as_completed(&pages, None).map(|f| f.unwrap().result().unwrap()).sum();
//! assert_eq!(sizes, 6);
//!
//! let (done, not_done) = wait(&pages, ReturnWhen::AllCompleted, Some(Duration::from_secs(5)));
//! assert_eq!((done.len(), not_done.len()), (3, 0));
//! ```
//!
//! # The same future for threads and tasks
//!
//! A [`Future`] is also a `std::future::Future`: an async task on any
//! executor can `.await` what a thread pool computes, and a thread can block
//! on a future that async code completes with [`Future::set_result`].
//!
//! # Python
//!
//! | Python `concurrent.futures` | concur |
//! |---|---|
//! | `Future`: `cancel`, `cancelled`, `running`, `done` | [`Future`]: the same |
//! | `result(timeout)`, `exception(timeout)` | `result`, `result_timeout`, `exception`, `exception_timeout`; `into_result` moves the value out |
//! | `add_done_callback(fn)` | `add_done_callback` (a panicking callback is reported, nothing else changes) |
//! | `CancelledError`, `TimeoutError`, the call's exception | [`FutureError`] |
//! | `wait(fs, timeout, return_when)` | [`wait`] with [`ReturnWhen`] |
//! | `as_completed(fs, timeout)` | [`as_completed`], whose timeout is an [`AsCompletedTimeout`] item |

mod future;
mod wait;

pub use future::{Future, FutureError};
pub use wait::{as_completed, wait, AsCompleted, AsCompletedTimeout, ReturnWhen};
