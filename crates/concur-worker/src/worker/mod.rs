//! The run loop: [`Worker`], built by [`WorkerBuilder`], stopped through
//! [`Shutdown`], reporting a [`RunReport`].
//!
//! The shape is the reference's — a consumer thread feeding a background
//! event loop that runs each task as a coroutine — made reliable:
//!
//! ```text
//!             fetch (LMOVE×n | BLMOVE)            Start(batch)
//!   Redis ──────────────────────────► consumer ─────────────────► aio loop: one task per
//!     ▲                               (this thread)                fetched task, under its
//!     │                                                            time limit
//!     │  ack(+fetch) / fail / reject / return         Report(outcome)  │
//!     └─────────────────────────── finishers (2) ◄─────────────────────┘
//!     │
//!     └── heartbeat, promote_due, reap ── maintenance (own timer)
//! ```
//!
//! One connection per thread and queue: a blocking fetch holds its own, and
//! the heartbeat never waits behind a batch of acknowledgements. A worker of
//! two or more slots runs two finishers, so that one batch of tasks is in
//! Redis while the other runs (see `finisher.rs`). A task takes a
//! slot from its fetch until Redis confirmed how it ended, so the processing
//! list never holds more than the concurrency.

mod consumer;
mod executor;
mod finisher;
mod handoff;
mod maintenance;
mod plan;
mod scheduler;
mod shared;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use concur::aio::{self, LoopError};
use concur::queue::SimpleQueue;
use serde::Serialize;

use self::handoff::{LoopMessage, Message};
use self::plan::Plan;
pub(crate) use self::shared::Shared;
use self::shared::{Backoff, Settings};
use crate::handler::{self, Handler, Job, TaskError};
use crate::programs::{ConfigError, ProgramConfig};
use crate::protocol::Connection;
use crate::{Error, QueueConfig, QueueSet, Schedule};

/// The Redis server a worker uses unless told otherwise.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::DEFAULT_REDIS_URL, "redis://127.0.0.1:6379");
/// ```
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Tasks a worker runs at once unless told otherwise.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::DEFAULT_CONCURRENCY, 64);
/// ```
pub const DEFAULT_CONCURRENCY: usize = 64;

/// How long `build` waits for a server still loading its data.
const DEFAULT_LOADING_WAIT: Duration = Duration::from_secs(60);
/// How often an idle worker serving several queues looks at the others.
const DEFAULT_IDLE_WATCH: Duration = Duration::from_millis(20);
/// After a stop, the finisher keeps trying to reach Redis this long.
const FLUSH_LIMIT: Duration = Duration::from_secs(10);
/// After a stop, `retire` is tried this long.
const RETIRE_LIMIT: Duration = Duration::from_secs(10);
/// The longest an idle fetch blocks before it looks around.
const MAX_BLOCK: Duration = Duration::from_secs(2);

