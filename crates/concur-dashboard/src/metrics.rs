//! `/metrics`: the queues and workers in Prometheus' text format
//! (OpenMetrics 1.0, which Prometheus reads), through `prometheus-client`.
//!
//! Each scrape reads every queue shown (one status and one read of its
//! per-task-name totals each) into a fresh registry, so the figures are Redis', not a copy kept
//! here; the dashboard's own counters (its actions, its live reads) live
//! across scrapes. When Redis cannot be read, the scrape still answers,
//! with `concur_redis_up 0` and the dashboard's own counters.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `concur_redis_up` | gauge | |
//! | `concur_queue_pending`, `_processing`, `_delayed`, `_dead`, `_results`, `_workers`, `_done_last_minute` | gauge | `queue` |
//! | `concur_queue_done_total`, `_retried_total`, `_dead_letters_total`, `_reaped_total`, `_dead_trimmed_total` | counter | `queue` |
//! | `concur_queue_paused`, `concur_queue_oldest_pending_age_seconds` | gauge | `queue` |
//! | `concur_worker_in_flight`, `_concurrency`, `_heartbeat_seconds` (left), `_heartbeat_age_seconds`, `_alive` | gauge | `queue`, `worker` |
//! | `concur_task_attempts_total`, `concur_task_failures_total` | counter | `queue`, `task` |
//! | `concur_task_run_seconds`, `concur_task_wait_seconds` | histogram | `queue`, `task` |
//! | `concur_dashboard_actions_total`, `_action_tasks_total` | counter | `action`, `queue` |
//! | `concur_dashboard_live_reads_total` | counter | `view` |

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use concur_worker::{Histogram, Status, TaskStats, DURATION_BOUNDS};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use prometheus_client::registry::Unit;

use crate::state::AppState;
use crate::store::blocking;

/// The content type of the OpenMetrics text format.
const CONTENT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    queue: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    queue: String,
    worker: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    queue: String,
    task: String,
}

/// Histograms the workers recorded, one per label set: what
/// `prometheus-client`'s own `Histogram` cannot hold, since it is observed
/// value by value while these arrive as bucket counts.
#[derive(Debug, Default)]
struct Recorded(Vec<(TaskLabels, Histogram)>);

