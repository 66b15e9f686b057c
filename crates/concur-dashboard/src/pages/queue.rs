//! A queue's page, and the page that shows what a bulk action will touch
//! before it runs.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use concur_worker::{DeadEntry, DeadKind, ScheduleStatus};

use super::format::{clip, count, or_dash, when};
use super::overview::{item_href, QueueRow, WorkerView};
use super::{render, Head, Page};
use crate::error::Refusal;
use crate::params::{checked_ids, Query, QueueName};
use crate::server::AppState;
use crate::store::blocking;
use crate::views::{self, DeadPage};

/// How much of a payload or error a row of the list shows.
const CLIP: usize = 2000;

/// A dead-letter entry, formatted.
struct DeadRow {
    id: String,
    /// The task's page, when the entry has an id.
    href: Option<String>,
    kind: &'static str,
    task: String,
    attempts: u32,
    worker: String,
    died: String,
    error: String,
    payload: String,
    payload_size: String,
    clipped: bool,
    retriable: bool,
}

impl From<&DeadEntry> for DeadRow {
    fn from(e: &DeadEntry) -> DeadRow {
        let full = e
            .payload
            .clone()
            .or_else(|| e.payload_hex.as_ref().map(|hex| format!("(hexadecimal) {hex}")))
            .or_else(|| e.payload_prefix.as_ref().map(|prefix| format!("(first bytes only) {prefix}")))
            .unwrap_or_default();
        let (payload, clipped) = clip(&full, CLIP);
        let (error, _) = clip(&e.error, CLIP);
        DeadRow {
            id: e.id.clone(),
            href: (!e.id.is_empty()).then(|| item_href("/tasks", &e.id)),
            kind: kind_name(e.kind),
            task: or_dash(e.task.as_ref()),
            attempts: e.attempts,
            worker: or_dash(e.worker.as_ref()),
            died: when(e.died_at),
            error,
            payload,
            payload_size: format!("{} bytes", count(e.payload_size)),
            clipped,
            retriable: !e.id.is_empty() && e.retry_payload().is_some(),
        }
    }
}

pub(crate) fn kind_name(kind: DeadKind) -> &'static str {
    match kind {
        DeadKind::Failed => "failed",
        DeadKind::Rejected => "rejected",
        DeadKind::Malformed => "malformed",
        DeadKind::Poison => "poison",
    }
}

struct DeadList {
    page: u64,
    size: u64,
    last_page: u64,
    total: String,
    entries: Vec<DeadRow>,
}

impl From<&DeadPage> for DeadList {
    fn from(d: &DeadPage) -> DeadList {
        DeadList {
            page: d.page,
            size: d.size,
            last_page: d.last_page,
            total: if d.total == 1 { "1 entry".to_owned() } else { format!("{} entries", count(d.total)) },
            entries: d.entries.iter().map(DeadRow::from).collect(),
        }
    }
}

struct ScheduleRow {
    name: String,
    spec: String,
    task: String,
    last: String,
    next: String,
    enqueued: String,
}

impl From<&ScheduleStatus> for ScheduleRow {
    fn from(s: &ScheduleStatus) -> ScheduleRow {
        let time = |t: Option<f64>| t.map(when).unwrap_or_else(|| "—".to_owned());
        ScheduleRow {
            name: s.name.clone(),
            spec: s.spec.clone(),
            task: s.task.clone(),
            last: time(s.last),
            next: time(s.next),
            enqueued: time(s.enqueued),
        }
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    page: Page,
    name: String,
    notice: Option<String>,
    counts: QueueRow,
    workers: Vec<WorkerView>,
    schedules: Vec<ScheduleRow>,
    shards: Vec<String>,
    dead: DeadList,
}

/// What an action that just ran did, from the address it sent the browser
/// back to: only known words and numbers, so nothing from the address is
/// shown as it was written.
fn notice(query: &Query) -> Option<String> {
    let n = query.number("n", 0, 0..=u64::MAX).ok()?;
    let skipped = query.number("skipped", 0, 0..=u64::MAX).ok()?;
    let text = match query.get("done")? {
        "retry" | "retry-all" => format!("Queued {} dead tasks again.", count(n)),
        "purge" => format!("Deleted {} dead-letter entries.", count(n)),
        _ => return None,
    };
    Some(if skipped > 0 {
        format!("{text} {} stayed: their payload was too large to keep, so they cannot be retried.", count(skipped))
    } else {
        text
    })
}

/// `GET /queues/{queue}?page=&size=`.
pub(crate) async fn queue_page(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    let outcome = async {
        let paging = query.paging()?;
        let queue = name.clone();
        let (detail, dead) = blocking(&state.store, move |store| views::queue_with_dead(store, &queue, paging)).await?;
        paging.check(dead.total)?;
        Ok(render(&QueuePage {
            page: Page::new(&state, &head.nonce, format!("Queue {name}")).live(format!("/events/queues/{name}")),
            notice: notice(&query),
            counts: QueueRow::from(&detail.summary),
            workers: detail.workers.iter().map(WorkerView::from).collect(),
            schedules: detail.schedules.iter().map(ScheduleRow::from).collect(),
            shards: detail.shards.clone(),
            dead: DeadList::from(&dead),
            name,
        }))
    };
    head.answer(outcome.await)
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    page: Page,
    name: String,
    heading: String,
    question: String,
    button: String,
    action: String,
    danger: bool,
    touches: u64,
    ids: Vec<String>,
}

/// `GET /queues/{queue}/confirm?action=retry&id=…|retry-all|purge`: how many
/// tasks the action will touch, and the button that runs it.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    let outcome = async {
        if state.security.read_only {
            return Err(Refusal::forbidden("This dashboard runs read-only (--read-only): it changes nothing."));
        }
        let action = query.get("action").unwrap_or_default();
        let (ids, touches) = match action {
            "retry" => {
                let ids = checked_ids(query.all("id"))?;
                let n = ids.len() as u64;
                (ids, n)
            }
            "retry-all" | "purge" => {
                let queue = name.clone();
                let status = blocking(&state.store, move |store| store.with_client(&queue, |c| c.status())).await?;
                (Vec::new(), status.dead)
            }
            _ => return Err(Refusal::bad_request("The action must be retry, retry-all or purge.")),
        };
        let n = count(touches);
        let (heading, question, button, danger) = match action {
            "retry" => (
                "Retry the selected dead tasks",
                format!("This will queue {n} selected dead tasks again on {name}."),
                format!("Retry {n} tasks"),
                false,
            ),
            "retry-all" => (
                "Retry every dead task",
                format!(
                    "This will queue all {n} dead tasks of {name} again (entries whose payload was too large to keep \
                     stay)."
                ),
                format!("Retry {n} tasks"),
                false,
            ),
            _ => (
                "Delete every dead letter",
                format!("This will delete all {n} dead-letter entries of {name}. They cannot be brought back."),
                format!("Delete {n} entries"),
                true,
            ),
        };
        let question =
            if touches == 0 { "The dead-letter list is empty: there is nothing to do.".to_owned() } else { question };
        Ok(render(&ConfirmPage {
            page: Page::new(&state, &head.nonce, heading),
            heading: heading.to_owned(),
            question,
            button,
            action: format!("/queues/{name}/dead/{action}"),
            danger,
            touches,
            ids,
            name,
        }))
    };
    head.answer(outcome.await)
}
