//! The JSON API behind every page (`docs/DASHBOARD.md` lists each route
//! with an example). Reads are `GET`; the actions are in
//! [`actions`](crate::actions). Errors are `{"error": "…"}` with a 4xx or
//! 5xx status.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use concur_worker::DeadEntry;
use serde::Serialize;

use crate::error::Refusal;
use crate::pages::format::clip;
use crate::params::{path_id, Query, QueueName, TaskId};
use crate::reads::{find_worker, held, worker_and_queue};
use crate::respond::Head;
use crate::snapshot::Overview;
use crate::state::AppState;
use crate::store::blocking;
use crate::views::{self, DeadPage, TaskList};

/// The longest payload the API returns whole, in characters; longer ones
/// are cut there and flagged, so a page of 500 entries stays bounded.
const PAYLOAD_CLIP: usize = 64 * 1024;

fn json(value: &impl Serialize) -> Response {
    Json(value).into_response()
}

/// `GET /api/session`: the CSRF token a program sends with a change
/// (`X-CSRF-Token`), whether changes are allowed, and the settings pages
/// follow.
pub(crate) async fn session(State(state): State<AppState>) -> Response {
    json(&serde_json::json!({
        "csrf": state.security.csrf,
        "read_only": state.security.read_only,
        "queues": state.store.queues(),
        "refresh_seconds": state.refresh.as_secs(),
    }))
}

/// `GET /api/overview`.
pub(crate) async fn overview(State(state): State<AppState>, head: Head) -> Response {
    head.answer(
        blocking(&state.store, |store| Ok(Overview::new(store.statuses_with_shards()?))).await.map(|view| json(&view)),
    )
}

/// `GET /api/queues`: the names of the queues shown.
pub(crate) async fn queues(State(state): State<AppState>) -> Response {
    json(&serde_json::json!({ "queues": state.store.queues() }))
}

/// `GET /api/queues/{queue}`.
pub(crate) async fn queue(State(state): State<AppState>, head: Head, QueueName(name): QueueName) -> Response {
    head.answer(blocking(&state.store, move |store| views::queue_detail(store, &name)).await.map(|view| json(&view)))
}

/// A dead-letter entry with its payload cut to [`PAYLOAD_CLIP`].
#[derive(Serialize)]
struct DeadJson {
    #[serde(flatten)]
    entry: DeadEntry,
    /// Whether `payload` was cut (`payload_size` is the whole size).
    payload_clipped: bool,
}

#[derive(Serialize)]
struct DeadPageJson {
    queue: String,
    page: u64,
    size: u64,
    total: u64,
    last_page: u64,
    entries: Vec<DeadJson>,
}

impl From<DeadPage> for DeadPageJson {
    fn from(d: DeadPage) -> DeadPageJson {
        DeadPageJson {
            queue: d.queue,
            page: d.page,
            size: d.size,
            total: d.total,
            last_page: d.last_page,
            entries: d
                .entries
                .into_iter()
                .map(|mut entry| {
                    let mut payload_clipped = false;
                    if let Some(payload) = &entry.payload {
                        let (cut, clipped) = clip(payload, PAYLOAD_CLIP);
                        entry.payload = Some(cut);
                        payload_clipped = clipped;
                    }
                    DeadJson { entry, payload_clipped }
                })
                .collect(),
        }
    }
}

/// `GET /api/queues/{queue}/dead?page=&size=`: newest first.
pub(crate) async fn dead(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    let outcome = async {
        let paging = query.paging()?;
        let page = blocking(&state.store, move |store| views::dead_page(store, &name, paging)).await?;
        paging.check(page.total)?;
        Ok(json(&DeadPageJson::from(page)))
    };
    head.answer(outcome.await)
}

async fn task_in(state: &AppState, queues: Vec<String>, id: String) -> Result<Response, Refusal> {
    let found = blocking(&state.store, move |store| views::find_task(store, &queues, &id)).await?;
    match found {
        Some(task) => Ok(json(&task)),
        None => Err(Refusal::new(
            axum::http::StatusCode::NOT_FOUND,
            "This id is not known as finished, running or delayed: the task may be pending (pending tasks are not \
             indexed), its result may have expired, or the id may be wrong.",
        )),
    }
}