/// Why a worker could not be built or could not run.
///
/// # Examples
///
/// ```
/// use concur_worker::{Worker, WorkerError};
///
/// let err = Worker::builder().concurrency(0).build().unwrap_err();
/// assert!(matches!(err, WorkerError::InvalidOption(_)));
/// assert!(err.is_bad_input());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// Redis could not be used: a bad URL, an unreachable server, a wrong
    /// password, a bad queue name or limit, or a failure at start.
    #[error(transparent)]
    Queue(#[from] Error),
    /// The configuration file could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A builder setting is out of range.
    #[error("invalid worker setting: {0}")]
    InvalidOption(String),
    /// The event loop could not start.
    #[error("the worker's event loop could not start: {0}")]
    Loop(#[from] LoopError),
    /// A thread could not start.
    #[error("could not start the worker's {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

impl WorkerError {
    /// Whether the error is in what the user gave — URL, password, names,
    /// settings, configuration file — rather than a failure along the way.
    /// The command line exits with status 2 for these.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = concur_worker::Worker::builder().redis("http://nope").build().unwrap_err();
    /// assert!(err.is_bad_input());
    /// ```
    pub fn is_bad_input(&self) -> bool {
        match self {
            WorkerError::Queue(error) => error.is_bad_input(),
            WorkerError::Config(_) | WorkerError::InvalidOption(_) => true,
            WorkerError::Loop(_) | WorkerError::Thread { .. } => false,
        }
    }
}

/// Sets up a [`Worker`]: where Redis is, which queue, how many tasks at once,
/// the handlers, and the timings.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use concur_worker::{Job, TaskError, Worker};
///
/// let worker = Worker::builder()
///     .redis("redis://127.0.0.1:6379")
///     .queue("images")
///     .concurrency(32)
///     .handler("resize", |job: Job| async move {
///         let (path, width): (String, u32) = job.args_as()?;
///         // ... resize `path` to `width` pixels ...
///         Ok::<_, TaskError>(serde_json::json!({ "path": path, "width": width }))
///     })
///     .grace_period(Duration::from_secs(10))
///     .build()?;
/// let report = worker.run()?;
/// println!("{} tasks done", report.done);
/// # Ok::<(), concur_worker::WorkerError>(())
/// ```
#[derive(Debug)]
#[must_use = "a WorkerBuilder does nothing until `build` makes the Worker"]
pub struct WorkerBuilder {
    url: String,
    queue: QueueConfig,
    /// Several queues, when set; else the one of `queue`.
    queues: Option<QueueSet>,
    concurrency: usize,
    prefetch: usize,
    handlers: BTreeMap<String, Handler>,
    config_file: Option<PathBuf>,
    heartbeat_ttl: Duration,
    grace: Duration,
    sleep_unit: Duration,
    loading_wait: Duration,
    idle_watch: Duration,
    schedules: Vec<Schedule>,
}

impl Default for WorkerBuilder {
    /// The defaults of [`Worker::builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::WorkerBuilder::default();
    /// ```
    fn default() -> Self {
        WorkerBuilder {
            url: DEFAULT_REDIS_URL.to_owned(),
            queue: QueueConfig::default(),
            queues: None,
            concurrency: DEFAULT_CONCURRENCY,
            prefetch: 0,
            handlers: BTreeMap::new(),
            config_file: None,
            heartbeat_ttl: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            sleep_unit: Duration::from_secs(1),
            loading_wait: DEFAULT_LOADING_WAIT,
            idle_watch: DEFAULT_IDLE_WATCH,
            schedules: Vec::new(),
        }
    }
}

impl WorkerBuilder {
    /// The Redis server: `redis://[:password@]host[:port][/db]`, or
    /// `rediss://…` for TLS. Default: [`DEFAULT_REDIS_URL`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().redis("redis://:secret@10.0.0.5:6379/0");
    /// ```
    pub fn redis(mut self, url: &str) -> Self {
        url.clone_into(&mut self.url);
        self
    }

    /// The queue's name. Default: `queue`, the reference's list.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().queue("emails");
    /// ```
    pub fn queue(mut self, name: &str) -> Self {
        name.clone_into(&mut self.queue.name);
        self.queues = None;
        self
    }

    /// Several queues, in strict or weighted order (see [`QueueSet`]); each
    /// takes its limits from [`queue_config`](Self::queue_config), with its
    /// own name. Replaces a [`queue`](Self::queue) set before.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::{QueueSet, Worker};
    ///
    /// let builder = Worker::builder().queues("critical:5,default:2,low:1".parse::<QueueSet>()?);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn queues(mut self, queues: QueueSet) -> Self {
        self.queues = Some(queues);
        self
    }

    /// All the queue's settings (its name, limits, retry policy, result
    /// retention), replacing those set before. With several
    /// [`queues`](Self::queues), every queue takes these limits and its own
    /// name.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::QueueConfig;
    /// let builder = concur_worker::Worker::builder()
    ///     .queue_config(QueueConfig { default_max_attempts: 3, ..QueueConfig::named("emails") });
    /// ```
    pub fn queue_config(mut self, config: QueueConfig) -> Self {
        self.queue = config;
        self
    }

    /// How many tasks run at once, at least 1. Default: [`DEFAULT_CONCURRENCY`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().concurrency(200);
    /// ```
    pub fn concurrency(mut self, tasks: usize) -> Self {
        self.concurrency = tasks;
        self
    }

    /// How many tasks to fetch beyond the concurrency, to wait on the worker
    /// until a running task ends. Default 0: the worker holds only what it
    /// runs.
    ///
    /// A prefetch lets fetches and acknowledgements travel in batches while
    /// the tasks run one after another, which is what a worker at a low
    /// concurrency needs to go faster than one Redis round trip per task
    /// (Celery's `worker_prefetch_multiplier` and Sidekiq's fetch are the
    /// same idea). What it costs: a prefetched task waits behind this
    /// worker's running ones while another worker may be idle, so keep it
    /// small for long tasks; it counts against nothing else. It is lost to
    /// no one: it sits in this worker's processing list, a stop or quiet
    /// sends it back to pending unstarted, and if the worker dies the reaper
    /// returns it with the running ones.
    ///
    /// # Examples
    ///
    /// ```
    /// // One task at a time, 32 more fetched ahead of it.
    /// let builder = concur_worker::Worker::builder().concurrency(1).prefetch(32);
    /// ```
    pub fn prefetch(mut self, tasks: usize) -> Self {
        self.prefetch = tasks;
        self
    }

    /// Registers `f` as the handler of the tasks named `name`, replacing a
    /// built-in of that name. See [`Job`] and [`TaskError`] for what it is
    /// given and how it fails.
    ///
    /// `f` is called on the worker's event-loop thread and the future it
    /// returns runs there, as a task of a [`concur::aio`] loop, so the future
    /// need not be `Send`: it may hold `Rc`s, `aio` locks and events, or tokio
    /// sockets. The function itself crosses to that thread once, so it must
    /// be `Send`. (The worker hands each fetched task to the loop as data and
    /// makes the future there, rather than making it on the consumer's thread
    /// and sending it with `run_coroutine_threadsafe`, which would demand
    /// `Send` futures of every handler.)
    ///
    /// How the handler ends decides what happens to the task:
    ///
    /// | the handler | the task |
    /// |---|---|
    /// | returns `Ok(value)` | acknowledged; `value` stored as its result |
    /// | returns [`TaskError::failed`] (or any error through `?`), panics, or outlives its time limit | retried after a backoff; dead-lettered once out of attempts |
    /// | returns [`TaskError::rejected`], e.g. from [`Job::args_as`] on arguments that do not fit | dead-lettered at once with the reason: no retry can fix it |
    ///
    /// A handler that outlives its time limit is cancelled: it sees
    /// [`concur::aio::Cancelled`] at its next `aio` await (or is dropped, if
    /// it waits on something else), as with `asyncio.timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::{Job, TaskError, Worker};
    ///
    /// let builder = Worker::builder().handler("add", |job: Job| async move {
    ///     let (a, b): (i64, i64) = job.args_as()?;
    ///     Ok::<_, TaskError>(a + b)
    /// });
    /// ```
    ///
    /// # Python
    ///
    /// Registering a function as a task, as Celery's `@app.task` does.
    pub fn handler<F, Fut, T>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, TaskError>> + 'static,
        T: Serialize,
    {
        self.handlers.insert(name.to_owned(), Handler::new(f));
        self
    }

    /// Serves every function of `registry` — the
    /// [`Registry`](concur::executor::Registry) a
    /// [`ProcessPool`](concur::executor::ProcessPool) runs — as a handler of
    /// the same name, so a function written once runs in a thread pool, a
    /// process pool, or on workers fed through Redis
    /// ([`RemotePool`](crate::RemotePool)).
    ///
    /// A task gives the function its one argument as the task's only
    /// argument (none stands for `()`). The function runs on the event
    /// loop's thread pool, since it is blocking code. Arguments that do not
    /// fit are dead-lettered at once; a panic is retried like any failure.
    /// A handler registered with [`handler`](Self::handler) under the same
    /// name takes its place.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::Registry;
    ///
    /// let mut registry = Registry::new();
    /// registry.register("square", |n: u64| n * n);
    /// let builder = concur_worker::Worker::builder().registry(&registry);
    /// ```
    ///
    /// # Python
    ///
    /// Dask's `Client.submit(fn)` and RQ's `enqueue(fn)` send a function
    /// by reference; here both ends share the registry instead.
    pub fn registry(mut self, registry: &concur::executor::Registry) -> Self {
        for name in registry.names() {
            if !self.handlers.contains_key(name) {
                self.handlers.insert(name.to_owned(), handler::registered(registry.clone(), name.to_owned()));
            }
        }
        self
    }

    /// An operator's configuration file mapping task names to programs (see
    /// [`ProgramConfig`] for the format), read and checked by
    /// [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().config_file("/etc/concur/tasks.json");
    /// ```
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// How long the worker's heartbeat lasts; it is renewed every third of
    /// that. A worker silent for this long is taken for dead and its tasks
    /// are returned by the next reap. At least 300 ms. Default: 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().heartbeat_ttl(std::time::Duration::from_secs(10));
    /// ```
    pub fn heartbeat_ttl(mut self, ttl: Duration) -> Self {
        self.heartbeat_ttl = ttl;
        self
    }

    /// How long running tasks may take to finish after a stop before they
    /// are cancelled and returned to the queue. Default: 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().grace_period(std::time::Duration::from_secs(5));
    /// ```
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// What one unit of the built-in `sleep` lasts. Default: one second, so
    /// `sleep 5` sleeps 5 s; the example `redis_tasks` uses 200 ms to play the
    /// reference's 5-3-1 scenario in about a second.
    ///
    /// `sleep` takes one argument, a number; it rejects (dead-letters at
    /// once) anything else, a negative number, and a sleep longer than the
    /// task's time limit, which could never finish. It returns its argument.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().sleep_unit(std::time::Duration::from_millis(200));
    /// ```
    pub fn sleep_unit(mut self, unit: Duration) -> Self {
        self.sleep_unit = unit;
        self
    }

    /// A periodic task this worker enqueues: at each tick of `schedule`,
    /// exactly one of the workers that run it enqueues its task (see
    /// [`Schedule`]), on its queue or else this worker's first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur_worker::{Schedule, Worker};
    ///
    /// let builder = Worker::builder().schedule(Schedule::every("ping", Duration::from_secs(30), "echo")?);
    /// # Ok::<(), concur_worker::ScheduleError>(())
    /// ```
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedules.push(schedule);
        self
    }

    /// How long [`build`](Self::build) waits for a server that is up but
    /// cannot serve yet — still loading its data after a restart, say — before
    /// it gives up. Default: 60 s; zero fails at once. (A worker that is
    /// already running rides out such a spell by itself.)
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_worker::Worker::builder().loading_wait(std::time::Duration::from_secs(300));
    /// ```
    pub fn loading_wait(mut self, wait: Duration) -> Self {
        self.loading_wait = wait;
        self
    }

    /// How often an idle worker serving several queues looks at the
    /// pending lists of those it is not blocked on (one `LLEN` each): the
    /// longest a task pushed to one of them waits to be noticed. Default
    /// 20 ms. Each idle worker process makes 1/`interval` such calls per
    /// second per queue after the first — 100 a second for three queues at
    /// the default — so a fleet of hundreds of idle processes may want it
    /// longer; `docs/SCALING.md` works the numbers. At least 1 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = concur_worker::Worker::builder().idle_watch(Duration::from_millis(100));
    /// ```
    pub fn idle_watch(mut self, interval: Duration) -> Self {
        self.idle_watch = interval;
        self
    }

    /// Checks the settings, reads the configuration file, and connects to
    /// Redis, waiting up to [`loading_wait`](Self::loading_wait) while the
    /// server loads its data. Nothing is written to Redis: a worker that
    /// fails to build leaves the queue as it was.
    ///
    /// # Errors
    ///
    /// [`WorkerError::InvalidOption`] for a setting out of range or a task
    /// defined both by a handler and by the file; [`WorkerError::Config`];
    /// [`WorkerError::Queue`] for a bad URL, an unreachable server, a wrong
    /// password, a bad queue name, or a server still not serving when the
    /// wait ran out.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = concur_worker::Worker::builder().redis("redis://127.0.0.1:1").build().unwrap_err();
    /// assert!(err.to_string().contains("could not connect to Redis"));
    /// ```
    pub fn build(self) -> Result<Worker, WorkerError> {
        let bad = |msg: String| Err(WorkerError::InvalidOption(msg));
        if self.concurrency == 0 {
            return bad("the concurrency must be at least 1".into());
        }
        if self.heartbeat_ttl < Duration::from_millis(300) {
            return bad(format!("the heartbeat TTL must be at least 300 ms, not {:?}", self.heartbeat_ttl));
        }
        if self.idle_watch < Duration::from_millis(1) {
            return bad(format!("the idle watch interval must be at least 1 ms, not {:?}", self.idle_watch));
        }
        if self.sleep_unit.is_zero() {
            return bad("the sleep unit must be more than zero".into());
        }
        if let Some(name) = self.handlers.keys().find(|name| name.is_empty()) {
            return bad(format!("a handler's task name cannot be empty ({name:?})"));
        }
        let mut handlers: BTreeMap<String, Handler> = BTreeMap::new();
        handlers.insert(crate::SLEEP_TASK.to_owned(), handler::sleep(self.sleep_unit));
        handlers.insert("echo".to_owned(), handler::echo());
        let mut schedules = self.schedules;
        if let Some(path) = &self.config_file {
            let config = ProgramConfig::load(path)?;
            for (name, handler) in config.handlers() {
                if self.handlers.contains_key(&name) {
                    return bad(format!(
                        "the task {name:?} is defined both by a handler and by the config file {}",
                        path.display()
                    ));
                }
                handlers.insert(name, handler);
            }
            schedules.extend(config.schedules().iter().cloned());
        }
        handlers.extend(self.handlers);
        for (i, schedule) in schedules.iter().enumerate() {
            if schedules[..i].iter().any(|other| other.name() == schedule.name()) {
                return bad(format!("the schedule {:?} is defined twice", schedule.name()));
            }
        }
        let set = match self.queues {
            Some(set) => set,
            None => QueueSet::single(&self.queue.name)?,
        };
        let first = QueueConfig { name: set.names().next().unwrap_or_default().to_owned(), ..self.queue.clone() };
        let first = connect_once_serving(&self.url, first, self.loading_wait)?;
        let mut groups = Vec::new();
        let mut queues = Vec::new();
        for name in set.names() {
            // A sharded queue is served whole: the queue itself (for
            // producers that know nothing of shards), then each shard.
            let queue = first.for_queue(name)?;
            let shards: Vec<String> = queue.shards().map(str::to_owned).collect();
            let mut members = vec![name.to_owned()];
            queues.push(queue);
            for shard in shards {
                queues.push(first.for_queue(&shard)?);
                members.push(shard);
            }
            groups.push(members);
        }
        let default_queue = set.names().next().unwrap_or_default().to_owned();
        let planned = schedules
            .into_iter()
            .map(|schedule| {
                let queue = first.for_queue(schedule.target_queue().unwrap_or(&default_queue))?;
                Ok(scheduler::Planned::new(schedule, queue))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let settings = Settings {
            concurrency: self.concurrency,
            prefetch: self.prefetch,
            heartbeat_ttl: self.heartbeat_ttl,
            grace: self.grace,
            block: MAX_BLOCK.min(self.heartbeat_ttl / 4),
            idle_watch: self.idle_watch,
            dead_cap: self.queue.dead_cap,
            serves: set.to_string(),
        };
        let shared = Arc::new(Shared::new(crate::protocol::new_worker_id(), settings, queues.len()));
        Ok(Worker { queues, plan: Plan::new(set, groups), handlers, planned, shared })
    }
}

/// Connects to the queue, retrying with backoff for up to `wait` while the
/// server answers that it cannot serve yet; any other failure returns at once.
fn connect_once_serving(url: &str, config: QueueConfig, wait: Duration) -> Result<Connection, Error> {
    let deadline = Instant::now() + wait;
    let mut backoff = Backoff::new();
    let mut told = false;
    loop {
        match Connection::connect(url, config.clone()) {
            Err(error @ Error::Busy { .. }) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(error);
                }
                if !told {
                    tracing::warn!(%error, "waiting up to {wait:?} for Redis to serve");
                    told = true;
                }
                std::thread::sleep(backoff.next_wait().min(left));
            }
            other => return other,
        }
    }
}

