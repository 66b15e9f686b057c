//! What operators change: pausing a queue, asking a worker to quiet down or
//! stop, running or deleting delayed tasks, deleting dead letters.
//!
//! Each call changes Redis only: the workers notice a pause at their next
//! fetch and a request at their next look (every second), so these work
//! from any machine — the dashboard, `concur`, or a program of your own.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use super::sweep::End;
use super::Client;
use crate::error::Error;
use crate::keys::{check_task_id, check_worker_id, Keys};
use crate::record::unix_seconds;
use crate::scripts;

/// What an operator can ask of a running worker through Redis, with
/// [`Client::control_worker`].
///
/// # Examples
///
/// ```
/// use concur_worker::WorkerControl;
///
/// assert_eq!("quiet".parse::<WorkerControl>(), Ok(WorkerControl::Quiet));
/// assert_eq!(WorkerControl::Stop.to_string(), "stop");
/// assert!("pause".parse::<WorkerControl>().is_err());
/// ```
///
/// # Python
///
/// Celery's `celery control cancel_consumer` and `shutdown`; Sidekiq's
/// "Quiet" and "Stop" buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerControl {
    /// Take no new tasks, let the running ones finish, stay registered and
    /// wait for a stop: what comes before a deploy.
    Quiet,
    /// Stop gracefully, as `SIGTERM` does: no new tasks, the running ones
    /// get the grace period, the rest go back to the queue.
    Stop,
}

impl WorkerControl {
    /// The word stored in Redis.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::WorkerControl::Quiet.as_str(), "quiet");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerControl::Quiet => "quiet",
            WorkerControl::Stop => "stop",
        }
    }
}

impl fmt::Display for WorkerControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not `quiet` or `stop`.
///
/// # Examples
///
/// ```
/// let err = "halt".parse::<concur_worker::WorkerControl>().unwrap_err();
/// assert_eq!(err.to_string(), "\"halt\" is not a worker control (quiet or stop)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownControl(String);

impl fmt::Display for UnknownControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a worker control (quiet or stop)", self.0)
    }
}

impl std::error::Error for UnknownControl {}

impl FromStr for WorkerControl {
    type Err = UnknownControl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "quiet" => Ok(WorkerControl::Quiet),
            "stop" => Ok(WorkerControl::Stop),
            other => Err(UnknownControl(other.to_owned())),
        }
    }
}

impl Client {
    /// Pauses the queue (and each of its shards): workers take nothing from
    /// it until [`resume`](Self::resume), while producers go on enqueuing
    /// and running tasks finish. A worker notices at its next fetch; one
    /// blocked waiting for a task puts back untouched the task that ends its
    /// wait. Returns whether the queue was running before.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// queue.pause()?;
    /// assert!(queue.is_paused()?);
    /// queue.resume()?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// Sidekiq Pro's `Sidekiq::Queue#pause!`; RQ and Celery have no pause.
    pub fn pause(&mut self) -> Result<bool, Error> {
        let now = unix_seconds(SystemTime::now());
        let mut was_running = false;
        for keys in self.members() {
            let key = keys.paused();
            let set: bool = self.with_conn(|c| redis::cmd("SET").arg(&key).arg(now).arg("NX").query(c))?;
            was_running |= set;
        }
        Ok(was_running)
    }

    /// Resumes a paused queue (and its shards); workers take from it again
    /// within half a second. Returns whether it was paused.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`pause`](Self::pause).
    pub fn resume(&mut self) -> Result<bool, Error> {
        let mut was_paused = false;
        for keys in self.members() {
            let key = keys.paused();
            let deleted: u64 = self.with_conn(|c| redis::cmd("DEL").arg(&key).query(c))?;
            was_paused |= deleted > 0;
        }
        Ok(was_paused)
    }

