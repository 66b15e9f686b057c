//! What operators call: the queue's status, its dead letters, results, and
//! the server's eviction policy.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::sweep::End;
use super::{Client, WorkerControl};
use crate::envelope::parse;
use crate::error::Error;
use crate::keys::{check_task_id, Keys};
use crate::record::{DeadEntry, DeadKind, TaskResult};
use crate::scripts;

/// The window of [`Status::done_last_minute`], in seconds.
const THROUGHPUT_WINDOW: u64 = 60;

/// What [`Client::dead_retry`] did.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
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

/// One worker as [`Client::status`] sees it.
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
    /// The TTL it gives its heartbeat, as its last beat recorded it; `None`
    /// for a worker whose record has none. With
    /// [`heartbeat`](Self::heartbeat) it tells how long ago the worker
    /// last beat ([`heartbeat_age`](Self::heartbeat_age)). Serialized as
    /// `heartbeat_ttl_ms`.
    #[serde(rename = "heartbeat_ttl_ms", serialize_with = "crate::record::serialize_millis")]
    pub heartbeat_ttl: Option<Duration>,
    /// The queues it serves, as it said (`critical:5,default:2,low:1`);
    /// `None` for a worker that did not say.
    pub serves: Option<String>,
    /// How many tasks it runs at once, as it said.
    pub concurrency: Option<u64>,
    /// What it last said it was doing: `running`, `quiet` or `stopping`;
    /// `None` for a worker that did not say.
    pub state: Option<String>,
    /// What an operator asked of it ([`Client::control_worker`]) and it has
    /// not finished doing.
    pub control: Option<WorkerControl>,
}

/// A snapshot of a queue, taken atomically.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
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
    /// ([`QueueConfig::dead_cap`](crate::QueueConfig::dead_cap)).
    pub dead_trimmed: u64,
    /// Tasks acknowledged in the last 60 seconds.
    pub done_last_minute: u64,
    /// Whether the queue is paused ([`Client::pause`]).
    pub paused: bool,
    /// How long ago the oldest pending task was enqueued (by the server's
    /// clock and the producer's); `None` when nothing is pending or it does
    /// not say. Serialized as `oldest_pending_age_ms`.
    #[serde(rename = "oldest_pending_age_ms", serialize_with = "crate::record::serialize_millis")]
    pub oldest_pending_age: Option<Duration>,
}

/// One schedule as [`Client::schedules`] sees it: what its claims recorded.
///
/// # Examples
///
/// ```no_run
/// let mut client = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
/// for schedule in client.schedules()? {
///     println!("{} ({}): last {:?}, next {:?}", schedule.name, schedule.spec, schedule.last, schedule.next);
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ScheduleStatus {
    /// The schedule's name.
    pub name: String,
    /// How it ticks: a cron expression with its zone, or `every …`.
    pub spec: String,
    /// The task it enqueues.
    pub task: String,
    /// The last tick claimed, as Unix seconds.
    pub last: Option<f64>,
    /// The tick after it, as Unix seconds.
    pub next: Option<f64>,
    /// The last tick that enqueued its task, as Unix seconds.
    pub enqueued: Option<f64>,
}

impl WorkerStatus {
    /// How long ago the worker last beat: its heartbeat TTL less the time
    /// left on it, both by the server's clock, so a worker whose clock is
    /// off is still read right. `None` when the heartbeat is missing or the
    /// worker recorded no TTL.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// for worker in queue.status()?.workers {
    ///     if let Some(age) = worker.heartbeat_age() {
    ///         println!("{} beat {:.1} s ago", worker.id, age.as_secs_f64());
    ///     }
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn heartbeat_age(&self) -> Option<Duration> {
        Some(self.heartbeat_ttl?.saturating_sub(self.heartbeat?))
    }
}

/// One shard's part of a sharded queue's status, as
/// [`Client::status_with_shards`] reads it.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
/// let (total, shards) = queue.status_with_shards()?;
/// for shard in &shards {
///     println!("{}: {} of {} pending", shard.name, shard.status.pending, total.pending);
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ShardStatus {
    /// The shard's queue name.
    pub name: String,
    /// Its own counts and workers.
    pub status: Status,
}

impl Status {
    /// Adds the counts of a shard's status; a worker serving both is one
    /// worker, holding the tasks of both.
    fn add(&mut self, other: Status) {
        self.pending += other.pending;
        self.delayed += other.delayed;
        self.dead += other.dead;
        self.results += other.results;
        self.done += other.done;
        self.retried += other.retried;
        self.dead_total += other.dead_total;
        self.reaped += other.reaped;
        self.dead_trimmed += other.dead_trimmed;
        self.done_last_minute += other.done_last_minute;
        self.paused |= other.paused;
        self.oldest_pending_age = self.oldest_pending_age.max(other.oldest_pending_age);
        for worker in other.workers {
            match self.workers.iter_mut().find(|w| w.id == worker.id) {
                Some(known) => {
                    known.processing += worker.processing;
                    known.heartbeat = match (known.heartbeat, worker.heartbeat) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        _ => None,
                    };
                    known.heartbeat_ttl = known.heartbeat_ttl.max(worker.heartbeat_ttl);
                }
                None => self.workers.push(worker),
            }
        }
    }

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

