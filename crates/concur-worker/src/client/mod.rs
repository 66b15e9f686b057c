//! The front door for producers and operators: [`Client`].
//!
//! Each call is one Redis command or one Lua script from `scripts.rs`, so
//! each is atomic on its own. The calls are grouped by who makes them:
//! producers in `produce.rs`, operators in `admin.rs` (status, dead
//! letters, results), `inspect.rs` (what a dashboard reads) and `steer.rs`
//! (what they change), with `sweep.rs` reading the dead-letter list in
//! chunks for both; the worker's steps
//! are in the `protocol` module.

mod admin;
mod inspect;
mod link;
mod produce;
mod shards;
mod steer;
mod sweep;

use std::fmt;

use redis::RedisResult;

use self::link::{Link, Server};

pub use self::admin::{DeadRetry, ScheduleStatus, ShardStatus, Status, WorkerStatus};
pub use self::inspect::{ListedTask, TaskLocation, HOURS_KEPT, MAX_PAGE, MINUTES_KEPT};
pub use self::produce::EnqueueOptions;
pub use self::steer::{UnknownControl, WorkerControl};
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
    pub(crate) server: Server,
    pub(crate) conn: Option<Link>,
    /// `CLIENT ID` of `conn`, once asked for.
    pub(crate) conn_id: Option<u64>,
    pub(crate) config: QueueConfig,
    pub(crate) keys: Keys,
    /// The queue's shards, as declared when this client connected.
    pub(crate) shards: Vec<Keys>,
    /// Which shard the last enqueue went to.
    pub(crate) next_shard: usize,
    pub(crate) url: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("name", &self.keys.name())
            .field("cluster", &self.server.is_cluster())
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the Redis server at `url` and checks that it answers.
    /// `rediss://` URLs use TLS, trusting the system's CA certificates or
    /// [`QueueConfig::tls_ca_file`].
    ///
    /// A Redis Cluster is named by several seed URLs separated by commas
    /// (`redis://10.0.0.1:7000,10.0.0.2:7000`; a later seed written as bare
    /// `host:port` takes the first one's scheme and password), or by a
    /// single URL of one of its nodes: a server that says it is in cluster
    /// mode is taken as a seed. Each command then goes to the master of its
    /// key's slot; `MOVED`, `ASK` and failovers are followed.
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
        let shown = link::seeds(url).iter().map(|seed| redact_url(seed)).collect::<Vec<_>>().join(",");
        let keys = Keys::new(&config.name)?;
        config.check()?;
        let seeds = link::seeds(url);
        let server = open_server(&seeds, seeds.len() > 1, &shown, &config)?;
        let mut client =
            Client { server, conn: None, conn_id: None, config, keys, shards: Vec::new(), next_shard: 0, url: shown };
        client.conn = Some(client.open_connection()?);
        if !client.server.is_cluster() && client.in_cluster_mode() {
            client.server = open_server(&seeds, true, &client.url, &client.config)?;
            client.conn = Some(client.open_connection()?);
        }
        client.load_shards()?;
        Ok(client)
    }

    /// Reads the queue's shard declaration.
    fn load_shards(&mut self) -> Result<(), Error> {
        let declared = self.declared_shards()?;
        self.shards = self.shard_keys(declared)?;
        Ok(())
    }

    /// Whether the one server connected to says it is a cluster node.
    fn in_cluster_mode(&mut self) -> bool {
        let info: Result<String, Error> = self.with_conn(|c| redis::cmd("INFO").arg("cluster").query(c));
        info.is_ok_and(|text| text.lines().any(|line| line.trim() == "cluster_enabled:1"))
    }

    /// Whether this client talks to a Redis Cluster.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let client = concur_worker::Client::connect("redis://127.0.0.1:7000,127.0.0.1:7001", Default::default())?;
    /// assert!(client.is_cluster());
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn is_cluster(&self) -> bool {
        self.server.is_cluster()
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
        let mut queue = self.for_keys(self.keys.clone())?;
        queue.shards = self.shards.clone();
        Ok(queue)
    }

    /// A new connection to another queue on the same server or cluster,
    /// with the same settings but its name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad name; as [`connect`](Self::connect)
    /// when the server has gone meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let emails = concur_worker::Client::connect("redis://127.0.0.1", concur_worker::QueueConfig::named("emails"))?;
    /// let mut reports = emails.for_queue("reports")?;
    /// assert_eq!(reports.name(), "reports");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn for_queue(&self, name: &str) -> Result<Client, Error> {
        let mut queue = self.for_keys(Keys::new(name)?)?;
        queue.load_shards()?;
        Ok(queue)
    }

    /// A new connection to the queue or shard `keys`, not reading any
    /// shard declaration of its own.
    pub(crate) fn for_keys(&self, keys: Keys) -> Result<Client, Error> {
        let mut queue = Client {
            server: self.server.clone(),
            conn: None,
            conn_id: None,
            config: QueueConfig { name: keys.name().to_owned(), ..self.config.clone() },
            keys,
            shards: Vec::new(),
            next_shard: 0,
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

    /// With [`QueueConfig::min_replicas`] set, waits until that many
    /// replicas of the master that serves `keys` have this connection's
    /// writes so far.
    pub(crate) fn replicated(&mut self, keys: &Keys) -> Result<(), Error> {
        let wanted = self.config.min_replicas;
        if wanted == 0 {
            return Ok(());
        }
        let timeout = u64::try_from(self.config.replica_timeout.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut wait = redis::cmd("WAIT");
        wait.arg(wanted).arg(timeout);
        let pending = keys.pending().to_owned();
        let got: u32 = self.with_conn(|c| c.query_on_node_of(&wait, &pending))?;
        if got < wanted {
            return Err(Error::NotReplicated { url: self.url.clone(), wanted, got });
        }
        Ok(())
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

    pub(crate) fn open_connection(&self) -> Result<Link, Error> {
        let wait = self.config.connect_timeout;
        let mut conn = self.server.open(wait).map_err(|e| Error::from_connect(&self.url, e, wait))?;
        // The first answer must come within the connect timeout too: a port
        // that accepts and never answers is not a Redis server to wait on.
        let setup = |conn: &mut Link| -> RedisResult<()> {
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
    pub(crate) fn with_conn<T>(&mut self, f: impl FnOnce(&mut Link) -> RedisResult<T>) -> Result<T, Error> {
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
        // On a cluster, the connection to the node that serves the queue:
        // where the blocking fetch waits.
        let pending = self.keys.pending().to_owned();
        let id: u64 = self.with_conn(|c| c.query_on_node_of(&redis::cmd("CLIENT").arg("ID").clone(), &pending))?;
        self.conn_id = Some(id);
        Ok(id)
    }

    /// How many tasks wait in the pending list (`LLEN`), shards not counted.
    pub(crate) fn pending_len(&mut self) -> Result<u64, Error> {
        let pending = self.keys.pending().to_owned();
        self.with_conn(|c| redis::cmd("LLEN").arg(&pending).query(c))
    }

    /// Ends a blocking command of the connection `client` now, as if it had
    /// timed out (`CLIENT UNBLOCK id TIMEOUT`). Returns whether one was blocked.
    pub(crate) fn unblock(&mut self, client: u64) -> Result<bool, Error> {
        let pending = self.keys.pending().to_owned();
        let mut unblock = redis::cmd("CLIENT");
        unblock.arg("UNBLOCK").arg(client).arg("TIMEOUT");
        let unblocked: i64 = self.with_conn(|c| c.query_on_node_of(&unblock, &pending))?;
        Ok(unblocked == 1)
    }

    pub(crate) fn protocol_error(&self, detail: String) -> Error {
        Error::Protocol { url: self.url.clone(), detail }
    }
}

/// The one server `seeds` names, or the cluster they are seeds of.
fn open_server(seeds: &[String], cluster: bool, shown: &str, config: &QueueConfig) -> Result<Server, Error> {
    let invalid = |e: redis::RedisError| Error::InvalidUrl { url: shown.to_owned(), reason: e.to_string() };
    let certificates = match &config.tls_ca_file {
        None => None,
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|source| Error::CaFile { path: path.display().to_string(), source })?;
            Some(redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })
        }
    };
    match seeds {
        [] => Err(Error::InvalidUrl { url: shown.to_owned(), reason: "it is empty".into() }),
        [url] if !cluster => match certificates {
            None => redis::Client::open(url.as_str()).map(Server::Single).map_err(invalid),
            Some(certificates) => {
                redis::Client::build_with_tls(url.as_str(), certificates).map(Server::Single).map_err(invalid)
            }
        },
        many => {
            let mut builder = redis::cluster::ClusterClient::builder(many.iter().map(String::as_str))
                .connection_timeout(config.connect_timeout)
                .response_timeout(config.command_timeout);
            if let Some(certificates) = certificates {
                builder = builder.certs(certificates);
            }
            builder.build().map(Server::Cluster).map_err(invalid)
        }
    }
}