    /// Whether the queue is paused (any of its shards, for a sharded one).
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// See [`pause`](Self::pause).
    pub fn is_paused(&mut self) -> Result<bool, Error> {
        for keys in self.members() {
            let key = keys.paused();
            let exists: bool = self.with_conn(|c| redis::cmd("EXISTS").arg(&key).query(c))?;
            if exists {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Asks the worker `worker`, registered on this queue, to quiet down or
    /// to stop. It looks for requests every second and obeys as its
    /// [`Shutdown`](crate::Shutdown) handle would; a request stays until the
    /// worker leaves, and a stop outranks a quiet.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchWorker`] when no worker of that id is registered on
    /// the queue; [`Error::InvalidName`] for a bad id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::{Client, WorkerControl};
    ///
    /// let mut queue = Client::connect("redis://127.0.0.1", Default::default())?;
    /// for worker in queue.status()?.workers {
    ///     queue.control_worker(&worker.id, WorkerControl::Quiet)?;
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn control_worker(&mut self, worker: &str, control: WorkerControl) -> Result<(), Error> {
        check_worker_id(worker)?;
        let mut found = false;
        for keys in self.members() {
            let mut invocation = scripts::CONTROL_ASK.prepare_invoke();
            invocation.key(keys.workers()).key(keys.worker_info(worker)).arg(worker).arg(control.as_str());
            let asked: bool = self.with_conn(|c| invocation.invoke(c))?;
            found |= asked;
        }
        if found {
            Ok(())
        } else {
            Err(Error::NoSuchWorker { queue: self.keys.name().to_owned(), worker: worker.to_owned() })
        }
    }

    /// Moves the delayed tasks with these ids (waiting for their time or for
    /// a retry) to the oldest end of pending, so they run next. Ids not
    /// delayed (any more) are skipped; returns how many moved. Each is found
    /// through the location index, without a scan.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for an id that cannot be a task id; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let moved = queue.delayed_run_now(&["0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a"])?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn delayed_run_now(&mut self, ids: &[&str]) -> Result<usize, Error> {
        self.take_delayed(ids, "run")
    }

    /// Deletes the delayed tasks with these ids; returns how many were
    /// found. See [`delayed_run_now`](Self::delayed_run_now).
    ///
    /// # Errors
    ///
    /// As [`delayed_run_now`](Self::delayed_run_now).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let deleted = queue.delayed_delete(&["0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a"])?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn delayed_delete(&mut self, ids: &[&str]) -> Result<usize, Error> {
        self.take_delayed(ids, "delete")
    }

    /// Deletes the dead-letter entries with these ids; returns how many
    /// were found. The list is read from its newest end, a thousand entries
    /// at a time, until every id is found.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let deleted = queue.dead_delete(&["0b6c5f5e-0d1c-4a57-9a8e-3f1e2d4c5b6a"])?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn dead_delete(&mut self, ids: &[&str]) -> Result<usize, Error> {
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        if wanted.is_empty() {
            return Ok(0);
        }
        let mut deleted = 0;
        for keys in self.members() {
            deleted += self.sweep_dead(&keys, End::Newest, Some(&wanted), &mut |client, dead, chosen| {
                let mut invocation = scripts::DEAD_DELETE.prepare_invoke();
                invocation.key(dead).arg(End::Newest.direction());
                for (raw, _) in chosen {
                    invocation.arg(raw.as_slice());
                }
                client.with_conn(|c| invocation.invoke(c))
            })?;
        }
        Ok(deleted)
    }

    fn take_delayed(&mut self, ids: &[&str], action: &str) -> Result<usize, Error> {
        for id in ids {
            check_task_id(id)?;
        }
        let mut taken = 0;
        for keys in self.members() {
            let found = self.find_delayed(&keys, ids)?;
            if found.is_empty() {
                continue;
            }
            let mut invocation = scripts::DELAYED_TAKE.prepare_invoke();
            invocation.key(keys.delayed()).key(keys.pending()).key(keys.locations()).arg(action).arg(found);
            taken += self.with_conn(|c| invocation.invoke::<usize>(c))?;
        }
        Ok(taken)
    }

    /// The members of the delayed set of `keys` with these ids: the location
    /// index gives each one's score, and the members of that score are
    /// read a hundred at a time (ordered by their text, which begins with
    /// the id) until it turns up.
    pub(crate) fn find_delayed(&mut self, keys: &Keys, ids: &[&str]) -> Result<Vec<Vec<u8>>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let locations = keys.locations();
        let delayed = keys.delayed();
        let places: Vec<Option<String>> = self.with_conn(|c| redis::cmd("HMGET").arg(&locations).arg(ids).query(c))?;
        let mut found = Vec::new();
        for (id, place) in ids.iter().zip(places) {
            let Some(score) = place.as_deref().and_then(|place| place.strip_prefix("delayed:")) else { continue };
            let mut offset = 0;
            loop {
                let members: Vec<Vec<u8>> = self.with_conn(|c| {
                    redis::cmd("ZRANGE")
                        .arg(&delayed)
                        .arg(score)
                        .arg(score)
                        .arg("BYSCORE")
                        .arg("LIMIT")
                        .arg(offset)
                        .arg(SAME_SCORE_CHUNK)
                        .query(c)
                })?;
                if let Some(member) = members.iter().find(|member| envelope_id(member) == Some(id)) {
                    found.push(member.clone());
                    break;
                }
                if members.len() < SAME_SCORE_CHUNK {
                    break;
                }
                offset += SAME_SCORE_CHUNK;
            }
        }
        Ok(found)
    }
}

/// How many members of one score a search of the delayed set reads at once.
const SAME_SCORE_CHUNK: usize = 100;

/// The id at the start of an envelope as concur writes it, as the
/// location index reads it (see `LOCATE` in `scripts.rs`).
pub(crate) fn envelope_id(payload: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(payload).ok()?;
    let rest = text.strip_prefix('{')?.trim_start().strip_prefix("\"id\"")?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    (end > 0 && rest[end..].starts_with('"')).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::envelope_id;

    #[test]
    fn envelope_ids_are_read_as_the_location_index_reads_them() {
        assert_eq!(envelope_id(br#"{"id":"abc","task":"x"}"#), Some("abc"));
        assert_eq!(envelope_id(br#"{ "id" : "abc" }"#), Some("abc"));
        assert_eq!(envelope_id(br#"{"task":"x","id":"abc"}"#), None);
        assert_eq!(envelope_id(br#"{"id":"a\"b"}"#), None);
        assert_eq!(envelope_id(br#"{"id":""}"#), None);
        assert_eq!(envelope_id(b"5"), None);
    }
}
