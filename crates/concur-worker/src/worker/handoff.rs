//! What the worker's threads hand one another: tasks to start (to the
//! loop), how tasks ended (to the finisher), and the hand-over of fetched
//! tasks that both the consumer and the finisher make.

use std::sync::Arc;

use concur::queue::SimpleQueue;
use serde_json::Value;

use super::shared::{Counters, Shared};
use crate::protocol::{Fetched, Task};

/// What the consumer, the finisher and the stopping thread send to the loop.
pub(crate) enum LoopMessage {
    /// Fetched tasks to start, with their local numbers.
    Start(Vec<(u64, Arc<Task>)>),
    /// The worker stops fetching: tasks prefetched but not started go back
    /// to pending.
    ReturnWaiting,
    /// The grace period is over: cancel what still runs.
    Abort,
}

/// How a task ended on the loop.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Finished: acknowledge with this result.
    Ack(Value),
    /// Failed (an error, a panic, its time limit): retry or dead-letter.
    Fail(String),
    /// Refused: dead-letter at once.
    Reject(String),
    /// Never started (the worker was stopping): back to pending.
    Return,
    /// Cancelled by a stop: left for `retire` to return.
    Abandon,
}

/// What the finisher receives.
#[derive(Debug)]
pub(crate) enum Message {
    Report(u64, Outcome),
    /// Everything reported so far is in; finish it and end.
    Flush,
}

/// Hands the tasks fetched from member `m` to the loop (or, when the
/// worker stopped taking tasks meanwhile, straight back through the
/// finisher); returns how many tasks there were.
pub(crate) fn dispatch(
    shared: &Shared,
    m: usize,
    fetched: Vec<Fetched>,
    to_loop: &SimpleQueue<LoopMessage>,
    to_finisher: &SimpleQueue<Message>,
) -> usize {
    let tasks = tasks_of(shared, fetched);
    let n = tasks.len();
    if n > 0 {
        start(shared, shared.take(m, tasks), to_loop, to_finisher);
    }
    n
}

/// The tasks among fetched payloads; those that were not tasks (already
/// dead-lettered by the fetch) are counted and logged.
pub(crate) fn tasks_of(shared: &Shared, fetched: Vec<Fetched>) -> Vec<Task> {
    let mut tasks = Vec::with_capacity(fetched.len());
    for item in fetched {
        match item {
            Fetched::Task(task) => tasks.push(task),
            Fetched::Malformed(bad) => {
                Counters::add(&shared.counters.malformed, 1);
                shared.dead_trimmed(bad.dead_trimmed);
                tracing::warn!(
                    dead_id = bad.dead_id,
                    size = bad.size,
                    reason = %bad.reason,
                    "dead-lettered a payload that is not a task"
                );
            }
        }
    }
    tasks
}

/// Starts tasks registered as held: on the loop, or — fetched as a stop or
/// quiet began, so never started — straight back to pending.
pub(crate) fn start(
    shared: &Shared,
    numbered: Vec<(u64, Arc<Task>)>,
    to_loop: &SimpleQueue<LoopMessage>,
    to_finisher: &SimpleQueue<Message>,
) {
    if numbered.is_empty() {
        return;
    }
    if shared.taking() {
        let _ = to_loop.put(LoopMessage::Start(numbered));
    } else {
        for (seq, _) in numbered {
            let _ = to_finisher.put(Message::Report(seq, Outcome::Return));
        }
    }
}
