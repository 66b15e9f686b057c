//! The settings of a queue client: [`QueueConfig`].

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::retry::RetryPolicy;

/// The settings of a queue client. Every worker and producer of one queue
/// should use the same values for the limits.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::QueueConfig;
///
/// let config = QueueConfig { result_ttl: Duration::from_secs(60), ..QueueConfig::named("emails") };
/// assert_eq!(config.name, "emails");
/// assert_eq!(config.default_max_attempts, 5);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a QueueConfig does nothing until it is passed to `Client::connect`, `RemotePool::connect` or `WorkerBuilder::queue_config`"]
pub struct QueueConfig {
    /// The queue's name; the pending list is the Redis key of that name.
    /// Default: `queue`, the list of the reference.
    pub name: String,
    /// The largest payload accepted, in bytes; larger ones are dead-lettered
    /// when fetched and refused when enqueued. Default: 1 MiB.
    pub max_payload: usize,
    /// Attempts for a task whose envelope does not say. Default: 5.
    pub default_max_attempts: u32,
    /// Time limit of one attempt for a task whose envelope does not say.
    /// Default: 5 minutes.
    pub default_timeout: Duration,
    /// The wait between attempts.
    pub retry: RetryPolicy,
    /// How long a result is kept; zero keeps none. Default: one day.
    pub result_ttl: Duration,
    /// How many results are kept at most; the oldest goes first. Zero keeps
    /// none. Default: 10,000. The oldest are dropped in one go once the
    /// count passes the cap by a sixteenth (625 at the default), so up to
    /// that many more are kept between evictions.
    pub results_cap: usize,
    /// How many dead-letter entries are kept at most; the oldest goes first.
    /// Default: 10,000.
    pub dead_cap: usize,
    /// How many times the reaper may take the same task back from a dead
    /// worker before it dead-letters it as the likely cause of the deaths;
    /// zero means no limit. Default: 10.
    pub max_reaps: u32,
    /// The longest wait to open a connection and get its first answer.
    /// Default: 5 s.
    pub connect_timeout: Duration,
    /// The longest wait for a reply (a blocking fetch adds its own wait).
    /// Default: 30 s.
    pub command_timeout: Duration,
    /// A PEM file of CA certificates to trust for `rediss://`, instead of the
    /// system's. Default: none.
    pub tls_ca_file: Option<PathBuf>,
    /// Durability: after each write that enqueues or finishes a task, wait
    /// (`WAIT`) until this many replicas of the master that took it have it
    /// too, for up to [`replica_timeout`](Self::replica_timeout). Redis
    /// replicates asynchronously, so without this a master that fails right
    /// after a write can take it along: an enqueue lost, an acknowledgement
    /// lost (the task runs again). 0, the default, does not wait.
    pub min_replicas: u32,
    /// How long a write waits for [`min_replicas`](Self::min_replicas).
    /// Default: 1 s.
    pub replica_timeout: Duration,
}

impl Default for QueueConfig {
    /// The defaults listed on each field, for the queue named `queue`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::QueueConfig::default().name, "queue");
    /// ```
    fn default() -> Self {
        QueueConfig {
            name: "queue".to_owned(),
            max_payload: 1 << 20,
            default_max_attempts: 5,
            default_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            result_ttl: Duration::from_secs(24 * 3600),
            results_cap: 10_000,
            dead_cap: 10_000,
            max_reaps: 10,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(30),
            tls_ca_file: None,
            min_replicas: 0,
            replica_timeout: Duration::from_secs(1),
        }
    }
}

impl QueueConfig {
    /// The defaults, for the queue `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::QueueConfig::named("emails").name, "emails");
    /// ```
    pub fn named(name: &str) -> Self {
        QueueConfig { name: name.to_owned(), ..QueueConfig::default() }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        let bad = |msg: &str| Err(Error::InvalidOption(msg.to_owned()));
        if self.default_max_attempts == 0 {
            return bad("default_max_attempts must be at least 1");
        }
        if self.dead_cap == 0 {
            return bad("dead_cap must be at least 1, or dead tasks would be dropped");
        }
        if self.default_timeout.is_zero() {
            return bad("default_timeout must be more than zero");
        }
        if self.connect_timeout.is_zero() || self.command_timeout.is_zero() {
            return bad("connect_timeout and command_timeout must be more than zero");
        }
        Ok(())
    }
}
