//! What a dashboard reads: pages of the lists, a task by id, throughput
//! history and per-task-name statistics.
//!
//! Every call is bounded: a page is at most [`MAX_PAGE`] tasks read with
//! one ranged command, a task is found by id with at most three lookups
//! (its result, the location index, the delayed set at its score), and the
//! history reads a fixed number of counters. Nothing here scans keys.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Client;
use crate::envelope::{parse, Envelope};
use crate::error::Error;
use crate::keys::{check_task_id, check_worker_id, Keys};
use crate::record::{from_unix_seconds, TaskResult};
use crate::scripts;
use crate::stats::{add_fields, merged, TaskStats};

/// The most tasks one page holds.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::MAX_PAGE, 1000);
/// ```
pub const MAX_PAGE: usize = 1000;

/// How far back the per-minute history and statistics go, in minutes.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::MINUTES_KEPT, 60);
/// ```
pub const MINUTES_KEPT: usize = 60;

/// How far back the per-hour history goes, in hours (30 days).
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::HOURS_KEPT, 720);
/// ```
pub const HOURS_KEPT: usize = 720;

/// One task on a page of a list: its payload as stored, and the envelope
/// read from it (`None` for a payload that is not a task — the worker
/// dead-letters those when it fetches them).
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
/// for task in queue.pending_page(0, 20)? {
///     match &task.envelope {
///         Some(envelope) => println!("{} {}", envelope.id, envelope.task),
///         None => println!("not a task: {} bytes", task.raw.len()),
///     }
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ListedTask {
    /// The payload as stored (invalid UTF-8 replaced).
    pub raw: String,
    /// The envelope, when the payload is one.
    pub envelope: Option<Envelope>,
    /// For a delayed task, when it is due, as Unix seconds.
    pub due: Option<f64>,
}

impl ListedTask {
    fn new(raw: &[u8], due: Option<f64>) -> ListedTask {
        ListedTask { raw: String::from_utf8_lossy(raw).into_owned(), envelope: parse(raw, usize::MAX).ok(), due }
    }
}

/// Where a task is, as [`Client::find_task`] found it.
///
/// # Examples
///
/// ```no_run
/// use concur_worker::TaskLocation;
///
/// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
/// match queue.find_task("0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a")? {
///     TaskLocation::Finished(result) => println!("finished: {:?}", result.status),
///     TaskLocation::Running { worker } => println!("running on {worker}"),
///     TaskLocation::Delayed { due, .. } => println!("due at {due}"),
///     TaskLocation::NotFound => println!("pending, or unknown"),
///     _ => {}
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "where", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskLocation {
    /// It finished (succeeded or dead) and its result is kept.
    Finished(TaskResult),
    /// A worker holds it: running, or about to run or to be acknowledged.
    Running {
        /// The worker's id.
        worker: String,
    },
    /// It waits for its time or for a retry.
    Delayed {
        /// When it is due, as Unix seconds.
        due: f64,
        /// The task, when it was found in the delayed set.
        task: Option<ListedTask>,
    },
    /// None of the above: it is pending (pending tasks are not indexed, to
    /// keep enqueuing one command), its result expired or was not kept, or
    /// the id is unknown.
    NotFound,
}

impl Client {
    /// Up to `count` pending tasks from position `start`, the next to run
    /// first, of this queue (or shard) alone.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a `count` above [`MAX_PAGE`]; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// See [`ListedTask`].
    pub fn pending_page(&mut self, start: usize, count: usize) -> Result<Vec<ListedTask>, Error> {
        check_page(count)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        // Workers take from the right end: the next to run is the last.
        let (first, last) = (-to_index(start.saturating_add(count)), -to_index(start.saturating_add(1)));
        let pending = self.keys.pending().to_owned();
        let raws: Vec<Vec<u8>> =
            self.with_conn(|c| redis::cmd("LRANGE").arg(&pending).arg(first).arg(last).query(c))?;
        Ok(raws.iter().rev().map(|raw| ListedTask::new(raw, None)).collect())
    }

    /// Up to `count` of the tasks `worker` holds, from position `start`,
    /// the first fetched first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; [`Error::InvalidOption`]
    /// for a `count` above [`MAX_PAGE`]; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// for worker in queue.status()?.workers {
    ///     let held = queue.processing_page(&worker.id, 0, 50)?;
    ///     println!("{}: {} shown of {}", worker.id, held.len(), worker.processing);
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn processing_page(&mut self, worker: &str, start: usize, count: usize) -> Result<Vec<ListedTask>, Error> {
        check_worker_id(worker)?;
        check_page(count)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let (first, last) = (-to_index(start.saturating_add(count)), -to_index(start.saturating_add(1)));
        let processing = self.keys.processing(worker);
        let raws: Vec<Vec<u8>> =
            self.with_conn(|c| redis::cmd("LRANGE").arg(&processing).arg(first).arg(last).query(c))?;
        Ok(raws.iter().rev().map(|raw| ListedTask::new(raw, None)).collect())
    }

