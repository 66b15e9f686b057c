//! Setting a dashboard up and running it: [`Dashboard`], [`DashboardBuilder`]
//! and the handle that stops it, [`Stop`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use concur_worker::protocol::Keys;
use concur_worker::{QueueConfig, DEFAULT_REDIS_URL};
use tokio::sync::watch;

use crate::counters::ActionCounters;
use crate::error::{StartError, MIN_TOKEN_LEN};
use crate::hub::Hub;
use crate::security::Security;
use crate::server::router;
use crate::state::AppState;
use crate::store::Store;

/// The address a dashboard listens on unless told otherwise: loopback only.
///
/// # Examples
///
/// ```
/// assert!(concur_dashboard::DEFAULT_BIND.ip().is_loopback());
/// ```
pub const DEFAULT_BIND: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7878);

/// How often live pages read Redis unless told otherwise.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_dashboard::DEFAULT_REFRESH.as_secs(), 2);
/// ```
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(2);

/// The range of [`DashboardBuilder::refresh`].
const REFRESH_RANGE: std::ops::RangeInclusive<Duration> = Duration::from_secs(1)..=Duration::from_secs(60);

/// The most queues one dashboard shows.
const MAX_QUEUES: usize = 1000;

/// The most Redis calls running at once: tokio's blocking threads, each
/// with its own connection.
const MAX_REDIS_CALLS: usize = 32;

/// The settings of a dashboard, checked by [`build`](Self::build).
///
/// # Examples
///
/// ```no_run
/// use concur_dashboard::Dashboard;
///
/// let dashboard = Dashboard::builder()
///     .redis("redis://127.0.0.1:6379")
///     .queues(["emails", "reports"])
///     .token("a-long-random-secret-of-32-chars")
///     .bind("0.0.0.0:7878".parse()?)
///     .build()?;
/// dashboard.run()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DashboardBuilder {
    redis: String,
    queues: Vec<String>,
    config: QueueConfig,
    bind: SocketAddr,
    token: Option<String>,
    metrics_token: Option<String>,
    read_only: bool,
    refresh: Duration,
    origins: Vec<String>,
}

impl Default for DashboardBuilder {
    fn default() -> Self {
        DashboardBuilder {
            redis: DEFAULT_REDIS_URL.to_owned(),
            queues: Vec::new(),
            config: QueueConfig::default(),
            bind: DEFAULT_BIND,
            token: None,
            metrics_token: None,
            read_only: false,
            refresh: DEFAULT_REFRESH,
            origins: Vec::new(),
        }
    }
}

impl DashboardBuilder {
    /// The Redis server (or cluster seeds, comma-separated) the queues are on.
    /// Default: [`DEFAULT_REDIS_URL`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().redis("redis://10.0.0.5:6379");
    /// ```
    pub fn redis(mut self, url: &str) -> Self {
        self.redis = url.to_owned();
        self
    }

    /// Adds a queue to show. With none, the dashboard shows the queue
    /// named `queue`.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().queue("emails").queue("reports");
    /// ```
    pub fn queue(mut self, name: &str) -> Self {
        self.queues.push(name.to_owned());
        self
    }

