//! The steps a worker takes with each task: fetch it, then acknowledge,
//! fail, reject or return it; recover after a lost fetch reply; and
//! `enqueue_raw`, which pushes bytes unchecked.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::Connection;
use crate::envelope::{new_id, parse, Envelope, MalformedReason};
use crate::error::Error;
use crate::keys::check_worker_id;
use crate::record::{from_unix_seconds, unix_seconds, DeadEntry, DeadKind, ResultStatus, TaskResult};
use crate::scripts;

/// The longest a single blocking fetch waits.
const MAX_BLOCK: Duration = Duration::from_secs(3600);
/// One fetch stops adding tasks once their payloads reach this many bytes,
/// so a batch of large payloads cannot make one reply (and the worker's
/// memory) grow with the batch size.
const FETCH_BYTES: usize = 4 << 20;
/// The most tasks one fetch asks for, however many slots are free.
pub(crate) const FETCH_MAX: usize = 1000;

/// A task fetched by a worker, which now holds it until it calls
/// [`Connection::ack`], [`Connection::fail`], [`Connection::reject`] or
/// [`Connection::return_to_pending`].
///
/// # Examples
///
/// ```no_run
/// # use std::time::Duration;
/// # use concur_worker::QueueConfig;
/// # use concur_worker::protocol::{Connection, Fetched};
/// # let mut queue = Connection::connect("redis://127.0.0.1", QueueConfig::default())?;
/// # let worker = "w1";
/// for fetched in queue.fetch(worker, 1, Duration::from_secs(5))? {
///     if let Fetched::Task(task) = fetched {
///         println!("{} {:?} attempt {} of {}", task.name(), task.args(), task.attempt(), task.max_attempts());
///     }
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Task {
    envelope: Envelope,
    raw: String,
    started_at: f64,
    max_attempts: u32,
    timeout: Duration,
}

impl Task {
    /// The task's id, under which its result is stored.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn id(&self) -> &str {
        &self.envelope.id
    }

    /// The name of the handler to run.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn name(&self) -> &str {
        &self.envelope.task
    }

    /// The handler's arguments.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn args(&self) -> &[Value] {
        &self.envelope.args
    }

    /// Which attempt this is, 1 for the first.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn attempt(&self) -> u32 {
        self.envelope.attempts + 1
    }

    /// Attempts allowed in all, from the envelope or the queue's default.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time limit of this attempt, from the envelope or the queue's default.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// When the worker fetched it: the start of this attempt.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn fetched_at(&self) -> SystemTime {
        from_unix_seconds(self.started_at)
    }

    /// The whole envelope.
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The payload exactly as it sits in the processing list (for a bare
    /// number like `5`, that number, not the envelope made from it).
    ///
    /// # Examples
    ///
    /// See [`Task`].
    pub fn payload(&self) -> &str {
        &self.raw
    }
}

/// A payload that could not be read as a task. [`Connection::fetch`] has already
/// moved it to the dead-letter list when it returns this.
///
/// # Examples
///
/// ```no_run
/// # use std::time::Duration;
/// # use concur_worker::QueueConfig;
/// # use concur_worker::protocol::{Connection, Fetched};
/// # let mut queue = Connection::connect("redis://127.0.0.1", QueueConfig::default())?;
/// for fetched in queue.fetch("w1", 10, Duration::ZERO)? {
///     if let Fetched::Malformed(bad) = fetched {
///         eprintln!("dead-lettered {} ({} bytes): {}", bad.dead_id, bad.size, bad.reason);
///     }
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Malformed {
    /// The id of its dead-letter entry.
    pub dead_id: String,
    /// Why it could not be read.
    pub reason: MalformedReason,
    /// Its size in bytes.
    pub size: usize,
    /// Old dead-letter entries dropped to keep the list within its cap to
    /// make room for this one (see [`QueueConfig::dead_cap`](crate::QueueConfig::dead_cap)).
    pub dead_trimmed: u64,
}

/// One item of a fetch.
///
/// # Examples
///
/// See [`Task`] and [`Malformed`].
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A task to run.
    Task(Task),
    /// A payload that was dead-lettered instead.
    Malformed(Malformed),
}