impl Client {
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
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
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
        Ok(self.status_with_shards()?.0)
    }

    /// The [`status`](Self::status) of the queue, with each shard's own
    /// beside it (none for a queue that is not sharded), in the same reads:
    /// one script for the queue itself and one per shard. The total also
    /// counts the queue's own lists, where producers that know nothing of
    /// shards put their tasks.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`ShardStatus`].
    pub fn status_with_shards(&mut self) -> Result<(Status, Vec<ShardStatus>), Error> {
        let own = self.keys.clone();
        let mut total = self.status_of(&own)?;
        let mut shards = Vec::with_capacity(self.shards.len());
        for keys in self.shards.clone() {
            let status = self.status_of(&keys)?;
            total.add(status.clone());
            shards.push(ShardStatus { name: keys.name().to_owned(), status });
        }
        total.workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((total, shards))
    }

    /// The status of this queue alone, without its shards.
    pub(crate) fn member_status(&mut self) -> Result<Status, Error> {
        let keys = self.keys.clone();
        self.status_of(&keys)
    }

    /// One snapshot of the queue (or shard) `keys`, in one script.
    fn status_of(&mut self, keys: &Keys) -> Result<Status, Error> {
        let mut invocation = scripts::STATUS.prepare_invoke();
        invocation
            .key(keys.pending())
            .key(keys.delayed())
            .key(keys.dead())
            .key(keys.workers())
            .key(keys.stats())
            .key(keys.results())
            .key(keys.paused())
            .arg(keys.processing_prefix())
            .arg(keys.heartbeat_prefix())
            .arg(keys.done_prefix())
            .arg(THROUGHPUT_WINDOW)
            .arg(keys.worker_info_prefix());
        let reply: Vec<redis::Value> = self.with_conn(|c| invocation.invoke(c))?;
        if reply.len() != 15 {
            return Err(self.protocol_error(format!("a status of {} parts instead of 15", reply.len())));
        }
        let (counts, workers) = reply.split_at(5);
        let (pending, delayed, dead, results): (u64, u64, u64, u64) =
            self.read_reply(&redis::Value::Array(counts[..4].to_vec()))?;
        let stats: HashMap<String, u64> = self.read_reply(&counts[4])?;
        let (workers, beats) = workers.split_at(workers.len() - 1);
        type Workers = (Vec<String>, Vec<u64>, Vec<i64>, u64, Vec<String>, Vec<u64>, Vec<String>, bool, i64);
        let (names, lengths, ttls, recent, serves, sizes, states, paused, age): Workers =
            self.read_reply(&redis::Value::Array(workers.to_vec()))?;
        let beats: Vec<u64> = self.read_reply(&beats[0])?;
        let stat = |name: &str| stats.get(name).copied().unwrap_or(0);
        let mut workers: Vec<WorkerStatus> = names
            .into_iter()
            .zip(lengths)
            .zip(ttls)
            .zip(serves.into_iter().zip(sizes))
            .zip(states.into_iter().zip(beats))
            .map(|((((id, processing), ttl), (serves, concurrency)), (state, beat))| {
                let (state, control) = state.split_once('/').unwrap_or_default();
                WorkerStatus {
                    id,
                    processing,
                    heartbeat: u64::try_from(ttl).ok().map(Duration::from_millis),
                    heartbeat_ttl: (beat > 0).then(|| Duration::from_millis(beat)),
                    serves: (!serves.is_empty()).then_some(serves),
                    concurrency: (concurrency > 0).then_some(concurrency),
                    state: (!state.is_empty()).then(|| state.to_owned()),
                    control: control.parse().ok(),
                }
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
            paused,
            oldest_pending_age: u64::try_from(age).ok().map(Duration::from_millis),
        })
    }

    /// Converts a reply, or names what was wrong with it.
    pub(crate) fn read_reply<T: redis::FromRedisValue>(&self, value: &redis::Value) -> Result<T, Error> {
        redis::from_redis_value_ref(value).map_err(|e| self.protocol_error(format!("a reply it cannot read ({e})")))
    }

    /// The schedules that enqueue onto this queue, by name, as their last
    /// claims recorded them.
    ///
    /// # Errors
    ///
    /// Connection errors; [`Error::Protocol`] for a record concur did not
    /// write.
    ///
    /// # Examples
    ///
    /// See [`ScheduleStatus`].
    pub fn schedules(&mut self) -> Result<Vec<ScheduleStatus>, Error> {
        let key = self.keys.schedules();
        let raw: Vec<(String, String)> = self.with_conn(|c| redis::cmd("HGETALL").arg(&key).query(c))?;
        let mut schedules = Vec::with_capacity(raw.len());
        for (name, json) in raw {
            let value: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| self.protocol_error(format!("a schedule record it cannot read ({e})")))?;
            let text = |field: &str| value[field].as_str().unwrap_or_default().to_owned();
            let seconds = |field: &str| value[field].as_f64().map(|ms| ms / 1000.0);
            schedules.push(ScheduleStatus {
                spec: text("spec"),
                task: text("task"),
                last: seconds("last"),
                next: seconds("next"),
                enqueued: seconds("enqueued"),
                name,
            });
        }
        schedules.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(schedules)
    }

    /// Up to `count` dead-letter entries from position `start`, newest first
    /// (over the queue and its shards together).
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// for entry in queue.dead_list(0, 20)? {
    ///     println!("{} {:?} {:?}: {}", entry.id, entry.kind, entry.task, entry.error);
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_list(&mut self, start: usize, count: usize) -> Result<Vec<DeadEntry>, Error> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let stop = start.saturating_add(count - 1);
        let mut entries = Vec::new();
        let members = self.members();
        if let [keys] = members.as_slice() {
            // One list: the page alone, however deep it is.
            let dead = keys.dead();
            let raws: Vec<Vec<u8>> =
                self.with_conn(|c| redis::cmd("LRANGE").arg(&dead).arg(start).arg(stop).query(c))?;
            return Ok(raws.iter().map(|raw| DeadEntry::from_json(&String::from_utf8_lossy(raw))).collect());
        }
        for keys in &members {
            // A shard's own first `stop + 1` hold every entry of the merged
            // first `stop + 1`.
            let dead = keys.dead();
            let raws: Vec<Vec<u8>> = self.with_conn(|c| redis::cmd("LRANGE").arg(&dead).arg(0).arg(stop).query(c))?;
            entries.extend(raws.iter().map(|raw| DeadEntry::from_json(&String::from_utf8_lossy(raw))));
        }
        if members.len() > 1 {
            entries.sort_by(|a, b| b.died_at.total_cmp(&a.died_at));
        }
        Ok(entries.into_iter().skip(start).take(count).collect())
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
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let result = queue.dead_retry(&["0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a"])?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_retry(&mut self, ids: &[&str]) -> Result<DeadRetry, Error> {
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        self.retry_dead(Some(&wanted))
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
        self.retry_dead(None)
    }

    /// Deletes the dead-letter list (the queue's and its shards') and returns
    /// how many entries it had.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let dropped = queue.dead_purge()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_purge(&mut self) -> Result<u64, Error> {
        let mut purged = 0;
        for keys in self.members() {
            let dead = keys.dead();
            purged += self.with_conn(|c| scripts::DEAD_PURGE.key(&dead).invoke::<u64>(c))?;
        }
        Ok(purged)
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
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// if let Some(result) = queue.result("0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a")? {
    ///     println!("{:?}: {:?} {:?}", result.status, result.result, result.error);
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn result(&mut self, id: &str) -> Result<Option<TaskResult>, Error> {
        check_task_id(id)?;
        let mut raw = None;
        // A sharded queue keeps a result in the shard that ran the task.
        for keys in self.members() {
            let key = keys.result(id);
            raw = self.with_conn(|c| redis::cmd("GET").arg(&key).query::<Option<String>>(c))?;
            if raw.is_some() {
                break;
            }
        }
        raw.map(|raw| {
            serde_json::from_str(&raw).map_err(|e| self.protocol_error(format!("a result record it cannot read ({e})")))
        })
        .transpose()
    }

    /// Retries the `wanted` dead letters (by id), or every one for `None`.
    fn retry_dead(&mut self, wanted: Option<&HashSet<&str>>) -> Result<DeadRetry, Error> {
        let mut outcome = DeadRetry::default();
        // A retry of everything starts at the oldest end, so the oldest dead
        // run first again; a retry of a few starts at the newest, where an
        // operator usually finds them.
        let from = if wanted.is_some() { End::Newest } else { End::Oldest };
        for keys in self.members() {
            let pending = keys.pending().to_owned();
            let not_retriable = &mut outcome.not_retriable;
            outcome.retried += self.sweep_dead(&keys, from, wanted, &mut |client, dead, chosen| {
                let mut invocation = scripts::DEAD_RETRY.prepare_invoke();
                invocation.key(dead).key(&pending).arg(from.direction());
                let mut any = false;
                for (raw, entry) in chosen {
                    match retry_payload(entry) {
                        Some(payload) => {
                            invocation.arg(raw.as_slice()).arg(payload);
                            any = true;
                        }
                        None => *not_retriable += 1,
                    }
                }
                if !any {
                    return Ok(0);
                }
                client.with_conn(|c| invocation.invoke(c))
            })?;
        }
        Ok(outcome)
    }
}

/// The payload a dead entry is queued again with: its attempts and error
/// reset, or the raw payload of a malformed one; `None` when it was not kept.
fn retry_payload(entry: &DeadEntry) -> Option<Vec<u8>> {
    let payload = entry.retry_payload()?;
    Some(match parse(&payload, usize::MAX) {
        Ok(mut envelope) if entry.kind != DeadKind::Malformed => {
            envelope.attempts = 0;
            envelope.error = None;
            envelope.eta = None;
            envelope.started_at = None;
            envelope.to_json().into_bytes()
        }
        _ => payload,
    })
}
