//! A queue's pages — its counts, workers, schedules, shards, throughput and
//! dead letters; its pending and delayed tasks; its task names — and the
//! page that shows what a bulk action will touch before it runs.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use concur_worker::{DeadEntry, DeadKind, ListedTask, ScheduleStatus};

use super::chart::Chart;
use super::format::item_href;
use super::format::{clip, count, or_dash, seconds, when};
use super::overview::{charts, QueueRow, WorkerView};
use crate::actions::Action;
use crate::error::Refusal;
use crate::params::{checked_ids, Query, QueueName};
use crate::respond::{render, Head, Page};
use crate::snapshot::QueueDetail;
use crate::state::AppState;
use crate::store::blocking;
use crate::views::{self, ListPage, TaskList, TaskRow};

/// How much of a payload, argument list or error a row shows.
const CLIP: usize = 2000;

/// The top of every page of a queue.
pub(crate) struct QueueHead {
    pub(crate) name: String,
    pub(crate) counts: QueueRow,
    pub(crate) paused: bool,
    pub(crate) notice: Option<String>,
    /// Which of the queue's pages this is.
    pub(crate) tab: &'static str,
}

impl QueueHead {
    fn new(detail: &QueueDetail, query: &Query, tab: &'static str) -> QueueHead {
        QueueHead {
            name: detail.summary.name.clone(),
            counts: QueueRow::from(&detail.summary),
            paused: detail.summary.paused,
            notice: notice(query),
            tab,
        }
    }
}

/// A page of a listing, formatted, with the address its pager links to.
pub(crate) struct ListView<R> {
    pub(crate) page: u64,
    pub(crate) size: u64,
    pub(crate) last_page: u64,
    pub(crate) total: String,
    /// The listing's address followed by `?` or `&`.
    pub(crate) base: String,
    pub(crate) entries: Vec<R>,
}

impl<R> ListView<R> {
    pub(crate) fn new<T>(list: &ListPage<T>, base: String, row: impl Fn(usize, &T) -> R) -> ListView<R> {
        let first = (list.page - 1) * list.size;
        ListView {
            page: list.page,
            size: list.size,
            last_page: list.last_page,
            total: if list.total == 1 { "1 in all".to_owned() } else { format!("{} in all", count(list.total)) },
            base,
            entries: list.entries.iter().enumerate().map(|(i, t)| row(first as usize + i + 1, t)).collect(),
        }
    }
}