    /// Adds several queues to show, in the order given.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().queues(["critical", "default", "low"]);
    /// ```
    pub fn queues<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.queues.extend(names.into_iter().map(|n| n.as_ref().to_owned()));
        self
    }

    /// Connection settings (timeouts, TLS) for Redis; the name in it is
    /// ignored, the queues come from [`queue`](Self::queue).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur_worker::QueueConfig;
    ///
    /// let config = QueueConfig { connect_timeout: Duration::from_secs(2), ..QueueConfig::default() };
    /// let builder = concur_dashboard::Dashboard::builder().queue_config(config);
    /// ```
    pub fn queue_config(mut self, config: QueueConfig) -> Self {
        self.config = config;
        self
    }

    /// The address to listen on. Default: [`DEFAULT_BIND`], loopback. Any
    /// other than a loopback address needs a [`token`](Self::token).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().bind("127.0.0.1:0".parse().unwrap());
    /// ```
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The token every request must carry: as `Authorization: Bearer
    /// TOKEN`, or as the password of HTTP basic auth (a browser asks for
    /// it). At least 16 characters, printable ASCII without spaces.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().token("a-long-random-secret-of-32-chars");
    /// ```
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// A token that opens `/metrics` only, for a Prometheus server that
    /// should not be able to change anything. The main token opens it too.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().metrics_token("only-for-prometheus-scrapes");
    /// ```
    pub fn metrics_token(mut self, token: &str) -> Self {
        self.metrics_token = Some(token.to_owned());
        self
    }

    /// Refuses every change (retry, purge, …) in the API, not only by
    /// hiding the buttons.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().read_only();
    /// ```
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// How often live pages read Redis, from 1 to 60 seconds. However many
    /// pages are open, each view is read once per interval. Default:
    /// [`DEFAULT_REFRESH`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().refresh(std::time::Duration::from_secs(5));
    /// ```
    pub fn refresh(mut self, every: Duration) -> Self {
        self.refresh = every;
        self
    }

    /// The public origin of the dashboard behind a reverse proxy that
    /// rewrites the `Host` header (`https://ops.example.com`): changes sent
    /// from pages at that origin are accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur_dashboard::Dashboard::builder().origin("https://ops.example.com");
    /// ```
    pub fn origin(mut self, origin: &str) -> Self {
        self.origins.push(origin.to_owned());
        self
    }

    /// Checks the settings, connects to Redis and listens on the address.
    ///
    /// # Errors
    ///
    /// [`StartError::PublicWithoutToken`] for a non-loopback address
    /// without a token; [`StartError::InvalidSetting`] for a bad queue
    /// name, token, refresh interval or origin; [`StartError::Redis`] when
    /// Redis cannot be reached or refuses the password;
    /// [`StartError::Bind`] when the address cannot be listened on.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_dashboard::{Dashboard, StartError};
    ///
    /// let short = Dashboard::builder().token("hunter2").build().unwrap_err();
    /// assert!(matches!(short, StartError::InvalidSetting(_)));
    /// ```
    pub fn build(self) -> Result<Dashboard, StartError> {
        let queues = self.checked_queues()?;
        if let Some(token) = &self.token {
            check_token("--token", token)?;
        }
        if let Some(token) = &self.metrics_token {
            check_token("--metrics-token", token)?;
        }
        if self.token.is_none() && !self.bind.ip().is_loopback() {
            return Err(StartError::PublicWithoutToken { addr: self.bind });
        }
        if !REFRESH_RANGE.contains(&self.refresh) {
            return Err(StartError::InvalidSetting(format!(
                "the refresh interval must be from 1 to 60 seconds, not {:?}",
                self.refresh
            )));
        }
        let origins = self.origins.iter().map(|o| check_origin(o)).collect::<Result<Vec<_>, _>>()?;
        let store = Store::connect(&self.redis, self.config.clone(), queues)?;
        let listener = TcpListener::bind(self.bind).map_err(|source| StartError::Bind { addr: self.bind, source })?;
        listener.set_nonblocking(true).map_err(|source| StartError::Bind { addr: self.bind, source })?;
        let (stop, stopped) = watch::channel(false);
        Ok(Dashboard {
            listener,
            store: Arc::new(store),
            security: Arc::new(Security::new(
                self.token.as_deref(),
                self.metrics_token.as_deref(),
                self.read_only,
                origins,
            )),
            refresh: self.refresh,
            stop: Arc::new(stop),
            stopped,
        })
    }

    fn checked_queues(&self) -> Result<Vec<String>, StartError> {
        let mut queues: Vec<String> = Vec::new();
        for name in &self.queues {
            if let Err(error) = Keys::new(name) {
                return Err(StartError::InvalidSetting(error.to_string()));
            }
            if name == "." || name == ".." {
                return Err(StartError::InvalidSetting(format!(
                    "the queue {name:?} cannot be shown: a browser reads it as a step in the path"
                )));
            }
            if !queues.contains(name) {
                queues.push(name.clone());
            }
        }
        if queues.len() > MAX_QUEUES {
            return Err(StartError::InvalidSetting(format!(
                "a dashboard shows at most {MAX_QUEUES} queues, not {}",
                queues.len()
            )));
        }
        if queues.is_empty() {
            queues.push(QueueConfig::default().name);
        }
        Ok(queues)
    }
}

pub(crate) fn check_token(option: &str, token: &str) -> Result<(), StartError> {
    if token.len() < MIN_TOKEN_LEN || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(StartError::InvalidSetting(format!(
            "{option} must be at least {MIN_TOKEN_LEN} printable ASCII characters without spaces (it is compared in \
             constant time; make it long and random, e.g. `openssl rand -hex 24`)"
        )));
    }
    Ok(())
}

