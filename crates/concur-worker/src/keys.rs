//! The Redis key names of one queue.
//!
//! A queue named `NAME` keeps its pending tasks in the plain list `NAME` and
//! everything else under keys that start with the hash tag `{NAME}`. Redis
//! Cluster hashes a key without braces whole and a key with a `{…}` tag by the
//! text inside the braces, so `NAME` and `{NAME}:processing:w1` fall in the same
//! slot: every Lua script of the protocol touches only one slot, which is what
//! Cluster requires. The plain pending list is what makes
//! `redis-cli LPUSH queue 5` work: the producer needs no knowledge of the tags.
//! `docs/PROTOCOL.md` lists every key with its type and its writers.
//!
//! Names are checked, because a brace inside a name would move the hash tag and
//! split a queue across slots, and whitespace or control characters would make
//! keys an operator cannot type.

use crate::error::Error;

/// The longest queue name or worker id accepted, in bytes.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::protocol::MAX_NAME_LEN, 128);
/// ```
pub const MAX_NAME_LEN: usize = 128;

/// How long a reply list ([`Keys::reply`]) lives after its last push, in
/// seconds: long enough for its client to come back from an outage (it
/// then reads the result keys it waits on anyway), short enough that the
/// list of a client that is gone does not stay.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::protocol::REPLY_TTL_SECS, 3600);
/// ```
pub const REPLY_TTL_SECS: u64 = 3600;

/// The key names of one queue, computed once from its name.
///
/// # Examples
///
/// ```
/// use concur_worker::protocol::Keys;
///
/// let keys = Keys::new("queue")?;
/// assert_eq!(keys.pending(), "queue");
/// assert_eq!(keys.processing("w1"), "{queue}:processing:w1");
/// assert_eq!(keys.delayed(), "{queue}:delayed");
/// # Ok::<(), concur_worker::Error>(())
/// ```
///
/// # Python
///
/// The reference keeps its tasks in one list named `queue`; this type names
/// that list and the keys that make delivery reliable around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    name: String,
    tag: String,
}