/// A dead-letter entry, formatted.
pub(crate) struct DeadRow {
    id: String,
    /// The task's page, when the entry has an id.
    href: Option<String>,
    has_id: bool,
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
        let has_id = !e.id.is_empty();
        DeadRow {
            id: e.id.clone(),
            href: has_id.then(|| item_href("/tasks", &e.id)),
            has_id,
            kind: kind_name(e.kind),
            task: or_dash(e.task.as_ref()),
            attempts: e.attempts,
            worker: or_dash(e.worker.as_ref()),
            died: when(e.died_at),
            error,
            payload,
            payload_size: format!("{} bytes", count(e.payload_size)),
            clipped,
            retriable: has_id && e.retry_payload().is_some(),
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

/// A task on a list (pending, delayed, held by a worker), formatted.
pub(crate) struct TaskListRow {
    pub(crate) position: usize,
    pub(crate) id: String,
    pub(crate) href: Option<String>,
    pub(crate) has_id: bool,
    pub(crate) task: String,
    pub(crate) args: String,
    pub(crate) clipped: bool,
    pub(crate) attempts: String,
    pub(crate) enqueued: String,
    pub(crate) due: String,
    pub(crate) error: String,
}

impl TaskListRow {
    pub(crate) fn new(position: usize, t: &ListedTask) -> TaskListRow {
        let due = t.due.map(when).unwrap_or_default();
        match &t.envelope {
            Some(e) => {
                let args = serde_json::to_string(&e.args).unwrap_or_default();
                let (args, clipped) = clip(&args, CLIP);
                TaskListRow {
                    position,
                    id: e.id.clone(),
                    href: (!e.id.is_empty()).then(|| item_href("/tasks", &e.id)),
                    has_id: !e.id.is_empty(),
                    task: e.task.clone(),
                    args,
                    clipped,
                    attempts: e.attempts.to_string(),
                    enqueued: e.enqueued_at.map(when).unwrap_or_default(),
                    due,
                    error: clip(e.error.as_deref().unwrap_or_default(), CLIP).0,
                }
            }
            // Not a task (a worker dead-letters it when it fetches it), or a
            // bare number: shown as stored.
            None => {
                let (args, clipped) = clip(&t.raw, CLIP);
                TaskListRow {
                    position,
                    id: String::new(),
                    href: None,
                    has_id: false,
                    task: "(as pushed)".to_owned(),
                    args,
                    clipped,
                    attempts: String::new(),
                    enqueued: String::new(),
                    due,
                    error: String::new(),
                }
            }
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

/// What an action that just ran did, from the address it sent the browser
/// back to: only known words and numbers, so nothing from the address is
/// shown as it was written.
pub(crate) fn notice(query: &Query) -> Option<String> {
    let n = query.number("n", 0, 0..=u64::MAX).ok()?;
    let skipped = query.number("skipped", 0, 0..=u64::MAX).ok()?;
    let n = count(n);
    let text = match Action::named(query.get("done")?)? {
        Action::Retry | Action::RetryAll => format!("Queued {n} dead tasks again."),
        Action::Purge | Action::DeadDelete => format!("Deleted {n} dead-letter entries."),
        Action::RunNow => format!("Moved {n} delayed tasks to the front of the queue."),
        Action::DelayedDelete => format!("Deleted {n} delayed tasks."),
        Action::Pause => "Paused: workers take nothing from this queue until it is resumed.".to_owned(),
        Action::Resume => "Resumed: workers take from this queue again.".to_owned(),
        Action::Quiet => "Asked to quiet down: it takes no new tasks.".to_owned(),
        Action::Stop => "Asked to stop.".to_owned(),
    };
    Some(if skipped > 0 {
        format!("{text} {} stayed: their payload was too large to keep, so they cannot be retried.", count(skipped))
    } else {
        text
    })
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    page: Page,
    queue: QueueHead,
    charts: Vec<Chart>,
    workers: Vec<WorkerView>,
    schedules: Vec<ScheduleRow>,
    shards: Vec<String>,
    list: ListView<DeadRow>,
}

/// `GET /queues/{queue}?page=&size=&minutes=&hours=`: the queue and a page
/// of its dead letters.
pub(crate) async fn queue_page(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    let outcome = async {
        let paging = query.paging()?;
        let range = query.range()?;
        let queue = name.clone();
        let (detail, dead, throughput) = blocking(&state.store, move |store| {
            let (detail, dead) = views::queue_with_dead(store, &queue, paging)?;
            let throughput = views::throughput(store, std::slice::from_ref(&queue), range.minutes, range.hours)?;
            Ok((detail, dead, throughput))
        })
        .await?;
        paging.check(dead.total)?;
        Ok(render(&QueuePage {
            page: Page::new(&state, &head.nonce, format!("Queue {name}")).live(format!("/events/queues/{name}")),
            queue: QueueHead::new(&detail, &query, "dead"),
            charts: charts(&throughput),
            workers: detail.workers.iter().map(WorkerView::from).collect(),
            schedules: detail.schedules.iter().map(ScheduleRow::from).collect(),
            shards: detail.summary.shards.iter().map(|s| s.name.clone()).collect(),
            list: ListView::new(&dead, format!("/queues/{name}?"), |_, e| DeadRow::from(e)),
        }))
    };
    head.answer(outcome.await)
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TaskListPage {
    page: Page,
    queue: QueueHead,
    list: ListView<TaskListRow>,
    /// Delayed tasks: their due time, and "run now" and delete.
    delayed: bool,
    actions: bool,
    show_due: bool,
}

/// `GET /queues/{queue}/pending?page=&size=` and `/delayed?…` (with "run
/// now" and delete).
async fn task_list_page(state: AppState, head: Head, name: String, query: Query, which: TaskList) -> Response {
    let outcome = async {
        let paging = query.paging()?;
        let queue = name.clone();
        let (detail, list) = blocking(&state.store, move |store| which.read(store, &queue, paging)).await?;
        paging.check(list.total)?;
        let page = Page::new(&state, &head.nonce, format!("Queue {name}")).live(format!("/events/queues/{name}"));
        let (tab, delayed) = match which {
            TaskList::Pending => ("pending", false),
            TaskList::Delayed => ("delayed", true),
        };
        Ok(render(&TaskListPage {
            actions: delayed && !page.read_only,
            page,
            queue: QueueHead::new(&detail, &query, tab),
            list: ListView::new(&list, format!("/queues/{name}/{tab}?"), TaskListRow::new),
            delayed,
            show_due: delayed,
        }))
    };
    head.answer(outcome.await)
}

/// `GET /queues/{queue}/pending?page=&size=`.
pub(crate) async fn pending_page(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    task_list_page(state, head, name, query, TaskList::Pending).await
}

/// `GET /queues/{queue}/delayed?page=&size=`.
pub(crate) async fn delayed_page(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    task_list_page(state, head, name, query, TaskList::Delayed).await
}

/// A task name's figures, formatted: (p50, p95, p99) of run and wait.
pub(crate) struct StatsRow {
    name: String,
    count: String,
    failed: String,
    run: (String, String, String),
    wait: (String, String, String),
}

impl From<&TaskRow> for StatsRow {
    fn from(r: &TaskRow) -> StatsRow {
        StatsRow {
            name: r.name.clone(),
            count: count(r.count),
            failed: count(r.failed),
            run: (seconds(r.run.p50), seconds(r.run.p95), seconds(r.run.p99)),
            wait: (seconds(r.wait.p50), seconds(r.wait.p95), seconds(r.wait.p99)),
        }
    }
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    page: Page,
    queue: Option<QueueHead>,
    minutes: usize,
    rows: Vec<StatsRow>,
}

/// `GET /queues/{queue}/stats?minutes=`: per task name, over 1 to 60 minutes.
pub(crate) async fn queue_stats(
    State(state): State<AppState>,
    head: Head,
    QueueName(name): QueueName,
    query: Query,
) -> Response {
    let outcome = async {
        let range = query.range()?;
        let queue = name.clone();
        let (detail, rows) = blocking(&state.store, move |store| {
            Ok((
                views::queue_detail(store, &queue)?,
                views::task_stats(store, std::slice::from_ref(&queue), range.minutes)?,
            ))
        })
        .await?;
        Ok(render(&StatsPage {
            page: Page::new(&state, &head.nonce, format!("Queue {name}: task names")),
            queue: Some(QueueHead::new(&detail, &query, "stats")),
            minutes: range.minutes,
            rows: rows.iter().map(StatsRow::from).collect(),
        }))
    };
    head.answer(outcome.await)
}

/// `GET /stats?minutes=`: per task name over every queue shown.
pub(crate) async fn all_stats(State(state): State<AppState>, head: Head, query: Query) -> Response {
    let outcome = async {
        let range = query.range()?;
        let rows = blocking(&state.store, move |store| views::task_stats(store, store.queues(), range.minutes)).await?;
        Ok(render(&StatsPage {
            page: Page::new(&state, &head.nonce, "Task names"),
            queue: None,
            minutes: range.minutes,
            rows: rows.iter().map(StatsRow::from).collect(),
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

/// `GET /queues/{queue}/confirm?action=…[&id=…]`: how many tasks a bulk
/// action will touch, and the button that runs it. The actions: `retry`,
/// `delete` (dead letters by id), `retry-all`, `purge`, `run-now`,
/// `delayed-delete` (delayed tasks by id).
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
        let action = query.get("action").and_then(Action::named).filter(|a| a.is_bulk()).ok_or_else(|| {
            Refusal::bad_request("The action must be retry, delete, retry-all, purge, run-now or delayed-delete.")
        })?;
        let (ids, touches) = if action.takes_ids() {
            let ids = checked_ids(query.all("id"))?;
            let n = ids.len() as u64;
            (ids, n)
        } else {
            let queue = name.clone();
            let status = blocking(&state.store, move |store| store.with_client(&queue, |c| c.status())).await?;
            (Vec::new(), status.dead)
        };
        let n = count(touches);
        let (heading, question, button, danger) = match action {
            Action::Retry => (
                "Retry the selected dead tasks",
                format!("This will queue {n} selected dead tasks again on {name}."),
                format!("Retry {n} tasks"),
                false,
            ),
            Action::DeadDelete => (
                "Delete the selected dead letters",
                format!("This will delete {n} selected dead-letter entries of {name}. They cannot be brought back."),
                format!("Delete {n} entries"),
                true,
            ),
            Action::RetryAll => (
                "Retry every dead task",
                format!(
                    "This will queue all {n} dead tasks of {name} again (entries whose payload was too large to keep \
                     stay)."
                ),
                format!("Retry {n} tasks"),
                false,
            ),
            Action::RunNow => (
                "Run the selected delayed tasks now",
                format!("This will move {n} selected delayed tasks of {name} to the front of the queue."),
                format!("Run {n} tasks now"),
                false,
            ),
            Action::DelayedDelete => (
                "Delete the selected delayed tasks",
                format!("This will delete {n} selected delayed tasks of {name}. They will not run."),
                format!("Delete {n} tasks"),
                true,
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
            action: action.page_route(&name),
            danger,
            touches,
            ids,
            name,
        }))
    };
    head.answer(outcome.await)
}
