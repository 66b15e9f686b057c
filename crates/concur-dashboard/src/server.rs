//! The routes and the state they share.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the overview page |
//! | `GET /queues/{queue}` | a queue's page: counts, workers, schedules, shards, dead letters (paged) |
//! | `GET /queues/{queue}/confirm` | what a bulk action will touch, and the button that runs it |
//! | `POST /queues/{queue}/dead/{retry,retry-all,purge}` | the page's actions |
//! | `GET /queues/{queue}/tasks/{id}`, `/tasks/{id}`, `/tasks?id=` | a task by id |
//! | `GET /workers`, `/workers/{id}` | the workers |
//! | `GET /api/…` | the JSON behind every page (`docs/DASHBOARD.md`) |
//! | `POST /api/queues/{queue}/dead/{retry,retry-all,purge}` | the actions, as JSON |
//! | `GET /events/overview`, `/events/queues/{queue}` | live updates (server-sent events) |
//! | `GET /metrics` | Prometheus metrics |

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

use crate::actions::{self, ActionCounters};
use crate::live::Hub;
use crate::security::{auth, headers, mutation, Security};
use crate::store::Store;
use crate::{api, assets, metrics, pages};

/// What every handler may use.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) security: Arc<Security>,
    pub(crate) counters: Arc<ActionCounters>,
    /// How often live updates read Redis.
    pub(crate) refresh: Duration,
}

/// Every route, behind the security layers.
pub(crate) fn router(state: AppState) -> Router {
    let security = Arc::clone(&state.security);
    let changes = Router::new()
        .route("/queues/{queue}/dead/retry", post(actions::retry_page))
        .route("/queues/{queue}/dead/retry-all", post(actions::retry_all_page))
        .route("/queues/{queue}/dead/purge", post(actions::purge_page))
        .route("/api/queues/{queue}/dead/retry", post(actions::retry_api))
        .route("/api/queues/{queue}/dead/retry-all", post(actions::retry_all_api))
        .route("/api/queues/{queue}/dead/purge", post(actions::purge_api))
        .route_layer(from_fn_with_state(Arc::clone(&security), mutation::guard))
        .layer(DefaultBodyLimit::max(mutation::MAX_FORM_BYTES));
    let reads = Router::new()
        .route("/", get(pages::overview))
        .route("/queues/{queue}", get(pages::queue_page))
        .route("/queues/{queue}/confirm", get(pages::confirm))
        .route("/queues/{queue}/tasks/{id}", get(pages::task_in_queue))
        .route("/tasks", get(pages::task_by_query))
        .route("/tasks/{id}", get(pages::task_by_path))
        .route("/workers", get(pages::workers_page))
        .route("/workers/{id}", get(pages::worker_page))
        .route("/api/session", get(api::session))
        .route("/api/overview", get(api::overview))
        .route("/api/queues", get(api::queues))
        .route("/api/queues/{queue}", get(api::queue))
        .route("/api/queues/{queue}/dead", get(api::dead))
        .route("/api/queues/{queue}/tasks/{id}", get(api::task_in_queue))
        .route("/api/tasks/{id}", get(api::task))
        .route("/api/workers", get(api::workers))
        .route("/api/workers/{id}", get(api::worker))
        .route("/events/overview", get(crate::live::overview_events))
        .route("/events/queues/{queue}", get(crate::live::queue_events))
        .route("/assets/app.js", get(assets::script))
        .route("/assets/app.css", get(assets::style));
    let guarded = reads
        .merge(changes)
        .fallback(pages::not_found)
        .layer(from_fn_with_state(Arc::clone(&security), auth::require_token));
    let scrape = Router::new()
        .route("/metrics", get(metrics::metrics))
        .layer(from_fn_with_state(security, auth::require_metrics_token));
    Router::new().merge(scrape).merge(guarded).layer(from_fn(headers::secure)).with_state(state)
}
