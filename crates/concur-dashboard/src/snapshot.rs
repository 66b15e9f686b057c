//! What the pages, the JSON API, the live updates and `/metrics` show,
//! built from the statuses the worker library reads: the overview of every
//! queue and the live workers, merged across queues.
//!
//! These types are the JSON of the API (`docs/DASHBOARD.md`), so their
//! field names are part of it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use concur_worker::{ScheduleStatus, ShardStatus, Status, WorkerControl};
use serde::Serialize;

/// One queue's counts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct QueueSummary {
    pub(crate) name: String,
    pub(crate) pending: u64,
    pub(crate) processing: u64,
    pub(crate) delayed: u64,
    pub(crate) dead: u64,
    pub(crate) results: u64,
    pub(crate) worker_count: usize,
    pub(crate) done: u64,
    pub(crate) retried: u64,
    pub(crate) dead_total: u64,
    pub(crate) reaped: u64,
    pub(crate) dead_trimmed: u64,
    pub(crate) done_last_minute: u64,
    /// Whether workers take nothing from it.
    pub(crate) paused: bool,
    /// How long ago the oldest pending task was enqueued, in milliseconds.
    pub(crate) oldest_pending_age_ms: Option<u64>,
    /// Each shard's own counts, for a sharded queue; the counts above add
    /// them up with the queue's own lists.
    pub(crate) shards: Vec<ShardSummary>,
}

/// One shard's counts, shown under its queue.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ShardSummary {
    pub(crate) name: String,
    pub(crate) pending: u64,
    pub(crate) processing: u64,
    pub(crate) delayed: u64,
    pub(crate) dead: u64,
    pub(crate) oldest_pending_age_ms: Option<u64>,
}

impl ShardSummary {
    fn new(shard: &ShardStatus) -> ShardSummary {
        let status = &shard.status;
        ShardSummary {
            name: shard.name.clone(),
            pending: status.pending,
            processing: status.processing(),
            delayed: status.delayed,
            dead: status.dead,
            oldest_pending_age_ms: status.oldest_pending_age.map(millis),
        }
    }
}

impl QueueSummary {
    pub(crate) fn new(name: &str, status: &Status, shards: &[ShardStatus]) -> QueueSummary {
        QueueSummary {
            name: name.to_owned(),
            pending: status.pending,
            processing: status.processing(),
            delayed: status.delayed,
            dead: status.dead,
            results: status.results,
            worker_count: status.workers.len(),
            done: status.done,
            retried: status.retried,
            dead_total: status.dead_total,
            reaped: status.reaped,
            dead_trimmed: status.dead_trimmed,
            done_last_minute: status.done_last_minute,
            paused: status.paused,
            oldest_pending_age_ms: status.oldest_pending_age.map(millis),
            shards: shards.iter().map(ShardSummary::new).collect(),
        }
    }
}

/// One worker as seen from every queue shown: a worker serving three
/// queues is registered in each, and is one row here.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerRow {
    pub(crate) id: String,
    /// The queues shown that it is registered in, with the tasks it holds
    /// from each.
    pub(crate) queues: Vec<WorkerQueue>,
    /// Tasks it holds, over all those queues.
    pub(crate) in_flight: u64,
    /// The shortest time left on its heartbeats, in milliseconds; `None`
    /// when one is missing (a reaper takes it for dead if it stays so).
    pub(crate) heartbeat_ms: Option<u64>,
    /// How long ago it last beat (its heartbeat TTL less the time left),
    /// in milliseconds, the longest over its queues; `None` when a
    /// heartbeat is missing or a queue's record holds no TTL.
    pub(crate) heartbeat_age_ms: Option<u64>,
    pub(crate) concurrency: Option<u64>,
    pub(crate) serves: Option<String>,
    /// What it last said it was doing: `running`, `quiet` or `stopping`
    /// (the furthest along, over its queues).
    pub(crate) state: Option<String>,
    /// What an operator asked of it and it has not finished: `quiet` or
    /// `stop` (the stronger, over its queues).
    pub(crate) control: Option<WorkerControl>,
}

