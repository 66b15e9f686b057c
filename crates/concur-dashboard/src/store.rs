//! The dashboard's way to Redis: the worker library's [`Client`], one per
//! queue and call, from a small pool.
//!
//! `Client` is a blocking connection bound to one queue, so each call runs
//! on tokio's blocking threads and takes a client of its queue from the
//! pool, or opens one. A few idle clients per queue are kept, so a page
//! that is refreshed every few seconds does not open a connection each
//! time, and a burst of requests opens at most as many as run at once.
//!
//! Everything shown is read through `Client`: the dashboard knows no key
//! names of its own, and writes nothing that the library does not write.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use concur_worker::{Client, Error, Status};
use parking_lot::Mutex;

use crate::error::Refusal;
use crate::snapshot::QueueStatus;

/// Idle clients kept per queue.
const IDLE_PER_QUEUE: usize = 4;
/// An idle client older than this is dropped rather than reused, so a
/// queue's shard declaration, read when a client connects, is read again.
const MAX_CLIENT_AGE: Duration = Duration::from_secs(300);

/// The queues shown and the clients that read them.
#[derive(Debug)]
pub(crate) struct Store {
    /// The first client, connected at start; new clients are its siblings.
    /// (`Client` is `Send` but not `Sync`, hence the lock; it is held
    /// only while a new connection opens.)
    base: Mutex<Client>,
    queues: Vec<String>,
    idle: Mutex<HashMap<String, Vec<(Instant, Client)>>>,
}

impl Store {
    /// Connects to Redis for `queues` (the first is the base), checking
    /// that it answers.
    pub(crate) fn connect(url: &str, config: concur_worker::QueueConfig, queues: Vec<String>) -> Result<Store, Error> {
        let first = queues.first().cloned().unwrap_or_else(|| config.name.clone());
        let base = Client::connect(url, concur_worker::QueueConfig { name: first, ..config })?;
        Ok(Store { base: Mutex::new(base), queues, idle: Mutex::new(HashMap::new()) })
    }

    /// The queues the dashboard shows, in the order given.
    pub(crate) fn queues(&self) -> &[String] {
        &self.queues
    }

    /// Whether `name` is one of the queues shown.
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.queues.iter().any(|q| q == name)
    }

    /// Runs `f` with a client of `queue`, on the calling thread (which must
    /// be allowed to block).
    pub(crate) fn with_client<T>(
        &self,
        queue: &str,
        f: impl FnOnce(&mut Client) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut client = self.take(queue)?;
        let outcome = f(&mut client);
        // A client whose connection broke reconnects on its next call, so
        // it can go back either way.
        self.give_back(queue, client);
        outcome
    }

    fn take(&self, queue: &str) -> Result<Client, Error> {
        {
            let mut idle = self.idle.lock();
            if let Some(clients) = idle.get_mut(queue) {
                while let Some((born, client)) = clients.pop() {
                    if born.elapsed() < MAX_CLIENT_AGE {
                        return Ok(client);
                    }
                }
            }
        }
        let base = self.base.lock();
        if base.name() == queue {
            base.try_clone()
        } else {
            base.for_queue(queue)
        }
    }

    fn give_back(&self, queue: &str, client: Client) {
        let mut idle = self.idle.lock();
        let clients = idle.entry(queue.to_owned()).or_default();
        if clients.len() < IDLE_PER_QUEUE {
            clients.push((Instant::now(), client));
        }
    }

    /// The status of every queue shown, in order; a queue whose status
    /// cannot be read fails the whole snapshot, since the counts would not
    /// add up otherwise.
    pub(crate) fn statuses(&self) -> Result<Vec<(String, Status)>, Error> {
        let statuses = self.per_queue(&self.queues, Client::status)?;
        Ok(self.queues.iter().cloned().zip(statuses).collect())
    }

    /// [`statuses`](Self::statuses) with each sharded queue's shards' own,
    /// read in the same calls (a script per shard, which the total reads
    /// anyway): what the overview shows.
    pub(crate) fn statuses_with_shards(&self) -> Result<Vec<QueueStatus>, Error> {
        let statuses = self.per_queue(&self.queues, Client::status_with_shards)?;
        Ok(self.queues.iter().cloned().zip(statuses).map(|(name, (status, shards))| (name, status, shards)).collect())
    }

    /// `read` on each of `queues`, a few queues at a time, answers in the
    /// order of `queues`. A view over every queue is a round trip or more
    /// per queue: one after another, a hundred queues took 300 ms; side
    /// by side, on clients of their own, they overlap their waits.
    pub(crate) fn per_queue<T: Send>(
        &self,
        queues: &[String],
        read: impl Fn(&mut Client) -> Result<T, Error> + Sync,
    ) -> Result<Vec<T>, Error> {
        if queues.len() <= 1 {
            return queues.iter().map(|name| self.with_client(name, &read)).collect();
        }
        let chunk = queues.len().div_ceil(PARALLEL_READS);
        std::thread::scope(|scope| {
            let running: Vec<_> = queues
                .chunks(chunk)
                .map(|part| {
                    let read = &read;
                    scope.spawn(move || {
                        part.iter().map(|name| self.with_client(name, read)).collect::<Result<Vec<T>, Error>>()
                    })
                })
                .collect();
            let mut answers = Vec::with_capacity(queues.len());
            for thread in running {
                match thread.join() {
                    Ok(part) => answers.extend(part?),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Ok(answers)
        })
    }
}

/// How many queues a view over every queue reads at once.
const PARALLEL_READS: usize = 8;

/// Runs a blocking Redis read on tokio's blocking threads.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, Error> + Send + 'static,
) -> Result<T, Refusal> {
    let store = Arc::clone(store);
    Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
}
