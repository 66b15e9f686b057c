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
use crate::pages::task::TaskId;
use crate::pages::workers::find_worker;
use crate::pages::Head;
use crate::params::{Query, QueueName};
use crate::server::AppState;
use crate::snapshot::Overview;
use crate::store::blocking;
use crate::views::{self, DeadPage};

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
    head.answer(blocking(&state.store, |store| Ok(Overview::new(&store.statuses()?))).await.map(|view| json(&view)))
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
            "No stored result for this id: the task may be pending, running, delayed or dead without a result, or \
             its result expired.",
        )),
    }
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
    let id = params.ok().and_then(|p| p.iter().find(|(key, _)| *key == "id").map(|(_, id)| id.to_owned()));
    let outcome = match id {
        Some(id) => find_worker(&state, id).await.map(|worker| json(&worker)),
        None => Err(Refusal::not_found()),
    };
    head.answer(outcome)
}