/// What [`Connection::fail`] or [`Connection::reject`] did.
///
/// # Examples
///
/// ```no_run
/// # use concur_worker::QueueConfig;
/// # use concur_worker::protocol::{Connection, FailOutcome, Task};
/// # fn handle(queue: &mut Connection, task: &Task) -> Result<(), concur_worker::Error> {
/// match queue.fail("w1", task, "the mail server timed out")? {
///     FailOutcome::Retrying { attempt, delay, .. } => println!("attempt {attempt} failed; retry in {delay:?}"),
///     FailOutcome::Dead { .. } => println!("out of attempts: dead-lettered"),
///     FailOutcome::Reaped => println!("this worker was taken for dead; the task went back to the queue"),
///     FailOutcome::NotHeld => println!("no longer held; nothing changed"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// The task waits in the delayed set for its next attempt.
    Retrying {
        /// Attempts failed so far.
        attempt: u32,
        /// The wait drawn from the retry policy.
        delay: Duration,
        /// When it becomes due.
        due: SystemTime,
    },
    /// The task is in the dead-letter list.
    Dead {
        /// Old entries the list dropped to stay within its cap.
        trimmed: u64,
    },
    /// The worker no longer held the task because a reaper took the worker
    /// for dead (its heartbeat lapsed) and returned its tasks to pending;
    /// nothing was changed.
    Reaped,
    /// The worker no longer held the task although no reaper took it: the
    /// call repeats one that took effect (its reply was lost), or someone
    /// removed the task (a `DEL`, `FLUSHALL`, a Redis restart that lost
    /// data). Nothing was changed.
    NotHeld,
}

/// What [`Connection::ack`] did with one task.
///
/// # Examples
///
/// ```no_run
/// # use concur_worker::protocol::{Acked, Connection, Task};
/// # fn run(queue: &mut Connection, task: &Task) -> Result<(), concur_worker::Error> {
/// match queue.ack("w1", task, &serde_json::json!("ok"))? {
///     Acked::Done => {}
///     Acked::Reaped => eprintln!("a reaper took this worker for dead; the task may run again"),
///     Acked::NotHeld => eprintln!("the task was no longer in this worker's list"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    /// Removed from the worker's processing list; its result stored.
    Done,
    /// Not held: a reaper took this worker for dead and returned its tasks
    /// to pending, so the task may run again elsewhere. Nothing changed.
    Reaped,
    /// Not held although no reaper took this worker: the call repeats one
    /// that took effect (its reply was lost with the connection), or
    /// someone removed the task from Redis. Nothing changed.
    NotHeld,
}

impl Connection {
    /// Pushes `payload` onto the pending list as it is, as any producer may
    /// (`redis-cli LPUSH queue 5`): nothing is checked, the worker that fetches
    /// it does the checking.
    ///
    /// # Errors
    ///
    /// Connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// queue.enqueue_raw(b"5")?; // the built-in sleep task, 5 seconds
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn enqueue_raw(&mut self, payload: &[u8]) -> Result<(), Error> {
        let pending = self.keys.pending().to_owned();
        self.with_conn(|c| redis::cmd("LPUSH").arg(&pending).arg(payload).query::<()>(c))
    }

