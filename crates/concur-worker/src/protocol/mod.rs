//! The low-level layer: the queue protocol's steps, one call each, as
//! `docs/PROTOCOL.md` specifies them.
//!
//! A worker loops over [`fetch`](Connection::fetch) → run →
//! [`ack`](Connection::ack) or [`fail`](Connection::fail), keeps a
//! [`heartbeat`](Connection::heartbeat) alive, and now and then calls
//! [`promote_due`](Connection::promote_due) and [`reap`](Connection::reap)
//! on behalf of everyone. Each call is one Redis command or one Lua script,
//! so each transition is atomic; every transition that finishes a task
//! begins with `LREM` on the worker's processing list and does nothing when
//! that removes nothing, which makes a repeated call after a lost reply
//! harmless and keeps a worker whose task was reaped from finishing it a
//! second time.
//!
//! These calls keep at-least-once delivery only when made in the right
//! order: fetch only while the heartbeat stands, `recover` after a lost
//! fetch reply before fetching again, release a task only once Redis
//! confirmed how it ended. [`Worker`](crate::Worker) does all of that; use
//! this layer to write a worker of your own, or to test one, with
//! `docs/PROTOCOL.md` open beside it. Producers and operators need only the
//! front door, [`Client`].
//!
//! # Examples
//!
//! A hand-made worker loop:
//!
//! ```no_run
//! use std::time::Duration;
//! use concur_worker::protocol::{Connection, Fetched};
//! use concur_worker::{EnqueueOptions, QueueConfig};
//! use serde_json::json;
//!
//! let mut queue = Connection::connect("redis://127.0.0.1:6379", QueueConfig::default())?;
//! let id = queue.enqueue("echo", vec![json!("hi")], &EnqueueOptions::default())?;
//!
//! let worker = concur_worker::protocol::new_worker_id();
//! queue.heartbeat(&worker, Duration::from_secs(30))?;
//! for fetched in queue.fetch(&worker, 10, Duration::from_secs(1))? {
//!     match fetched {
//!         Fetched::Task(task) => {
//!             queue.ack(&worker, &task, &json!(task.args()))?;
//!         }
//!         Fetched::Malformed(bad) => eprintln!("dead-lettered a payload: {}", bad.reason),
//!     }
//! }
//! queue.retire(&worker)?;
//! assert!(queue.result(&id)?.is_some());
//! # Ok::<(), concur_worker::Error>(())
//! ```
//!
//! # Python
//!
//! The reference's consumer is `redis.Redis().rpop("queue")` in a loop;
//! these steps replace that pop with a move into a list the worker owns,
//! plus the calls that finish, retry and revive tasks.

mod consume;
mod maintain;
mod tick;

use std::fmt;
use std::ops::{Deref, DerefMut};

pub(crate) use self::consume::FETCH_MAX;
pub use self::consume::{Acked, FailOutcome, Fetched, Malformed, Task};
pub use self::maintain::{Beat, Promoted, Reaped};
pub use self::tick::Claim;
pub use crate::envelope::{parse, Envelope, MalformedReason};
pub use crate::keys::{Keys, MAX_NAME_LEN};
use crate::{Client, Error, QueueConfig};

/// A [`Client`] with the protocol's steps on top: everything a client does,
/// and every state transition of a task. It dereferences to its `Client`.
///
/// # Examples
///
/// See the [module docs](self).
pub struct Connection {
    client: Client,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Connection").field(&self.client).finish()
    }
}

impl Deref for Connection {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl From<Client> for Connection {
    /// The same connection, with the protocol's steps.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::{protocol::Connection, Client};
    ///
    /// let client = Client::connect("redis://127.0.0.1", Default::default())?;
    /// let connection = Connection::from(client);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    fn from(client: Client) -> Connection {
        Connection { client }
    }
}

impl Connection {
    /// Connects as [`Client::connect`] does.
    ///
    /// # Errors
    ///
    /// As [`Client::connect`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::{protocol::Connection, QueueConfig};
    ///
    /// let queue = Connection::connect("redis://127.0.0.1:6379", QueueConfig::named("emails"))?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn connect(url: &str, config: QueueConfig) -> Result<Connection, Error> {
        Client::connect(url, config).map(Connection::from)
    }

    /// Opens a second connection to the same queue with the same settings.
    ///
    /// # Errors
    ///
    /// As [`Client::connect`], when the server has gone meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// let mut for_acks = queue.try_clone()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn try_clone(&self) -> Result<Connection, Error> {
        self.client.try_clone().map(Connection::from)
    }

    /// A new connection to another queue on the same server or cluster; see
    /// [`Client::for_queue`].
    ///
    /// # Errors
    ///
    /// As [`Client::for_queue`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// let low = queue.for_queue("low")?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn for_queue(&self, name: &str) -> Result<Connection, Error> {
        self.client.for_queue(name).map(Connection::from)
    }

    /// The queue's key names.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// assert_eq!(queue.keys().pending(), "queue");
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn keys(&self) -> &Keys {
        &self.client.keys
    }
}

/// A fresh worker id: the process id and a random suffix, unique per start.
///
/// # Examples
///
/// ```
/// let a = concur_worker::protocol::new_worker_id();
/// assert!(a.starts_with(&std::process::id().to_string()));
/// assert_ne!(a, concur_worker::protocol::new_worker_id());
/// ```
pub fn new_worker_id() -> String {
    format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..12])
}
