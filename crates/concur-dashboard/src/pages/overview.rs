//! The overview: every queue's counts and every live worker.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::chart::Chart;
use super::format::{age, count, heartbeat, item_href, or_dash, when};
use crate::params::Query;
use crate::respond::{render, Head, Page};
use crate::snapshot::{Overview, QueueSummary, ShardSummary, WorkerRow};
use crate::state::AppState;
use crate::store::blocking;
use crate::views::{self, Throughput};

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
    pub(crate) oldest: String,
    pub(crate) paused: bool,
    /// Its shards' rows, shown indented under it.
    pub(crate) shards: Vec<ShardRow>,
}

/// A shard's row, formatted.
pub(crate) struct ShardRow {
    pub(crate) name: String,
    pub(crate) pending: String,
    pub(crate) processing: String,
    pub(crate) delayed: String,
    pub(crate) dead: String,
    pub(crate) oldest: String,
}

impl From<&ShardSummary> for ShardRow {
    fn from(s: &ShardSummary) -> ShardRow {
        ShardRow {
            name: s.name.clone(),
            pending: count(s.pending),
            processing: count(s.processing),
            delayed: count(s.delayed),
            dead: count(s.dead),
            oldest: age(s.oldest_pending_age_ms),
        }
    }
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
            oldest: age(q.oldest_pending_age_ms),
            paused: q.paused,
            shards: q.shards.iter().map(ShardRow::from).collect(),
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
    pub(crate) state: String,
    pub(crate) control: String,
    /// `href` followed by `?` or `&`, to add a query.
    pub(crate) query_base: String,
}

impl From<&WorkerRow> for WorkerView {
    fn from(w: &WorkerRow) -> WorkerView {
        let href = item_href("/workers", &w.id);
        WorkerView {
            id: w.id.clone(),
            query_base: format!("{href}{}", if href.contains('?') { '&' } else { '?' }),
            href,
            queues: w
                .queues
                .iter()
                .map(|q| format!("{} ({})", q.queue, count(q.processing)))
                .collect::<Vec<_>>()
                .join(", "),
            in_flight: count(w.in_flight),
            concurrency: or_dash(w.concurrency),
            heartbeat: heartbeat(w.heartbeat_ms, w.heartbeat_age_ms),
            alive: w.alive(),
            state: or_dash(w.state.as_ref()),
            control: or_dash(w.control),
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
    charts: Vec<Chart>,
}

/// The two throughput charts of a view: per minute and per hour, over the
/// ranges the query asks for (`minutes`, 1 to 60; `hours`, 1 to 720).
pub(crate) fn charts(throughput: &Throughput) -> Vec<Chart> {
    vec![
        Chart::new(format!("Done per minute, last {} minutes", throughput.per_minute.len()), &throughput.per_minute),
        Chart::new(format!("Done per hour, last {} hours", throughput.per_hour.len()), &throughput.per_hour),
    ]
}

/// `GET /?minutes=&hours=`.
pub(crate) async fn overview(State(state): State<AppState>, head: Head, query: Query) -> Response {
    let outcome = async {
        let range = query.range()?;
        let (view, throughput) = blocking(&state.store, move |store| {
            let view = Overview::new(store.statuses_with_shards()?);
            let throughput = views::throughput(store, store.queues(), range.minutes, range.hours)?;
            Ok((view, throughput))
        })
        .await?;
        Ok(render(&OverviewPage {
            page: Page::new(&state, &head.nonce, "Overview").live("/events/overview".to_owned()),
            generated: when(view.generated_at),
            queues: view.queues.iter().map(QueueRow::from).collect(),
            workers: view.workers.iter().map(WorkerView::from).collect(),
            charts: charts(&throughput),
        }))
    };
    head.answer(outcome.await)
}
