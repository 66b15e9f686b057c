//! The changes the dashboard can make, each one call of the worker library
//! per queue: retry or delete dead letters (by id, or all), run or delete
//! delayed tasks by id, pause and resume a queue, ask a worker to quiet
//! down or stop.
//!
//! Every change is logged (`tracing`, target `concur_dashboard::actions`:
//! what, which queue, how many tasks) and counted in `/metrics`
//! (`concur_dashboard_actions_total` and
//! `concur_dashboard_action_tasks_total`, by action and queue). Each route
//! exists twice: for the pages (a form post, answered with a redirect back
//! to the page, which says what was done) and for the API (JSON in, JSON
//! out). Both sit behind the guard of
//! [`security::mutation`](crate::security::mutation).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{post, MethodRouter};
use axum::Json;
use concur_worker::{Client, WorkerControl};
use serde::Serialize;

use crate::counters::ActionLabels;
use crate::error::Refusal;
use crate::pages::format::item_href;
use crate::params::{checked_ids, QueueName};
use crate::reads::find_worker;
use crate::respond::Head;
use crate::state::AppState;
use crate::store::blocking;

/// What an action did, as the API answers it.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Outcome {
    /// What the action changed: tasks queued again, moved or deleted;
    /// queues paused or resumed (0 when already so); queues a worker was
    /// asked on.
    pub(crate) touched: u64,
    /// Dead letters left because their payload was too large to keep.
    pub(crate) not_retriable: u64,
}

/// The actions there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Retry,
    RetryAll,
    Purge,
    DeadDelete,
    RunNow,
    DelayedDelete,
    Pause,
    Resume,
    Quiet,
    Stop,
}

/// Every action, in the order the routes are made.
pub(crate) const ALL: [Action; 10] = [
    Action::Retry,
    Action::RetryAll,
    Action::Purge,
    Action::DeadDelete,
    Action::RunNow,
    Action::DelayedDelete,
    Action::Pause,
    Action::Resume,
    Action::Quiet,
    Action::Stop,
];

impl Action {
    /// Its name in logs, metrics, confirmations and redirects.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::RetryAll => "retry-all",
            Action::Purge => "purge",
            Action::DeadDelete => "delete",
            Action::RunNow => "run-now",
            Action::DelayedDelete => "delayed-delete",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Quiet => "quiet",
            Action::Stop => "stop",
        }
    }

    pub(crate) fn named(name: &str) -> Option<Action> {
        ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether it is asked of a worker rather than done to a queue.
    pub(crate) fn is_worker_control(self) -> bool {
        matches!(self, Action::Quiet | Action::Stop)
    }

    /// Whether it names the tasks it acts on.
    pub(crate) fn takes_ids(self) -> bool {
        matches!(self, Action::Retry | Action::DeadDelete | Action::RunNow | Action::DelayedDelete)
    }

    /// Whether the pages ask before running it on many tasks.
    pub(crate) fn is_bulk(self) -> bool {
        self.takes_ids() || matches!(self, Action::RetryAll | Action::Purge)
    }

    /// The route of the pages' form for it on `queue`.
    pub(crate) fn page_route(self, queue: &str) -> String {
        match self {
            Action::Retry => format!("/queues/{queue}/dead/retry"),
            Action::RetryAll => format!("/queues/{queue}/dead/retry-all"),
            Action::Purge => format!("/queues/{queue}/dead/purge"),
            Action::DeadDelete => format!("/queues/{queue}/dead/delete"),
            Action::RunNow => format!("/queues/{queue}/delayed/run-now"),
            Action::DelayedDelete => format!("/queues/{queue}/delayed/delete"),
            Action::Pause => format!("/queues/{queue}/pause"),
            Action::Resume => format!("/queues/{queue}/resume"),
            Action::Quiet => "/control/quiet".to_owned(),
            Action::Stop => "/control/stop".to_owned(),
        }
    }

    /// Runs it on one queue.
    fn on_queue(self, client: &mut Client, ids: &[String]) -> Result<Outcome, concur_worker::Error> {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let touched = |n: usize| Outcome { touched: n as u64, not_retriable: 0 };
        match self {
            Action::Retry | Action::RetryAll => {
                let done = if self == Action::Retry { client.dead_retry(&ids)? } else { client.dead_retry_all()? };
                Ok(Outcome { touched: done.retried as u64, not_retriable: done.not_retriable as u64 })
            }
            Action::Purge => Ok(Outcome { touched: client.dead_purge()?, not_retriable: 0 }),
            Action::DeadDelete => Ok(touched(client.dead_delete(&ids)?)),
            Action::RunNow => Ok(touched(client.delayed_run_now(&ids)?)),
            Action::DelayedDelete => Ok(touched(client.delayed_delete(&ids)?)),
            Action::Pause => Ok(touched(usize::from(client.pause()?))),
            Action::Resume => Ok(touched(usize::from(client.resume()?))),
            Action::Quiet | Action::Stop => Err(concur_worker::Error::InvalidOption(
                "a worker control is asked of a worker, not a queue".to_owned(),
            )),
        }
    }
}