impl EncodeMetric for Recorded {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        for (labels, histogram) in &self.0 {
            let bounds = DURATION_BOUNDS.iter().copied().chain(std::iter::once(f64::MAX));
            let buckets: Vec<(f64, u64)> = bounds.zip(histogram.counts().iter().copied()).collect();
            encoder.encode_family(labels)?.encode_histogram::<NoLabelSet>(
                histogram.sum().as_secs_f64(),
                histogram.count(),
                &buckets,
                None,
            )?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ViewLabel {
    view: String,
}

type Gauges<L> = Family<L, Gauge>;
type Counters<L> = Family<L, Counter>;

/// Registers a family and hands it back for filling.
pub(crate) fn family<M: prometheus_client::registry::Metric + Clone + Default>(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> M {
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Fills `registry` with each task name's totals.
fn task_metrics(registry: &mut Registry, tasks: Vec<(String, Vec<TaskStats>)>) {
    let attempts: Counters<TaskLabels> = family(registry, "concur_task_attempts", "Attempts that ended, by task name");
    let failures: Counters<TaskLabels> = family(registry, "concur_task_failures", "Attempts that failed, by task name");
    let mut run = Recorded::default();
    let mut wait = Recorded::default();
    for (queue, stats) in tasks {
        for s in stats {
            let labels = TaskLabels { queue: queue.clone(), task: s.name.clone() };
            attempts.get_or_create(&labels).inc_by(s.count);
            failures.get_or_create(&labels).inc_by(s.failed);
            run.0.push((labels.clone(), s.run));
            wait.0.push((labels, s.wait));
        }
    }
    registry.register_with_unit("concur_task_run", "Run time of attempts, by task name", Unit::Seconds, run);
    registry.register_with_unit("concur_task_wait", "Wait from enqueue to start, by task name", Unit::Seconds, wait);
}

/// Fills `registry` with what the statuses say.
fn queue_metrics(registry: &mut Registry, statuses: &[(String, Status)]) {
    let pending: Gauges<QueueLabel> = family(registry, "concur_queue_pending", "Tasks waiting in the pending list");
    let processing: Gauges<QueueLabel> = family(registry, "concur_queue_processing", "Tasks held by workers");
    let delayed: Gauges<QueueLabel> = family(registry, "concur_queue_delayed", "Tasks waiting for a time");
    let dead: Gauges<QueueLabel> = family(registry, "concur_queue_dead", "Entries in the dead-letter list");
    let results: Gauges<QueueLabel> = family(registry, "concur_queue_results", "Result records kept");
    let workers: Gauges<QueueLabel> = family(registry, "concur_queue_workers", "Workers registered");
    let recent: Gauges<QueueLabel> =
        family(registry, "concur_queue_done_last_minute", "Tasks acknowledged in the last 60 seconds");
    let done: Counters<QueueLabel> = family(registry, "concur_queue_done", "Tasks acknowledged");
    let retried: Counters<QueueLabel> =
        family(registry, "concur_queue_retried", "Failed attempts scheduled for a retry");
    let dead_total: Counters<QueueLabel> = family(registry, "concur_queue_dead_letters", "Tasks dead-lettered");
    let reaped: Counters<QueueLabel> = family(registry, "concur_queue_reaped", "Tasks taken back from dead workers");
    let trimmed: Counters<QueueLabel> =
        family(registry, "concur_queue_dead_trimmed", "Dead-letter entries dropped at the cap");
    let paused: Gauges<QueueLabel> = family(registry, "concur_queue_paused", "1 while the queue is paused");
    let oldest: Gauges<QueueLabel> = family(
        registry,
        "concur_queue_oldest_pending_age_seconds",
        "How long ago the oldest pending task was enqueued (absent when none waits)",
    );
    for (name, status) in statuses {
        let q = QueueLabel { queue: name.clone() };
        pending.get_or_create(&q).set(signed(status.pending));
        processing.get_or_create(&q).set(signed(status.processing()));
        delayed.get_or_create(&q).set(signed(status.delayed));
        dead.get_or_create(&q).set(signed(status.dead));
        results.get_or_create(&q).set(signed(status.results));
        workers.get_or_create(&q).set(signed(status.workers.len() as u64));
        recent.get_or_create(&q).set(signed(status.done_last_minute));
        done.get_or_create(&q).inc_by(status.done);
        retried.get_or_create(&q).inc_by(status.retried);
        dead_total.get_or_create(&q).inc_by(status.dead_total);
        reaped.get_or_create(&q).inc_by(status.reaped);
        trimmed.get_or_create(&q).inc_by(status.dead_trimmed);
        paused.get_or_create(&q).set(i64::from(status.paused));
        if let Some(age) = status.oldest_pending_age {
            oldest.get_or_create(&q).set(signed(age.as_secs()));
        }
    }
    worker_metrics(registry, statuses, None);
}

/// Fills `registry` with the workers the statuses list — or only the
/// worker `only`, for a worker's own `/metrics`.
pub(crate) fn worker_metrics(registry: &mut Registry, statuses: &[(String, Status)], only: Option<&str>) {
    let in_flight: Gauges<WorkerLabels> = family(registry, "concur_worker_in_flight", "Tasks a worker holds");
    let concurrency: Gauges<WorkerLabels> =
        family(registry, "concur_worker_concurrency", "Tasks a worker runs at once, as it said");
    let heartbeat: Gauges<WorkerLabels> =
        family(registry, "concur_worker_heartbeat_seconds", "Seconds left on a worker's heartbeat (0 when missing)");
    let age: Gauges<WorkerLabels> = family(
        registry,
        "concur_worker_heartbeat_age_seconds",
        "Seconds since a worker's last heartbeat, by Redis's clock (absent while it is missing)",
    );
    let alive: Gauges<WorkerLabels> =
        family(registry, "concur_worker_alive", "1 while a worker's heartbeat stands, 0 once it is missing");
    for (name, status) in statuses {
        for worker in status.workers.iter().filter(|w| only.is_none_or(|id| w.id == id)) {
            let w = WorkerLabels { queue: name.clone(), worker: worker.id.clone() };
            in_flight.get_or_create(&w).set(signed(worker.processing));
            if let Some(slots) = worker.concurrency {
                concurrency.get_or_create(&w).set(signed(slots));
            }
            let left = worker.heartbeat.map(|d| d.as_secs()).unwrap_or(0);
            heartbeat.get_or_create(&w).set(signed(left));
            if let Some(since) = worker.heartbeat_age() {
                age.get_or_create(&w).set(signed(since.as_secs()));
            }
            alive.get_or_create(&w).set(i64::from(worker.heartbeat.is_some()));
        }
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let statuses = blocking(&state.store, |store| {
        let statuses = store.statuses()?;
        let tasks = store
            .queues()
            .iter()
            .map(|queue| Ok((queue.clone(), store.with_client(queue, |c| c.task_stats_total())?)))
            .collect::<Result<Vec<_>, concur_worker::Error>>()?;
        Ok((statuses, tasks))
    })
    .await;
    let mut registry = Registry::default();
    let up: Gauge = family(&mut registry, "concur_redis_up", "1 when this scrape could read every queue from Redis");
    match statuses {
        Ok((statuses, tasks)) => {
            up.set(1);
            queue_metrics(&mut registry, &statuses);
            task_metrics(&mut registry, tasks);
        }
        Err(refusal) => {
            tracing::warn!("a metrics scrape could not read Redis: {}", refusal.message);
            up.set(0);
        }
    }
    registry.register("concur_dashboard_actions", "Changes made through the dashboard", state.counters.actions.clone());
    registry.register(
        "concur_dashboard_action_tasks",
        "Tasks touched by changes made through the dashboard",
        state.counters.tasks.clone(),
    );
    let reads: Counters<ViewLabel> = family(
        &mut registry,
        "concur_dashboard_live_reads",
        "Reads of Redis made for live updates, shared by every open page",
    );
    for (view, n) in state.hub.reads.lock().iter() {
        reads.get_or_create(&ViewLabel { view: (*view).to_owned() }).inc_by(*n);
    }
    encoded(&registry)
}

/// The registry in the text format, as an answer.
pub(crate) fn encoded(registry: &Registry) -> Response {
    let mut text = String::new();
    if let Err(error) = encode(&mut text, registry) {
        tracing::error!("could not write the metrics: {error}");
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "could not write the metrics").into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT));
    response
}
