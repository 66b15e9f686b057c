//! What producers call: [`Client::enqueue`] and [`Client::enqueue_many`].

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::Client;
use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys::Keys;
use crate::record::unix_seconds;
use crate::scripts;

/// How many tasks one `LPUSH` of [`Client::enqueue_many`] carries.
const ENQUEUE_BATCH: usize = 1000;

/// Per-task settings for [`Client::enqueue`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::EnqueueOptions;
///
/// let later = EnqueueOptions { delay: Duration::from_secs(60), max_attempts: Some(3), ..Default::default() };
/// assert!(later.eta.is_none());
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "EnqueueOptions do nothing until they are passed to `Client::enqueue` or `RemotePool::with_options`"]
pub struct EnqueueOptions {
    /// Run no earlier than this long from now. Zero: now.
    pub delay: Duration,
    /// Run no earlier than this time; not together with `delay`.
    pub eta: Option<SystemTime>,
    /// Attempts before the task is dead-lettered; `None`: the workers' default.
    pub max_attempts: Option<u32>,
    /// Time limit of one attempt; `None`: the workers' default.
    pub timeout: Option<Duration>,
}

impl Client {
    /// Adds a task to the queue and returns its id. With a delay or an eta
    /// it goes to the delayed set and becomes pending when due (see
    /// [`promote_due`](crate::protocol::Connection::promote_due)); otherwise it is pending at once,
    /// behind the tasks already waiting.
    ///
    /// If the connection drops during the call the task may or may not have
    /// been added; adding it again may run it twice.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for an empty task name, `max_attempts` of 0, a
    /// zero timeout or both `delay` and `eta`; [`Error::PayloadTooLarge`];
    /// connection errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use concur_worker::EnqueueOptions;
    /// use serde_json::json;
    ///
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let now = queue.enqueue("sleep", vec![json!(5)], &EnqueueOptions::default())?;
    /// let later = queue.enqueue(
    ///     "echo",
    ///     vec![json!("hi")],
    ///     &EnqueueOptions { delay: Duration::from_secs(30), ..Default::default() },
    /// )?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// `redis.Redis().lpush("queue", n)` in the reference, with an envelope
    /// around the value.
    pub fn enqueue(&mut self, task: &str, args: Vec<Value>, options: &EnqueueOptions) -> Result<String, Error> {
        let mut ids = self.enqueue_many(task, std::iter::once(args), options)?;
        Ok(ids.pop().expect("one task in, one id out"))
    }

    /// Adds one task per item of `args`, all with the same name and options,
    /// in order, with one round trip per thousand tasks. Returns their ids.
    ///
    /// # Errors
    ///
    /// As [`enqueue`](Self::enqueue). The tasks of earlier round trips stay
    /// enqueued when a later one fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::EnqueueOptions;
    /// use serde_json::json;
    ///
    /// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// let ids = queue.enqueue_many("sleep", (1..=3).map(|n| vec![json!(n)]), &EnqueueOptions::default())?;
    /// assert_eq!(ids.len(), 3);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn enqueue_many(
        &mut self,
        task: &str,
        args: impl IntoIterator<Item = Vec<Value>>,
        options: &EnqueueOptions,
    ) -> Result<Vec<String>, Error> {
        self.enqueue_replying(task, args, options, None, &mut |_, _, _| {})
    }

    /// [`enqueue_many`](Self::enqueue_many), with each envelope naming the
    /// reply list of `reply` (a client id) in the queue or shard it goes to,
    /// and `before` told of each task (its target, id and payload) before the push
    /// that carries it: a waiter registered there cannot miss the
    /// notification.
    pub(crate) fn enqueue_replying(
        &mut self,
        task: &str,
        args: impl IntoIterator<Item = Vec<Value>>,
        options: &EnqueueOptions,
        reply: Option<&str>,
        before: &mut dyn FnMut(&Keys, &str, &str),
    ) -> Result<Vec<String>, Error> {
        if task.is_empty() {
            return Err(Error::InvalidOption("the task name is empty".into()));
        }
        if options.max_attempts == Some(0) {
            return Err(Error::InvalidOption("max_attempts must be at least 1".into()));
        }
        if options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::InvalidOption("the timeout must be more than zero".into()));
        }
        if options.eta.is_some() && !options.delay.is_zero() {
            return Err(Error::InvalidOption("give a delay or an eta, not both".into()));
        }
        let now = SystemTime::now();
        let due = match options.eta {
            Some(eta) => Some(eta),
            None if !options.delay.is_zero() => Some(now + options.delay),
            None => None,
        };
        let enqueued_at = unix_seconds(now);
        let mut ids = Vec::new();
        // One batch per target: the queue itself, or each shard in turn, so
        // a sharded queue's tasks spread one by one over its shards.
        let mut batches: Vec<(Keys, Vec<String>)> = Vec::new();
        for task_args in args {
            let mut envelope = Envelope::new(task, task_args);
            envelope.max_attempts = options.max_attempts;
            envelope.timeout = options.timeout.map(|t| t.as_secs_f64());
            envelope.enqueued_at = Some(enqueued_at);
            envelope.eta = due.map(unix_seconds);
            let target = self.next_target();
            envelope.reply = reply.map(|client| target.reply(client));
            let json = envelope.to_json();
            if json.len() > self.config.max_payload {
                return Err(Error::PayloadTooLarge { size: json.len(), limit: self.config.max_payload });
            }
            before(&target, &envelope.id, &json);
            ids.push(envelope.id);
            let slot = match batches.iter().position(|(keys, _)| *keys == target) {
                Some(slot) => slot,
                None => {
                    batches.push((target, Vec::with_capacity(ENQUEUE_BATCH)));
                    batches.len() - 1
                }
            };
            batches[slot].1.push(json);
            if batches[slot].1.len() == ENQUEUE_BATCH {
                let (keys, batch) = batches.swap_remove(slot);
                self.push(&keys, &batch, due)?;
            }
        }
        for (keys, batch) in batches {
            self.push(&keys, &batch, due)?;
        }
        Ok(ids)
    }

    /// Pushes envelopes onto the pending list of `keys`, or its delayed set
    /// when they are due later: one command.
    fn push(&mut self, keys: &Keys, batch: &[String], due: Option<SystemTime>) -> Result<(), Error> {
        self.push_now(keys, batch, due)?;
        self.replicated(keys)
    }

    fn push_now(&mut self, keys: &Keys, batch: &[String], due: Option<SystemTime>) -> Result<(), Error> {
        match due {
            None => {
                let pending = keys.pending().to_owned();
                self.with_conn(|c| redis::cmd("LPUSH").arg(&pending).arg(batch).query::<()>(c))
            }
            Some(due) => {
                let mut invocation = scripts::DELAY.prepare_invoke();
                invocation.key(keys.delayed()).key(keys.locations()).arg(unix_seconds(due)).arg(batch);
                self.with_conn(|c| invocation.invoke::<()>(c))
            }
        }
    }
}
