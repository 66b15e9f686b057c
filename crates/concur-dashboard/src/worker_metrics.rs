//! A worker's own `/metrics`: what `concur worker --metrics ADDR` serves.
//!
//! It shows one worker — its tasks in flight, its heartbeat, its
//! concurrency, on each queue it serves — read from Redis at each scrape,
//! as the dashboard's `/metrics` reads every worker. Queue-wide figures are
//! left to the dashboard's `/metrics`: exported by every worker, they would
//! be counted once per worker by a Prometheus that sums over instances.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use axum::extract::State;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use concur_worker::{QueueConfig, DEFAULT_REDIS_URL};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::dashboard::{check_token, Stop};
use crate::error::StartError;
use crate::metrics::{encoded, family, worker_metrics};
use crate::security::{auth, headers, Security};
use crate::store::{blocking, Store};

/// The settings of a worker's `/metrics`, checked by [`build`](Self::build).
///
/// # Examples
///
/// ```no_run
/// use concur_dashboard::WorkerMetrics;
///
/// let metrics = WorkerMetrics::builder()
///     .redis("redis://127.0.0.1:6379")
///     .queues(["emails"])
///     .worker("8812-3fa1c2d4e5f6")
///     .bind("127.0.0.1:9187".parse()?)
///     .build()?;
/// metrics.run()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WorkerMetricsBuilder {
    redis: String,
    config: QueueConfig,
    queues: Vec<String>,
    worker: String,
    bind: Option<SocketAddr>,
    token: Option<String>,
}

impl WorkerMetricsBuilder {
    /// The Redis server the worker uses. Default: [`DEFAULT_REDIS_URL`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::WorkerMetrics::builder().redis("redis://10.0.0.5:6379");
    /// ```
    pub fn redis(mut self, url: &str) -> Self {
        self.redis = url.to_owned();
        self
    }

    /// Connection settings (timeouts, TLS) for Redis.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::WorkerMetrics::builder().queue_config(Default::default());
    /// ```
    pub fn queue_config(mut self, config: QueueConfig) -> Self {
        self.config = config;
        self
    }

    /// The queues the worker serves.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::WorkerMetrics::builder().queues(["critical", "default"]);
    /// ```
    pub fn queues<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.queues.extend(names.into_iter().map(|n| n.as_ref().to_owned()));
        self
    }

    /// The worker's id ([`Worker::id`](concur_worker::Worker::id)).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::WorkerMetrics::builder().worker("8812-3fa1c2d4e5f6");
    /// ```
    pub fn worker(mut self, id: &str) -> Self {
        self.worker = id.to_owned();
        self
    }

    /// The address to serve on; any but a loopback address needs a
    /// [`token`](Self::token).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::WorkerMetrics::builder().bind("127.0.0.1:9187".parse().unwrap());
    /// ```
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// The token a scrape must carry (bearer token, or the password of
    /// basic auth); at least 16 characters.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::WorkerMetrics::builder().token("only-for-the-prometheus-scraper");
    /// ```
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Checks the settings, connects to Redis and listens.
    ///
    /// # Errors
    ///
    /// [`StartError::InvalidSetting`] without an address or a worker, or for
    /// a short token; [`StartError::PublicWithoutToken`] for a non-loopback
    /// address without a token; [`StartError::Redis`]; [`StartError::Bind`].
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_dashboard::{StartError, WorkerMetrics};
    ///
    /// let open = WorkerMetrics::builder().worker("w1").bind("0.0.0.0:9187".parse().unwrap()).build();
    /// assert!(matches!(open.unwrap_err(), StartError::PublicWithoutToken { .. }));
    /// ```
    pub fn build(self) -> Result<WorkerMetrics, StartError> {
        let addr = self.bind.ok_or_else(|| StartError::InvalidSetting("a worker's metrics need an address".into()))?;
        if self.worker.is_empty() {
            return Err(StartError::InvalidSetting("a worker's metrics need the worker's id".into()));
        }
        if let Some(token) = &self.token {
            check_token("--metrics-token", token)?;
        }
        if self.token.is_none() && !addr.ip().is_loopback() {
            return Err(StartError::PublicWithoutToken { addr });
        }
        let mut queues = self.queues.clone();
        if queues.is_empty() {
            queues.push(QueueConfig::default().name);
        }
        let store = Store::connect(&self.redis, self.config.clone(), queues)?;
        let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })?;
        listener.set_nonblocking(true).map_err(|source| StartError::Bind { addr, source })?;
        let (stop, stopped) = watch::channel(false);
        Ok(WorkerMetrics {
            listener,
            store: Arc::new(store),
            worker: self.worker,
            security: Arc::new(Security::new(None, self.token.as_deref(), true, Vec::new())),
            stop: Arc::new(stop),
            stopped,
        })
    }
}

