//! Futures: results that arrive later, waited on by threads or awaited by
//! async tasks.
//!
//! Hand a call to a pool and you get a [`ConcurrentFuture`] back at once; the
//! call runs elsewhere, and the future holds its result when it is done. Ask
//! for the value with [`ConcurrentFuture::result`] (blocking the thread) or
//! `.await` it from an async task; check on it with
//! [`ConcurrentFuture::is_done`]; call it off with
//! [`ConcurrentFuture::cancel`] if it has not started; or have a callback run
//! when it finishes. [`wait`] and [`as_completed`] watch many futures at
//! once.
//!
//! ```
//! use std::time::Duration;
//! use concur::executor::ThreadPool;
//! use concur::futures::{as_completed, wait, ReturnWhen};
//!
//! let pool = ThreadPool::new(4).unwrap();
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
//! A [`ConcurrentFuture`] is also a `std::future::Future`: an async task on
//! any executor can `.await` what a thread pool computes, and a thread can
//! block on a future that async code completes with
//! [`ConcurrentFuture::set_result`].
//!
//! # Why `ConcurrentFuture` and not `Future`
//!
//! Python has two classes named `Future` and tells them apart by module:
//! `concurrent.futures.Future` for threads and processes, `asyncio.Future`
//! for the event loop; its documentation writes "a
//! `concurrent.futures.Future`" whenever both are in play. Rust has a third:
//! the trait `std::future::Future`, which the 2024 edition puts in every
//! module's prelude, and which the `futures` crate re-exports. A struct named
//! `Future` here would shadow that trait wherever it is imported, so that
//! `impl Future<Output = T>` in the same module stopped compiling (a struct
//! is not a trait) unless one of the two was renamed on import (`use
//! concur::futures::Future as CFuture`) in every file that also awaits
//! something — and importing the module instead (`use concur::futures;`)
//! collides with the `futures` crate's name in `use` paths.
//!
//! So the type carries the qualifier Python's own documentation uses:
//! `ConcurrentFuture`, found by rustdoc's search under `Future` too. It
//! imports beside both without an alias:
//!
//! ```
//! use std::future::Future; // the trait, also in the 2024 prelude
//! use concur::executor::ThreadPool;
//! use concur::futures::ConcurrentFuture;
//!
//! fn doubled(fut: ConcurrentFuture<u32>) -> impl Future<Output = u32> {
//!     async move { fut.await.unwrap() * 2 }
//! }
//!
//! let pool = ThreadPool::new(1).unwrap();
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! assert_eq!(rt.block_on(doubled(pool.submit(|| 21).unwrap())), 42);
//! ```
//!
//! Dropping one unread is almost always a mistake — the call's value and any
//! panic are lost — so the type is `#[must_use]`:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let pool = concur::executor::ThreadPool::new(1).unwrap();
//! pool.submit(|| 1).unwrap(); // error: unused `ConcurrentFuture`
//! ```
//!
//! # Predicates
//!
//! Questions about state are named as Rust names them, `is_` and an
//! adjective — [`is_done`](ConcurrentFuture::is_done),
//! [`is_cancelled`](ConcurrentFuture::is_cancelled),
//! [`is_running`](ConcurrentFuture::is_running) — like `is_alive`,
//! `is_locked` and `is_empty` elsewhere in the crate; Python's `done()`,
//! `cancelled()`, `running()` are their search aliases.
//!
//! # Python
//!
//! | Python `concurrent.futures` | concur |
//! |---|---|
//! | `Future` | [`ConcurrentFuture`] |
//! | `cancel()`, `cancelled()`, `running()`, `done()` | `cancel`, `is_cancelled`, `is_running`, `is_done` |
//! | `result(timeout)`, `exception(timeout)` | `result`, `result_timeout`, `exception`, `exception_timeout`; `into_result` moves the value out |
//! | `add_done_callback(fn)` | `add_done_callback` (a panicking callback is reported, nothing else changes), which returns a [`CallbackId`] |
//! | `asyncio.Future.remove_done_callback(fn)` | `remove_done_callback(id)` |
//! | `CancelledError`, `TimeoutError`, the call's exception | [`FutureError`] |
//! | `wait(fs, timeout, return_when)` | [`wait`] with [`ReturnWhen`] |
//! | `as_completed(fs, timeout)` | [`as_completed`], whose timeout is an [`AsCompletedTimeout`] item |

mod future;
mod wait;

pub use future::{CallbackId, ConcurrentFuture, FutureError};
pub use wait::{as_completed, wait, AsCompleted, AsCompletedTimeout, ReturnWhen};
