//! The finisher thread: takes the outcomes the loop reports and makes them
//! true in Redis — acknowledgements batched into one `ack_many` per round,
//! failures through `fail` (retry or dead), rejections through `reject`,
//! unstarted tasks back through `return_to_pending`.
//!
//! Batching is what makes the worker fast: under load, outcomes pile up
//! while one acknowledgement script runs, and the next round takes them all
//! at once, so the round trips per task fall as the load grows.
//!
//! A worker holding two or more tasks runs two finishers, each with its own
//! connections, taking rounds of at most half its slots from one inbox.
//! With one, the worker's tasks moved as one convoy: all of them in one
//! script on Redis while the loop sat idle, then all of them on the loop
//! while Redis did. Profiled at concurrency 64 with no-op tasks, Redis was
//! busy about 70 % of a drain and the worker's threads a quarter of theirs,
//! each waiting on the other. With two, the slots split into two batches in
//! turn: one is in a script while the other runs and is reported, and
//! Redis's next script is already waiting when one ends. A task
//! leaves the worker's held set (and frees its slot) only after Redis
//! confirmed its transition, so a reconnect's `recover` never returns a task
//! whose acknowledgement is still on its way, and a call lost with the
//! connection is simply made again: every finishing call is safe to repeat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use concur::queue::{GetError, SimpleQueue};
use serde_json::Value;

use super::handoff::{start, tasks_of, LoopMessage, Message, Outcome};
use super::shared::{Backoff, Counters, Shared};
use crate::protocol::{Acked, Connection, FailOutcome, Task};
use crate::record::from_unix_seconds;
use crate::stats::{TaskStats, MAX_TASK_NAMES, OTHER_TASKS};
use crate::Error;

/// How often the counts of attempts and durations go to Redis.
const STATS_EVERY: Duration = Duration::from_secs(5);
/// Most outcomes taken in one round.
const ROUND: usize = 2048;
/// Finishers a worker holding two or more tasks runs (see the module docs).
pub(crate) const FINISHERS: usize = 2;

/// The most outcomes one of `finishers` takes in a round, for a worker of
/// `slots`: its share of them, so each batch stays in turn with the others.
pub(crate) fn round_size(slots: usize, finishers: usize) -> usize {
    slots.div_ceil(finishers).clamp(1, ROUND)
}
/// Most acknowledgements in one script, so one script never holds Redis long.
const ACK_CHUNK: usize = 512;

/// Finishes what the loop reports, on `queues` (one connection per member
/// queue, by position), at most `most` outcomes a round. At the flush, puts
/// it back for the next finisher: the stopping thread sends one.
pub(crate) fn run(
    shared: &Shared,
    queues: &mut [Connection],
    inbox: &SimpleQueue<Message>,
    to_loop: &SimpleQueue<LoopMessage>,
    most: usize,
) {
    let members = queues.len();
    let mut finisher = Finisher {
        shared,
        queues,
        inbox,
        to_loop,
        backoff: Backoff::new(),
        failing: false,
        repeated: false,
        stats: vec![HashMap::new(); members],
        next_stats: Instant::now() + STATS_EVERY,
    };
    // Once the flush came, what is left in the inbox (tasks a refill
    // fetched as the stop began, sent back to be returned) is finished
    // before the flush goes on to the next finisher.
    let mut flushing = false;
    loop {
        if Instant::now() >= finisher.next_stats {
            finisher.flush_stats();
        }
        let next = if flushing { inbox.try_get() } else { inbox.get_timeout(Duration::from_millis(500)) };
        let first = match next {
            Ok(message) => message,
            Err(GetError::Empty) if !flushing => continue,
            Err(GetError::Empty) => {
                finisher.flush_stats();
                let _ = inbox.put(Message::Flush);
                return;
            }
            Err(_) => {
                finisher.flush_stats();
                return;
            }
        };
        let mut messages = vec![first];
        while messages.len() < most {
            match inbox.try_get() {
                Ok(message) => messages.push(message),
                Err(_) => break,
            }
        }
        flushing |= finisher.round(messages);
    }
}

struct Finisher<'a> {
    shared: &'a Shared,
    queues: &'a mut [Connection],
    /// Its own inbox, for tasks a refill fetched as a stop began.
    inbox: &'a SimpleQueue<Message>,
    to_loop: &'a SimpleQueue<LoopMessage>,
    backoff: Backoff,
    failing: bool,
    /// Whether the call `retrying` last confirmed was made again after an
    /// attempt that may have taken effect (its reply lost with the
    /// connection): a task it then finds not held was most likely finished
    /// by that attempt.
    repeated: bool,
    /// Per member queue: the attempts that ended since the last flush, by
    /// task name.
    stats: Vec<HashMap<String, TaskStats>>,
    next_stats: Instant,
}

