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
use super::{render, Head, Page};
use crate::error::Refusal;
use crate::params::Query;
use crate::server::AppState;
use crate::snapshot::WorkerRow;
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
    serves: String,
    queues: Vec<(String, String)>,
}

/// `GET /workers`; `GET /workers?id=` shows one (the address of ids a
/// path cannot hold, `.` and `..`).
pub(crate) async fn workers_page(State(state): State<AppState>, head: Head, query: Query) -> Response {
    if let Some(id) = query.get("id") {
        let id = id.to_owned();
        return one(state, head, id).await;
    }
    let outcome = blocking(&state.store, views::workers).await.map(|workers| {
        render(&WorkersPage {
            page: Page::new(&state, &head.nonce, "Workers").live("/events/overview".to_owned()),
            workers: workers.iter().map(WorkerView::from).collect(),
        })
    });
    head.answer(outcome)
}

/// `GET /workers/{id}`.
pub(crate) async fn worker_page(
    State(state): State<AppState>,
    head: Head,
    params: Result<RawPathParams, RawPathParamsRejection>,
) -> Response {
    // A path that does not decode is a 404 like any unknown worker, without
    // axum's message, which would repeat it.
    let Ok(params) = params else { return head.answer(Err(Refusal::not_found())) };
    match params.iter().find(|(key, _)| *key == "id") {
        Some((_, id)) => {
            let id = id.to_owned();
            one(state, head, id).await
        }
        None => head.answer(Err(Refusal::not_found())),
    }
}

/// The worker `id` among the registered ones, or a 404.
pub(crate) async fn find_worker(state: &AppState, id: String) -> Result<WorkerRow, Refusal> {
    let workers = blocking(&state.store, views::workers).await?;
    workers.into_iter().find(|w| w.id == id).ok_or_else(Refusal::not_found)
}

async fn one(state: AppState, head: Head, id: String) -> Response {
    let outcome = find_worker(&state, id).await.map(|worker| {
        render(&WorkerPage {
            page: Page::new(&state, &head.nonce, format!("Worker {}", worker.id)),
            serves: worker.serves.clone().unwrap_or_else(|| "—".to_owned()),
            queues: worker.queues.iter().map(|q| (q.queue.clone(), count(q.processing))).collect(),
            worker: WorkerView::from(&worker),
        })
    });
    head.answer(outcome)
}
