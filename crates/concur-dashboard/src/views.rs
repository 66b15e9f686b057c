//! The reads behind the pages and the API, each a bounded number of calls
//! of the worker library: what a page shows and what its JSON holds come
//! from the same function. They block, and run on tokio's blocking
//! threads ([`blocking`](crate::store::blocking)).

use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

use concur_worker::{Client, DeadEntry, Error, Histogram, ListedTask, TaskLocation, TaskStats};
use serde::Serialize;

use crate::paging::Paging;
use crate::snapshot::{merge_workers, unix_now, QueueDetail, QueueSummary, WorkerRow};
use crate::store::Store;

/// A queue's counts, workers, schedules and shards: one status (a script
/// per shard), one `HGETALL` of the schedules.
pub(crate) fn queue_detail(store: &Store, name: &str) -> Result<QueueDetail, Error> {
    store.with_client(name, |client| detail_of(client, name))
}

fn detail_of(client: &mut Client, name: &str) -> Result<QueueDetail, Error> {
    let (status, shards) = client.status_with_shards()?;
    let schedules = client.schedules()?;
    Ok(QueueDetail {
        generated_at: unix_now(),
        summary: QueueSummary::new(name, &status, &shards),
        workers: merge_workers(&[(name.to_owned(), status)]),
        schedules,
    })
}

/// One page of a listing of a queue: dead letters (newest first), pending
/// tasks (next to run first), delayed tasks (soonest first), or a
/// worker's tasks.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ListPage<T> {
    pub(crate) queue: String,
    pub(crate) page: u64,
    pub(crate) size: u64,
    /// Rows in the listing when its count was read.
    pub(crate) total: u64,
    pub(crate) last_page: u64,
    pub(crate) entries: Vec<T>,
}

impl<T> ListPage<T> {
    fn new(queue: &str, paging: Paging, total: u64, entries: Vec<T>) -> ListPage<T> {
        ListPage {
            queue: queue.to_owned(),
            page: paging.page,
            size: paging.size,
            total,
            last_page: paging.last_page(total),
            entries,
        }
    }
}

/// A page of dead letters.
pub(crate) type DeadPage = ListPage<DeadEntry>;

/// Reads one page of a listing of `total` rows with `read(start, count)`;
/// a page past the end reads nothing (the caller refuses it).
fn page_of<T>(
    queue: &str,
    paging: Paging,
    total: u64,
    read: impl FnOnce(usize, usize) -> Result<Vec<T>, Error>,
) -> Result<ListPage<T>, Error> {
    let entries =
        if paging.start() < total { read(to_usize(paging.start()), to_usize(paging.size))? } else { Vec::new() };
    Ok(ListPage::new(queue, paging, total, entries))
}

/// A queue's page: its detail and one page of its dead letters, on one
/// connection.
pub(crate) fn queue_with_dead(store: &Store, name: &str, paging: Paging) -> Result<(QueueDetail, DeadPage), Error> {
    store.with_client(name, |client| {
        let detail = detail_of(client, name)?;
        let dead = dead_of(client, name, detail.summary.dead, paging)?;
        Ok((detail, dead))
    })
}

/// One page of the dead letters of `name`; the count comes from a status.
pub(crate) fn dead_page(store: &Store, name: &str, paging: Paging) -> Result<DeadPage, Error> {
    store.with_client(name, |client| {
        let total = client.status()?.dead;
        dead_of(client, name, total, paging)
    })
}

fn dead_of(client: &mut Client, name: &str, total: u64, paging: Paging) -> Result<DeadPage, Error> {
    page_of(name, paging, total, |start, count| client.dead_list(start, count))
}

/// A list of a queue's tasks, read a page at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskList {
    /// The pending tasks, the next to run first.
    Pending,
    /// The delayed tasks, the soonest due first.
    Delayed,
}

impl TaskList {
    /// The queue's detail and one page of this list, on one connection.
    pub(crate) fn read(
        self,
        store: &Store,
        name: &str,
        paging: Paging,
    ) -> Result<(QueueDetail, ListPage<ListedTask>), Error> {
        store.with_client(name, |client| {
            let detail = detail_of(client, name)?;
            let page = match self {
                TaskList::Pending => {
                    page_of(name, paging, detail.summary.pending, |start, count| client.pending_page(start, count))?
                }
                TaskList::Delayed => {
                    page_of(name, paging, detail.summary.delayed, |start, count| client.delayed_page(start, count))?
                }
            };
            Ok((detail, page))
        })
    }
}