/// A task worker: fetches tasks from one Redis queue and runs them with the
/// registered handlers, `concurrency` at a time, on an `aio` event loop,
/// delivering every task at least once.
///
/// [`run`](Self::run) blocks until the worker is stopped through its
/// [`Shutdown`] handle — which a program calls from its SIGINT/SIGTERM
/// handler — and then stops gracefully: it
/// fetches no more, lets running tasks finish within the grace period,
/// returns tasks it had not started to the queue, cancels and returns those
/// still running when the grace period ends, and retires from the queue.
///
/// When Redis goes away the worker keeps its running tasks, reconnects with
/// backoff, and then acknowledges what finished meanwhile; every finishing
/// call is safe to repeat, so nothing acknowledged is lost or done twice.
///
/// Inside, four threads with a Redis connection each: the consumer (the
/// thread that called `run`) fetches as many tasks as there are free slots
/// — one script when tasks wait, a blocking `BLMOVE` when none do — and
/// hands them to the event loop, where each runs as a coroutine under its
/// time limit; a finisher acknowledges what finished, many tasks per script;
/// a maintenance thread renews the heartbeat on its own timer, promotes due
/// tasks and reaps dead workers. `docs/PROTOCOL.md`, "The run loop", gives
/// the rules they keep.
///
/// # Examples
///
/// ```no_run
/// use concur_worker::Worker;
///
/// let worker = Worker::builder().queue("queue").concurrency(100).build()?;
/// let stop = worker.shutdown_handle();
/// let running = std::thread::spawn(move || worker.run());
/// // ... later:
/// stop.stop();
/// let report = running.join().unwrap()?;
/// println!("{report:?}");
/// # Ok::<(), concur_worker::WorkerError>(())
/// ```
///
/// # Python
///
/// The reference's pair of a consumer thread popping from Redis and
/// `asyncio.run_coroutine_threadsafe` onto a loop in another thread; in the
/// Python world, an RQ or Celery worker with an asyncio pool.
pub struct Worker {
    /// The consumer's connection to each member queue, by position.
    queues: Vec<Connection>,
    plan: Plan,
    handlers: BTreeMap<String, Handler>,
    planned: Vec<scheduler::Planned>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.shared.worker)
            .field("queues", &self.plan.names())
            .field("tasks", &self.handlers.keys().collect::<Vec<_>>())
            .field("settings", &self.shared.settings)
            .finish()
    }
}

