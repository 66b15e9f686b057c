//! The queue client: [`Queue`] and the values its calls hand out.
//!
//! Each public call is one Redis command, one `MULTI`, or one Lua script from
//! `scripts.rs`, so each state transition is atomic on its own. Every
//! transition that finishes a task begins with `LREM` on the worker's
//! processing list and does nothing when that removes nothing; that one rule
//! makes repeating a call after a lost reply harmless and keeps a worker whose
//! task was reaped from finishing it a second time.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use redis::{Client, Connection, RedisResult};
use serde_json::Value;

use crate::envelope::{new_id, parse, Envelope, MalformedReason};
use crate::error::{redact_url, Error};
use crate::keys::{check_task_id, check_worker_id, Keys};
use crate::record::{from_unix_seconds, unix_seconds, DeadEntry, DeadKind, ResultStatus, TaskResult};
use crate::retry::RetryPolicy;
use crate::scripts;

/// How many tasks one promotion script moves at most, so a large backlog of
/// due tasks never blocks Redis for long; [`Queue::promote_due`] loops.
const PROMOTE_BATCH: usize = 1000;
/// How many tasks one `LPUSH` of [`Queue::enqueue_many`] carries.
const ENQUEUE_BATCH: usize = 1000;
/// The longest a single blocking fetch waits.
const MAX_BLOCK: Duration = Duration::from_secs(3600);
/// The window of [`Status::done_last_minute`], in seconds.
const THROUGHPUT_WINDOW: u64 = 60;
/// One fetch stops adding tasks once their payloads reach this many bytes,
/// so a batch of large payloads cannot make one reply (and the worker's
/// memory) grow with the batch size.
const FETCH_BYTES: usize = 4 << 20;

/// The settings of a queue client. Every worker and producer of one queue
/// should use the same values for the limits.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::QueueConfig;
///
/// let config = QueueConfig { result_ttl: Duration::from_secs(60), ..QueueConfig::named("emails") };
/// assert_eq!(config.name, "emails");
/// assert_eq!(config.default_max_attempts, 5);
/// ```
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// The queue's name; the pending list is the Redis key of that name.
    /// Default: `queue`, the list of the reference.
    pub name: String,
    /// The largest payload accepted, in bytes; larger ones are dead-lettered
    /// when fetched and refused when enqueued. Default: 1 MiB.
    pub max_payload: usize,
    /// Attempts for a task whose envelope does not say. Default: 5.
    pub default_max_attempts: u32,
    /// Time limit of one attempt for a task whose envelope does not say.
    /// Default: 5 minutes.
    pub default_timeout: Duration,
    /// The wait between attempts.
    pub retry: RetryPolicy,
    /// How long a result is kept; zero keeps none. Default: one day.
    pub result_ttl: Duration,
    /// How many results are kept at most; the oldest goes first. Zero keeps
    /// none. Default: 10,000.
    pub results_cap: usize,
    /// How many dead-letter entries are kept at most; the oldest goes first.
    /// Default: 10,000.
    pub dead_cap: usize,
    /// How many times the reaper may take the same task back from a dead
    /// worker before it dead-letters it as the likely cause of the deaths;
    /// zero means no limit. Default: 10.
    pub max_reaps: u32,
    /// The longest wait to open a connection and get its first answer.
    /// Default: 5 s.
    pub connect_timeout: Duration,
    /// The longest wait for a reply (a blocking fetch adds its own wait).
    /// Default: 30 s.
    pub command_timeout: Duration,
    /// A PEM file of CA certificates to trust for `rediss://`, instead of the
    /// system's. Default: none.
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for QueueConfig {
    /// The defaults listed on each field, for the queue named `queue`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::QueueConfig::default().name, "queue");
    /// ```
    fn default() -> Self {
        QueueConfig {
            name: "queue".to_owned(),
            max_payload: 1 << 20,
            default_max_attempts: 5,
            default_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            result_ttl: Duration::from_secs(24 * 3600),
            results_cap: 10_000,
            dead_cap: 10_000,
            max_reaps: 10,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(30),
            tls_ca_file: None,
        }
    }
}

impl QueueConfig {
    /// The defaults, for the queue `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::QueueConfig::named("emails").name, "emails");
    /// ```
    pub fn named(name: &str) -> Self {
        QueueConfig { name: name.to_owned(), ..QueueConfig::default() }
    }

    fn check(&self) -> Result<(), Error> {
        let bad = |msg: &str| Err(Error::InvalidOption(msg.to_owned()));
        if self.default_max_attempts == 0 {
            return bad("default_max_attempts must be at least 1");
        }
        if self.dead_cap == 0 {
            return bad("dead_cap must be at least 1, or dead tasks would be dropped");
        }
        if self.default_timeout.is_zero() {
            return bad("default_timeout must be more than zero");
        }
        if self.connect_timeout.is_zero() || self.command_timeout.is_zero() {
            return bad("connect_timeout and command_timeout must be more than zero");
        }
        Ok(())
    }
}

/// Per-task settings for [`Queue::enqueue`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::EnqueueOptions;
///
/// let later = EnqueueOptions { delay: Duration::from_secs(60), max_attempts: Some(3), ..Default::default() };
/// assert!(later.eta.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    /// Run no earlier than this long from now. Zero: now.
    pub delay: Duration,
    /// Run no earlier than this time; not together with `delay`.
    pub eta: Option<SystemTime>,
    /// Attempts before the task is dead-lettered; `None`: the workers' default.
    pub max_attempts: Option<u32>,
    /// Time limit of one attempt; `None`: the workers' default.
    pub timeout: Option<Duration>,
}

/// A task fetched by a worker, which now holds it until it calls
/// [`Queue::ack`], [`Queue::fail`], [`Queue::reject`] or
/// [`Queue::return_to_pending`].
///
/// # Examples
///
/// ```no_run
/// # use std::time::Duration;
/// # use concur_worker::{Fetched, Queue, QueueConfig};
/// # let mut queue = Queue::connect("redis://127.0.0.1", QueueConfig::default())?;
/// # let worker = "w1";
/// for fetched in queue.fetch(worker, 1, Duration::from_secs(5))? {
///     if let Fetched::Task(task) = fetched {
///         println!("{} {:?} attempt {} of {}", task.name(), task.args(), task.attempt(), task.max_attempts());
///     }
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Task {
    envelope: Envelope,
    raw: String,
    started_at: f64,
    max_attempts: u32,
    timeout: Duration,
}

