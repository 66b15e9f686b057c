//! Python's concurrency toolkit — `threading`, `queue`, and more to come —
//! with the semantics a Python programmer knows, Rust's guarantees, and no
//! global interpreter lock.
//!
//! | module | what it holds | Python |
//! |---|---|---|
//! | [`thread`] | threads: spawn, name, join, daemon threads, [`run`] | `threading.Thread` and friends |
//! | [`sync`] | `Lock`, `RLock`, `Event`, `Condition`, `Semaphore`, `Barrier`, ordered `acquire_all`, a lock-order checker | `threading` primitives |
//! | [`local`] | `ThreadLocal`: a value per thread, owned by an object | `threading.local` |
//! | [`queue`] | `Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue`, shared by threads and async tasks | `queue`, `asyncio.Queue` |
//! | [`futures`] | `Future` (waited on or awaited), `wait`, `as_completed` | `concurrent.futures` |
//! | [`executor`] | `ThreadPool`, `ProcessPool` | `ThreadPoolExecutor`, `ProcessPoolExecutor` |
//! | [`coro`] | `Generator`: `send`, `throw`, `close`, `yield_from` | generators |
//!
//! Every call Python would raise on returns a typed error here, whose message
//! names the call and the object; nothing panics, hangs or changes state on
//! misuse.
//!
//! # Example
//!
//! A producer thread, two consumer threads and a queue; the program ends the
//! way a Python program does, after its non-daemon threads.
//!
//! ```
//! use std::sync::Arc;
//! use concur::queue::Queue;
//! use concur::thread;
//!
//! concur::run(|| {
//!     let jobs = Arc::new(Queue::new(16));
//!     for _ in 0..2 {
//!         let jobs = jobs.clone();
//!         thread::spawn(move || {
//!             for n in jobs.iter() {
//!                 assert!(n < 100);
//!                 jobs.task_done().unwrap();
//!             }
//!         });
//!     }
//!     for n in 0..100 {
//!         jobs.put(n).unwrap();
//!     }
//!     jobs.join(); // all 100 handled
//!     jobs.shutdown(false); // the consumers' loops end
//! });
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "aio")]
#[cfg_attr(docsrs, doc(cfg(feature = "aio")))]
pub mod aio;
pub mod coro;
mod deadline;
pub mod executor;
pub mod futures;
pub mod local;
mod loom;
pub mod queue;
mod signal;
pub mod sync;
pub mod thread;

pub use thread::run;