impl Finisher<'_> {
    /// Handles one round of messages; returns whether a flush was among them.
    fn round(&mut self, messages: Vec<Message>) -> bool {
        let now = SystemTime::now();
        let mut flush = false;
        let mut reports = 0;
        // Per member queue: each goes to the connection of its own queue.
        let members = self.queues.len();
        let mut acks: Vec<Vec<(u64, Arc<Task>, Value)>> = vec![Vec::new(); members];
        let mut fails: Vec<(usize, u64, Arc<Task>, String, bool)> = Vec::new();
        let mut returns: Vec<Vec<(u64, Arc<Task>)>> = vec![Vec::new(); members];
        for message in messages {
            let (seq, outcome) = match message {
                Message::Flush => {
                    flush = true;
                    continue;
                }
                Message::Report(seq, outcome) => (seq, outcome),
            };
            reports += 1;
            let Some(held) = self.shared.held_task(seq) else { continue };
            let (m, task) = (held.member, held.task);
            match &outcome {
                Outcome::Ack(_) => self.count(m, &task, false, now),
                Outcome::Fail(_) | Outcome::Reject(_) => self.count(m, &task, true, now),
                Outcome::Return | Outcome::Abandon => {}
            }
            match outcome {
                Outcome::Ack(value) => acks[m].push((seq, task, value)),
                Outcome::Fail(error) => fails.push((m, seq, task, error, false)),
                Outcome::Reject(error) => fails.push((m, seq, task, error, true)),
                Outcome::Return => returns[m].push((seq, task)),
                Outcome::Abandon => {}
            }
        }
        self.shared.received(reports);
        for (m, acks) in acks.iter().enumerate() {
            for chunk in acks.chunks(ACK_CHUNK) {
                self.acknowledge(m, chunk);
            }
        }
        for (m, seq, task, error, rejected) in fails {
            self.fail(m, seq, &task, &error, rejected);
        }
        for (m, returns) in returns.iter().enumerate() {
            if returns.is_empty() {
                continue;
            }
            let tasks: Vec<&Task> = returns.iter().map(|(_, task)| &**task).collect();
            let worker = &self.shared.worker;
            if let Some(n) = self.retrying(m, "return unstarted tasks", |queue| queue.return_to_pending(worker, &tasks))
            {
                Counters::add(&self.shared.counters.returned, n as u64);
                let seqs: Vec<u64> = returns.iter().map(|(seq, _)| *seq).collect();
                self.shared.release(&seqs);
            }
        }
        flush
    }

    /// Counts an attempt of `task` (from member `m`) that ended at `now`.
    fn count(&mut self, m: usize, task: &Task, failed: bool, now: SystemTime) {
        let fetched = task.fetched_at();
        let run = now.duration_since(fetched).unwrap_or_default();
        let envelope = task.envelope();
        let due = envelope.eta.or(envelope.enqueued_at).map_or(fetched, from_unix_seconds);
        let wait = fetched.duration_since(due).unwrap_or_default();
        let stats = &mut self.stats[m];
        let name =
            if stats.len() < MAX_TASK_NAMES || stats.contains_key(task.name()) { task.name() } else { OTHER_TASKS };
        stats
            .entry(name.to_owned())
            .or_insert_with(|| TaskStats { name: name.to_owned(), ..TaskStats::default() })
            .record(failed, run, wait);
    }

    /// Adds the counted attempts to each queue's statistics. A queue that
    /// cannot be reached keeps its counts for the next flush.
    fn flush_stats(&mut self) {
        self.next_stats = Instant::now() + STATS_EVERY;
        for (m, stats) in self.stats.iter_mut().enumerate() {
            if stats.is_empty() {
                continue;
            }
            let batch: Vec<TaskStats> = stats.values().cloned().collect();
            match self.queues[m].record_task_stats(&batch) {
                Ok(()) => stats.clear(),
                Err(error) => tracing::debug!(%error, "could not record task statistics; keeping them for later"),
            }
        }
    }

    /// Acknowledges a chunk of finished tasks. A worker of one queue that is
    /// taking tasks refills the slots they free in the same script (when
    /// the consumer is not fetching at that moment), so a busy worker pays
    /// one round trip per batch instead of two: at concurrency 1, one per
    /// task.
    fn acknowledge(&mut self, m: usize, chunk: &[(u64, Arc<Task>, Value)]) {
        let done: Vec<(&Task, &Value)> = chunk.iter().map(|(_, task, value)| (&**task, value)).collect();
        let shared = self.shared;
        let worker = &shared.worker;
        let refill = self.queues.len() == 1 && shared.taking() && shared.heartbeat_fresh(m);
        let fetching = if refill { shared.try_refill_lock() } else { None };
        let outcome = if fetching.is_some() {
            let max = chunk.len();
            self.retrying(m, "acknowledge tasks", |queue| queue.ack_and_fetch(worker, &done, max))
        } else {
            self.retrying(m, "acknowledge tasks", |queue| {
                queue.ack_many(worker, &done).map(|acked| (acked, Vec::new()))
            })
        };
        let Some((acked, fetched)) = outcome else {
            return;
        };
        if fetching.is_some() && self.repeated {
            // A refill whose reply was lost may have fetched tasks unseen.
            shared.recover_later(m);
        }
        let mut done_here = 0;
        for ((_, task, _), acked) in chunk.iter().zip(acked) {
            match acked {
                Acked::Done => done_here += 1,
                Acked::Reaped => {
                    Counters::add(&self.shared.counters.not_held, 1);
                    tracing::warn!(
                        task = task.id(),
                        name = task.name(),
                        "the task finished, but a reaper had already returned it to pending (this worker's heartbeat \
                         lapsed), so it was not acknowledged here; it may run again elsewhere"
                    );
                }
                Acked::NotHeld if self.repeated => {
                    // The attempt whose reply was lost acknowledged it.
                    done_here += 1;
                    tracing::debug!(task = task.id(), "acknowledged by the attempt whose reply was lost");
                }
                Acked::NotHeld => self.vanished(task),
            }
        }
        Counters::add(&self.shared.counters.done, done_here);
        let seqs: Vec<u64> = chunk.iter().map(|(seq, _, _)| *seq).collect();
        let tasks = tasks_of(shared, fetched);
        if tasks.is_empty() {
            shared.release(&seqs);
        } else {
            let numbered = shared.swap(&seqs, m, tasks);
            start(shared, numbered, self.to_loop, self.inbox);
        }
        drop(fetching);
    }

    fn fail(&mut self, m: usize, seq: u64, task: &Task, error: &str, rejected: bool) {
        let worker = &self.shared.worker;
        let outcome = if rejected {
            self.retrying(m, "dead-letter a rejected task", |queue| queue.reject(worker, task, error))
        } else {
            self.retrying(m, "record a failed attempt", |queue| queue.fail(worker, task, error))
        };
        let Some(outcome) = outcome else { return };
        let counters = &self.shared.counters;
        match outcome {
            FailOutcome::Retrying { attempt, delay, due } => {
                Counters::add(&counters.retried, 1);
                tracing::warn!(
                    task = task.id(),
                    name = task.name(),
                    attempt,
                    max_attempts = task.max_attempts(),
                    error,
                    "the task failed; it will be retried in {:.1} s",
                    delay.as_secs_f64()
                );
                let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
                self.shared.promote_by(Instant::now() + wait);
            }
            FailOutcome::Dead { trimmed } if rejected => {
                self.shared.dead_trimmed(trimmed);
                Counters::add(&counters.rejected, 1);
                tracing::warn!(task = task.id(), name = task.name(), error, "the task was rejected and dead-lettered");
            }
            FailOutcome::Dead { trimmed } => {
                self.shared.dead_trimmed(trimmed);
                Counters::add(&counters.dead, 1);
                tracing::warn!(
                    task = task.id(),
                    name = task.name(),
                    attempts = task.attempt(),
                    error,
                    "the task failed its last attempt and was dead-lettered"
                );
            }
            FailOutcome::Reaped => {
                Counters::add(&counters.not_held, 1);
                tracing::warn!(
                    task = task.id(),
                    name = task.name(),
                    "the task ended, but a reaper had already returned it to pending (this worker's heartbeat \
                     lapsed), so its outcome was not recorded here; it may run again elsewhere"
                );
            }
            // The attempt whose reply was lost recorded it.
            FailOutcome::NotHeld if self.repeated => {}
            FailOutcome::NotHeld => self.vanished(task),
        }
        self.shared.release(&[seq]);
    }

    /// A task gone from this worker's processing list although no reaper
    /// took it and no earlier attempt of the call could have finished it.
    fn vanished(&self, task: &Task) {
        Counters::add(&self.shared.counters.vanished, 1);
        tracing::warn!(
            task = task.id(),
            name = task.name(),
            "the task ended, but it was no longer in this worker's processing list although no reaper took it: \
             someone removed it from Redis (a DEL or FLUSHALL, or a restart that lost data), so its outcome was \
             not recorded"
        );
    }

    /// Makes a finishing call until Redis confirms it; each is safe to
    /// repeat. Gives up (returns `None`) only during a stop whose time is up:
    /// the task then stays in the processing list, for `retire` or a reaper.
    fn retrying<T>(
        &mut self,
        m: usize,
        what: &str,
        mut call: impl FnMut(&mut Connection) -> Result<T, Error>,
    ) -> Option<T> {
        self.repeated = false;
        loop {
            match call(&mut self.queues[m]) {
                Ok(value) => {
                    if self.failing {
                        self.failing = false;
                        tracing::info!("the finisher reached Redis again");
                    }
                    self.backoff.reset();
                    return Some(value);
                }
                Err(error) => {
                    self.repeated |= error.may_have_taken_effect();
                    if !self.failing {
                        self.failing = true;
                        if error.is_transient() {
                            Counters::add(&self.shared.counters.reconnects, 1);
                        }
                        tracing::warn!(%error, queue = self.queues[m].name(), "could not {what}; retrying with backoff");
                    }
                    if self.shared.giving_up() {
                        tracing::error!(%error, "gave up trying to {what} at shutdown; the tasks stay held in Redis");
                        return None;
                    }
                    std::thread::sleep(self.backoff.next_wait());
                }
            }
        }
    }
}