impl Task {
    /// The task's id, under which its result is stored.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn id(&self) -> &str {
        &self.envelope.id
    }

    /// The name of the handler to run.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn name(&self) -> &str {
        &self.envelope.task
    }

    /// The handler's arguments.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn args(&self) -> &[Value] {
        &self.envelope.args
    }

    /// Which attempt this is, 1 for the first.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn attempt(&self) -> u32 {
        self.envelope.attempts + 1
    }

    /// Attempts allowed in all, from the envelope or the queue's default.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time limit of this attempt, from the envelope or the queue's default.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// When the worker fetched it: the start of this attempt.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn fetched_at(&self) -> SystemTime {
        from_unix_seconds(self.started_at)
    }

    /// The whole envelope.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The payload exactly as it sits in the processing list (for a bare
    /// number like `5`, that number, not the envelope made from it).
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn payload(&self) -> &str {
        &self.raw
    }
}

/// A payload that could not be read as a task. [`Queue::fetch`] has already
/// moved it to the dead-letter list when it returns this.
///
/// # Examples
///
/// ```no_run
/// # use std::time::Duration;
/// # use concur_worker::{Fetched, Queue, QueueConfig};
/// # let mut queue = Queue::connect("redis://127.0.0.1", QueueConfig::default())?;
/// for fetched in queue.fetch("w1", 10, Duration::ZERO)? {
///     if let Fetched::Malformed(bad) = fetched {
///         eprintln!("dead-lettered {} ({} bytes): {}", bad.dead_id, bad.size, bad.reason);
///     }
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Malformed {
    /// The id of its dead-letter entry.
    pub dead_id: String,
    /// Why it could not be read.
    pub reason: MalformedReason,
    /// Its size in bytes.
    pub size: usize,
    /// Old dead-letter entries dropped to keep the list within its cap to
    /// make room for this one (see [`QueueConfig::dead_cap`]).
    pub dead_trimmed: u64,
}

/// One item of a fetch.
///
/// # Examples
///
/// See [`Task`] and [`Malformed`].
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A task to run.
    Task(Task),
    /// A payload that was dead-lettered instead.
    Malformed(Malformed),
}

/// What [`Queue::fail`] or [`Queue::reject`] did.
///
/// # Examples
///
/// ```no_run
/// # use concur_worker::{FailOutcome, Queue, QueueConfig, Task};
/// # fn handle(queue: &mut Queue, task: &Task) -> Result<(), concur_worker::Error> {
/// match queue.fail("w1", task, "the mail server timed out")? {
///     FailOutcome::Retrying { attempt, delay, .. } => println!("attempt {attempt} failed; retry in {delay:?}"),
///     FailOutcome::Dead { .. } => println!("out of attempts: dead-lettered"),
///     FailOutcome::Reaped => println!("this worker was taken for dead; the task went back to the queue"),
///     FailOutcome::NotHeld => println!("no longer held; nothing changed"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// The task waits in the delayed set for its next attempt.
    Retrying {
        /// Attempts failed so far.
        attempt: u32,
        /// The wait drawn from the retry policy.
        delay: Duration,
        /// When it becomes due.
        due: SystemTime,
    },
    /// The task is in the dead-letter list.
    Dead {
        /// Old entries the list dropped to stay within its cap.
        trimmed: u64,
    },
    /// The worker no longer held the task because a reaper took the worker
    /// for dead (its heartbeat lapsed) and returned its tasks to pending;
    /// nothing was changed.
    Reaped,
    /// The worker no longer held the task although no reaper took it: the
    /// call repeats one that took effect (its reply was lost), or someone
    /// removed the task (a `DEL`, `FLUSHALL`, a Redis restart that lost
    /// data). Nothing was changed.
    NotHeld,
}

/// What [`Queue::ack`] did with one task.
///
/// # Examples
///
/// ```no_run
/// # use concur_worker::{Acked, Queue, Task};
/// # fn run(queue: &mut Queue, task: &Task) -> Result<(), concur_worker::Error> {
/// match queue.ack("w1", task, &serde_json::json!("ok"))? {
///     Acked::Done => {}
///     Acked::Reaped => eprintln!("a reaper took this worker for dead; the task may run again"),
///     Acked::NotHeld => eprintln!("the task was no longer in this worker's list"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// Removed from the worker's processing list; its result stored.
    Done,
    /// Not held: a reaper took this worker for dead and returned its tasks
    /// to pending, so the task may run again elsewhere. Nothing changed.
    Reaped,
    /// Not held although no reaper took this worker: the call repeats one
    /// that took effect (its reply was lost with the connection), or
    /// someone removed the task from Redis. Nothing changed.
    NotHeld,
}

/// What a [`Queue::heartbeat`] found.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
/// let beat = queue.heartbeat("w1", std::time::Duration::from_secs(30))?;
/// if let Some(when) = beat.reaped_at {
///     eprintln!("a reaper took this worker for dead at {when:?}");
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Beat {
    /// Whether the heartbeat key was still there. It is not on a first beat,
    /// after a beat came too late, and when the key vanished under a live
    /// worker (`FLUSHALL`, eviction by `maxmemory-policy`, a Redis restart
    /// without its data).
    pub key_was_there: bool,
    /// When a reaper took this worker for dead, if one ever did (Redis
    /// server's clock).
    pub reaped_at: Option<SystemTime>,
}

/// What [`Queue::promote_due`] did.
///
/// # Examples
///
/// ```no_run
/// # use std::time::SystemTime;
/// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
/// let promoted = queue.promote_due(SystemTime::now())?;
/// if let Some(next) = promoted.next_due {
///     println!("{} now pending; next due at {next:?}", promoted.moved);
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promoted {
    /// Tasks moved from the delayed set to pending.
    pub moved: usize,
    /// When the earliest task still delayed is due, if any: how long a
    /// promoter may sleep.
    pub next_due: Option<SystemTime>,
}

/// What [`Queue::reap`] did.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
/// let reaped = queue.reap(std::time::Duration::from_secs(30))?;
/// println!("{} tasks of dead workers back in pending, {} dead-lettered", reaped.returned, reaped.dead);
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reaped {
    /// Tasks returned to pending.
    pub returned: usize,
    /// Tasks dead-lettered as poison (see [`QueueConfig::max_reaps`]).
    pub dead: usize,
    /// Old dead-letter entries dropped to keep the list within its cap.
    pub dead_trimmed: u64,
}

/// What [`Queue::dead_retry`] did.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
/// let done = queue.dead_retry_all()?;
/// println!("{} queued again, {} too large to retry", done.retried, done.not_retriable);
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeadRetry {
    /// Entries removed from the dead-letter list and queued again.
    pub retried: usize,
    /// Entries left in place because their payload was not kept.
    pub not_retriable: usize,
}

/// One worker as [`Queue::status`] sees it.
///
/// # Examples
///
/// See [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkerStatus {
    /// The worker's id.
    pub id: String,
    /// Tasks it holds.
    pub processing: u64,
    /// Time left on its heartbeat; `None` if it is missing (a reap takes
    /// the worker's tasks back if it stays missing a whole TTL). Serialized
    /// as `heartbeat_ms`, milliseconds or `null`.
    #[serde(rename = "heartbeat_ms", serialize_with = "crate::record::serialize_millis")]
    pub heartbeat: Option<Duration>,
}