    /// Moves up to `max` tasks from the pending list to `worker`'s processing
    /// list and returns them, oldest first.
    ///
    /// When tasks are waiting, one script moves as many as `max` in one round
    /// trip (a busy worker asks for its free slots at once), stopping early
    /// once the payloads moved reach 4 MiB. When none are waiting, the
    /// call blocks in `BLMOVE` for up to `block` (at most an hour; zero does
    /// not block) and returns as soon as one arrives: no polling delay.
    ///
    /// Payloads that cannot be read are moved to the dead-letter list here and
    /// come back as [`Fetched::Malformed`].
    ///
    /// Call [`heartbeat`](Self::heartbeat) before the first fetch and keep it
    /// alive: a worker without one is taken for dead and its tasks are reaped.
    ///
    /// # Errors
    ///
    /// [`Error::Paused`] while the queue is paused (a task a blocking fetch
    /// took as the pause began is put back untouched);
    /// [`Error::InvalidName`] for a bad worker id; connection errors. After
    /// [`Error::ConnectionLost`] a task may have been moved without the reply
    /// arriving: call [`recover`](Self::recover) once reconnected.
    ///
    /// # Cancel safety
    ///
    /// Not async. A blocking fetch holds this connection for up to
    /// `block`; use another connection for other calls meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use concur_worker::protocol::Fetched;
    ///
    /// # let mut queue = concur_worker::protocol::Connection::connect("redis://127.0.0.1", Default::default())?;
    /// let worker = concur_worker::protocol::new_worker_id();
    /// queue.heartbeat(&worker, Duration::from_secs(30))?;
    /// let batch = queue.fetch(&worker, 16, Duration::from_secs(5))?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// Replaces the reference's `rpop`, which loses the task if the consumer
    /// dies before it finishes.
    pub fn fetch(&mut self, worker: &str, max: usize, block: Duration) -> Result<Vec<Fetched>, Error> {
        check_worker_id(worker)?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let pending = self.keys.pending().to_owned();
        let processing = self.keys.processing(worker);
        let workers = self.keys.workers();
        let paused = self.keys.paused();
        let locations = self.keys.locations();
        let reply: Vec<redis::Value> = self.with_conn(|c| {
            scripts::FETCH
                .key(&pending)
                .key(&processing)
                .key(&workers)
                .key(&paused)
                .key(&locations)
                .arg(worker)
                .arg(max)
                .arg(FETCH_BYTES)
                .invoke(c)
        })?;
        let mut raws = self.fetched_payloads(reply)?;
        if raws.is_empty() && !block.is_zero() {
            let block = block.min(MAX_BLOCK);
            let reply_timeout = block + self.config.command_timeout;
            let command_timeout = self.config.command_timeout;
            let moved: Option<Vec<u8>> = self.with_conn(|c| {
                c.set_read_timeout(Some(reply_timeout))?;
                let moved = redis::cmd("BLMOVE")
                    .arg(&pending)
                    .arg(&processing)
                    .arg("RIGHT")
                    .arg("LEFT")
                    // Redis takes fractional seconds; below 1 ms it would round to 0, "forever".
                    .arg(block.as_secs_f64().max(0.001))
                    .query(c);
                c.set_read_timeout(Some(command_timeout))?;
                moved
            })?;
            if let Some(task) = moved {
                // The queue may have been paused while this fetch blocked.
                let returned: i64 = self.with_conn(|c| {
                    scripts::CLAIMED
                        .key(&processing)
                        .key(&pending)
                        .key(&paused)
                        .key(&locations)
                        .arg(worker)
                        .arg(task.as_slice())
                        .invoke(c)
                })?;
                if returned == 1 {
                    return Err(Error::Paused { queue: self.keys.name().to_owned() });
                }
                raws.push(task);
            }
        }
        self.read_fetched(worker, raws)
    }

    /// The payloads of a fetch's reply (`{0, tasks…}`), or
    /// [`Error::Paused`] for `{1}`.
    fn fetched_payloads(&self, reply: Vec<redis::Value>) -> Result<Vec<Vec<u8>>, Error> {
        let mut reply = reply.into_iter();
        if reply.next() != Some(redis::Value::Int(0)) {
            return Err(Error::Paused { queue: self.keys.name().to_owned() });
        }
        reply
            .map(|value| match value {
                redis::Value::BulkString(bytes) => Ok(bytes),
                other => Err(self.protocol_error(format!("a fetch answered {other:?} for a task"))),
            })
            .collect()
    }

    /// Reads fetched payloads into tasks, dead-lettering those that are not.
    fn read_fetched(&mut self, worker: &str, raws: Vec<Vec<u8>>) -> Result<Vec<Fetched>, Error> {
        let now = unix_seconds(SystemTime::now());
        let mut fetched = Vec::with_capacity(raws.len());
        for raw in raws {
            match parse(&raw, self.config.max_payload) {
                Ok(envelope) => {
                    // `parse` accepts only UTF-8, so this conversion cannot fail.
                    let raw = String::from_utf8(raw).expect("a parsed payload is UTF-8");
                    let max_attempts = envelope.max_attempts.unwrap_or(self.config.default_max_attempts);
                    let timeout = envelope.timeout.map_or(self.config.default_timeout, |t| {
                        Duration::try_from_secs_f64(t).unwrap_or(Duration::MAX)
                    });
                    fetched.push(Fetched::Task(Task { envelope, raw, started_at: now, max_attempts, timeout }));
                }
                Err(reason) => fetched.push(Fetched::Malformed(self.bury_malformed(worker, &raw, reason)?)),
            }
        }
        Ok(fetched)
    }

