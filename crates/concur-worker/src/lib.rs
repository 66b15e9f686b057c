//! A Redis-fed task worker that never loses a task.
//!
//! The reference program behind `concur` ends with a consumer thread that
//! `RPOP`s numbers from the Redis list `queue` and runs each as a coroutine
//! sleeping that long. It has the flaw of every "pop and run" queue: a task
//! popped by a worker that dies is gone. This crate keeps the same shape — any
//! producer pushes to a plain list, workers take from it — and makes delivery
//! reliable:
//!
//! - **fetch** moves a task atomically from the pending list into a list the
//!   worker owns (`LMOVE`/`BLMOVE`), so it is never only in a worker's memory;
//! - **acknowledge** removes it from there and stores its result, with a TTL
//!   and a cap on how many are kept;
//! - a **heartbeat** key with a TTL says the worker is alive, and a **reaper**
//!   (any live worker) returns the tasks of workers whose heartbeat expired;
//! - **failures** retry with exponential backoff and jitter through a delayed
//!   sorted set, then go to a **dead-letter** list with the error;
//! - payloads that cannot be read are dead-lettered with the reason, never
//!   dropped and never allowed to crash the worker.
//!
//! `docs/PROTOCOL.md` in the repository is the specification: every key, the
//! task envelope, each state transition and the script that makes it atomic,
//! for anyone writing a producer or a worker in another language.
//!
//! This part of the crate is the protocol layer: [`Queue`] and the types it
//! hands out. It is synchronous (redis-rs's blocking API), one connection per
//! `Queue`.
//!
//! # Examples
//!
//! ```no_run
//! use std::time::Duration;
//! use concur_worker::{EnqueueOptions, Fetched, Queue, QueueConfig};
//! use serde_json::json;
//!
//! // A producer: the built-in `sleep` task, as JSON and as the reference's bare number.
//! let mut producer = Queue::connect("redis://127.0.0.1:6379", QueueConfig::default())?;
//! producer.enqueue("sleep", vec![json!(1)], &EnqueueOptions::default())?;
//! producer.enqueue_raw(b"2")?;
//!
//! // A worker.
//! let mut queue = producer.try_clone()?;
//! let worker = concur_worker::new_worker_id();
//! queue.heartbeat(&worker, Duration::from_secs(30))?;
//! for fetched in queue.fetch(&worker, 8, Duration::from_secs(1))? {
//!     match fetched {
//!         Fetched::Task(task) => match task.name() {
//!             "sleep" => {
//!                 std::thread::sleep(Duration::from_secs_f64(task.args()[0].as_f64().unwrap_or(0.0)));
//!                 queue.ack(&worker, &task, &json!(null))?;
//!             }
//!             other => {
//!                 queue.reject(&worker, &task, &format!("no handler for {other:?}"))?;
//!             }
//!         },
//!         Fetched::Malformed(bad) => eprintln!("dead-lettered a payload: {}", bad.reason),
//!     }
//! }
//! queue.retire(&worker)?;
//! # Ok::<(), concur_worker::Error>(())
//! ```
//!
//! # Python
//!
//! Python's standard library has no Redis queue; RQ, Celery and Sidekiq (in
//! Ruby) are the peers. Their basic fetch pops a task and loses it if the
//! worker dies; the reliable fetch here is the one Sidekiq sells as "super
//! fetch" and RQ approximates with its started-job registry.

mod envelope;
mod error;
mod keys;
mod queue;
mod record;
mod retry;
mod scripts;

pub use envelope::{parse, Envelope, MalformedReason, SLEEP_TASK};
pub use error::Error;
pub use keys::{Keys, MAX_NAME_LEN};
pub use queue::{
    new_worker_id, DeadRetry, EnqueueOptions, FailOutcome, Fetched, Malformed, Promoted, Queue, QueueConfig, Reaped,
    Status, Task, WorkerStatus,
};
pub use record::{DeadEntry, DeadKind, ResultStatus, TaskResult};
pub use retry::RetryPolicy;