/// What a worker did, returned by [`Worker::run`].
///
/// # Examples
///
/// ```
/// let report = concur_worker::RunReport::default();
/// assert_eq!(report.done, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The worker's id.
    pub worker: String,
    /// Tasks acknowledged.
    pub done: u64,
    /// Failed attempts scheduled for a retry.
    pub retried: u64,
    /// Tasks dead-lettered after their last attempt failed.
    pub dead: u64,
    /// Tasks rejected (unknown name, unusable arguments) and dead-lettered.
    pub rejected: u64,
    /// Payloads that were not tasks, dead-lettered.
    pub malformed: u64,
    /// Tasks given back to the queue at the stop, unstarted or cut short.
    pub returned: u64,
    /// Tasks a reaper took back before this worker finished them (its
    /// heartbeat had lapsed).
    pub not_held: u64,
    /// Tasks that were gone from this worker's processing list when they
    /// ended, although no reaper took them: someone removed them from Redis.
    pub vanished: u64,
    /// Times a connection to Redis was lost and sought again.
    pub reconnects: u64,
    /// Old dead-letter entries dropped to keep the list within its cap.
    pub dead_trimmed: u64,
    /// Times this worker found its heartbeat key gone before it could have
    /// expired (a `FLUSHALL`, an eviction, a restart without the data).
    pub heartbeat_vanished: u64,
}

