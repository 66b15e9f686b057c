//! The front door for producers and operators: [`Client`].
//!
//! Each call is one Redis command or one Lua script from `scripts.rs`, so
//! each is atomic on its own. The calls are grouped by who makes them:
//! producers in `produce.rs`, operators in `admin.rs`; the worker's steps
//! are in the `protocol` module.

mod admin;
mod produce;

use std::fmt;

use redis::{Connection, RedisResult};

pub use self::admin::{DeadRetry, Status, WorkerStatus};
pub use self::produce::EnqueueOptions;
use crate::config::QueueConfig;
use crate::error::{redact_url, Error};
use crate::keys::Keys;

/// A client of one queue: what producers and operators do — enqueue
/// tasks, look at the queue, deal with its dead letters, read results.
///
/// The steps a worker takes with each task (fetch, acknowledge, fail,
/// heartbeat, reap, …) are on [`protocol::Connection`](crate::protocol::Connection), a client with those
/// steps on top: they keep at-least-once delivery only when called in the
/// order `docs/PROTOCOL.md` gives, which [`Worker`](crate::Worker) does.
///
/// One `Client` is one blocking connection (redis-rs's synchronous API).
/// Calls take `&mut self`; a program that needs several connections makes
/// more with [`try_clone`](Client::try_clone). A call that loses the
/// connection returns [`Error::ConnectionLost`] and the next call
/// reconnects.
///
/// # Examples
///
/// ```no_run
/// use concur_worker::{Client, EnqueueOptions, QueueConfig};
/// use serde_json::json;
///
/// let mut client = Client::connect("redis://127.0.0.1:6379", QueueConfig::default())?;
/// let id = client.enqueue("echo", vec![json!("hi")], &EnqueueOptions::default())?;
/// let status = client.status()?;
/// println!("{} pending; result of {id}: {:?}", status.pending, client.result(&id)?);
/// # Ok::<(), concur_worker::Error>(())
/// ```
///
/// # Python
///
/// The reference's producer is `redis.Redis().lpush("queue", n)`; this is
/// that client with names, arguments, delays, results and a dead-letter list.
pub struct Client {
    pub(crate) client: redis::Client,
    pub(crate) conn: Option<Connection>,
    /// `CLIENT ID` of `conn`, once asked for.
    pub(crate) conn_id: Option<u64>,
    pub(crate) config: QueueConfig,
    pub(crate) keys: Keys,
    pub(crate) url: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("name", &self.keys.name())
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the Redis server at `url` and checks that it answers.
    /// `rediss://` URLs use TLS, trusting the system's CA certificates or
    /// [`QueueConfig::tls_ca_file`].
    ///
    /// Connecting writes nothing: a failed start leaves the queue untouched.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`], [`Error::Unreachable`], [`Error::WrongPassword`],
    /// [`Error::PasswordRequired`], [`Error::CaFile`], [`Error::InvalidName`]
    /// for a bad queue name and [`Error::InvalidOption`] for a bad limit.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::{Client, QueueConfig};
    ///
    /// let queue = Client::connect("redis://:secret@10.0.0.5:6379/0", QueueConfig::named("emails"))?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn connect(url: &str, config: QueueConfig) -> Result<Client, Error> {
        let shown = redact_url(url);
        let keys = Keys::new(&config.name)?;
        config.check()?;
        let client = open_client(url, &shown, &config)?;
        let mut client = Client { client, conn: None, conn_id: None, config, keys, url: shown };
        client.conn = Some(client.open_connection()?);
        Ok(client)
    }

    /// Opens a second connection to the same queue with the same settings.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), when the server has gone meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let mut for_acks = queue.try_clone()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn try_clone(&self) -> Result<Client, Error> {
        let mut queue = Client {
            client: self.client.clone(),
            conn: None,
            conn_id: None,
            config: self.config.clone(),
            keys: self.keys.clone(),
            url: self.url.clone(),
        };
        queue.conn = Some(queue.open_connection()?);
        Ok(queue)
    }

    /// The queue's name.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// assert_eq!(client.name(), "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        self.keys.name()
    }

    /// The settings this client was made with.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// assert_eq!(queue.config().name, "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// The server's URL with any password replaced by `***`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::Client::connect("redis://:pw@127.0.0.1", Default::default())?;
    /// assert_eq!(queue.url(), "redis://:***@127.0.0.1");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Checks the connection with `PING`, reconnecting first if a previous
    /// call lost it.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) when reconnecting, or
    /// [`Error::ConnectionLost`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// queue.ping()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn ping(&mut self) -> Result<(), Error> {
        self.with_conn(|c| redis::cmd("PING").query::<()>(c))
    }

    pub(crate) fn keeps_results(&self) -> bool {
        self.config.results_cap > 0 && !self.config.result_ttl.is_zero()
    }

    /// The result TTL for the scripts: at least a millisecond when results are
    /// kept, 0 when they are not.
    pub(crate) fn result_ttl_ms(&self) -> u64 {
        if self.keeps_results() {
            u64::try_from(self.config.result_ttl.as_millis()).unwrap_or(u64::MAX).max(1)
        } else {
            0
        }
    }

    pub(crate) fn open_connection(&self) -> Result<Connection, Error> {
        let wait = self.config.connect_timeout;
        let mut conn =
            self.client.get_connection_with_timeout(wait).map_err(|e| Error::from_connect(&self.url, e, wait))?;
        // The first answer must come within the connect timeout too: a port
        // that accepts and never answers is not a Redis server to wait on.
        let setup = |conn: &mut Connection| -> RedisResult<()> {
            conn.set_read_timeout(Some(wait))?;
            conn.set_write_timeout(Some(wait))?;
            redis::cmd("PING").query::<()>(conn)?;
            conn.set_read_timeout(Some(self.config.command_timeout))?;
            conn.set_write_timeout(Some(self.config.command_timeout))
        };
        setup(&mut conn).map_err(|e| Error::from_connect(&self.url, e, wait))?;
        Ok(conn)
    }

    /// Runs `f` on the connection, opening one first if the last call lost
    /// it, and drops the connection when `f` loses it, so the next call
    /// starts afresh instead of reading a stale reply.
    pub(crate) fn with_conn<T>(&mut self, f: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Result<T, Error> {
        if self.conn.is_none() {
            self.conn = Some(self.open_connection()?);
            self.conn_id = None;
        }
        let conn = self.conn.as_mut().expect("a connection was just opened");
        f(conn).map_err(|e| {
            let err = Error::from_command(&self.url, e, self.config.command_timeout);
            if err.is_transient() {
                self.conn = None;
                self.conn_id = None;
            }
            err
        })
    }

    /// The server's id for this client's connection (`CLIENT ID`), opening
    /// one if needed; another connection can end a blocking fetch on it early
    /// with [`unblock`](Self::unblock). Asked once per connection.
    pub(crate) fn connection_id(&mut self) -> Result<u64, Error> {
        if self.conn.is_none() {
            self.conn_id = None;
        }
        if let Some(id) = self.conn_id {
            return Ok(id);
        }
        let id: u64 = self.with_conn(|c| redis::cmd("CLIENT").arg("ID").query(c))?;
        self.conn_id = Some(id);
        Ok(id)
    }

    /// Ends a blocking command of the connection `client` now, as if it had
    /// timed out (`CLIENT UNBLOCK id TIMEOUT`). Returns whether one was blocked.
    pub(crate) fn unblock(&mut self, client: u64) -> Result<bool, Error> {
        let unblocked: i64 =
            self.with_conn(|c| redis::cmd("CLIENT").arg("UNBLOCK").arg(client).arg("TIMEOUT").query(c))?;
        Ok(unblocked == 1)
    }

    pub(crate) fn protocol_error(&self, detail: String) -> Error {
        Error::Protocol { url: self.url.clone(), detail }
    }
}

fn open_client(url: &str, shown: &str, config: &QueueConfig) -> Result<redis::Client, Error> {
    let invalid = |e: redis::RedisError| Error::InvalidUrl { url: shown.to_owned(), reason: e.to_string() };
    match &config.tls_ca_file {
        None => redis::Client::open(url).map_err(invalid),
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|source| Error::CaFile { path: path.display().to_string(), source })?;
            let certificates = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
            redis::Client::build_with_tls(url, certificates).map_err(invalid)
        }
    }
}