/// A snapshot of a queue, taken atomically.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
/// let status = queue.status()?;
/// println!("pending {}, delayed {}, dead {}", status.pending, status.delayed, status.dead);
/// for worker in &status.workers {
///     println!("  {}: {} in progress, alive: {}", worker.id, worker.processing, worker.heartbeat.is_some());
/// }
/// println!("{} done in the last minute", status.done_last_minute);
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Status {
    /// Tasks waiting in the pending list.
    pub pending: u64,
    /// Tasks waiting for a time (delayed or retrying).
    pub delayed: u64,
    /// Entries in the dead-letter list.
    pub dead: u64,
    /// Results kept.
    pub results: u64,
    /// The registered workers, sorted by id.
    pub workers: Vec<WorkerStatus>,
    /// Tasks acknowledged, ever.
    pub done: u64,
    /// Failed attempts scheduled for a retry, ever.
    pub retried: u64,
    /// Tasks dead-lettered, ever.
    pub dead_total: u64,
    /// Tasks taken back from dead workers, ever.
    pub reaped: u64,
    /// Dead-letter entries dropped, ever, because the list was at its cap
    /// ([`QueueConfig::dead_cap`]).
    pub dead_trimmed: u64,
    /// Tasks acknowledged in the last 60 seconds.
    pub done_last_minute: u64,
}

impl Status {
    /// Tasks held by all workers together.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::Status::default().processing(), 0);
    /// ```
    pub fn processing(&self) -> u64 {
        self.workers.iter().map(|w| w.processing).sum()
    }
}

