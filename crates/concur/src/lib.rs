//! Python's concurrency toolkit — `threading`, `queue`, `concurrent.futures`
//! and `asyncio` — with the semantics a Python programmer knows, Rust's
//! guarantees, and no global interpreter lock.
//!
//! # The map
//!
//! | module | what it holds | Python |
//! |---|---|---|
//! | [`thread`] | threads: spawn, name, join, daemon threads, `Timer`, [`run`] | `threading.Thread`, `threading.Timer` and friends |
//! | [`sync`] | `Lock`, `RLock`, `Event`, `Condition`, `Semaphore`, `Barrier`, ordered `acquire_all`, the [`lock_order`](sync::lock_order) checker | `threading` primitives |
//! | [`local`] | `ThreadLocal`: a value per thread, owned by an object | `threading.local` |
//! | [`queue`] | `Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue`, shared by threads and async tasks | `queue`, `asyncio.Queue` |
//! | [`futures`] | `ConcurrentFuture` (waited on or awaited), `wait`, `as_completed` | `concurrent.futures` |
//! | [`executor`] | `ThreadPool`; `ProcessPool` and its `Registry` (feature `process-pool`) | `ThreadPoolExecutor`, `ProcessPoolExecutor` |
//! | [`coro`] | `Generator`: `send`, `throw`, `close`, `yield_from` | generators |
//! | [`aio`] (feature `aio`) | `EventLoop`, `Task`, `gather`, `wait`, `TaskGroup`, timeouts, `to_thread`, locks for tasks, `LoopHandle` for other threads | `asyncio` |
//!
//! Every call Python would raise on returns a typed error here, whose message
//! names the call and the object; nothing hangs or changes state on misuse.
//! The few calls that panic instead — as std and tokio do for the same
//! misuse, where a `Result` would burden every correct call — say so under
//! "Panics": scheduling on a closed `aio` loop or outside a running one, an
//! `aio::Condition` given another lock's guard, a thread the OS refuses to
//! start through `thread::spawn`. Each module's page opens with what the concept is for, a complete
//! example, and a table of the Python calls it stands for.
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
//!     let jobs = Arc::new(Queue::bounded(16).unwrap());
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
//!     jobs.shutdown(); // the consumers' loops end
//! });
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds | what it costs |
//! |---|---|---|---|
//! | `aio` | on | the [`aio`] module: an asyncio-style event loop | tokio (`rt`, `time`, `net`, `sync`), pin-project-lite |
//! | `process-pool` | on | `executor::ProcessPool`, `Registry`, `Function` (Unix only) | serde (with its derive macro), serde_json |
//! | `serde` | off | `Serialize`/`Deserialize` for the value types: [`aio::TaskState`], [`futures::ReturnWhen`], [`futures::FutureError`], [`executor::SubmitError`], [`executor::BuildError`], [`queue::GetError`], [`queue::TaskDoneError`], [`queue::ZeroCapacity`], [`sync::ZeroParties`], [`coro::GeneratorExit`], [`thread::Panicked`], [`thread::JoinStatus`] | serde |
//! | `lock-order` | off | the lock-order checker in release builds (debug builds always have it) | a few loads and stores per acquisition |
//!
//! `aio` and `process-pool` are on by default because asyncio and
//! `ProcessPoolExecutor` are part of the toolkit a Python programmer
//! reaches for, and the examples and the two commands below use them. A
//! program that needs only threads, locks, queues, futures and the thread
//! pool sets `default-features = false` and builds with no tokio, no serde
//! and no proc macro — which is why the error types write their `Display`
//! and `Error` impls out by hand instead of deriving them with `thiserror`.
//! `serde` and `lock-order` are opt-in: most programs store none of these
//! values, and the checker's place is debug builds.
//! docs.rs shows every item with the feature it needs.
//!
//! # Examples
//!
//! `crates/concur/examples/` holds one program per idea, each run by the
//! tests (`cargo run -p concur --example <name>`): `threads_basic`,
//! `lock_counter`, `rlock_nested`, `lock_order`, `event_start`,
//! `hide_and_seek`, `thread_local_conn`, `roll_call`, `queue_orders`,
//! `task_done_join`, `thread_pool`, `process_pool`, `generators`,
//! `aio_basics`, `aio_gather_wait`, `aio_task_states` and
//! `aio_background_loop`.
//!
//! # The commands built on it
//!
//! The workspace's `concur` binary uses this crate through two others:
//!
//! - `concur bench` (crate `concur-lab`) runs the same CPU, disk, network
//!   and sleep work serially, in threads, in processes and on an event loop,
//!   and shows each time beside the machine's physical limit.
//! - `concur worker` (crate `concur-worker`) runs tasks pushed to a Redis
//!   queue by any producer, at least once each, on an `aio` loop.
//!
//! # Logs
//!
//! The library prints nothing; it reports through [`tracing`]: a panic in
//! an `aio` callback or task nobody read, the slow steps of a loop in debug
//! mode (in `task` and `callback` spans), a lock-order violation with no
//! handler set, a panicking done callback. A program sees them by installing
//! a subscriber — with `tracing-subscriber`'s `EnvFilter`, for example
//! `RUST_LOG=concur=warn`, or `RUST_LOG=concur::aio=warn` for the loop's
//! alone.
//!
//! # Platforms
//!
//! Tested on Linux. Everything but the process pool is portable Rust over
//! std, parking_lot and tokio; `ProcessPool` talks to its workers over Unix
//! sockets and is compiled only on Unix.

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
