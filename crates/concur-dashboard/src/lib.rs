//! `concur dashboard`: a web page to watch and steer concur's Redis
//! queues, a JSON API behind it, and their metrics for Prometheus.
//!
//! It is a client of [`concur_worker`]: everything it shows is read from
//! Redis through [`concur_worker::Client`], and every change it makes is
//! one call of that client, so it keeps no state of its own — a restart
//! forgets nothing, and several dashboards may watch the same queues.
//!
//! # What it serves
//!
//! - **The overview** (`/`): each queue's pending, processing, delayed and
//!   dead counts, its workers and throughput, and a sharded queue's shards
//!   each on a row of its own; every live worker with how long ago it last
//!   beat, its concurrency and tasks in flight. Counts update live.
//! - **A queue's page** (`/queues/NAME`): its counts, workers, schedules and
//!   shards, and its dead letters, paged, with their reason, attempts and
//!   payload; retry one, the selected or all of them, or delete them all —
//!   a bulk action first shows how many tasks it will touch.
//! - **A task by id** (`/tasks/ID`, bookmarkable) and **the workers**
//!   (`/workers`, `/workers/ID`).
//! - **A JSON API** behind every view (`/api/…`), **live updates** as
//!   server-sent events (`/events/…`), and **`/metrics`** for Prometheus;
//!   [`WorkerMetrics`] serves one worker's own (`concur worker --metrics`).
//!
//! # Secure by default
//!
//! It listens on loopback unless told otherwise, and refuses to start on
//! any other address without a token. A GET never changes anything;
//! changes must come from the dashboard's own pages (checked with the
//! browser's `Sec-Fetch-Site` and `Origin` headers, or a CSRF token for
//! programs), and `--read-only` refuses them in the API itself. Every
//! byte a producer or worker wrote is escaped wherever it is shown, and
//! every answer carries a nonce-based Content-Security-Policy;
//! `docs/DASHBOARD.md` says how, test by test.
//!
//! # Examples
//!
//! ```no_run
//! use concur_dashboard::Dashboard;
//!
//! let dashboard = Dashboard::builder()
//!     .redis("redis://127.0.0.1:6379")
//!     .queues(["emails", "reports"])
//!     .build()?;
//! println!("open http://{}/", dashboard.local_addr());
//! dashboard.run()?; // until a `Stop` handle is used
//! # Ok::<(), concur_dashboard::StartError>(())
//! ```
//!
//! # Python
//!
//! Python's standard library has no task queue and no dashboard; the
//! peers are Flower (Celery), rq-dashboard (RQ), Sidekiq's Web UI and Bull
//! Board. This one has their views and none of their published holes: no
//! state-changing GET, no wildcard CORS, no unescaped job arguments, and
//! no unbounded time range.

mod actions;
mod api;
mod assets;
mod counters;
mod dashboard;
mod error;
mod hub;
mod live;
mod metrics;
mod pages;
mod paging;
mod params;
mod reads;
mod respond;
mod security;
mod server;
mod snapshot;
mod state;
mod store;
mod views;
mod worker_metrics;

pub use dashboard::{Dashboard, DashboardBuilder, Stop, DEFAULT_BIND, DEFAULT_REFRESH};
pub use error::{StartError, MIN_TOKEN_LEN};
pub use worker_metrics::{WorkerMetrics, WorkerMetricsBuilder};