/// Stops a running [`Worker`] from another thread. Cloneable; keeps working
/// after the worker ended (it then does nothing).
///
/// The library installs no signal handler — signals belong to the program
/// — so a program that wants Ctrl-C and SIGTERM to stop its worker calls
/// [`escalate`](Self::escalate) from its handler, as `concur worker` does.
///
/// # Examples
///
/// Stopping on SIGINT and SIGTERM with the `signal-hook` crate: the first
/// signal stops gracefully, the second at once.
///
/// ```no_run
/// use signal_hook::consts::{SIGINT, SIGTERM};
///
/// let worker = concur_worker::Worker::builder().build()?;
/// let stop = worker.shutdown_handle();
/// let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
/// std::thread::spawn(move || {
///     for _ in signals.forever() {
///         stop.escalate();
///     }
/// });
/// worker.run()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Shutdown {
    shared: Arc<Shared>,
}

impl Shutdown {
    /// Stops gracefully: no new tasks; running tasks may finish within the
    /// grace period. Returns whether this call began the stop.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let worker = concur_worker::Worker::builder().build()?;
    /// let stop = worker.shutdown_handle();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(60));
    ///     stop.stop();
    /// });
    /// worker.run()?;
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn stop(&self) -> bool {
        self.shared.stop()
    }