/// Logs and counts what `action` did on `queue`.
fn record(state: &AppState, queue: &str, action: Action, outcome: &Result<Outcome, Refusal>) {
    match outcome {
        Ok(done) => {
            tracing::info!(
                target: "concur_dashboard::actions",
                action = action.name(),
                queue,
                tasks = done.touched,
                not_retriable = done.not_retriable,
                "dashboard action: {} on {queue} touched {}",
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
}

/// The ids a request names: JSON `{"ids": […]}`, or form fields `id`.
fn ids_of(headers: &HeaderMap, body: &Bytes) -> Result<Vec<String>, Refusal> {
    if is_json(headers) {
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

/// The worker a request names: JSON `{"id": "…"}`, or the form field `id`.
fn worker_of(headers: &HeaderMap, body: &Bytes) -> Result<String, Refusal> {
    let id = if is_json(headers) {
        #[derive(serde::Deserialize)]
        struct Id {
            id: String,
        }
        serde_json::from_slice::<Id>(body).ok().map(|id| id.id)
    } else {
        form_urlencoded::parse(body).find(|(k, _)| k == "id").map(|(_, v)| v.into_owned())
    };
    id.ok_or_else(|| Refusal::bad_request("Name the worker: {\"id\": \"…\"}, or the form field id."))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

/// Where a page's form sends the browser after `action` on `queue`.
fn back_to_queue(queue: &str, action: Action, done: Outcome) -> Response {
    let (page, anchor) = match action {
        Action::RunNow | Action::DelayedDelete => ("/delayed", ""),
        Action::Pause | Action::Resume => ("", ""),
        _ => ("", "#dead"),
    };
    let done_query = format!("done={}&n={}&skipped={}", action.name(), done.touched, done.not_retriable);
    Redirect::to(&format!("/queues/{queue}{page}?{done_query}{anchor}")).into_response()
}

/// The route of a queue action: for the pages (`api` false) or the API.
pub(crate) fn queue_route(action: Action, api: bool) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              head: Head,
              QueueName(queue): QueueName,
              headers: HeaderMap,
              body: Bytes| async move {
            let outcome = async {
                let ids = if action.takes_ids() { ids_of(&headers, &body)? } else { Vec::new() };
                let name = queue.clone();
                let done =
                    blocking(&state.store, move |store| store.with_client(&name, |c| action.on_queue(c, &ids))).await;
                record(&state, &queue, action, &done);
                let done = done?;
                Ok(if api { Json(done).into_response() } else { back_to_queue(&queue, action, done) })
            };
            head.answer(outcome.await)
        },
    )
}

/// The route of a worker control (quiet or stop): asked on every queue
/// shown that the worker is registered in.
pub(crate) fn worker_route(action: Action, api: bool) -> MethodRouter<AppState> {
    post(move |State(state): State<AppState>, head: Head, headers: HeaderMap, body: Bytes| async move {
        let outcome = async {
            let id = worker_of(&headers, &body)?;
            let worker = find_worker(&state.store, id).await?;
            let control = if action == Action::Stop { WorkerControl::Stop } else { WorkerControl::Quiet };
            let mut asked = 0;
            for share in &worker.queues {
                let (queue, id) = (share.queue.clone(), worker.id.clone());
                let done = blocking(&state.store, move |store| {
                    store
                        .with_client(&queue, |c| c.control_worker(&id, control))
                        .map(|()| Outcome { touched: 1, not_retriable: 0 })
                })
                .await;
                record(&state, &share.queue, action, &done);
                asked += done?.touched;
            }
            let done = Outcome { touched: asked, not_retriable: 0 };
            if api {
                return Ok(Json(done).into_response());
            }
            let href = item_href("/workers", &worker.id);
            let join = if href.contains('?') { '&' } else { '?' };
            Ok(Redirect::to(&format!("{href}{join}done={}&n={asked}", action.name())).into_response())
        };
        head.answer(outcome.await)
    })
}