impl Keys {
    /// Computes the keys of the queue `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] if `name` is empty, longer than [`MAX_NAME_LEN`]
    /// bytes, or has a character outside `A-Z a-z 0-9 _ - . :`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::protocol::Keys;
    ///
    /// assert!(Keys::new("emails").is_ok());
    /// assert!(Keys::new("a{b}").is_err());
    /// ```
    pub fn new(name: &str) -> Result<Self, Error> {
        check_name("queue name", name, |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))?;
        Ok(Keys { name: name.to_owned(), tag: format!("{{{name}}}") })
    }

    /// The queue's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("queue")?.name(), "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// LIST of tasks waiting to run: the queue's own name. Producers `LPUSH`,
    /// workers take from the right, so the oldest task runs first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("queue")?.pending(), "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn pending(&self) -> &str {
        &self.name
    }

    /// LIST of the tasks `worker` has fetched and not yet finished.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.processing("w1"), "{q}:processing:w1");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn processing(&self, worker: &str) -> String {
        format!("{}{worker}", self.processing_prefix())
    }

    /// STRING whose existence says `worker` is alive; it expires unless renewed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.heartbeat("w1"), "{q}:heartbeat:w1");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn heartbeat(&self, worker: &str) -> String {
        format!("{}{worker}", self.heartbeat_prefix())
    }

    /// HASH of what the reaper needs to know about `worker` beyond its
    /// heartbeat: its heartbeat TTL (`ttl`, ms), when a reaper first found
    /// the heartbeat missing (`missing_since`, ms, server clock), and when a
    /// reaper took the worker for dead (`reaped`, ms). No TTL while the
    /// worker lives, so eviction of volatile keys spares it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.worker_info("w1"), "{q}:worker:w1");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn worker_info(&self, worker: &str) -> String {
        format!("{}{worker}", self.worker_info_prefix())
    }

    /// STRING holding the number of shards the queue is declared with (see
    /// [`Client::set_shards`](crate::Client::set_shards)); absent for a
    /// queue that is not sharded.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.shards(), "{q}:shards");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn shards(&self) -> String {
        format!("{}:shards", self.tag)
    }

    /// HASH from a schedule's name to its state (JSON: the last tick claimed,
    /// the next, the last one enqueued, how it ticks, its task), written by
    /// the claim of each tick.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.schedules(), "{q}:schedules");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn schedules(&self) -> String {
        format!("{}:schedules", self.tag)
    }

    /// SET of the workers that may own a processing list.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.workers(), "{q}:workers");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn workers(&self) -> String {
        format!("{}:workers", self.tag)
    }

    /// ZSET of tasks waiting for a time: the member is the task's envelope, the
    /// score the Unix time in seconds at which it becomes due.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.delayed(), "{q}:delayed");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn delayed(&self) -> String {
        format!("{}:delayed", self.tag)
    }

    /// LIST of dead-letter entries (JSON), newest first, capped in length.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.dead(), "{q}:dead");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead(&self) -> String {
        format!("{}:dead", self.tag)
    }

    /// STRING holding the result record of task `id`, with a TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.result("abc"), "{q}:result:abc");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn result(&self, id: &str) -> String {
        format!("{}{id}", self.result_prefix())
    }

    /// LIST the scripts push a task's id onto when it ends, acknowledged or
    /// dead-lettered, for the client `client` that enqueued it with this key
    /// in its envelope's `reply` field: that client blocks on it
    /// ([`RemotePool`](crate::RemotePool)) instead of polling result keys.
    /// Each push renews its TTL of [`REPLY_TTL_SECS`], so the list of a
    /// client that went away expires.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.reply("c1"), "{q}:reply:c1");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn reply(&self, client: &str) -> String {
        format!("{}:reply:{client}", self.tag)
    }

    /// LIST of the ids whose results are kept, newest first; its length is the
    /// cap that evicts the oldest result.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.results(), "{q}:results");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn results(&self) -> String {
        format!("{}:results", self.tag)
    }

    /// HASH from the SHA-1 of a payload to how many times the reaper took it
    /// from a dead worker: the guard against a task that kills every worker.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.reaped(), "{q}:reaped");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn reaped(&self) -> String {
        format!("{}:reaped", self.tag)
    }

    /// HASH of running totals: `done`, `retried`, `dead`, `reaped`, and
    /// `dead_trimmed` (dead-letter entries dropped past the cap).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.stats(), "{q}:stats");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn stats(&self) -> String {
        format!("{}:stats", self.tag)
    }

    /// STRING counting the tasks acknowledged during the Unix second `second`;
    /// it expires after two minutes and feeds the recent throughput.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.done_in_second(1_700_000_000), "{q}:done:1700000000");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn done_in_second(&self, second: u64) -> String {
        format!("{}{second}", self.done_prefix())
    }

    /// STRING whose presence pauses the queue: workers take nothing from it
    /// while it exists (its value, the Unix time of the pause, is for
    /// people). Tasks can still be enqueued.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.paused(), "{q}:paused");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn paused(&self) -> String {
        format!("{}:paused", self.tag)
    }

    /// HASH from a task's id to where the task is while it is not pending:
    /// `processing:W` (held by worker `W`) or `delayed`. It makes finding a
    /// task by id one lookup; the scripts that move a task keep it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.locations(), "{q}:where");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn locations(&self) -> String {
        format!("{}:where", self.tag)
    }

    /// STRING counting the tasks acknowledged during the minute `minute`
    /// (Unix seconds / 60); it expires after 65 minutes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.done_in_minute(28_333_333), "{q}:done:m:28333333");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn done_in_minute(&self, minute: u64) -> String {
        format!("{}m:{minute}", self.done_prefix())
    }

    /// STRING counting the tasks acknowledged during the hour `hour` (Unix
    /// seconds / 3600); it expires after 31¼ days.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.done_in_hour(472_222), "{q}:done:h:472222");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn done_in_hour(&self, hour: u64) -> String {
        format!("{}h:{hour}", self.done_prefix())
    }

    /// HASH of the per-task-name counts and duration histograms of the
    /// minute `minute` (Unix seconds / 60), written by the workers every few
    /// seconds; it expires after two hours. `docs/PROTOCOL.md` gives the
    /// fields.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.task_stats(28_333_333), "{q}:tstats:28333333");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn task_stats(&self, minute: u64) -> String {
        format!("{}:tstats:{minute}", self.tag)
    }

    /// HASH with the same fields as [`task_stats`](Self::task_stats), summed
    /// since the queue began: the counters `/metrics` exports.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.task_stats_total(), "{q}:tstats:total");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn task_stats_total(&self) -> String {
        format!("{}:tstats:total", self.tag)
    }

    /// SET of the task names the statistics keep apart, at most
    /// [`MAX_TASK_NAMES`](crate::MAX_TASK_NAMES); the statistics of
    /// any other name are kept under `(other)`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::protocol::Keys::new("q")?.task_names(), "{q}:task_names");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn task_names(&self) -> String {
        format!("{}:task_names", self.tag)
    }

    /// Every key of the queue that does not depend on a worker, task or time:
    /// what a test or an operator inspects first.
    ///
    /// # Examples
    ///
    /// ```
    /// let keys = concur_worker::protocol::Keys::new("q")?;
    /// assert!(keys.fixed().contains(&"{q}:dead".to_string()));
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn fixed(&self) -> Vec<String> {
        vec![
            self.pending().to_owned(),
            self.workers(),
            self.delayed(),
            self.dead(),
            self.results(),
            self.reaped(),
            self.stats(),
            self.paused(),
            self.locations(),
            self.schedules(),
            self.shards(),
            self.task_stats_total(),
            self.task_names(),
        ]
    }

    pub(crate) fn processing_prefix(&self) -> String {
        format!("{}:processing:", self.tag)
    }

    pub(crate) fn heartbeat_prefix(&self) -> String {
        format!("{}:heartbeat:", self.tag)
    }

    pub(crate) fn worker_info_prefix(&self) -> String {
        format!("{}:worker:", self.tag)
    }

    pub(crate) fn result_prefix(&self) -> String {
        format!("{}:result:", self.tag)
    }

    pub(crate) fn task_stats_prefix(&self) -> String {
        format!("{}:tstats:", self.tag)
    }

    pub(crate) fn done_prefix(&self) -> String {
        format!("{}:done:", self.tag)
    }
}

/// Checks a worker id: the same length rule as queue names, any printable
/// ASCII character but space.
pub(crate) fn check_worker_id(id: &str) -> Result<(), Error> {
    check_name("worker id", id, |c| c.is_ascii_graphic())
}

/// Checks a task id given by a producer: it becomes part of a key name.
pub(crate) fn check_task_id(id: &str) -> Result<(), Error> {
    check_name("task id", id, |c| c.is_ascii_graphic())
}

fn check_name(what: &'static str, name: &str, allowed: impl Fn(char) -> bool) -> Result<(), Error> {
    let reason = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!("it is {} bytes long, more than {MAX_NAME_LEN}", name.len()))
    } else {
        name.chars().find(|&c| !allowed(c)).map(|c| format!("it contains the character {c:?}"))
    };
    match reason {
        Some(reason) => Err(Error::InvalidName { what, name: name.to_owned(), reason }),
        None => Ok(()),
    }
}