    /// Acknowledges a finished task: removes it from `worker`'s processing
    /// list and stores `result` under its id, all in one script. When the
    /// worker no longer held it nothing is stored, and the answer says why:
    /// [`Acked::Reaped`] if a reaper took the worker for dead (the task may
    /// be running elsewhere), [`Acked::NotHeld`] otherwise.
    ///
    /// Repeating an acknowledgement that took effect answers
    /// [`Acked::NotHeld`] and changes nothing, so it is safe after a lost
    /// connection.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::protocol::{Connection, Task};
    /// # fn run(queue: &mut Connection, task: &Task) -> Result<(), concur_worker::Error> {
    /// let acked = queue.ack("w1", task, &serde_json::json!({"pages": 3}))?;
    /// # Ok(()) }
    /// ```
    pub fn ack(&mut self, worker: &str, task: &Task, result: &Value) -> Result<Acked, Error> {
        Ok(self.ack_many(worker, &[(task, result)])?[0])
    }

    /// Acknowledges several tasks in one script (one round trip), returning
    /// what became of each. See [`ack`](Self::ack).
    ///
    /// # Errors
    ///
    /// As [`ack`](Self::ack).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::protocol::{Connection, Task};
    /// # fn run(queue: &mut Connection, a: &Task, b: &Task) -> Result<(), concur_worker::Error> {
    /// let ok = serde_json::Value::Null;
    /// let acked = queue.ack_many("w1", &[(a, &ok), (b, &ok)])?;
    /// # Ok(()) }
    /// ```
    pub fn ack_many(&mut self, worker: &str, done: &[(&Task, &Value)]) -> Result<Vec<Acked>, Error> {
        check_worker_id(worker)?;
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = scripts::ACK.prepare_invoke();
        self.ack_keys_and_args(&mut invocation, worker, done);
        let flags: Vec<i64> = self.with_conn(|c| invocation.invoke(c))?;
        let keys = self.keys.clone();
        self.replicated(&keys)?;
        self.read_flags(flags, done.len())
    }

    /// Acknowledges tasks as [`ack_many`](Self::ack_many) does and, in the
    /// same script, fetches up to `max` more as [`fetch`](Self::fetch) does
    /// without blocking: one round trip where a busy worker would make two.
    /// Nothing is fetched when the queue is paused or when any of the tasks
    /// was not held (the worker should look into that first).
    ///
    /// # Errors
    ///
    /// As [`ack_many`](Self::ack_many); a task that cannot be read is
    /// dead-lettered as [`fetch`](Self::fetch) does.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::protocol::{Connection, Task};
    /// # fn run(queue: &mut Connection, done: &Task) -> Result<(), concur_worker::Error> {
    /// let ok = serde_json::Value::Null;
    /// let (acked, next) = queue.ack_and_fetch("w1", &[(done, &ok)], 1)?;
    /// # Ok(()) }
    /// ```
    pub fn ack_and_fetch(
        &mut self,
        worker: &str,
        done: &[(&Task, &Value)],
        max: usize,
    ) -> Result<(Vec<Acked>, Vec<Fetched>), Error> {
        check_worker_id(worker)?;
        let mut invocation = scripts::ACK_FETCH.prepare_invoke();
        invocation.arg(worker).arg(max.min(FETCH_MAX)).arg(FETCH_BYTES);
        self.ack_keys_and_args(&mut invocation, worker, done);
        invocation.key(self.keys.pending()).key(self.keys.workers()).key(self.keys.paused());
        let (flags, fetched): (Vec<i64>, Vec<redis::Value>) = self.with_conn(|c| invocation.invoke(c))?;
        let keys = self.keys.clone();
        self.replicated(&keys)?;
        let acked = self.read_flags(flags, done.len())?;
        let raws = match self.fetched_payloads(fetched) {
            Ok(raws) => raws,
            Err(Error::Paused { .. }) => Vec::new(),
            Err(other) => return Err(other),
        };
        Ok((acked, self.read_fetched(worker, raws)?))
    }

    /// The keys and arguments of an acknowledgement, as ACK_BATCH takes them.
    fn ack_keys_and_args(&self, invocation: &mut redis::ScriptInvocation<'_>, worker: &str, done: &[(&Task, &Value)]) {
        let finished_at = unix_seconds(SystemTime::now());
        let keep = self.keeps_results();
        invocation
            .key(self.keys.processing(worker))
            .key(self.keys.results())
            .key(self.keys.stats())
            .key(self.keys.reaped())
            .key(self.keys.worker_info(worker))
            .key(self.keys.locations())
            .arg(self.keys.result_prefix())
            .arg(self.result_ttl_ms())
            .arg(self.config.results_cap)
            .arg(self.keys.done_prefix());
        for (task, result) in done {
            let record = if keep {
                result_record(task, worker, ResultStatus::Succeeded, Some((*result).clone()), None, finished_at)
            } else {
                String::new()
            };
            invocation.arg(&task.raw).arg(task.id()).arg(record);
        }
    }