/// A worker's own `/metrics`, ready to serve: its tasks in flight, its
/// heartbeat and its concurrency on each queue it serves, read from Redis
/// at each scrape. Queue-wide figures are the dashboard's `/metrics`:
/// exported by every worker, they would be counted once per worker by a
/// Prometheus that sums over instances.
///
/// # Examples
///
/// See [`WorkerMetricsBuilder`].
#[derive(Debug)]
pub struct WorkerMetrics {
    listener: TcpListener,
    store: Arc<Store>,
    worker: String,
    security: Arc<Security>,
    stop: Arc<watch::Sender<bool>>,
    stopped: watch::Receiver<bool>,
}

#[derive(Clone)]
struct Scrape {
    store: Arc<Store>,
    worker: Arc<str>,
}

async fn scrape(State(scrape): State<Scrape>) -> Response {
    let statuses = blocking(&scrape.store, |store| store.statuses()).await;
    let mut registry = Registry::default();
    let up: Gauge = family(&mut registry, "concur_redis_up", "1 when this scrape could read every queue from Redis");
    match statuses {
        Ok(statuses) => {
            up.set(1);
            worker_metrics(&mut registry, &statuses, Some(&scrape.worker));
        }
        Err(refusal) => {
            tracing::warn!("a metrics scrape could not read Redis: {}", refusal.message);
            up.set(0);
        }
    }
    encoded(&registry)
}

impl WorkerMetrics {
    /// The settings, starting from the defaults.
    ///
    /// # Examples
    ///
    /// See [`WorkerMetricsBuilder`].
    pub fn builder() -> WorkerMetricsBuilder {
        WorkerMetricsBuilder {
            redis: DEFAULT_REDIS_URL.to_owned(),
            config: QueueConfig::default(),
            queues: Vec::new(),
            worker: String::new(),
            bind: None,
            token: None,
        }
    }

    /// The address it listens on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let metrics = concur_dashboard::WorkerMetrics::builder().worker("w").bind("127.0.0.1:0".parse().unwrap()).build()?;
    /// println!("scrape http://{}/metrics", metrics.local_addr());
    /// # Ok::<(), concur_dashboard::StartError>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// A handle that stops it from another thread.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let metrics = concur_dashboard::WorkerMetrics::builder().worker("w").bind("127.0.0.1:0".parse().unwrap()).build()?;
    /// let stop = metrics.stop_handle();
    /// let serving = std::thread::spawn(move || metrics.run());
    /// stop.stop();
    /// serving.join().unwrap()?;
    /// # Ok::<(), concur_dashboard::StartError>(())
    /// ```
    pub fn stop_handle(&self) -> Stop {
        Stop::new(Arc::clone(&self.stop))
    }

    /// Serves `/metrics` on a small runtime of its own until stopped.
    ///
    /// # Errors
    ///
    /// [`StartError::Runtime`]; [`StartError::Bind`] if the listener fails.
    ///
    /// # Examples
    ///
    /// See [`WorkerMetricsBuilder`].
    pub fn run(self) -> Result<(), StartError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(2)
            .thread_name("concur-worker-metrics")
            .build()
            .map_err(StartError::Runtime)?;
        let addr = self.local_addr();
        let bind_error = |source| StartError::Bind { addr, source };
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener).map_err(bind_error)?;
            let state = Scrape { store: self.store, worker: self.worker.into() };
            let app = Router::new()
                .route("/metrics", get(scrape))
                .layer(from_fn_with_state(self.security, auth::require_metrics_token))
                .fallback(crate::respond::not_found)
                .layer(from_fn(headers::secure))
                .with_state(state);
            let mut stopped = self.stopped;
            tracing::info!(%addr, "the worker's metrics are at http://{addr}/metrics");
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
                .map_err(bind_error)
        })
    }
}
