//! The changes the dashboard can make, each one call of the worker library:
//! retry dead tasks (by id, or all) and delete the dead-letter list.
//!
//! Every change is logged (`tracing`, target `concur_dashboard::actions`:
//! what, which queue, how many tasks) and counted in `/metrics`
//! (`concur_dashboard_actions_total` and
//! `concur_dashboard_action_tasks_total`, by action and queue). Each route
//! exists twice: for the pages (a form post, answered with a redirect
//! back to the queue's page, which says what was done) and for the API
//! (JSON in, JSON out). Both sit behind the guard of
//! [`security::mutation`](crate::security::mutation).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::Serialize;

use crate::error::Refusal;
use crate::pages::Head;
use crate::params::{checked_ids, QueueName};
use crate::server::AppState;
use crate::store::blocking;

/// The labels of the action counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActionLabels {
    pub(crate) action: &'static str,
    pub(crate) queue: String,
}

/// Changes made since the dashboard started, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct ActionCounters {
    /// Actions run.
    pub(crate) actions: Family<ActionLabels, Counter>,
    /// Tasks they touched.
    pub(crate) tasks: Family<ActionLabels, Counter>,
}

/// What an action did, as the API answers it.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Outcome {
    /// Tasks the action changed: queued again, or entries deleted.
    pub(crate) touched: u64,
    /// Entries it left because their payload was too large to keep.
    pub(crate) not_retriable: u64,
}

/// The actions there are.
#[derive(Debug, Clone, Copy)]
enum Action {
    Retry,
    RetryAll,
    Purge,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::RetryAll => "retry-all",
            Action::Purge => "purge",
        }
    }
}

/// The ids a request names: JSON `{"ids": […]}`, or form fields `id`.
fn ids_of(headers: &HeaderMap, body: &Bytes) -> Result<Vec<String>, Refusal> {
    let is_json =
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        #[derive(serde::Deserialize)]
        struct Ids {
            ids: Vec<String>,
        }
        let ids: Ids = serde_json::from_slice(body)
            .map_err(|_| Refusal::bad_request("The body must be JSON of the form {\"ids\": [\"…\", …]}."))?;
        checked_ids(ids.ids.iter().map(String::as_str))
    } else {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        checked_ids(pairs.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.as_str()))
    }
}

/// Runs `action` on `queue`, logs it and counts it.
async fn run(state: &AppState, queue: &str, action: Action, ids: Vec<String>) -> Result<Outcome, Refusal> {
    let name = queue.to_owned();
    let named = ids.len();
    let outcome = blocking(&state.store, move |store| {
        store.with_client(&name, |client| match action {
            Action::Retry => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let done = client.dead_retry(&ids)?;
                Ok(Outcome { touched: done.retried as u64, not_retriable: done.not_retriable as u64 })
            }
            Action::RetryAll => {
                let done = client.dead_retry_all()?;
                Ok(Outcome { touched: done.retried as u64, not_retriable: done.not_retriable as u64 })
            }
            Action::Purge => Ok(Outcome { touched: client.dead_purge()?, not_retriable: 0 }),
        })
    })
    .await;
    match &outcome {
        Ok(done) => {
            tracing::info!(
                target: "concur_dashboard::actions",
                action = action.name(),
                queue,
                tasks = done.touched,
                not_retriable = done.not_retriable,
                named,
                "dashboard action: {} on {queue} touched {} tasks",
                action.name(),
                done.touched
            );
            let labels = ActionLabels { action: action.name(), queue: queue.to_owned() };
            state.counters.actions.get_or_create(&labels).inc();
            state.counters.tasks.get_or_create(&labels).inc_by(done.touched);
        }
        Err(refusal) => tracing::warn!(
            target: "concur_dashboard::actions",
            action = action.name(),
            queue,
            "dashboard action failed: {}",
            refusal.message
        ),
    }
    outcome
}

/// Back to the queue's page, which says what was done.
fn back(queue: &str, action: Action, outcome: Outcome) -> Response {
    Redirect::to(&format!(
        "/queues/{queue}?done={}&n={}&skipped={}#dead",
        action.name(),
        outcome.touched,
        outcome.not_retriable
    ))
    .into_response()
}

async fn page_action(
    state: AppState,
    head: Head,
    queue: String,
    action: Action,
    ids: Result<Vec<String>, Refusal>,
) -> Response {
    let outcome = async {
        let done = run(&state, &queue, action, ids?).await?;
        Ok(back(&queue, action, done))
    };
    head.answer(outcome.await)
}

async fn api_action(
    state: AppState,
    head: Head,
    queue: String,
    action: Action,
    ids: Result<Vec<String>, Refusal>,
) -> Response {
    let outcome = async {
        let done = run(&state, &queue, action, ids?).await?;
        Ok(Json(done).into_response())
    };
    head.answer(outcome.await)
}

/// `POST /queues/{queue}/dead/retry` (form: `id`…, `csrf`).
pub(crate) async fn retry_page(
    State(state): State<AppState>,
    head: Head,
    QueueName(queue): QueueName,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    page_action(state, head, queue, Action::Retry, ids_of(&headers, &body)).await
}

/// `POST /queues/{queue}/dead/retry-all`.
pub(crate) async fn retry_all_page(State(state): State<AppState>, head: Head, QueueName(queue): QueueName) -> Response {
    page_action(state, head, queue, Action::RetryAll, Ok(Vec::new())).await
}

/// `POST /queues/{queue}/dead/purge`.
pub(crate) async fn purge_page(State(state): State<AppState>, head: Head, QueueName(queue): QueueName) -> Response {
    page_action(state, head, queue, Action::Purge, Ok(Vec::new())).await
}

/// `POST /api/queues/{queue}/dead/retry` (`{"ids": […]}`).
pub(crate) async fn retry_api(
    State(state): State<AppState>,
    head: Head,
    QueueName(queue): QueueName,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    api_action(state, head, queue, Action::Retry, ids_of(&headers, &body)).await
}

/// `POST /api/queues/{queue}/dead/retry-all`.
pub(crate) async fn retry_all_api(State(state): State<AppState>, head: Head, QueueName(queue): QueueName) -> Response {
    api_action(state, head, queue, Action::RetryAll, Ok(Vec::new())).await
}

/// `POST /api/queues/{queue}/dead/purge`.
pub(crate) async fn purge_api(State(state): State<AppState>, head: Head, QueueName(queue): QueueName) -> Response {
    api_action(state, head, queue, Action::Purge, Ok(Vec::new())).await
}
