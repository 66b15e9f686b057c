//! The steps that keep the queue healthy: the heartbeat, reaping dead
//! workers, promoting due tasks, and a worker's retirement.

use std::time::{Duration, SystemTime};

use super::Connection;
use crate::error::Error;
use crate::keys::check_worker_id;
use crate::record::{from_unix_seconds, unix_seconds};
use crate::scripts;
use crate::stats::{TaskStats, MAX_TASK_NAMES};
use crate::WorkerControl;

/// How many tasks one promotion script moves at most, so a large backlog of
/// due tasks never blocks Redis for long; [`Connection::promote_due`] loops.
const PROMOTE_BATCH: usize = 1000;

/// How long a minute's task statistics are kept: the dashboard shows the
/// last hour, and an hour more leaves room for clocks and late flushes.
pub(crate) const TASK_STATS_TTL: Duration = Duration::from_secs(2 * 3600);

/// What a [`Connection::heartbeat`] found.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
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

/// What [`Connection::promote_due`] did.
///
/// # Examples
///
/// ```no_run
/// # use std::time::SystemTime;
/// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
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

/// What [`Connection::reap`] did.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
/// let reaped = queue.reap(std::time::Duration::from_secs(30))?;
/// println!("{} tasks of dead workers back in pending, {} dead-lettered", reaped.returned, reaped.dead);
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reaped {
    /// Tasks returned to pending.
    pub returned: usize,
    /// Tasks dead-lettered as poison (see [`QueueConfig::max_reaps`](crate::QueueConfig::max_reaps)).
    pub dead: usize,
    /// Old dead-letter entries dropped to keep the list within its cap.
    pub dead_trimmed: u64,
}

impl Connection {
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
        self.heartbeat_as(worker, ttl, "", 0)
    }

    /// A [`heartbeat`](Self::heartbeat) that also records what the worker
    /// serves (its queues, as [`QueueSet`](crate::QueueSet) prints them)
    /// and its concurrency, for `status` to show.
    ///
    /// # Errors
    ///
    /// As [`heartbeat`](Self::heartbeat).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// queue.heartbeat_as("w1", std::time::Duration::from_secs(30), "critical,default", 64)?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn heartbeat_as(
        &mut self,
        worker: &str,
        ttl: Duration,
        serves: &str,
        concurrency: usize,
    ) -> Result<Beat, Error> {
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
            .arg(ttl_ms)
            .arg(serves)
            .arg(concurrency);
        let (existed, reaped): (i64, Option<u64>) = self.with_conn(|c| invocation.invoke(c))?;
        Ok(Beat {
            key_was_there: existed == 1,
            reaped_at: reaped.map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms)),
        })
    }

    /// Returns the tasks of every registered worker found dead to the front
    /// of the pending list, and forgets those workers, in one script. A task
    /// taken back more than [`QueueConfig::max_reaps`](crate::QueueConfig::max_reaps) times is dead-lettered
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
            .key(self.keys.locations())
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
        let locations = self.keys.locations();
        let now = unix_seconds(now);
        let mut moved = 0;
        loop {
            let reply: Vec<redis::Value> = self.with_conn(|c| {
                scripts::PROMOTE.key(&delayed).key(&pending).key(&locations).arg(now).arg(PROMOTE_BATCH).invoke(c)
            })?;
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

    /// Records `worker`'s state (`running`, `quiet` or `stopping`, for
    /// `status` and the dashboard to show) in its record on this queue, and
    /// returns what an operator asked of it there with
    /// [`Client::control_worker`](crate::Client::control_worker), if
    /// anything. A worker not registered here is left alone (`None`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; [`Error::Protocol`] for a
    /// request concur does not know; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::WorkerControl;
    ///
    /// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// if queue.check_control("w1", "running")? == Some(WorkerControl::Quiet) {
    ///     // take no new tasks
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn check_control(&mut self, worker: &str, state: &str) -> Result<Option<WorkerControl>, Error> {
        check_worker_id(worker)?;
        let info = self.keys.worker_info(worker);
        let asked: Option<String> = self.with_conn(|c| scripts::CONTROL.key(&info).arg(state).invoke(c))?;
        asked
            .map(|asked| {
                asked
                    .parse()
                    .map_err(|_| self.protocol_error(format!("an operator's request {asked:?} it does not know")))
            })
            .transpose()
    }

    /// Adds a worker's counts of attempts and durations, per task name, to
    /// the queue's statistics: the hash of the server's current minute
    /// (kept two hours) and the running total, in one script.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// queue.record_task_stats(&[])?; // nothing to add
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn record_task_stats(&mut self, stats: &[TaskStats]) -> Result<(), Error> {
        if stats.is_empty() {
            return Ok(());
        }
        let mut invocation = scripts::TASK_STATS.prepare_invoke();
        invocation
            .key(self.keys.task_stats_total())
            .key(self.keys.task_names())
            .arg(self.keys.task_stats_prefix())
            .arg(MAX_TASK_NAMES)
            .arg(TASK_STATS_TTL.as_secs());
        for one in stats {
            let fields = one.fields();
            invocation.arg(&one.name).arg(fields.len());
            for (field, n) in fields {
                invocation.arg(field).arg(n);
            }
        }
        self.with_conn(|c| invocation.invoke::<()>(c))
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
    /// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
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
            .key(self.keys.locations())
            .arg(worker);
        self.with_conn(|c| invocation.invoke(c))
    }
}