/// A page of a list of tasks of `name` (pending or delayed).
async fn task_list(state: &AppState, name: String, query: &Query, which: TaskList) -> Result<Response, Refusal> {
    let paging = query.paging()?;
    let (_, list) = blocking(&state.store, move |store| which.read(store, &name, paging)).await?;
    paging.check(list.total)?;
    Ok(json(&list))
}

/// `GET /api/queues/{queue}/pending?page=&size=`: the next to run first.
pub(crate) async fn pending(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    head.answer(task_list(&state, name, &query, TaskList::Pending).await)
}

/// `GET /api/queues/{queue}/delayed?page=&size=`: the soonest due first.
pub(crate) async fn delayed(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    head.answer(task_list(&state, name, &query, TaskList::Delayed).await)
}

async fn throughput_of(state: &AppState, queues: Vec<String>, query: &Query) -> Result<Response, Refusal> {
    let range = query.range()?;
    let view =
        blocking(&state.store, move |store| views::throughput(store, &queues, range.minutes, range.hours)).await?;
    Ok(json(&view))
}

/// `GET /api/throughput?minutes=&hours=`: every queue shown, together.
pub(crate) async fn throughput(State(state): State<AppState>, head: Head, query: Query) -> Response {
    let queues = state.store.queues().to_vec();
    head.answer(throughput_of(&state, queues, &query).await)
}

/// `GET /api/queues/{queue}/throughput?minutes=&hours=`.
pub(crate) async fn queue_throughput(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    head.answer(throughput_of(&state, vec![name], &query).await)
}

async fn stats_of(state: &AppState, queues: Vec<String>, query: &Query) -> Result<Response, Refusal> {
    let range = query.range()?;
    let rows = blocking(&state.store, move |store| views::task_stats(store, &queues, range.minutes)).await?;
    Ok(json(&serde_json::json!({ "minutes": range.minutes, "tasks": rows })))
}

/// `GET /api/stats?minutes=`: per task name, every queue shown together.
pub(crate) async fn stats(State(state): State<AppState>, head: Head, query: Query) -> Response {
    let queues = state.store.queues().to_vec();
    head.answer(stats_of(&state, queues, &query).await)
}

/// `GET /api/queues/{queue}/stats?minutes=`.
pub(crate) async fn queue_stats(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    head.answer(stats_of(&state, vec![name], &query).await)
}

/// `GET /api/tasks/{id}`: the result record, from any queue shown.
pub(crate) async fn task(State(state): State<AppState>, head: Head, TaskId(id): TaskId) -> Response {
    let queues = state.store.queues().to_vec();
    head.answer(task_in(&state, queues, id).await)
}

/// `GET /api/queues/{queue}/tasks/{id}`.
pub(crate) async fn task_in_queue(
    State(state): State<AppState>,
    head: Head,
    QueueName(queue): QueueName,
    TaskId(id): TaskId,
) -> Response {
    head.answer(task_in(&state, vec![queue], id).await)
}

/// `GET /api/workers`.
pub(crate) async fn workers(State(state): State<AppState>, head: Head) -> Response {
    head.answer(
        blocking(&state.store, views::workers).await.map(|workers| json(&serde_json::json!({ "workers": workers }))),
    )
}

/// `GET /api/workers/{id}`.
pub(crate) async fn worker(
    State(state): State<AppState>,
    head: Head,
    params: Result<RawPathParams, RawPathParamsRejection>,
) -> Response {
    let outcome = match path_id(params) {
        Some(id) => find_worker(&state.store, id).await.map(|worker| json(&worker)),
        None => Err(Refusal::not_found()),
    };
    head.answer(outcome)
}

/// `GET /api/workers/{id}/tasks?queue=&page=&size=`: the tasks it holds
/// from one of its queues (the first by default), the first fetched first.
pub(crate) async fn worker_tasks(
    State(state): State<AppState>,
    head: Head,
    params: Result<RawPathParams, RawPathParamsRejection>,
    query: Query,
) -> Response {
    let outcome = async {
        let id = path_id(params).ok_or_else(Refusal::not_found)?;
        let paging = query.paging()?;
        let (worker, queue) = worker_and_queue(&state.store, id, query.get("queue")).await?;
        Ok(json(&held(&state.store, &worker.id, &queue, paging).await?))
    };
    head.answer(outcome.await)
}
