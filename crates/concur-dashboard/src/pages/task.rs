//! A task by id: its result record, or where it is now (held by a worker,
//! delayed), found with at most three lookups per queue shown, no scan.
//! The address can be bookmarked: `/tasks/ID`, or `/queues/QUEUE/tasks/ID`
//! to look in one queue only.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use concur_worker::{ResultStatus, TaskLocation};

use super::format::{clip, when};
use crate::error::Refusal;
use crate::params::{is_task_id, Query, QueueName, TaskId};
use crate::respond::{render, Head, Page};
use crate::state::AppState;
use crate::store::blocking;
use crate::views::{self, FoundTask};

struct TaskView {
    queue: String,
    /// Where it is, in a sentence.
    where_text: String,
    rows: Vec<(&'static str, String)>,
    result: Option<String>,
    error: Option<String>,
    payload: Option<String>,
}

impl From<&FoundTask> for TaskView {
    fn from(found: &FoundTask) -> TaskView {
        let mut view = TaskView {
            queue: found.queue.clone(),
            where_text: String::new(),
            rows: Vec::new(),
            result: None,
            error: None,
            payload: None,
        };
        match &found.location {
            TaskLocation::Finished(r) => {
                let status = match r.status {
                    ResultStatus::Succeeded => "succeeded",
                    ResultStatus::Dead => "dead",
                };
                view.where_text = format!("Finished: it {status}.");
                view.rows = vec![
                    ("task", r.task.clone()),
                    ("status", status.to_owned()),
                    ("worker", r.worker.clone()),
                    ("attempts", r.attempts.to_string()),
                    ("started", when(r.started_at)),
                    ("finished", when(r.finished_at)),
                ];
                view.result =
                    r.result.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()));
                view.error = r.error.clone();
            }
            TaskLocation::Running { worker } => {
                view.where_text = "Running: a worker holds it.".to_owned();
                view.rows = vec![("worker", worker.clone())];
            }
            TaskLocation::Delayed { due, task } => {
                view.where_text = "Delayed: it waits for its time or for a retry.".to_owned();
                view.rows = vec![("due", when(*due))];
                if let Some(envelope) = task.as_ref().and_then(|t| t.envelope.as_ref()) {
                    view.rows.push(("task", envelope.task.clone()));
                    view.rows.push(("attempts so far", envelope.attempts.to_string()));
                    view.error = envelope.error.clone();
                }
                view.payload = task.as_ref().map(|t| clip(&t.raw, 20_000).0);
            }
            _ => view.where_text = "Known, in a place this dashboard does not describe.".to_owned(),
        }
        view
    }
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    page: Page,
    id: String,
    task: Option<TaskView>,
    searched: String,
}

async fn show(state: AppState, head: Head, queues: Vec<String>, id: String) -> Response {
    let searched = match queues.as_slice() {
        [one] => format!("the queue {one}"),
        many => format!("the {} queues shown", many.len()),
    };
    let lookup = id.clone();
    let outcome = blocking(&state.store, move |store| views::find_task(store, &queues, &lookup)).await.map(|found| {
        let not_found = found.is_none();
        let mut response = render(&TaskPage {
            page: Page::new(&state, &head.nonce, format!("Task {id}")),
            task: found.as_ref().map(TaskView::from),
            id,
            searched,
        });
        if not_found {
            *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
        }
        response
    });
    head.answer(outcome)
}

/// `GET /tasks/{id}`: looks in every queue shown.
pub(crate) async fn task_by_path(State(state): State<AppState>, head: Head, TaskId(id): TaskId) -> Response {
    let queues = state.store.queues().to_vec();
    show(state, head, queues, id).await
}

/// `GET /tasks?id=`: what the search box sends.
pub(crate) async fn task_by_query(State(state): State<AppState>, head: Head, query: Query) -> Response {
    match query.get("id").map(str::trim) {
        Some(id) if is_task_id(id) => {
            let queues = state.store.queues().to_vec();
            show(state, head, queues, id.to_owned()).await
        }
        _ => head.answer(Err(Refusal::not_found())),
    }
}

/// `GET /queues/{queue}/tasks/{id}`: looks in that queue only.
pub(crate) async fn task_in_queue(
    State(state): State<AppState>,
    head: Head,
    QueueName(queue): QueueName,
    TaskId(id): TaskId,
) -> Response {
    show(state, head, vec![queue], id).await
}
