//! The reads behind the pages and the API, each a bounded number of calls
//! of the worker library: what a page shows and what its JSON holds come
//! from the same function. They block, and run on tokio's blocking
//! threads ([`blocking`](crate::store::blocking)).

use concur_worker::{Client, DeadEntry, Error, TaskResult};
use serde::Serialize;

use crate::params::Paging;
use crate::snapshot::{merge_workers, unix_now, QueueDetail, QueueSummary, WorkerRow};
use crate::store::Store;

/// A queue's counts, workers, schedules and shards: one status (a script
/// per shard), one `HGETALL` of the schedules.
pub(crate) fn queue_detail(store: &Store, name: &str) -> Result<QueueDetail, Error> {
    store.with_client(name, |client| detail_of(client, name))
}

fn detail_of(client: &mut Client, name: &str) -> Result<QueueDetail, Error> {
    let status = client.status()?;
    let schedules = client.schedules()?;
    let shards = client.shards().map(str::to_owned).collect();
    Ok(QueueDetail {
        generated_at: unix_now(),
        summary: QueueSummary::new(name, &status),
        workers: merge_workers(&[(name.to_owned(), status)]),
        schedules,
        shards,
    })
}

/// One page of a queue's dead letters, newest first.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeadPage {
    pub(crate) queue: String,
    pub(crate) page: u64,
    pub(crate) size: u64,
    /// Entries in the dead-letter list when it was read.
    pub(crate) total: u64,
    pub(crate) last_page: u64,
    pub(crate) entries: Vec<DeadEntry>,
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
    // A page past the end reads nothing: the caller refuses it.
    let entries = if paging.start() < total {
        client.dead_list(to_usize(paging.start()), to_usize(paging.size))?
    } else {
        Vec::new()
    };
    Ok(DeadPage {
        queue: name.to_owned(),
        page: paging.page,
        size: paging.size,
        total,
        last_page: paging.last_page(total),
        entries,
    })
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Where a task's result was found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FoundTask {
    pub(crate) queue: String,
    #[serde(flatten)]
    pub(crate) result: TaskResult,
}

/// The stored result of task `id` in the first of `queues` that has one:
/// one `GET` per queue (and shard), no scan.
pub(crate) fn find_task(store: &Store, queues: &[String], id: &str) -> Result<Option<FoundTask>, Error> {
    for queue in queues {
        if let Some(result) = store.with_client(queue, |client| client.result(id))? {
            return Ok(Some(FoundTask { queue: queue.clone(), result }));
        }
    }
    Ok(None)
}

/// Every worker registered in any queue shown, merged by id.
pub(crate) fn workers(store: &Store) -> Result<Vec<WorkerRow>, Error> {
    Ok(merge_workers(&store.statuses()?))
}