/// A worker's share of one queue.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerQueue {
    pub(crate) queue: String,
    pub(crate) processing: u64,
}

impl WorkerRow {
    /// Whether every heartbeat of the worker stands.
    pub(crate) fn alive(&self) -> bool {
        self.heartbeat_ms.is_some()
    }
}

/// The whole picture: every queue shown and every worker registered in
/// any of them.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Overview {
    /// When it was read, Unix seconds.
    pub(crate) generated_at: f64,
    pub(crate) queues: Vec<QueueSummary>,
    pub(crate) workers: Vec<WorkerRow>,
}

/// One queue's status, with its shards' own (none when not sharded).
pub(crate) type QueueStatus = (String, Status, Vec<ShardStatus>);

impl Overview {
    pub(crate) fn new(statuses: Vec<QueueStatus>) -> Overview {
        let queues = statuses.iter().map(|(name, status, shards)| QueueSummary::new(name, status, shards)).collect();
        let statuses: Vec<(String, Status)> = statuses.into_iter().map(|(name, status, _)| (name, status)).collect();
        Overview { generated_at: unix_now(), queues, workers: merge_workers(&statuses) }
    }
}

/// The workers of several queues, one row per worker id, sorted by id.
pub(crate) fn merge_workers(statuses: &[(String, Status)]) -> Vec<WorkerRow> {
    let mut rows: BTreeMap<&str, WorkerRow> = BTreeMap::new();
    for (queue, status) in statuses {
        for worker in &status.workers {
            let heartbeat = worker.heartbeat.map(millis);
            let age = worker.heartbeat_age().map(millis);
            let share = WorkerQueue { queue: queue.clone(), processing: worker.processing };
            match rows.get_mut(worker.id.as_str()) {
                Some(row) => {
                    row.in_flight += worker.processing;
                    row.heartbeat_ms = match (row.heartbeat_ms, heartbeat) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        _ => None,
                    };
                    row.heartbeat_age_ms = match (row.heartbeat_age_ms, age) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                    row.concurrency = row.concurrency.or(worker.concurrency);
                    row.serves = row.serves.take().or_else(|| worker.serves.clone());
                    row.state = furthest(row.state.take(), worker.state.clone());
                    row.control = match (row.control, worker.control) {
                        (Some(WorkerControl::Stop), _) | (_, Some(WorkerControl::Stop)) => Some(WorkerControl::Stop),
                        (mine, theirs) => mine.or(theirs),
                    };
                    row.queues.push(share);
                }
                None => {
                    rows.insert(
                        &worker.id,
                        WorkerRow {
                            id: worker.id.clone(),
                            queues: vec![share],
                            in_flight: worker.processing,
                            heartbeat_ms: heartbeat,
                            heartbeat_age_ms: age,
                            concurrency: worker.concurrency,
                            serves: worker.serves.clone(),
                            state: worker.state.clone(),
                            control: worker.control,
                        },
                    );
                }
            }
        }
    }
    rows.into_values().collect()
}

/// Of two states a worker reported, the one further along towards its end.
fn furthest(a: Option<String>, b: Option<String>) -> Option<String> {
    let rank = |s: &Option<String>| match s.as_deref() {
        None => 0,
        Some("running") => 1,
        Some("quiet") => 2,
        Some(_) => 3,
    };
    if rank(&b) > rank(&a) {
        b
    } else {
        a
    }
}

/// A duration in whole milliseconds.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One queue's page, live part: its counts, its workers and schedules.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct QueueDetail {
    pub(crate) generated_at: f64,
    #[serde(flatten)]
    pub(crate) summary: QueueSummary,
    pub(crate) workers: Vec<WorkerRow>,
    pub(crate) schedules: Vec<ScheduleStatus>,
}

/// The current time as Unix seconds.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