/// `scheme://host[:port]`, lowercase, from what an operator wrote.
fn check_origin(origin: &str) -> Result<String, StartError> {
    let trimmed = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let authority = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match authority {
        Some(authority) if !authority.is_empty() && !authority.contains(['/', '?', '#', '@', ' ']) => Ok(trimmed),
        _ => Err(StartError::InvalidSetting(format!(
            "the origin {origin:?} is not of the form https://host[:port] (no path)"
        ))),
    }
}

/// A dashboard ready to serve: settings checked, Redis reached, address
/// bound.
///
/// [`run`](Self::run) serves until [`Stop::stop`] is called; the library
/// installs no signal handler, so a program calls that from its own.
///
/// # Examples
///
/// ```no_run
/// use concur_dashboard::Dashboard;
///
/// let dashboard = Dashboard::builder().redis("redis://127.0.0.1:6379").queue("emails").build()?;
/// println!("serving http://{}", dashboard.local_addr());
/// let stop = dashboard.stop_handle();
/// let serving = std::thread::spawn(move || dashboard.run());
/// // … later, on Ctrl-C:
/// stop.stop();
/// serving.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Dashboard {
    listener: TcpListener,
    store: Arc<Store>,
    security: Arc<Security>,
    refresh: Duration,
    stop: Arc<watch::Sender<bool>>,
    stopped: watch::Receiver<bool>,
}

impl Dashboard {
    /// The settings, starting from the defaults.
    ///
    /// # Examples
    ///
    /// See [`DashboardBuilder`].
    pub fn builder() -> DashboardBuilder {
        DashboardBuilder::default()
    }

    /// The address it listens on (with the port chosen, when asked for 0).
    ///
    /// # Examples
    ///
    /// See [`Dashboard`].
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// A handle that stops the dashboard from another thread.
    ///
    /// # Examples
    ///
    /// See [`Dashboard`].
    pub fn stop_handle(&self) -> Stop {
        Stop { stop: Arc::clone(&self.stop) }
    }

    /// Serves on a runtime of its own until [`Stop::stop`]: open
    /// connections are let finish, live updates end.
    ///
    /// # Errors
    ///
    /// [`StartError::Runtime`] if its threads cannot be started;
    /// [`StartError::Bind`] if the listener fails.
    ///
    /// # Examples
    ///
    /// See [`Dashboard`].
    pub fn run(self) -> Result<(), StartError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(MAX_REDIS_CALLS)
            .thread_name("concur-dashboard")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        runtime.block_on(self.serve())
    }

    /// Serves on the caller's tokio runtime until [`Stop::stop`].
    ///
    /// # Errors
    ///
    /// [`StartError::Bind`] if the listener fails.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops serving at once: requests in progress are
    /// cut off. Nothing in Redis is left half done, as each change is one
    /// call of the worker library.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), concur_dashboard::StartError> {
    /// let dashboard = concur_dashboard::Dashboard::builder().build()?;
    /// dashboard.serve().await?;
    /// # Ok(()) }
    /// ```
    pub async fn serve(self) -> Result<(), StartError> {
        let addr = self.local_addr();
        let bind_error = |source| StartError::Bind { addr, source };
        let listener = tokio::net::TcpListener::from_std(self.listener).map_err(bind_error)?;
        let hub = Hub::new(Arc::clone(&self.store), self.refresh, self.stopped.clone());
        let state = AppState {
            store: self.store,
            hub,
            security: self.security,
            counters: Arc::new(ActionCounters::default()),
            refresh: self.refresh,
        };
        let mut stopped = self.stopped;
        tracing::info!(%addr, "the dashboard serves http://{addr}/");
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
            .map_err(bind_error)
    }
}

/// Stops a running [`Dashboard`]; cloneable, callable from any thread.
///
/// # Examples
///
/// See [`Dashboard`].
#[derive(Debug, Clone)]
pub struct Stop {
    stop: Arc<watch::Sender<bool>>,
}

impl Stop {
    pub(crate) fn new(stop: Arc<watch::Sender<bool>>) -> Stop {
        Stop { stop }
    }

    /// Asks the dashboard to stop: it accepts no more connections, ends
    /// live updates, and returns from `run` once open requests are done.
    ///
    /// # Examples
    ///
    /// See [`Dashboard`].
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}