    /// The outcome of each acknowledgement, from the script's flags.
    fn read_flags(&self, flags: Vec<i64>, expected: usize) -> Result<Vec<Acked>, Error> {
        let done_len = expected;
        if flags.len() != done_len {
            return Err(self.protocol_error(format!("{} flags for {} acknowledgements", flags.len(), done_len)));
        }
        flags
            .into_iter()
            .map(|flag| match flag {
                1 => Ok(Acked::Done),
                0 => Ok(Acked::Reaped),
                2 => Ok(Acked::NotHeld),
                other => Err(self.protocol_error(format!("the acknowledgement flag {other}"))),
            })
            .collect()
    }

    /// Records a failed attempt. If the task has attempts left it goes to the
    /// delayed set, due after a wait from [`QueueConfig::retry`](crate::QueueConfig::retry), with its
    /// attempt count and `error` in the envelope; otherwise it goes to the
    /// dead-letter list with `error`. One script either way.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// See [`FailOutcome`].
    pub fn fail(&mut self, worker: &str, task: &Task, error: &str) -> Result<FailOutcome, Error> {
        check_worker_id(worker)?;
        let failures = task.envelope.attempts.saturating_add(1);
        if failures >= task.max_attempts {
            return self.bury(worker, task, DeadKind::Failed, error);
        }
        let delay = self.config.retry.delay(failures);
        let now = SystemTime::now();
        let due = now + delay;
        let mut envelope = task.envelope.clone();
        envelope.attempts = failures;
        envelope.max_attempts = Some(task.max_attempts);
        envelope.started_at = Some(task.started_at);
        envelope.eta = Some(unix_seconds(due));
        envelope.error = Some(error.to_owned());
        let outcome =
            self.finish(worker, task.raw.as_bytes(), "retry", unix_seconds(due), &envelope.to_json(), None)?;
        Ok(match outcome {
            FailOutcome::Dead { .. } => {
                return Err(self.protocol_error("a dead-letter answer to a retry".into()));
            }
            FailOutcome::Retrying { .. } => FailOutcome::Retrying { attempt: failures, delay, due },
            other => other,
        })
    }

    /// Moves a task straight to the dead-letter list without retrying: for
    /// failures no retry can fix, such as an unknown task name or arguments
    /// the handler cannot take.
    ///
    /// # Errors
    ///
    /// As [`fail`](Self::fail).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::protocol::{Connection, Task};
    /// # fn run(queue: &mut Connection, task: &Task) -> Result<(), concur_worker::Error> {
    /// queue.reject("w1", task, &format!("no handler is registered for the task {:?}", task.name()))?;
    /// # Ok(()) }
    /// ```
    pub fn reject(&mut self, worker: &str, task: &Task, error: &str) -> Result<FailOutcome, Error> {
        check_worker_id(worker)?;
        self.bury(worker, task, DeadKind::Rejected, error)
    }

    /// Puts tasks that `worker` fetched but did not start back at the front
    /// of the pending list, in their order, as a worker does when it shuts
    /// down. Tasks it no longer holds are skipped. Returns how many went back.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::protocol::{Connection, Task};
    /// # fn stop(queue: &mut Connection, unstarted: &[Task]) -> Result<(), concur_worker::Error> {
    /// let tasks: Vec<&Task> = unstarted.iter().collect();
    /// queue.return_to_pending("w1", &tasks)?;
    /// # Ok(()) }
    /// ```
    pub fn return_to_pending(&mut self, worker: &str, tasks: &[&Task]) -> Result<usize, Error> {
        check_worker_id(worker)?;
        if tasks.is_empty() {
            return Ok(0);
        }
        let mut invocation = scripts::RETURN.prepare_invoke();
        invocation.key(self.keys.processing(worker)).key(self.keys.pending()).key(self.keys.locations());
        for task in tasks {
            invocation.arg(&task.raw);
        }
        let returned = self.with_conn(|c| invocation.invoke(c))?;
        let keys = self.keys.clone();
        self.replicated(&keys)?;
        Ok(returned)
    }

