//! The overview: every queue's counts and every live worker.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::format::{count, heartbeat, or_dash, when};
use super::{render, Head, Page};
use crate::server::AppState;
use crate::snapshot::{Overview, QueueSummary, WorkerRow};
use crate::store::blocking;

/// What a path segment may hold unencoded (RFC 3986's unreserved set).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The address of a page about `id` under `base` (`/workers`, `/tasks`):
/// `base/ID`, percent-encoded; `base?id=ID` for `.` and `..`, which a
/// browser would take for steps in the path.
pub(crate) fn item_href(base: &str, id: &str) -> String {
    let encoded = utf8_percent_encode(id, SEGMENT).to_string();
    if id == "." || id == ".." {
        format!("{base}?id={encoded}")
    } else {
        format!("{base}/{encoded}")
    }
}

/// A queue's row, formatted.
pub(crate) struct QueueRow {
    pub(crate) name: String,
    pub(crate) pending: String,
    pub(crate) processing: String,
    pub(crate) delayed: String,
    pub(crate) dead: String,
    pub(crate) worker_count: String,
    pub(crate) done_last_minute: String,
    pub(crate) done: String,
    pub(crate) retried: String,
    pub(crate) reaped: String,
    pub(crate) dead_total: String,
    pub(crate) dead_trimmed: String,
    pub(crate) results: String,
}

impl From<&QueueSummary> for QueueRow {
    fn from(q: &QueueSummary) -> QueueRow {
        QueueRow {
            name: q.name.clone(),
            pending: count(q.pending),
            processing: count(q.processing),
            delayed: count(q.delayed),
            dead: count(q.dead),
            worker_count: count(q.worker_count as u64),
            done_last_minute: count(q.done_last_minute),
            done: count(q.done),
            retried: count(q.retried),
            reaped: count(q.reaped),
            dead_total: count(q.dead_total),
            dead_trimmed: count(q.dead_trimmed),
            results: count(q.results),
        }
    }
}

/// A worker's row, formatted.
pub(crate) struct WorkerView {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) queues: String,
    pub(crate) in_flight: String,
    pub(crate) concurrency: String,
    pub(crate) heartbeat: String,
    pub(crate) alive: bool,
}

impl From<&WorkerRow> for WorkerView {
    fn from(w: &WorkerRow) -> WorkerView {
        WorkerView {
            id: w.id.clone(),
            href: item_href("/workers", &w.id),
            queues: w
                .queues
                .iter()
                .map(|q| format!("{} ({})", q.queue, count(q.processing)))
                .collect::<Vec<_>>()
                .join(", "),
            in_flight: count(w.in_flight),
            concurrency: or_dash(w.concurrency),
            heartbeat: heartbeat(w.heartbeat_ms),
            alive: w.alive(),
        }
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    page: Page,
    generated: String,
    queues: Vec<QueueRow>,
    workers: Vec<WorkerView>,
}

/// `GET /`.
pub(crate) async fn overview(State(state): State<AppState>, head: Head) -> Response {
    let outcome = blocking(&state.store, |store| Ok(Overview::new(&store.statuses()?))).await.map(|view| {
        render(&OverviewPage {
            page: Page::new(&state, &head.nonce, "Overview").live("/events/overview".to_owned()),
            generated: when(view.generated_at),
            queues: view.queues.iter().map(QueueRow::from).collect(),
            workers: view.workers.iter().map(WorkerView::from).collect(),
        })
    });
    head.answer(outcome)
}

#[cfg(test)]
mod tests {
    use super::item_href;

    #[test]
    fn ids_become_one_path_segment() {
        assert_eq!(item_href("/workers", "8812-3fa1"), "/workers/8812-3fa1");
        assert_eq!(item_href("/tasks", "a/b?c#d"), "/tasks/a%2Fb%3Fc%23d");
        assert_eq!(item_href("/tasks", "\"><img"), "/tasks/%22%3E%3Cimg");
        assert_eq!(item_href("/workers", ".."), "/workers?id=..");
    }
}