    /// What a signal handler calls: stops gracefully the first time (see
    /// [`stop`](Self::stop)), at once the next (see
    /// [`stop_now`](Self::stop_now)), as Ctrl-C does to `concur worker`.
    /// Returns whether this call began a graceful stop.
    ///
    /// # Examples
    ///
    /// See [`Shutdown`].
    pub fn escalate(&self) -> bool {
        if self.shared.stop() {
            return true;
        }
        self.shared.stop_now();
        false
    }

    /// Stops at once: running tasks are cancelled and returned to the queue
    /// (they will run again).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let worker = concur_worker::Worker::builder().build()?;
    /// worker.shutdown_handle().stop_now();
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn stop_now(&self) {
        self.shared.stop_now();
    }

    /// Quiets the worker: it takes no new tasks, lets the running ones
    /// finish, keeps its heartbeat, and waits for a stop — what an operator
    /// does before a deploy (Sidekiq's `TSTP`). `concur worker` quiets on
    /// `SIGTSTP`; an operator can also ask through Redis with
    /// [`Client::control_worker`](crate::Client::control_worker). Returns
    /// whether this call made the change.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let worker = concur_worker::Worker::builder().build()?;
    /// let handle = worker.shutdown_handle();
    /// handle.quiet();
    /// assert!(handle.is_quiet());
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn quiet(&self) -> bool {
        self.shared.quiet()
    }

    /// Whether the worker was quieted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let worker = concur_worker::Worker::builder().build()?;
    /// assert!(!worker.shutdown_handle().is_quiet());
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn is_quiet(&self) -> bool {
        self.shared.is_quiet()
    }

    /// Whether a stop was asked for.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let worker = concur_worker::Worker::builder().build()?;
    /// assert!(!worker.shutdown_handle().is_stopping());
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn is_stopping(&self) -> bool {
        self.shared.state() != shared::State::Running
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown").field("worker", &self.shared.worker).field("stopping", &self.is_stopping()).finish()
    }
}

impl Worker {
    /// A builder with the defaults: the queue `queue` on
    /// [`DEFAULT_REDIS_URL`], [`DEFAULT_CONCURRENCY`] tasks at once, the
    /// built-in `sleep` and `echo`, and a 30 s heartbeat and grace period.
    ///
    /// # Examples
    ///
    /// See [`WorkerBuilder`].
    pub fn builder() -> WorkerBuilder {
        WorkerBuilder::default()
    }

    /// The worker's id: its process id and a random suffix.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let worker = concur_worker::Worker::builder().build()?;
    /// assert!(worker.id().starts_with(&std::process::id().to_string()));
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn id(&self) -> &str {
        &self.shared.worker
    }

    /// The names of the tasks this worker runs, sorted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let worker = concur_worker::Worker::builder().build()?;
    /// assert_eq!(worker.task_names().collect::<Vec<_>>(), ["echo", "sleep"]);
    /// # Ok::<(), concur_worker::WorkerError>(())
    /// ```
    pub fn task_names(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    /// A handle that stops this worker from another thread.
    ///
    /// # Examples
    ///
    /// See [`Shutdown`].
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown { shared: self.shared.clone() }
    }