    /// Up to `count` delayed tasks from position `start`, the soonest due
    /// first, of this queue (or shard) alone.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a `count` above [`MAX_PAGE`]; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// for task in queue.delayed_page(0, 20)? {
    ///     println!("due at {:?}: {}", task.due, task.raw);
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn delayed_page(&mut self, start: usize, count: usize) -> Result<Vec<ListedTask>, Error> {
        check_page(count)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let delayed = self.keys.delayed();
        let stop = to_index(start.saturating_add(count - 1));
        let scored: Vec<(Vec<u8>, f64)> = self.with_conn(|c| {
            redis::cmd("ZRANGE").arg(&delayed).arg(to_index(start)).arg(stop).arg("WITHSCORES").query(c)
        })?;
        Ok(scored.iter().map(|(raw, due)| ListedTask::new(raw, Some(*due))).collect())
    }

    /// Where the task `id` is, with at most three lookups and no scan: its
    /// result record if one is kept, else the location index (held by a
    /// worker, or delayed), else [`TaskLocation::NotFound`]. On a sharded
    /// queue each shard is asked in turn.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for an id that cannot be a task id;
    /// [`Error::Protocol`] for a result record concur did not write;
    /// connection errors.
    ///
    /// # Examples
    ///
    /// See [`TaskLocation`].
    pub fn find_task(&mut self, id: &str) -> Result<TaskLocation, Error> {
        check_task_id(id)?;
        if let Some(result) = self.result(id)? {
            return Ok(TaskLocation::Finished(result));
        }
        for keys in self.members() {
            let locations = keys.locations();
            let place: Option<String> = self.with_conn(|c| redis::cmd("HGET").arg(&locations).arg(id).query(c))?;
            let Some(place) = place else { continue };
            if let Some(worker) = place.strip_prefix("processing:") {
                return Ok(TaskLocation::Running { worker: worker.to_owned() });
            }
            if let Some(due) = place.strip_prefix("delayed:").and_then(|due| due.parse::<f64>().ok()) {
                let task = self.find_delayed(&keys, &[id])?.first().map(|raw| ListedTask::new(raw, Some(due)));
                return Ok(TaskLocation::Delayed { due, task });
            }
        }
        Ok(TaskLocation::NotFound)
    }

    /// Tasks acknowledged in each of the last `minutes` minutes (at most
    /// [`MINUTES_KEPT`]), oldest first, as (the minute's start, count),
    /// summed over the queue's shards.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for more minutes than are kept; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// for (minute, done) in queue.done_per_minute(60)? {
    ///     println!("{minute:?}: {done}");
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn done_per_minute(&mut self, minutes: usize) -> Result<Vec<(SystemTime, u64)>, Error> {
        check_kept(minutes, 0)?;
        self.done_history(minutes, 60, Keys::done_in_minute)
    }

    /// Tasks acknowledged in each of the last `hours` hours (at most
    /// [`HOURS_KEPT`]), oldest first; see
    /// [`done_per_minute`](Self::done_per_minute).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for more hours than are kept; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let last_day: u64 = queue.done_per_hour(24)?.iter().map(|(_, done)| done).sum();
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn done_per_hour(&mut self, hours: usize) -> Result<Vec<(SystemTime, u64)>, Error> {
        check_kept(0, hours)?;
        self.done_history(hours, 3600, Keys::done_in_hour)
    }

    /// The statistics of each task name over the last `minutes` minutes
    /// (at most [`MINUTES_KEPT`]), summed over the queue's shards and
    /// sorted by name. Workers add theirs every five seconds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for more minutes than are kept; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// See [`TaskStats`].
    pub fn task_stats(&mut self, minutes: usize) -> Result<Vec<TaskStats>, Error> {
        if minutes > MINUTES_KEPT {
            return Err(Error::InvalidOption(format!("at most {MINUTES_KEPT} minutes are kept, not {minutes}")));
        }
        let mut parts = Vec::new();
        for keys in self.members() {
            if minutes == 0 {
                break;
            }
            let mut invocation = scripts::TASK_STATS_READ.prepare_invoke();
            invocation.arg(keys.task_stats_prefix()).arg(minutes);
            let summed: HashMap<String, u64> = self.with_conn(|c| invocation.invoke(c))?;
            let mut part = HashMap::new();
            add_fields(&mut part, summed);
            parts.push(part);
        }
        Ok(merged(parts))
    }

    /// The statistics of each task name since the queue began: what
    /// `/metrics` exports as counters and histograms.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let failed: u64 = queue.task_stats_total()?.iter().map(|s| s.failed).sum();
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn task_stats_total(&mut self) -> Result<Vec<TaskStats>, Error> {
        let mut parts = Vec::new();
        for keys in self.members() {
            let key = keys.task_stats_total();
            let hash: HashMap<String, u64> = self.with_conn(|c| redis::cmd("HGETALL").arg(&key).query(c))?;
            let mut part = HashMap::new();
            add_fields(&mut part, hash);
            parts.push(part);
        }
        Ok(merged(parts))
    }

