//! The workers: all of them, and one by id.
//!
//! A worker id in the path is accepted only when it names a worker
//! registered in a queue shown (the protocol's ids are 1 to 128 printable
//! ASCII characters; a registered one has passed that check); anything
//! else is a 404 that does not repeat it.

use askama::Template;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, State};
use axum::response::Response;

use super::format::count;
use super::overview::WorkerView;
use super::queue::{notice, ListView, TaskListRow};
use super::{render, Head, Page};
use crate::error::Refusal;
use crate::params::{Paging, Query};
use crate::server::AppState;
use crate::snapshot::WorkerRow;
use crate::store::blocking;
use crate::views::{self, ListPage};
use concur_worker::ListedTask;

#[derive(Template)]
#[template(path = "workers.html")]
struct WorkersPage {
    page: Page,
    workers: Vec<WorkerView>,
}

#[derive(Template)]
#[template(path = "worker.html")]
struct WorkerPage {
    page: Page,
    worker: WorkerView,
    notice: Option<String>,
    serves: String,
    queues: Vec<(String, String)>,
    /// The queue whose held tasks are listed.
    shown: String,
    list: ListView<TaskListRow>,
    actions: bool,
    show_due: bool,
}

/// `GET /workers`; `GET /workers?id=` shows one (the address of ids a
/// path cannot hold, `.` and `..`).
pub(crate) async fn workers_page(State(state): State<AppState>, head: Head, query: Query) -> Response {
    if let Some(id) = query.get("id") {
        let id = id.to_owned();
        return one(state, head, id, query).await;
    }
    let outcome = blocking(&state.store, views::workers).await.map(|workers| {
        render(&WorkersPage {
            page: Page::new(&state, &head.nonce, "Workers").live("/events/overview".to_owned()),
            workers: workers.iter().map(WorkerView::from).collect(),
        })
    });
    head.answer(outcome)
}

/// The worker id in the path, decoded; `None` for a path that does not
/// decode (answered as a 404, without axum's message, which would repeat
/// it).
pub(crate) fn path_id(params: Result<RawPathParams, RawPathParamsRejection>) -> Option<String> {
    params.ok()?.iter().find(|(key, _)| *key == "id").map(|(_, id)| id.to_owned())
}

/// `GET /workers/{id}?queue=&page=&size=`: the worker and the tasks it
/// holds from one of its queues.
pub(crate) async fn worker_page(
    State(state): State<AppState>,
    head: Head,
    params: Result<RawPathParams, RawPathParamsRejection>,
    query: Query,
) -> Response {
    match path_id(params) {
        Some(id) => one(state, head, id, query).await,
        None => head.answer(Err(Refusal::not_found())),
    }
}

/// The worker `id` among the registered ones, or a 404.
pub(crate) async fn find_worker(state: &AppState, id: String) -> Result<WorkerRow, Refusal> {
    let workers = blocking(&state.store, views::workers).await?;
    workers.into_iter().find(|w| w.id == id).ok_or_else(Refusal::not_found)
}

/// The worker, and which of its queues (`?queue=`, the first by default)
/// to list the held tasks of; a queue it is not registered in is a 404.
pub(crate) async fn worker_and_queue(
    state: &AppState,
    id: String,
    query: &Query,
) -> Result<(WorkerRow, String), Refusal> {
    let worker = find_worker(state, id).await?;
    let shown = match query.get("queue") {
        Some(queue) => worker.queues.iter().find(|q| q.queue == queue).map(|q| q.queue.clone()),
        None => worker.queues.first().map(|q| q.queue.clone()),
    }
    .ok_or_else(Refusal::not_found)?;
    Ok((worker, shown))
}

/// A page of the tasks `worker` holds from `queue`.
pub(crate) async fn held(
    state: &AppState,
    worker: &str,
    queue: &str,
    paging: Paging,
) -> Result<ListPage<ListedTask>, Refusal> {
    let (queue, id) = (queue.to_owned(), worker.to_owned());
    let list = blocking(&state.store, move |store| views::processing_page(store, &queue, &id, paging))
        .await?
        .ok_or_else(Refusal::not_found)?;
    paging.check(list.total)?;
    Ok(list)
}

async fn one(state: AppState, head: Head, id: String, query: Query) -> Response {
    let outcome = async {
        let paging = query.paging()?;
        let (worker, shown) = worker_and_queue(&state, id, &query).await?;
        let list = held(&state, &worker.id, &shown, paging).await?;
        let view = WorkerView::from(&worker);
        let base = format!("{}queue={}&", view.query_base, shown);
        Ok(render(&WorkerPage {
            page: Page::new(&state, &head.nonce, format!("Worker {}", worker.id)),
            notice: notice(&query),
            serves: worker.serves.clone().unwrap_or_else(|| "—".to_owned()),
            queues: worker.queues.iter().map(|q| (q.queue.clone(), count(q.processing))).collect(),
            list: ListView::new(&list, base, TaskListRow::new),
            shown,
            worker: view,
            actions: false,
            show_due: false,
        }))
    };
    head.answer(outcome.await)
}
