//! Reads that pages, the API and the actions share, with their refusals:
//! a worker by id, and the tasks it holds.

use std::sync::Arc;

use concur_worker::ListedTask;

use crate::error::Refusal;
use crate::paging::Paging;
use crate::snapshot::WorkerRow;
use crate::store::{blocking, Store};
use crate::views::{self, ListPage};

/// The worker `id` among the registered ones, or a 404.
pub(crate) async fn find_worker(store: &Arc<Store>, id: String) -> Result<WorkerRow, Refusal> {
    let workers = blocking(store, views::workers).await?;
    workers.into_iter().find(|w| w.id == id).ok_or_else(Refusal::not_found)
}

/// The worker, and which of its queues (`wanted`, the first by default)
/// to list the held tasks of; a queue it is not registered in is a 404.
pub(crate) async fn worker_and_queue(
    store: &Arc<Store>,
    id: String,
    wanted: Option<&str>,
) -> Result<(WorkerRow, String), Refusal> {
    let worker = find_worker(store, id).await?;
    let shown = match wanted {
        Some(queue) => worker.queues.iter().find(|q| q.queue == queue).map(|q| q.queue.clone()),
        None => worker.queues.first().map(|q| q.queue.clone()),
    }
    .ok_or_else(Refusal::not_found)?;
    Ok((worker, shown))
}

/// A page of the tasks `worker` holds from `queue`.
pub(crate) async fn held(
    store: &Arc<Store>,
    worker: &str,
    queue: &str,
    paging: Paging,
) -> Result<ListPage<ListedTask>, Refusal> {
    let (queue, id) = (queue.to_owned(), worker.to_owned());
    let list = blocking(store, move |store| views::processing_page(store, &queue, &id, paging))
        .await?
        .ok_or_else(Refusal::not_found)?;
    paging.check(list.total)?;
    Ok(list)
}