    /// The server's clock, as a time since the Unix epoch: the counters are
    /// named by it, so reading them by the client's clock could miss one.
    /// The server's clock, which the throughput counters follow: read it
    /// once to read several queues' history as of one moment with
    /// [`done_history_at`](Self::done_history_at).
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let now = queue.server_time()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn server_time(&mut self) -> Result<SystemTime, Error> {
        let (secs, micros): (u64, u64) = self.with_conn(|c| redis::cmd("TIME").query(c))?;
        Ok(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros))
    }

    /// [`done_per_minute`](Self::done_per_minute) and
    /// [`done_per_hour`](Self::done_per_hour) together, as of `at` (a time
    /// of the server's clock, from [`server_time`](Self::server_time)), in
    /// one round trip per shard: what a view of many queues reads.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for more minutes or hours than are kept;
    /// connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let now = queue.server_time()?;
    /// let (per_minute, per_hour) = queue.done_history_at(60, 24, now)?;
    /// assert_eq!((per_minute.len(), per_hour.len()), (60, 24));
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn done_history_at(
        &mut self,
        minutes: usize,
        hours: usize,
        at: SystemTime,
    ) -> Result<(Vec<(SystemTime, u64)>, Vec<(SystemTime, u64)>), Error> {
        check_kept(minutes, hours)?;
        let mut both =
            self.histories_at(at, &[(minutes, 60, Keys::done_in_minute), (hours, 3600, Keys::done_in_hour)])?;
        let per_hour = both.pop().unwrap_or_default();
        let per_minute = both.pop().unwrap_or_default();
        Ok((per_minute, per_hour))
    }

    fn done_history(
        &mut self,
        periods: usize,
        seconds: u64,
        key: fn(&Keys, u64) -> String,
    ) -> Result<Vec<(SystemTime, u64)>, Error> {
        if periods == 0 {
            return Ok(Vec::new());
        }
        let now = self.server_time()?;
        Ok(self.histories_at(now, &[(periods, seconds, key)])?.pop().unwrap_or_default())
    }

    /// For each (periods, seconds, key) of `spans`, the counts of the last
    /// `periods` periods of `seconds` up to `at`, oldest first, summed over
    /// the shards: one MGET per shard for all of them.
    fn histories_at(&mut self, at: SystemTime, spans: &[History]) -> Result<Vec<Vec<(SystemTime, u64)>>, Error> {
        let now = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let numbers: Vec<Vec<u64>> = spans
            .iter()
            .map(|&(periods, seconds, _)| {
                if periods == 0 {
                    return Vec::new();
                }
                let last = now / seconds;
                (last.saturating_sub(periods as u64 - 1)..=last).collect()
            })
            .collect();
        let mut totals: Vec<Vec<u64>> = numbers.iter().map(|n| vec![0; n.len()]).collect();
        if numbers.iter().any(|n| !n.is_empty()) {
            for keys in self.members() {
                let names: Vec<String> = spans
                    .iter()
                    .zip(&numbers)
                    .flat_map(|(&(_, _, key), periods)| periods.iter().map(|&n| key(&keys, n)).collect::<Vec<_>>())
                    .collect();
                let counts: Vec<Option<u64>> = self.with_conn(|c| redis::cmd("MGET").arg(&names).query(c))?;
                let mut counts = counts.into_iter();
                for total in totals.iter_mut().flatten() {
                    *total += counts.next().flatten().unwrap_or(0);
                }
            }
        }
        Ok(spans
            .iter()
            .zip(numbers)
            .zip(totals)
            .map(|((&(_, seconds, _), periods), counts)| {
                periods.into_iter().map(|n| from_unix_seconds((n * seconds) as f64)).zip(counts).collect()
            })
            .collect())
    }
}

/// Periods kept, the seconds of one, and the key of period `n`.
type History = (usize, u64, fn(&Keys, u64) -> String);

fn check_kept(minutes: usize, hours: usize) -> Result<(), Error> {
    if minutes > MINUTES_KEPT {
        return Err(Error::InvalidOption(format!("at most {MINUTES_KEPT} minutes are kept, not {minutes}")));
    }
    if hours > HOURS_KEPT {
        return Err(Error::InvalidOption(format!("at most {HOURS_KEPT} hours are kept, not {hours}")));
    }
    Ok(())
}

fn check_page(count: usize) -> Result<(), Error> {
    if count > MAX_PAGE {
        return Err(Error::InvalidOption(format!("a page holds at most {MAX_PAGE} tasks, not {count}")));
    }
    Ok(())
}

/// A list position as Redis takes it; positions past `i64::MAX` are as far
/// as any list goes.
fn to_index(position: usize) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}
