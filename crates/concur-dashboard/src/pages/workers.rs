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
use crate::error::Refusal;
use crate::params::{path_id, Query};
use crate::reads::{held, worker_and_queue};
use crate::respond::{render, Head, Page};
use crate::state::AppState;
use crate::store::blocking;
use crate::views;

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

async fn one(state: AppState, head: Head, id: String, query: Query) -> Response {
    let outcome = async {
        let paging = query.paging()?;
        let (worker, shown) = worker_and_queue(&state.store, id, query.get("queue")).await?;
        let list = held(&state.store, &worker.id, &shown, paging).await?;
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