    /// Runs until stopped (see [`Worker`]), then returns what it did.
    ///
    /// # Errors
    ///
    /// [`WorkerError::Queue`] if Redis cannot be reached when starting (once
    /// running, connection losses are retried, not returned);
    /// [`WorkerError::Loop`] and [`WorkerError::Thread`] if the machinery
    /// cannot start.
    ///
    /// # Examples
    ///
    /// See [`Worker`].
    pub fn run(self) -> Result<RunReport, WorkerError> {
        let Worker { mut queues, mut plan, handlers, planned, shared } = self;
        // Every thread of the worker logs inside this span, so a process
        // running several workers tells their lines apart.
        let span =
            tracing::info_span!("worker", worker.id = shared.worker.as_str(), queue = plan.set().to_string().as_str());
        let _entered = span.enter();
        let finishers = if shared.settings.slots() >= 2 { finisher::FINISHERS } else { 1 };
        let finisher_queues = (0..finishers).map(|_| clone_all(&queues)).collect::<Result<Vec<_>, _>>()?;
        let maintenance_queues = clone_all(&queues)?;
        let ttl = shared.settings.heartbeat_ttl;
        for (m, queue) in queues.iter_mut().enumerate() {
            let sent = Instant::now();
            queue.heartbeat_as(&shared.worker, ttl, &shared.settings.serves, shared.settings.concurrency)?;
            shared.heartbeat_ok(m, sent + ttl);
        }
        warn_if_redis_may_evict(&mut queues[0]);
        let tasks: Vec<&str> = handlers.keys().map(String::as_str).collect();
        tracing::info!(
            worker = shared.worker,
            queue = plan.set().to_string(),
            redis = queues[0].url(),
            concurrency = shared.settings.concurrency,
            "worker started; it runs the tasks {}",
            tasks.join(", ")
        );
        let started = start_threads(&shared, handlers, finisher_queues, maintenance_queues, planned, &span);
        let (to_loop, to_finisher, threads) = match started {
            Ok(started) => started,
            Err(error) => {
                for queue in &mut queues {
                    let _ = queue.retire(&shared.worker);
                }
                return Err(error);
            }
        };
        let Threads { handle, loop_thread, finishers, maintenance, scheduler } = threads;
        // From here on this thread talks to Redis; the loop's thread, started
        // above with the caller's mask, takes the signals instead.
        let _blocked = crate::signal_mask::block_on_this_thread();
        let mut queues = consumer::run(&shared, queues, &mut plan, &to_loop, &to_finisher);
        // Tasks fetched ahead and not started go back to pending at once,
        // not after the running ones end.
        let _ = to_loop.put(LoopMessage::ReturnWaiting);

        // Stopping: the consumer fetches no more.
        let running = shared.wait_loop_empty(Instant::now() + shared.settings.grace, true);
        if running > 0 {
            tracing::warn!(running, "cancelling the tasks still running; they go back to the queue");
            shared.stop_now();
            let _ = to_loop.put(LoopMessage::Abort);
            let stuck = shared.wait_loop_empty(Instant::now() + executor::ABORT_WAIT, false);
            if stuck > 0 {
                tracing::error!(stuck, "tasks did not stop when cancelled (a handler blocks its thread?)");
            }
        }
        shared.give_up_at(Instant::now() + FLUSH_LIMIT);
        // One flush: each finisher passes it on to the next as it ends.
        let _ = to_finisher.put(Message::Flush);
        for finisher in finishers {
            if finisher.join().is_err() {
                tracing::error!("a finisher thread panicked");
            }
        }
        shared.stop_maintenance();
        if maintenance.join().is_err() {
            tracing::error!("the maintenance thread panicked");
        }
        if scheduler.is_some_and(|scheduler| scheduler.join().is_err()) {
            tracing::error!("the scheduler thread panicked");
        }
        to_loop.shutdown();
        handle.stop();
        if !matches!(loop_thread.join_timeout(Duration::from_secs(2)), Ok(concur::thread::JoinStatus::Finished)) {
            tracing::warn!("the event loop did not stop within 2 s (a handler blocks its thread?)");
        }
        for queue in &mut queues {
            retire(&shared, queue);
        }
        let c = &shared.counters;
        let read = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
        let report = RunReport {
            worker: shared.worker.clone(),
            done: read(&c.done),
            retried: read(&c.retried),
            dead: read(&c.dead),
            rejected: read(&c.rejected),
            malformed: read(&c.malformed),
            returned: read(&c.returned),
            not_held: read(&c.not_held),
            vanished: read(&c.vanished),
            reconnects: read(&c.reconnects),
            dead_trimmed: read(&c.dead_trimmed),
            heartbeat_vanished: read(&c.heartbeat_vanished),
        };
        tracing::info!(
            worker = report.worker,
            done = report.done,
            retried = report.retried,
            dead = report.dead,
            rejected = report.rejected,
            malformed = report.malformed,
            returned = report.returned,
            not_held = report.not_held,
            vanished = report.vanished,
            reconnects = report.reconnects,
            "worker stopped"
        );
        Ok(report)
    }
}

