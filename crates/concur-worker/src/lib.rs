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
//! # The worker
//!
//! [`Worker`] is the reference's architecture made reliable: a consumer
//! thread fetches tasks — blocking in `BLMOVE` when the queue is empty, so a
//! pushed task starts at once, and in batches of its free slots when busy —
//! and feeds them to a background [`concur::aio`] event loop, where each task
//! runs as a coroutine under its time limit. A finisher thread acknowledges
//! finished tasks in batches, a maintenance thread keeps the heartbeat on its
//! own timer and promotes due tasks and reaps dead workers for everyone.
//!
//! Handlers are async functions registered by name
//! ([`WorkerBuilder::handler`]); the built-ins are `sleep` (one argument, in
//! seconds) and `echo`; an operator's configuration file can map task names
//! to programs ([`ProgramConfig`]), run with the task's arguments as their
//! argument vector, never through a shell.
//!
//! # Guarantees
//!
//! - **At least once.** A task is in Redis — pending, in one worker's
//!   processing list, delayed or dead — until it is acknowledged, so a
//!   worker killed at any point loses nothing: its heartbeat expires and a
//!   reaper returns its tasks.
//! - **Duplicates only after a reap.** Two workers run the same task at once
//!   only if the first one stayed silent — its heartbeat missing for a whole
//!   TTL after a reaper first missed it — and its tasks were returned; the
//!   late worker's acknowledgement then changes nothing, and it knows why.
//!   A heartbeat key that merely vanished (`FLUSHALL`, an eviction) is put
//!   back by the next beat and reaps nothing. Make handlers idempotent where
//!   running twice would matter.
//! - **Nothing acknowledged is lost or redone** when the Redis process
//!   restarts with `appendonly yes` (under `appendfsync everysec` too: what
//!   Redis acknowledged is already with the operating system; only a crash
//!   of the host can lose its last second): the worker keeps its tasks,
//!   reconnects with backoff, and repeats any finishing call whose reply was
//!   lost — each is safe to repeat.
//! - **A graceful stop** ([`Shutdown::stop`], which a program calls on
//!   SIGINT or SIGTERM) fetches no more, lets running tasks finish within a
//!   grace period, returns the rest to the queue, and retires the worker.
//! - **A program task dies with its worker**, however the worker dies (on
//!   Linux): its process group is killed, so no task whose worker was
//!   SIGKILLed runs on beside the copy a reaper hands to another worker.
//! - **Bad input is dead-lettered, never dropped or fatal:** payloads that
//!   are not tasks, unknown task names and arguments a handler cannot take
//!   land in the dead-letter list with the reason.
//!
//! # Examples
//!
//! A worker with a handler of its own, stopped after a while from another
//! thread:
//!
//! ```no_run
//! use std::time::Duration;
//! use concur_worker::{Client, EnqueueOptions, Job, QueueConfig, TaskError, Worker};
//! use serde_json::json;
//!
//! let mut producer = Client::connect("redis://127.0.0.1:6379", QueueConfig::default())?;
//! let id = producer.enqueue("add", vec![json!(2), json!(3)], &EnqueueOptions::default())?;
//!
//! let worker = Worker::builder()
//!     .redis("redis://127.0.0.1:6379")
//!     .concurrency(100)
//!     .handler("add", |job: Job| async move {
//!         let (a, b): (i64, i64) = job.args_as()?; // other arguments: dead-lettered
//!         Ok::<_, TaskError>(a + b)
//!     })
//!     .build()?;
//! let stop = worker.shutdown_handle();
//! let running = std::thread::spawn(move || worker.run());
//! std::thread::sleep(Duration::from_secs(2));
//! stop.stop();
//! running.join().unwrap()?;
//! assert_eq!(producer.result(&id)?.unwrap().result, Some(json!(5)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! - The front door: [`Client`] for producers and operators (enqueue,
//!   status, dead letters, results) and [`Worker`] for running tasks.
//! - [`protocol`]: the queue protocol's steps one call each (fetch,
//!   acknowledge, fail, heartbeat, reap, …), which keep at-least-once
//!   delivery only when called in the order `docs/PROTOCOL.md` gives — for
//!   writing or testing a worker of one's own.
//!
//! The command line (`concur worker`, `enqueue`, `status`, `dead`, `result`)
//! is the `concur` binary's (`crates/concur-cli`): this crate is a library
//! only. It parses no arguments, prints nothing, installs no logging
//! subscriber — it reports through `tracing`, and a program picks the
//! subscriber, installs no signal handler — a program calls
//! [`Shutdown::escalate`] from its own. So a program embedding a worker pays
//! for no command-line parser and keeps its own logging.
//!
//! # Python
//!
//! Python's standard library has no Redis queue; RQ, Celery and Sidekiq (in
//! Ruby) are the peers. Their basic fetch pops a task and loses it if the
//! worker dies; the reliable fetch here is the one Sidekiq sells as "super
//! fetch" and RQ approximates with its started-job registry.

// The crate is built on Unix process groups and signals; say so at
// build time rather than with a page of unresolved imports.
#[cfg(not(unix))]
compile_error!("concur-worker runs on Unix only: program tasks run in process groups of their own, and its Redis threads block signals");

mod client;
mod config;
mod envelope;
mod error;
mod handler;
mod keys;
mod programs;
pub mod protocol;
mod queues;
mod record;
mod remote_pool;
mod retry;
mod schedule;
mod scripts;
mod signal_mask;
mod stats;
mod worker;

pub use client::{
    Client, DeadRetry, EnqueueOptions, ListedTask, ScheduleStatus, ShardStatus, Status, TaskLocation, UnknownControl,
    WorkerControl, WorkerStatus, HOURS_KEPT, MAX_PAGE, MINUTES_KEPT,
};
pub use config::QueueConfig;
pub use envelope::SLEEP_TASK;
pub use error::Error;
pub use handler::{Job, TaskError};
pub use programs::{ConfigError, ProgramConfig};
pub use queues::QueueSet;
pub use record::{DeadEntry, DeadKind, ResultStatus, TaskResult};
pub use remote_pool::RemotePool;
pub use retry::RetryPolicy;
pub use schedule::{Missed, Schedule, ScheduleError, MISSED_AFTER};
pub use stats::{Histogram, TaskStats, DURATION_BOUNDS, MAX_TASK_NAMES, OTHER_TASKS};
pub use worker::{RunReport, Shutdown, Worker, WorkerBuilder, WorkerError, DEFAULT_CONCURRENCY, DEFAULT_REDIS_URL};
