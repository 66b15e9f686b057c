//! The routes and the state they share.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the overview page |
//! | `GET /queues/{queue}` | a queue's page: counts, workers, schedules, shards, dead letters (paged) |
//! | `GET /queues/{queue}/pending`, `/delayed`, `/stats` | its pending and delayed tasks (paged), its task names |
//! | `GET /queues/{queue}/confirm` | what a bulk action will touch, and the button that runs it |
//! | `POST /queues/{queue}/dead/{retry,retry-all,purge,delete}`, `/delayed/{run-now,delete}`, `/pause`, `/resume` | the page's actions |
//! | `POST /control/{quiet,stop}` | ask a worker (form field `id`) to quiet down or stop |
//! | `GET /stats` | every task name over the queues shown |
//! | `GET /queues/{queue}/tasks/{id}`, `/tasks/{id}`, `/tasks?id=` | a task by id |
//! | `GET /workers`, `/workers/{id}` | the workers |
//! | `GET /api/…` | the JSON behind every page (`docs/DASHBOARD.md`) |
//! | `POST /api/…` | the actions, as JSON |
//! | `GET /events/overview`, `/events/queues/{queue}` | live updates (server-sent events) |
//! | `GET /metrics` | Prometheus metrics |

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::Router;

use crate::actions;
use crate::respond;
use crate::security::{auth, headers, mutation};
use crate::state::AppState;
use crate::{api, assets, live, metrics, pages};

/// Every route, behind the security layers.
pub(crate) fn router(state: AppState) -> Router {
    let security = Arc::clone(&state.security);
    let mut changes = Router::new();
    for action in actions::ALL {
        let (route, page, api) = if action.is_worker_control() {
            (action.page_route(""), actions::worker_route(action, false), actions::worker_route(action, true))
        } else {
            (action.page_route("{queue}"), actions::queue_route(action, false), actions::queue_route(action, true))
        };
        changes = changes.route(&route, page).route(&format!("/api{route}"), api);
    }
    let changes = changes
        .route_layer(from_fn_with_state(Arc::clone(&security), mutation::guard))
        .layer(DefaultBodyLimit::max(mutation::MAX_FORM_BYTES));
    let reads = Router::new()
        .route("/", get(pages::overview))
        .route("/queues/{queue}", get(pages::queue_page))
        .route("/queues/{queue}/confirm", get(pages::confirm))
        .route("/queues/{queue}/pending", get(pages::pending_page))
        .route("/queues/{queue}/delayed", get(pages::delayed_page))
        .route("/queues/{queue}/stats", get(pages::queue_stats))
        .route("/stats", get(pages::all_stats))
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
        .route("/api/queues/{queue}/pending", get(api::pending))
        .route("/api/queues/{queue}/delayed", get(api::delayed))
        .route("/api/queues/{queue}/throughput", get(api::queue_throughput))
        .route("/api/queues/{queue}/stats", get(api::queue_stats))
        .route("/api/throughput", get(api::throughput))
        .route("/api/stats", get(api::stats))
        .route("/api/queues/{queue}/tasks/{id}", get(api::task_in_queue))
        .route("/api/tasks/{id}", get(api::task))
        .route("/api/workers", get(api::workers))
        .route("/api/workers/{id}", get(api::worker))
        .route("/api/workers/{id}/tasks", get(api::worker_tasks))
        .route("/events/overview", get(live::overview_events))
        .route("/events/queues/{queue}", get(live::queue_events))
        .route("/assets/app.js", get(assets::script))
        .route("/assets/app.css", get(assets::style));
    let guarded = reads
        .merge(changes)
        .fallback(respond::not_found)
        .layer(from_fn_with_state(Arc::clone(&security), auth::require_token));
    let scrape = Router::new()
        .route("/metrics", get(metrics::metrics))
        .layer(from_fn_with_state(security, auth::require_metrics_token));
    Router::new().merge(scrape).merge(guarded).layer(from_fn(headers::secure)).with_state(state)
}