struct Threads {
    handle: aio::LoopHandle,
    loop_thread: concur::thread::JoinHandle<Result<(), LoopError>>,
    finishers: Vec<std::thread::JoinHandle<()>>,
    maintenance: std::thread::JoinHandle<()>,
    /// Only when the worker has schedules.
    scheduler: Option<std::thread::JoinHandle<()>>,
}

type Started = (Arc<SimpleQueue<LoopMessage>>, Arc<SimpleQueue<Message>>, Threads);

fn start_threads(
    shared: &Arc<Shared>,
    handlers: BTreeMap<String, Handler>,
    finisher_queues: Vec<Vec<Connection>>,
    mut maintenance_queues: Vec<Connection>,
    mut planned: Vec<scheduler::Planned>,
    span: &tracing::Span,
) -> Result<Started, WorkerError> {
    let (handle, loop_thread) = aio::spawn_background()?;
    let to_loop = Arc::new(SimpleQueue::new());
    let to_finisher = Arc::new(SimpleQueue::new());
    executor::start(
        &handle,
        shared.clone(),
        handlers.into_iter().collect(),
        to_loop.clone(),
        to_finisher.clone(),
        span.clone(),
    )?;
    let most = finisher::round_size(shared.settings.slots(), finisher_queues.len());
    let mut finishers = Vec::with_capacity(finisher_queues.len());
    for mut queues in finisher_queues {
        let (shared, inbox, to_loop, span) = (shared.clone(), to_finisher.clone(), to_loop.clone(), span.clone());
        let thread = std::thread::Builder::new()
            .name("concur-finisher".into())
            .spawn(move || {
                let _entered = span.enter();
                let _blocked = crate::signal_mask::block_on_this_thread();
                finisher::run(&shared, &mut queues, &inbox, &to_loop, most)
            })
            .map_err(|source| WorkerError::Thread { what: "finisher", source })?;
        finishers.push(thread);
    }
    let maintenance = {
        let (shared, span) = (shared.clone(), span.clone());
        std::thread::Builder::new()
            .name("concur-maintenance".into())
            .spawn(move || {
                let _entered = span.enter();
                let _blocked = crate::signal_mask::block_on_this_thread();
                maintenance::run(&shared, &mut maintenance_queues)
            })
            .map_err(|source| WorkerError::Thread { what: "maintenance", source })?
    };
    let scheduler = if planned.is_empty() {
        None
    } else {
        let (shared, span) = (shared.clone(), span.clone());
        let thread = std::thread::Builder::new()
            .name("concur-scheduler".into())
            .spawn(move || {
                let _entered = span.enter();
                let _blocked = crate::signal_mask::block_on_this_thread();
                scheduler::run(&shared, &mut planned)
            })
            .map_err(|source| WorkerError::Thread { what: "scheduler", source })?;
        Some(thread)
    };
    Ok((to_loop, to_finisher, Threads { handle, loop_thread, finishers, maintenance, scheduler }))
}

/// A second connection to each member queue, for another thread.
fn clone_all(queues: &[Connection]) -> Result<Vec<Connection>, Error> {
    queues.iter().map(Connection::try_clone).collect()
}

/// Warns once, at start, when Redis may delete the queue's keys under
/// memory pressure, as Sidekiq does: an evicted heartbeat makes a live
/// worker look dead for a while, an evicted task is lost.
fn warn_if_redis_may_evict(queue: &mut Connection) {
    match queue.eviction_policy() {
        Ok(Some(policy)) if policy != "noeviction" => {
            let what = if policy.starts_with("volatile") {
                "the keys with a TTL: heartbeats, results and worker records"
            } else {
                "any key: tasks, heartbeats and results"
            };
            tracing::warn!(
                policy,
                "Redis's maxmemory-policy is {policy}: when it reaches its maxmemory it evicts {what}, and a queue \
                 must not lose them. Set `maxmemory-policy noeviction` in redis.conf (or CONFIG SET) for the \
                 queue's Redis"
            );
        }
        Ok(_) => {}
        Err(error) => tracing::debug!(%error, "could not read Redis's maxmemory-policy"),
    }
}

/// The last call: everything still held goes back to pending, the heartbeat
/// goes, the worker leaves the set. Retried for a while if Redis is away;
/// if it stays away, the heartbeat expires and a reaper does the same.
fn retire(shared: &Shared, queue: &mut Connection) {
    let deadline = Instant::now() + RETIRE_LIMIT;
    let mut backoff = Backoff::new();
    let held = shared.held_count();
    loop {
        match queue.retire(&shared.worker) {
            Ok(returned) => {
                shared::Counters::add(&shared.counters.returned, returned as u64);
                return;
            }
            Err(error) if Instant::now() < deadline => {
                tracing::warn!(%error, "could not retire from the queue; retrying");
                std::thread::sleep(backoff.next_wait());
            }
            Err(error) => {
                tracing::error!(
                    %error,
                    held,
                    "could not retire from the queue; the tasks still held go back when a reaper finds the \
                     heartbeat expired"
                );
                return;
            }
        }
    }
}