    /// Returns to pending every task in `worker`'s processing list that is
    /// not among `held`: the tasks a fetch moved while its reply was lost with
    /// the connection. Call it after reconnecting, before fetching again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad worker id; connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use concur_worker::protocol::{Connection, Task};
    /// # fn resume(queue: &mut Connection, running: &[Task]) -> Result<(), concur_worker::Error> {
    /// let held: Vec<&Task> = running.iter().collect();
    /// let orphans = queue.recover("w1", &held)?;
    /// # Ok(()) }
    /// ```
    pub fn recover(&mut self, worker: &str, held: &[&Task]) -> Result<usize, Error> {
        check_worker_id(worker)?;
        let mut invocation = scripts::RECOVER.prepare_invoke();
        invocation.key(self.keys.processing(worker)).key(self.keys.pending()).key(self.keys.locations());
        for task in held {
            invocation.arg(&task.raw);
        }
        self.with_conn(|c| invocation.invoke(c))
    }

    fn bury(&mut self, worker: &str, task: &Task, kind: DeadKind, error: &str) -> Result<FailOutcome, Error> {
        let attempts = task.envelope.attempts.saturating_add(1);
        let mut envelope = task.envelope.clone();
        envelope.attempts = attempts;
        envelope.max_attempts = Some(task.max_attempts);
        envelope.started_at = Some(task.started_at);
        envelope.error = Some(error.to_owned());
        let payload = envelope.to_json();
        let mut entry = DeadEntry::for_payload(
            task.id().to_owned(),
            kind,
            error.to_owned(),
            worker,
            payload.as_bytes(),
            usize::MAX,
        );
        entry.task = Some(task.name().to_owned());
        entry.attempts = attempts;
        let record = self.keeps_results().then(|| {
            result_record(task, worker, ResultStatus::Dead, None, Some(error), unix_seconds(SystemTime::now()))
        });
        self.finish(worker, task.raw.as_bytes(), "dead", 0.0, &entry.to_json(), record.map(|r| (task.id(), r)))
    }

    fn bury_malformed(&mut self, worker: &str, raw: &[u8], reason: MalformedReason) -> Result<Malformed, Error> {
        let entry = DeadEntry::for_payload(
            new_id(),
            DeadKind::Malformed,
            reason.to_string(),
            worker,
            raw,
            self.config.max_payload,
        );
        let dead_trimmed = match self.finish(worker, raw, "dead", 0.0, &entry.to_json(), None)? {
            FailOutcome::Dead { trimmed } => trimmed,
            _ => 0,
        };
        Ok(Malformed { dead_id: entry.id, reason, size: raw.len(), dead_trimmed })
    }

    /// Runs the FINISH script. A retry comes back as `Retrying` with
    /// placeholder fields, for the caller to fill in.
    fn finish(
        &mut self,
        worker: &str,
        raw: &[u8],
        action: &str,
        due: f64,
        payload: &str,
        record: Option<(&str, String)>,
    ) -> Result<FailOutcome, Error> {
        let (id, record) = record.unwrap_or_default();
        let mut invocation = scripts::FINISH.prepare_invoke();
        invocation
            .key(self.keys.processing(worker))
            .key(self.keys.delayed())
            .key(self.keys.dead())
            .key(self.keys.stats())
            .key(self.keys.reaped())
            .key(self.keys.results())
            .key(self.keys.worker_info(worker))
            .key(self.keys.locations())
            .arg(raw)
            .arg(action)
            .arg(due)
            .arg(payload)
            .arg(self.config.dead_cap)
            .arg(self.keys.result_prefix())
            .arg(id)
            .arg(record)
            .arg(self.result_ttl_ms())
            .arg(self.config.results_cap);
        let (code, detail): (i64, u64) = self.with_conn(|c| invocation.invoke(c))?;
        let keys = self.keys.clone();
        self.replicated(&keys)?;
        Ok(match code {
            0 if detail == 1 => FailOutcome::Reaped,
            0 => FailOutcome::NotHeld,
            1 => FailOutcome::Retrying { attempt: 0, delay: Duration::ZERO, due: SystemTime::UNIX_EPOCH },
            2 => FailOutcome::Dead { trimmed: detail },
            other => return Err(self.protocol_error(format!("the finishing code {other}"))),
        })
    }
}

fn result_record(
    task: &Task,
    worker: &str,
    status: ResultStatus,
    result: Option<Value>,
    error: Option<&str>,
    finished_at: f64,
) -> String {
    let record = TaskResult {
        id: task.id().to_owned(),
        task: task.name().to_owned(),
        status,
        result,
        error: error.map(str::to_owned),
        worker: worker.to_owned(),
        attempts: task.attempt(),
        started_at: task.started_at,
        finished_at,
    };
    // Strings, numbers and a `Value`: serialization cannot fail.
    serde_json::to_string(&record).expect("a result record always serializes")
}