/// One page of the tasks `worker` holds from `name`, the first fetched
/// first; `None` when the worker is not registered there.
pub(crate) fn processing_page(
    store: &Store,
    name: &str,
    worker: &str,
    paging: Paging,
) -> Result<Option<ListPage<ListedTask>>, Error> {
    store.with_client(name, |client| {
        let status = client.status()?;
        let Some(held) = status.workers.iter().find(|w| w.id == worker).map(|w| w.processing) else {
            return Ok(None);
        };
        page_of(name, paging, held, |start, count| client.processing_page(worker, start, count)).map(Some)
    })
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Where a task was found, and in which queue.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FoundTask {
    pub(crate) queue: String,
    #[serde(flatten)]
    pub(crate) location: TaskLocation,
}

/// Where task `id` is, in the first of `queues` that knows it: at most
/// three lookups per queue (its result, the location index, the delayed
/// set at its score), no scan. Pending tasks are not indexed, so a task
/// waiting in a pending list is not found.
pub(crate) fn find_task(store: &Store, queues: &[String], id: &str) -> Result<Option<FoundTask>, Error> {
    for queue in queues {
        let location = store.with_client(queue, |client| client.find_task(id))?;
        if location != TaskLocation::NotFound {
            return Ok(Some(FoundTask { queue: queue.clone(), location }));
        }
    }
    Ok(None)
}

/// One period of the throughput history.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Period {
    /// When it began, Unix seconds.
    pub(crate) start: f64,
    /// Tasks acknowledged in it.
    pub(crate) done: u64,
}

/// Tasks done per minute and per hour, oldest first.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Throughput {
    pub(crate) per_minute: Vec<Period>,
    pub(crate) per_hour: Vec<Period>,
}

/// The throughput of `queues` together over the last `minutes` minutes
/// and `hours` hours: two reads of fixed size per queue.
pub(crate) fn throughput(store: &Store, queues: &[String], minutes: usize, hours: usize) -> Result<Throughput, Error> {
    let mut per_minute: BTreeMap<u64, u64> = BTreeMap::new();
    let mut per_hour: BTreeMap<u64, u64> = BTreeMap::new();
    // One clock for every queue: one round trip a queue, not four.
    let Some(first) = queues.first() else {
        return Ok(Throughput { per_minute: Vec::new(), per_hour: Vec::new() });
    };
    let at = store.with_client(first, Client::server_time)?;
    for (minute, hour) in store.per_queue(queues, |client| client.done_history_at(minutes, hours, at))? {
        for (into, periods) in [(&mut per_minute, minute), (&mut per_hour, hour)] {
            for (start, done) in periods {
                let secs = start.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                *into.entry(secs).or_default() += done;
            }
        }
    }
    let periods = |map: BTreeMap<u64, u64>, keep: usize| {
        let all: Vec<Period> = map.into_iter().map(|(start, done)| Period { start: start as f64, done }).collect();
        // Queues read across a period's turn may add one more at the end.
        all[all.len().saturating_sub(keep)..].to_vec()
    };
    Ok(Throughput { per_minute: periods(per_minute, minutes), per_hour: periods(per_hour, hours) })
}

/// Three quantiles of a histogram, in seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Quantiles {
    pub(crate) p50: Option<f64>,
    pub(crate) p95: Option<f64>,
    pub(crate) p99: Option<f64>,
}

impl From<&Histogram> for Quantiles {
    fn from(h: &Histogram) -> Quantiles {
        Quantiles { p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99) }
    }
}

/// One task name's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TaskRow {
    pub(crate) name: String,
    pub(crate) count: u64,
    pub(crate) failed: u64,
    pub(crate) run: Quantiles,
    pub(crate) wait: Quantiles,
}

/// Each task name's attempts, failures and run and wait quantiles over the
/// last `minutes` minutes, over `queues` together, by name.
pub(crate) fn task_stats(store: &Store, queues: &[String], minutes: usize) -> Result<Vec<TaskRow>, Error> {
    let mut merged: BTreeMap<String, TaskStats> = BTreeMap::new();
    for queue in queues {
        for stats in store.with_client(queue, |client| client.task_stats(minutes))? {
            let into = merged.entry(stats.name.clone()).or_default();
            into.count += stats.count;
            into.failed += stats.failed;
            into.run.merge(&stats.run);
            into.wait.merge(&stats.wait);
        }
    }
    Ok(merged
        .into_iter()
        .map(|(name, s)| TaskRow {
            name,
            count: s.count,
            failed: s.failed,
            run: (&s.run).into(),
            wait: (&s.wait).into(),
        })
        .collect())
}

/// Every worker registered in any queue shown, merged by id.
pub(crate) fn workers(store: &Store) -> Result<Vec<WorkerRow>, Error> {
    Ok(merge_workers(&store.statuses()?))
}