/// A fresh worker id: the process id and a random suffix, unique per start.
///
/// # Examples
///
/// ```
/// let a = concur_worker::new_worker_id();
/// assert!(a.starts_with(&std::process::id().to_string()));
/// assert_ne!(a, concur_worker::new_worker_id());
/// ```
pub fn new_worker_id() -> String {
    format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A connection to one queue: every state transition of a task, one call each.
///
/// Producers call [`enqueue`](Queue::enqueue); workers loop over
/// [`fetch`](Queue::fetch) → run → [`ack`](Queue::ack) or
/// [`fail`](Queue::fail), keep a [`heartbeat`](Queue::heartbeat) alive, and
/// now and then call [`promote_due`](Queue::promote_due) and
/// [`reap`](Queue::reap) on behalf of everyone. Each call is one Redis command
/// or one Lua script, so each transition is atomic.
///
/// Delivery is at least once. A fetched task sits in the worker's own
/// processing list until the worker acknowledges or fails it; if the worker
/// dies, its heartbeat expires and the next reap puts the task back. A task
/// can therefore run twice (after a reap), but it is never lost.
///
/// One `Queue` is one blocking connection (redis-rs's synchronous API), so a
/// blocking fetch holds only its own connection. Calls take `&mut self`; a
/// program that needs several connections makes more with
/// [`try_clone`](Queue::try_clone). A call that loses the connection returns
/// [`Error::ConnectionLost`] and the next call reconnects.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use concur_worker::{EnqueueOptions, Fetched, Queue, QueueConfig};
/// use serde_json::json;
///
/// let mut queue = Queue::connect("redis://127.0.0.1:6379", QueueConfig::default())?;
/// let id = queue.enqueue("echo", vec![json!("hi")], &EnqueueOptions::default())?;
///
/// let worker = concur_worker::new_worker_id();
/// queue.heartbeat(&worker, Duration::from_secs(30))?;
/// for fetched in queue.fetch(&worker, 10, Duration::from_secs(1))? {
///     if let Fetched::Task(task) = fetched {
///         queue.ack(&worker, &task, &json!(task.args()))?;
///     }
/// }
/// assert!(queue.result(&id)?.is_some());
/// # Ok::<(), concur_worker::Error>(())
/// ```
///
/// # Python
///
/// The reference's consumer is `redis.Redis().rpop("queue")` in a loop; this
/// client replaces that pop with a move into a list the worker owns, plus the
/// calls that finish, retry, revive and inspect tasks.
pub struct Queue {
    client: Client,
    conn: Option<Connection>,
    /// `CLIENT ID` of `conn`, once asked for.
    conn_id: Option<u64>,
    config: QueueConfig,
    keys: Keys,
    url: String,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("url", &self.url)
            .field("name", &self.keys.name())
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Connects to the Redis server at `url` and checks that it answers.
    /// `rediss://` URLs use TLS, trusting the system's CA certificates or
    /// [`QueueConfig::tls_ca_file`].
    ///
    /// Connecting writes nothing: a failed start leaves the queue untouched.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`], [`Error::Unreachable`], [`Error::WrongPassword`],
    /// [`Error::PasswordRequired`], [`Error::CaFile`], [`Error::InvalidName`]
    /// for a bad queue name and [`Error::InvalidOption`] for a bad limit.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::{Queue, QueueConfig};
    ///
    /// let queue = Queue::connect("redis://:secret@10.0.0.5:6379/0", QueueConfig::named("emails"))?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn connect(url: &str, config: QueueConfig) -> Result<Queue, Error> {
        let shown = redact_url(url);
        let keys = Keys::new(&config.name)?;
        config.check()?;
        let client = open_client(url, &shown, &config)?;
        let mut queue = Queue { client, conn: None, conn_id: None, config, keys, url: shown };
        queue.conn = Some(queue.open_connection()?);
        Ok(queue)
    }

    /// Opens a second connection to the same queue with the same settings.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), when the server has gone meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let mut for_acks = queue.try_clone()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn try_clone(&self) -> Result<Queue, Error> {
        let mut queue = Queue {
            client: self.client.clone(),
            conn: None,
            conn_id: None,
            config: self.config.clone(),
            keys: self.keys.clone(),
            url: self.url.clone(),
        };
        queue.conn = Some(queue.open_connection()?);
        Ok(queue)
    }

    /// The queue's key names.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// assert_eq!(queue.keys().pending(), "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The settings this client was made with.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// assert_eq!(queue.config().name, "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// The server's URL with any password replaced by `***`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Queue::connect("redis://:pw@127.0.0.1", Default::default())?;
    /// assert_eq!(queue.url(), "redis://:***@127.0.0.1");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Checks the connection with `PING`, reconnecting first if a previous
    /// call lost it.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) when reconnecting, or
    /// [`Error::ConnectionLost`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// queue.ping()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn ping(&mut self) -> Result<(), Error> {
        self.with_conn(|c| redis::cmd("PING").query::<()>(c))
    }

    /// Adds a task to the queue and returns its id. With a delay or an eta
    /// it goes to the delayed set and becomes pending when due (see
    /// [`promote_due`](Self::promote_due)); otherwise it is pending at once,
    /// behind the tasks already waiting.
    ///
    /// If the connection drops during the call the task may or may not have
    /// been added; adding it again may run it twice.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for an empty task name, `max_attempts` of 0, a
    /// zero timeout or both `delay` and `eta`; [`Error::PayloadTooLarge`];
    /// connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use concur_worker::EnqueueOptions;
    /// use serde_json::json;
    ///
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let now = queue.enqueue("sleep", vec![json!(5)], &EnqueueOptions::default())?;
    /// let later = queue.enqueue(
    ///     "echo",
    ///     vec![json!("hi")],
    ///     &EnqueueOptions { delay: Duration::from_secs(30), ..Default::default() },
    /// )?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// `redis.Redis().lpush("queue", n)` in the reference, with an envelope
    /// around the value.
    pub fn enqueue(&mut self, task: &str, args: Vec<Value>, options: &EnqueueOptions) -> Result<String, Error> {
        let mut ids = self.enqueue_many(task, std::iter::once(args), options)?;
        Ok(ids.pop().expect("one task in, one id out"))
    }

    /// Adds one task per item of `args`, all with the same name and options,
    /// in order, with one round trip per thousand tasks. Returns their ids.
    ///
    /// # Errors
    ///
    /// As [`enqueue`](Self::enqueue). The tasks of earlier round trips stay
    /// enqueued when a later one fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::EnqueueOptions;
    /// use serde_json::json;
    ///
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let ids = queue.enqueue_many("sleep", (1..=3).map(|n| vec![json!(n)]), &EnqueueOptions::default())?;
    /// assert_eq!(ids.len(), 3);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn enqueue_many(
        &mut self,
        task: &str,
        args: impl IntoIterator<Item = Vec<Value>>,
        options: &EnqueueOptions,
    ) -> Result<Vec<String>, Error> {
        if task.is_empty() {
            return Err(Error::InvalidOption("the task name is empty".into()));
        }
        if options.max_attempts == Some(0) {
            return Err(Error::InvalidOption("max_attempts must be at least 1".into()));
        }
        if options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::InvalidOption("the timeout must be more than zero".into()));
        }
        if options.eta.is_some() && !options.delay.is_zero() {
            return Err(Error::InvalidOption("give a delay or an eta, not both".into()));
        }
        let now = SystemTime::now();
        let due = match options.eta {
            Some(eta) => Some(eta),
            None if !options.delay.is_zero() => Some(now + options.delay),
            None => None,
        };
        let enqueued_at = unix_seconds(now);
        let mut ids = Vec::new();
        let mut batch: Vec<String> = Vec::with_capacity(ENQUEUE_BATCH);
        let mut args = args.into_iter().peekable();
        while args.peek().is_some() {
            batch.clear();
            for task_args in args.by_ref().take(ENQUEUE_BATCH) {
                let mut envelope = Envelope::new(task, task_args);
                envelope.max_attempts = options.max_attempts;
                envelope.timeout = options.timeout.map(|t| t.as_secs_f64());
                envelope.enqueued_at = Some(enqueued_at);
                envelope.eta = due.map(unix_seconds);
                let json = envelope.to_json();
                if json.len() > self.config.max_payload {
                    return Err(Error::PayloadTooLarge { size: json.len(), limit: self.config.max_payload });
                }
                ids.push(envelope.id);
                batch.push(json);
            }
            match due {
                None => {
                    let pending = self.keys.pending().to_owned();
                    self.with_conn(|c| redis::cmd("LPUSH").arg(&pending).arg(&batch).query::<()>(c))?;
                }
                Some(due) => {
                    let delayed = self.keys.delayed();
                    let score = unix_seconds(due);
                    let mut cmd = redis::cmd("ZADD");
                    cmd.arg(&delayed);
                    for json in &batch {
                        cmd.arg(score).arg(json);
                    }
                    self.with_conn(|c| cmd.query::<()>(c))?;
                }
            }
        }
        Ok(ids)
    }

    /// Pushes `payload` onto the pending list as it is, as any producer may
    /// (`redis-cli LPUSH queue 5`): nothing is checked, the worker that fetches
    /// it does the checking.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// queue.enqueue_raw(b"5")?; // the built-in sleep task, 5 seconds
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn enqueue_raw(&mut self, payload: &[u8]) -> Result<(), Error> {
        let pending = self.keys.pending().to_owned();
        self.with_conn(|c| redis::cmd("LPUSH").arg(&pending).arg(payload).query::<()>(c))
    }

    /// Moves up to `max` tasks from the pending list to `worker`'s processing
    /// list and returns them, oldest first.
    ///
    /// When tasks are waiting, one script moves as many as `max` in one round
    /// trip (a busy worker asks for its free slots at once), stopping early
    /// once the payloads moved reach 4 MiB. When none are waiting, the
    /// call blocks in `BLMOVE` for up to `block` (at most an hour; zero does
    /// not block) and returns as soon as one arrives: no polling delay.
    ///
    /// Payloads that cannot be read are moved to the dead-letter list here and
    /// come back as [`Fetched::Malformed`].
    ///
    /// Call [`heartbeat`](Self::heartbeat) before the first fetch and keep it
    /// alive: a worker without one is taken for dead and its tasks are reaped.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors. After
    /// [`Error::ConnectionLost`] a task may have been moved without the reply
    /// arriving: call [`recover`](Self::recover) once reconnected.
    ///
    /// # Cancel safety
    ///
    /// Not async. A blocking fetch holds this `Queue`'s connection for up to
    /// `block`; use another `Queue` for other calls meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use concur_worker::Fetched;
    ///
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let worker = concur_worker::new_worker_id();
    /// queue.heartbeat(&worker, Duration::from_secs(30))?;
    /// let batch = queue.fetch(&worker, 16, Duration::from_secs(5))?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// Replaces the reference's `rpop`, which loses the task if the consumer
    /// dies before it finishes.
    pub fn fetch(&mut self, worker: &str, max: usize, block: Duration) -> Result<Vec<Fetched>, Error> {
        check_worker_id(worker)?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let pending = self.keys.pending().to_owned();
        let processing = self.keys.processing(worker);
        let workers = self.keys.workers();
        let mut raws: Vec<Vec<u8>> = self.with_conn(|c| {
            scripts::FETCH.key(&pending).key(&processing).key(&workers).arg(worker).arg(max).arg(FETCH_BYTES).invoke(c)
        })?;
        if raws.is_empty() && !block.is_zero() {
            let block = block.min(MAX_BLOCK);
            let reply_timeout = block + self.config.command_timeout;
            let command_timeout = self.config.command_timeout;
            let moved: Option<Vec<u8>> = self.with_conn(|c| {
                c.set_read_timeout(Some(reply_timeout))?;
                let moved = redis::cmd("BLMOVE")
                    .arg(&pending)
                    .arg(&processing)
                    .arg("RIGHT")
                    .arg("LEFT")
                    // Redis takes fractional seconds; below 1 ms it would round to 0, "forever".
                    .arg(block.as_secs_f64().max(0.001))
                    .query(c);
                c.set_read_timeout(Some(command_timeout))?;
                moved
            })?;
            raws.extend(moved);
        }
        let now = unix_seconds(SystemTime::now());
        let mut fetched = Vec::with_capacity(raws.len());
        for raw in raws {
            match parse(&raw, self.config.max_payload) {
                Ok(envelope) => {
                    // `parse` accepts only UTF-8, so this conversion cannot fail.
                    let raw = String::from_utf8(raw).expect("a parsed payload is UTF-8");
                    let max_attempts = envelope.max_attempts.unwrap_or(self.config.default_max_attempts);
                    let timeout = envelope.timeout.map_or(self.config.default_timeout, |t| {
                        Duration::try_from_secs_f64(t).unwrap_or(Duration::MAX)
                    });
                    fetched.push(Fetched::Task(Task { envelope, raw, started_at: now, max_attempts, timeout }));
                }
                Err(reason) => fetched.push(Fetched::Malformed(self.bury_malformed(worker, &raw, reason)?)),
            }
        }
        Ok(fetched)
    }

    /// Acknowledges a finished task: removes it from `worker`'s processing
    /// list and stores `result` under its id, all in one script. When the
    /// worker no longer held it nothing is stored, and the answer says why:
    /// [`Acked::Reaped`] if a reaper took the worker for dead (the task may
    /// be running elsewhere), [`Acked::NotHeld`] otherwise.
    ///
    /// Repeating an acknowledgement that took effect answers
    /// [`Acked::NotHeld`] and changes nothing, so it is safe after a lost
    /// connection.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::{Queue, Task};
    /// # fn run(queue: &mut Queue, task: &Task) -> Result<(), concur_worker::Error> {
    /// let acked = queue.ack("w1", task, &serde_json::json!({"pages": 3}))?;
    /// # Ok(()) }
    /// ```
    pub fn ack(&mut self, worker: &str, task: &Task, result: &Value) -> Result<Acked, Error> {
        Ok(self.ack_many(worker, &[(task, result)])?[0])
    }

    /// Acknowledges several tasks in one script (one round trip), returning
    /// what became of each. See [`ack`](Self::ack).
    ///
    /// # Errors
    ///
    /// As [`ack`](Self::ack).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::{Queue, Task};
    /// # fn run(queue: &mut Queue, a: &Task, b: &Task) -> Result<(), concur_worker::Error> {
    /// let ok = serde_json::Value::Null;
    /// let acked = queue.ack_many("w1", &[(a, &ok), (b, &ok)])?;
    /// # Ok(()) }
    /// ```
    pub fn ack_many(&mut self, worker: &str, done: &[(&Task, &Value)]) -> Result<Vec<Acked>, Error> {
        check_worker_id(worker)?;
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let finished_at = unix_seconds(SystemTime::now());
        let keep = self.keeps_results();
        let processing = self.keys.processing(worker);
        let mut invocation = scripts::ACK.prepare_invoke();
        invocation
            .key(&processing)
            .key(self.keys.results())
            .key(self.keys.stats())
            .key(self.keys.reaped())
            .key(self.keys.worker_info(worker))
            .arg(self.keys.result_prefix())
            .arg(self.result_ttl_ms())
            .arg(self.config.results_cap)
            .arg(self.keys.done_prefix());
        for (task, result) in done {
            let record = if keep {
                result_record(task, worker, ResultStatus::Succeeded, Some((*result).clone()), None, finished_at)
            } else {
                String::new()
            };
            invocation.arg(&task.raw).arg(task.id()).arg(record);
        }
        let flags: Vec<i64> = self.with_conn(|c| invocation.invoke(c))?;
        if flags.len() != done.len() {
            return Err(self.protocol_error(format!("{} flags for {} acknowledgements", flags.len(), done.len())));
        }
        flags
            .into_iter()
            .map(|flag| match flag {
                1 => Ok(Acked::Done),
                0 => Ok(Acked::Reaped),
                2 => Ok(Acked::NotHeld),
                other => Err(self.protocol_error(format!("the acknowledgement flag {other}"))),
            })
            .collect()
    }

    /// Records a failed attempt. If the task has attempts left it goes to the
    /// delayed set, due after a wait from [`QueueConfig::retry`], with its
    /// attempt count and `error` in the envelope; otherwise it goes to the
    /// dead-letter list with `error`. One script either way.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// See [`FailOutcome`].
    pub fn fail(&mut self, worker: &str, task: &Task, error: &str) -> Result<FailOutcome, Error> {
        check_worker_id(worker)?;
        let failures = task.envelope.attempts.saturating_add(1);
        if failures >= task.max_attempts {
            return self.bury(worker, task, DeadKind::Failed, error);
        }
        let delay = self.config.retry.delay(failures);
        let now = SystemTime::now();
        let due = now + delay;
        let mut envelope = task.envelope.clone();
        envelope.attempts = failures;
        envelope.max_attempts = Some(task.max_attempts);
        envelope.started_at = Some(task.started_at);
        envelope.eta = Some(unix_seconds(due));
        envelope.error = Some(error.to_owned());
        let outcome =
            self.finish(worker, task.raw.as_bytes(), "retry", unix_seconds(due), &envelope.to_json(), None)?;
        Ok(match outcome {
            FailOutcome::Dead { .. } => {
                return Err(self.protocol_error("a dead-letter answer to a retry".into()));
            }
            FailOutcome::Retrying { .. } => FailOutcome::Retrying { attempt: failures, delay, due },
            other => other,
        })
    }

    /// Moves a task straight to the dead-letter list without retrying: for
    /// failures no retry can fix, such as an unknown task name or arguments
    /// the handler cannot take.
    ///
    /// # Errors
    ///
    /// As [`fail`](Self::fail).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::{Queue, Task};
    /// # fn run(queue: &mut Queue, task: &Task) -> Result<(), concur_worker::Error> {
    /// queue.reject("w1", task, &format!("no handler is registered for the task {:?}", task.name()))?;
    /// # Ok(()) }
    /// ```
    pub fn reject(&mut self, worker: &str, task: &Task, error: &str) -> Result<FailOutcome, Error> {
        check_worker_id(worker)?;
        self.bury(worker, task, DeadKind::Rejected, error)
    }

    /// Moves every delayed task due at `now` to the pending list, earliest
    /// first, in scripts of at most a thousand tasks. Any worker may call it;
    /// two calls at once never move a task twice.
    ///
    /// `now` is passed in so a test can move time; workers pass
    /// `SystemTime::now()`. Due times are written with the producer's clock, so
    /// machines sharing a queue should keep their clocks in sync (NTP).
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`Promoted`].
    pub fn promote_due(&mut self, now: SystemTime) -> Result<Promoted, Error> {
        let delayed = self.keys.delayed();
        let pending = self.keys.pending().to_owned();
        let now = unix_seconds(now);
        let mut moved = 0;
        loop {
            let reply: Vec<redis::Value> =
                self.with_conn(|c| scripts::PROMOTE.key(&delayed).key(&pending).arg(now).arg(PROMOTE_BATCH).invoke(c))?;
            let count: usize = match reply.first() {
                Some(value) => redis::from_redis_value_ref(value).map_err(|e| self.protocol_error(e.to_string()))?,
                None => return Err(self.protocol_error("an empty reply to the promotion script".into())),
            };
            moved += count;
            if count < PROMOTE_BATCH {
                let next_due = match reply.get(1) {
                    Some(value) => Some(from_unix_seconds(
                        redis::from_redis_value_ref::<f64>(value).map_err(|e| self.protocol_error(e.to_string()))?,
                    )),
                    None => None,
                };
                return Ok(Promoted { moved, next_due });
            }
        }
    }

    /// Marks `worker` alive for `ttl`, registers it as a possible owner of a
    /// processing list, and records its TTL for the reapers, in one script.
    /// Renew it well within `ttl` — a third of it is usual — or the reaper
    /// takes the worker's tasks. The answer says whether the key was still
    /// there and whether a reaper ever took this worker for dead; see
    /// [`Beat`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id, [`Error::InvalidOption`]
    /// for a TTL under a millisecond; connection errors.
    ///
    /// # Examples
    ///
    /// See [`Beat`].
    pub fn heartbeat(&mut self, worker: &str, ttl: Duration) -> Result<Beat, Error> {
        check_worker_id(worker)?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ttl_ms == 0 {
            return Err(Error::InvalidOption("the heartbeat TTL must be at least a millisecond".into()));
        }
        let now = unix_seconds(SystemTime::now());
        let mut invocation = scripts::HEARTBEAT.prepare_invoke();
        invocation
            .key(self.keys.heartbeat(worker))
            .key(self.keys.workers())
            .key(self.keys.worker_info(worker))
            .arg(worker)
            .arg(now)
            .arg(ttl_ms);
        let (existed, reaped): (i64, Option<u64>) = self.with_conn(|c| invocation.invoke(c))?;
        Ok(Beat {
            key_was_there: existed == 1,
            reaped_at: reaped.map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms)),
        })
    }

    /// Returns the tasks of every registered worker found dead to the front
    /// of the pending list, and forgets those workers, in one script. A task
    /// taken back more than [`QueueConfig::max_reaps`] times is dead-lettered
    /// instead. Any live worker may call it at any time.
    ///
    /// Dead means *still* without a heartbeat a whole heartbeat TTL after a
    /// reap first found it missing: one missing heartbeat is only a
    /// suspicion, since a `FLUSHALL` or an eviction can remove the key of a
    /// live worker, whose next beat puts it back. `default_ttl` stands in
    /// for the TTL of a worker that never said what its own is (the caller's
    /// own TTL is a good guess).
    ///
    /// Liveness is judged by the Redis server's clock only (the key's
    /// expiry, and `TIME` inside the script), so a reaper on a machine whose
    /// clock is off cannot reap a live worker.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`Reaped`].
    pub fn reap(&mut self, default_ttl: Duration) -> Result<Reaped, Error> {
        let now = unix_seconds(SystemTime::now());
        let mut invocation = scripts::REAP.prepare_invoke();
        invocation
            .key(self.keys.workers())
            .key(self.keys.pending())
            .key(self.keys.reaped())
            .key(self.keys.dead())
            .key(self.keys.stats())
            .arg(self.keys.processing_prefix())
            .arg(self.keys.heartbeat_prefix())
            .arg(self.config.max_reaps)
            .arg(now)
            .arg(self.config.dead_cap)
            .arg(self.keys.worker_info_prefix())
            .arg(u64::try_from(default_ttl.as_millis()).unwrap_or(u64::MAX).max(1));
        let (returned, dead, dead_trimmed): (usize, usize, u64) = self.with_conn(|c| invocation.invoke(c))?;
        Ok(Reaped { returned, dead, dead_trimmed })
    }

    /// Puts tasks that `worker` fetched but did not start back at the front
    /// of the pending list, in their order, as a worker does when it shuts
    /// down. Tasks it no longer holds are skipped. Returns how many went back.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::{Queue, Task};
    /// # fn stop(queue: &mut Queue, unstarted: &[Task]) -> Result<(), concur_worker::Error> {
    /// let tasks: Vec<&Task> = unstarted.iter().collect();
    /// queue.return_to_pending("w1", &tasks)?;
    /// # Ok(()) }
    /// ```
    pub fn return_to_pending(&mut self, worker: &str, tasks: &[&Task]) -> Result<usize, Error> {
        check_worker_id(worker)?;
        if tasks.is_empty() {
            return Ok(0);
        }
        let mut invocation = scripts::RETURN.prepare_invoke();
        invocation.key(self.keys.processing(worker)).key(self.keys.pending());
        for task in tasks {
            invocation.arg(&task.raw);
        }
        self.with_conn(|c| invocation.invoke(c))
    }

    /// Returns to pending every task in `worker`'s processing list that is
    /// not among `held`: the tasks a fetch moved while its reply was lost with
    /// the connection. Call it after reconnecting, before fetching again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::{Queue, Task};
    /// # fn resume(queue: &mut Queue, running: &[Task]) -> Result<(), concur_worker::Error> {
    /// let held: Vec<&Task> = running.iter().collect();
    /// let orphans = queue.recover("w1", &held)?;
    /// # Ok(()) }
    /// ```
    pub fn recover(&mut self, worker: &str, held: &[&Task]) -> Result<usize, Error> {
        check_worker_id(worker)?;
        let mut invocation = scripts::RECOVER.prepare_invoke();
        invocation.key(self.keys.processing(worker)).key(self.keys.pending());
        for task in held {
            invocation.arg(&task.raw);
        }
        self.with_conn(|c| invocation.invoke(c))
    }

    /// A worker's last call on a graceful stop: returns whatever it still
    /// holds to the front of pending, deletes its heartbeat and unregisters
    /// it. Returns how many tasks went back.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let returned = queue.retire("w1")?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn retire(&mut self, worker: &str) -> Result<usize, Error> {
        check_worker_id(worker)?;
        let mut invocation = scripts::RETIRE.prepare_invoke();
        invocation
            .key(self.keys.processing(worker))
            .key(self.keys.pending())
            .key(self.keys.heartbeat(worker))
            .key(self.keys.workers())
            .key(self.keys.worker_info(worker))
            .arg(worker);
        self.with_conn(|c| invocation.invoke(c))
    }

    /// The server's `maxmemory-policy`, or `None` when this client may not
    /// read the server's configuration (an ACL, or a managed Redis that
    /// renames `CONFIG`). Any policy but `noeviction` lets Redis delete keys
    /// under memory pressure: `volatile-*` the heartbeats and results (keys
    /// with a TTL), `allkeys-*` the tasks themselves.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// if queue.eviction_policy()?.is_some_and(|policy| policy != "noeviction") {
    ///     eprintln!("Redis may evict this queue's keys");
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn eviction_policy(&mut self) -> Result<Option<String>, Error> {
        let reply = self.with_conn(|c| redis::cmd("CONFIG").arg("GET").arg("maxmemory-policy").query::<Vec<String>>(c));
        match reply {
            Ok(pair) => Ok(pair.into_iter().nth(1)),
            Err(Error::Redis { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Counts of every state, taken in one script so they add up.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`Status`].
    pub fn status(&mut self) -> Result<Status, Error> {
        let mut invocation = scripts::STATUS.prepare_invoke();
        invocation
            .key(self.keys.pending())
            .key(self.keys.delayed())
            .key(self.keys.dead())
            .key(self.keys.workers())
            .key(self.keys.stats())
            .key(self.keys.results())
            .arg(self.keys.processing_prefix())
            .arg(self.keys.heartbeat_prefix())
            .arg(self.keys.done_prefix())
            .arg(THROUGHPUT_WINDOW);
        type Reply = (u64, u64, u64, u64, HashMap<String, u64>, Vec<String>, Vec<u64>, Vec<i64>, u64);
        let (pending, delayed, dead, results, stats, names, lengths, ttls, recent): Reply =
            self.with_conn(|c| invocation.invoke(c))?;
        let stat = |name: &str| stats.get(name).copied().unwrap_or(0);
        let mut workers: Vec<WorkerStatus> = names
            .into_iter()
            .zip(lengths)
            .zip(ttls)
            .map(|((id, processing), ttl)| WorkerStatus {
                id,
                processing,
                heartbeat: u64::try_from(ttl).ok().map(Duration::from_millis),
            })
            .collect();
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Status {
            pending,
            delayed,
            dead,
            results,
            workers,
            done: stat("done"),
            retried: stat("retried"),
            dead_total: stat("dead"),
            reaped: stat("reaped"),
            dead_trimmed: stat("dead_trimmed"),
            done_last_minute: recent,
        })
    }

    /// Up to `count` dead-letter entries from position `start`, newest first.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// for entry in queue.dead_list(0, 20)? {
    ///     println!("{} {:?} {:?}: {}", entry.id, entry.kind, entry.task, entry.error);
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_list(&mut self, start: usize, count: usize) -> Result<Vec<DeadEntry>, Error> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let dead = self.keys.dead();
        let stop = start.saturating_add(count - 1);
        let raws: Vec<Vec<u8>> = self.with_conn(|c| redis::cmd("LRANGE").arg(&dead).arg(start).arg(stop).query(c))?;
        Ok(raws.iter().map(|raw| DeadEntry::from_json(&String::from_utf8_lossy(raw))).collect())
    }

    /// Queues again the dead-letter entries with the given ids, with their
    /// attempt counts reset, and removes them from the list. Entries whose
    /// payload was too large to keep stay and are counted as not retriable.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let result = queue.dead_retry(&["0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a"])?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_retry(&mut self, ids: &[&str]) -> Result<DeadRetry, Error> {
        self.retry_dead(|entry| ids.contains(&entry.id.as_str()))
    }

    /// Queues again every dead-letter entry that can be retried; see
    /// [`dead_retry`](Self::dead_retry).
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`DeadRetry`].
    pub fn dead_retry_all(&mut self) -> Result<DeadRetry, Error> {
        self.retry_dead(|_| true)
    }

    /// Deletes the dead-letter list and returns how many entries it had.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// let dropped = queue.dead_purge()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_purge(&mut self) -> Result<u64, Error> {
        let dead = self.keys.dead();
        self.with_conn(|c| scripts::DEAD_PURGE.key(&dead).invoke(c))
    }

    /// The stored result of task `id`, or `None` if it has not finished, its
    /// result expired or was evicted by the cap, or results are not kept.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for an id that cannot be a task id;
    /// [`Error::Protocol`] for a record that is not in concur's format;
    /// connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Queue::connect("redis://127.0.0.1", Default::default())?;
    /// if let Some(result) = queue.result("0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a")? {
    ///     println!("{:?}: {:?} {:?}", result.status, result.result, result.error);
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn result(&mut self, id: &str) -> Result<Option<TaskResult>, Error> {
        check_task_id(id)?;
        let key = self.keys.result(id);
        let raw: Option<String> = self.with_conn(|c| redis::cmd("GET").arg(&key).query(c))?;
        raw.map(|raw| {
            serde_json::from_str(&raw).map_err(|e| self.protocol_error(format!("a result record it cannot read ({e})")))
        })
        .transpose()
    }

    fn keeps_results(&self) -> bool {
        self.config.results_cap > 0 && !self.config.result_ttl.is_zero()
    }

    /// The result TTL for the scripts: at least a millisecond when results are
    /// kept, 0 when they are not.
    fn result_ttl_ms(&self) -> u64 {
        if self.keeps_results() {
            u64::try_from(self.config.result_ttl.as_millis()).unwrap_or(u64::MAX).max(1)
        } else {
            0
        }
    }

    fn bury(&mut self, worker: &str, task: &Task, kind: DeadKind, error: &str) -> Result<FailOutcome, Error> {
        let attempts = task.envelope.attempts.saturating_add(1);
        let mut envelope = task.envelope.clone();
        envelope.attempts = attempts;
        envelope.max_attempts = Some(task.max_attempts);
        envelope.started_at = Some(task.started_at);
        envelope.error = Some(error.to_owned());
        let payload = envelope.to_json();
        let mut entry = DeadEntry::for_payload(
            task.id().to_owned(),
            kind,
            error.to_owned(),
            worker,
            payload.as_bytes(),
            usize::MAX,
        );
        entry.task = Some(task.name().to_owned());
        entry.attempts = attempts;
        let record = self.keeps_results().then(|| {
            result_record(task, worker, ResultStatus::Dead, None, Some(error), unix_seconds(SystemTime::now()))
        });
        self.finish(worker, task.raw.as_bytes(), "dead", 0.0, &entry.to_json(), record.map(|r| (task.id(), r)))
    }

    fn bury_malformed(&mut self, worker: &str, raw: &[u8], reason: MalformedReason) -> Result<Malformed, Error> {
        let entry = DeadEntry::for_payload(
            new_id(),
            DeadKind::Malformed,
            reason.to_string(),
            worker,
            raw,
            self.config.max_payload,
        );
        let dead_trimmed = match self.finish(worker, raw, "dead", 0.0, &entry.to_json(), None)? {
            FailOutcome::Dead { trimmed } => trimmed,
            _ => 0,
        };
        Ok(Malformed { dead_id: entry.id, reason, size: raw.len(), dead_trimmed })
    }

    /// Runs the FINISH script. A retry comes back as `Retrying` with
    /// placeholder fields, for the caller to fill in.
    fn finish(
        &mut self,
        worker: &str,
        raw: &[u8],
        action: &str,
        due: f64,
        payload: &str,
        record: Option<(&str, String)>,
    ) -> Result<FailOutcome, Error> {
        let (id, record) = record.unwrap_or_default();
        let mut invocation = scripts::FINISH.prepare_invoke();
        invocation
            .key(self.keys.processing(worker))
            .key(self.keys.delayed())
            .key(self.keys.dead())
            .key(self.keys.stats())
            .key(self.keys.reaped())
            .key(self.keys.results())
            .key(self.keys.worker_info(worker))
            .arg(raw)
            .arg(action)
            .arg(due)
            .arg(payload)
            .arg(self.config.dead_cap)
            .arg(self.keys.result_prefix())
            .arg(id)
            .arg(record)
            .arg(self.result_ttl_ms())
            .arg(self.config.results_cap);
        let (code, detail): (i64, u64) = self.with_conn(|c| invocation.invoke(c))?;
        Ok(match code {
            0 if detail == 1 => FailOutcome::Reaped,
            0 => FailOutcome::NotHeld,
            1 => FailOutcome::Retrying { attempt: 0, delay: Duration::ZERO, due: SystemTime::UNIX_EPOCH },
            2 => FailOutcome::Dead { trimmed: detail },
            other => return Err(self.protocol_error(format!("the finishing code {other}"))),
        })
    }

    fn retry_dead(&mut self, select: impl Fn(&DeadEntry) -> bool) -> Result<DeadRetry, Error> {
        let dead = self.keys.dead();
        // The list is capped, so reading it whole is bounded.
        let raws: Vec<Vec<u8>> = self.with_conn(|c| redis::cmd("LRANGE").arg(&dead).arg(0).arg(-1).query(c))?;
        let mut outcome = DeadRetry::default();
        let mut invocation = scripts::DEAD_RETRY.prepare_invoke();
        invocation.key(&dead).key(self.keys.pending());
        let mut any = false;
        for raw in &raws {
            let entry = DeadEntry::from_json(&String::from_utf8_lossy(raw));
            if !select(&entry) {
                continue;
            }
            let Some(payload) = entry.retry_payload() else {
                outcome.not_retriable += 1;
                continue;
            };
            let payload = match parse(&payload, usize::MAX) {
                Ok(mut envelope) if entry.kind != DeadKind::Malformed => {
                    envelope.attempts = 0;
                    envelope.error = None;
                    envelope.eta = None;
                    envelope.started_at = None;
                    envelope.to_json().into_bytes()
                }
                _ => payload,
            };
            invocation.arg(raw.as_slice()).arg(payload);
            any = true;
        }
        if any {
            outcome.retried = self.with_conn(|c| invocation.invoke(c))?;
        }
        Ok(outcome)
    }

    fn open_connection(&self) -> Result<Connection, Error> {
        let wait = self.config.connect_timeout;
        let mut conn =
            self.client.get_connection_with_timeout(wait).map_err(|e| Error::from_connect(&self.url, e, wait))?;
        // The first answer must come within the connect timeout too: a port
        // that accepts and never answers is not a Redis server to wait on.
        let setup = |conn: &mut Connection| -> RedisResult<()> {
            conn.set_read_timeout(Some(wait))?;
            conn.set_write_timeout(Some(wait))?;
            redis::cmd("PING").query::<()>(conn)?;
            conn.set_read_timeout(Some(self.config.command_timeout))?;
            conn.set_write_timeout(Some(self.config.command_timeout))
        };
        setup(&mut conn).map_err(|e| Error::from_connect(&self.url, e, wait))?;
        Ok(conn)
    }

    /// Runs `f` on the connection, opening one first if the last call lost
    /// it, and drops the connection when `f` loses it, so the next call
    /// starts afresh instead of reading a stale reply.
    fn with_conn<T>(&mut self, f: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Result<T, Error> {
        if self.conn.is_none() {
            self.conn = Some(self.open_connection()?);
            self.conn_id = None;
        }
        let conn = self.conn.as_mut().expect("a connection was just opened");
        f(conn).map_err(|e| {
            let err = Error::from_command(&self.url, e, self.config.command_timeout);
            if err.is_transient() {
                self.conn = None;
                self.conn_id = None;
            }
            err
        })
    }

    /// The server's id for this client's connection (`CLIENT ID`), opening
    /// one if needed; another connection can end a blocking fetch on it early
    /// with [`unblock`](Self::unblock). Asked once per connection.
    pub(crate) fn connection_id(&mut self) -> Result<u64, Error> {
        if self.conn.is_none() {
            self.conn_id = None;
        }
        if let Some(id) = self.conn_id {
            return Ok(id);
        }
        let id: u64 = self.with_conn(|c| redis::cmd("CLIENT").arg("ID").query(c))?;
        self.conn_id = Some(id);
        Ok(id)
    }

    /// Ends a blocking command of the connection `client` now, as if it had
    /// timed out (`CLIENT UNBLOCK id TIMEOUT`). Returns whether one was blocked.
    pub(crate) fn unblock(&mut self, client: u64) -> Result<bool, Error> {
        let unblocked: i64 =
            self.with_conn(|c| redis::cmd("CLIENT").arg("UNBLOCK").arg(client).arg("TIMEOUT").query(c))?;
        Ok(unblocked == 1)
    }

    fn protocol_error(&self, detail: String) -> Error {
        Error::Protocol { url: self.url.clone(), detail }
    }
}

fn open_client(url: &str, shown: &str, config: &QueueConfig) -> Result<Client, Error> {
    let invalid = |e: redis::RedisError| Error::InvalidUrl { url: shown.to_owned(), reason: e.to_string() };
    match &config.tls_ca_file {
        None => Client::open(url).map_err(invalid),
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|source| Error::CaFile { path: path.display().to_string(), source })?;
            let certificates = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
            Client::build_with_tls(url, certificates).map_err(invalid)
        }
    }
}

fn result_record(
    task: &Task,
    worker: &str,
    status: ResultStatus,
    result: Option<Value>,
    error: Option<&str>,
    finished_at: f64,
) -> String {
    let record = TaskResult {
        id: task.id().to_owned(),
        task: task.name().to_owned(),
        status,
        result,
        error: error.map(str::to_owned),
        worker: worker.to_owned(),
        attempts: task.attempt(),
        started_at: task.started_at,
        finished_at,
    };
    // Strings, numbers and a `Value`: serialization cannot fail.
    serde_json::to_string(&record).expect("a result record always serializes")
}
