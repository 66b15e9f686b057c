//! The consumer: the thread that fetches. It waits for free slots, asks for
//! as many tasks as there are (one script when tasks wait; a blocking
//! `BLMOVE` when none do), and hands them to the event loop.
//!
//! It fetches only while this worker's heartbeat is known to stand for at
//! least another third of its TTL, so it never takes tasks into a list a
//! reaper may be emptying. After losing the connection it calls `recover`
//! before fetching again: a fetch whose reply was lost may have moved tasks
//! into the processing list that this worker never saw.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use concur::queue::SimpleQueue;

use super::executor::LoopMessage;
use super::finisher::{Message, Outcome};
use super::shared::{Backoff, Counters, Shared, State};
use crate::protocol::{Connection, Fetched, Task};
use crate::Error;

/// The most tasks one fetch asks for, however many slots are free.
const FETCH_MAX: usize = 1000;

pub(crate) fn run(
    shared: &Shared,
    queue: &mut Connection,
    to_loop: &SimpleQueue<LoopMessage>,
    to_finisher: &SimpleQueue<Message>,
) {
    let worker = shared.worker.as_str();
    let mut backoff = Backoff::new();
    let mut recover = false;
    let mut failing = false;
    let mut next_seq = 0;
    while let Some(free) = shared.wait_for_slots() {
        if !shared.heartbeat_fresh() {
            shared.pause(Duration::from_millis(20));
            continue;
        }
        let fetched = (|| -> Result<Vec<Fetched>, Error> {
            if recover {
                let held = shared.held_tasks();
                let held: Vec<&Task> = held.iter().map(|task| &**task).collect();
                let orphans = queue.recover(worker, &held)?;
                if orphans > 0 {
                    tracing::info!(orphans, "returned to pending the tasks a fetch moved while its reply was lost");
                }
                recover = false;
            }
            let client = match queue.connection_id() {
                Ok(id) => id,
                Err(error) if error.is_transient() => return Err(error),
                // Not allowed to ask (an ACL, say): stops then wait out the block time.
                Err(_) => 0,
            };
            shared.fetch_client.store(client, Ordering::Release);
            queue.fetch(worker, free.min(FETCH_MAX), shared.settings.block)
        })();
        match fetched {
            Ok(fetched) => {
                if failing {
                    failing = false;
                    tracing::info!("the consumer reached Redis again");
                }
                backoff.reset();
                dispatch(shared, fetched, &mut next_seq, to_loop, to_finisher);
            }
            Err(error) => {
                if error.is_transient() {
                    recover = true;
                }
                if !failing {
                    failing = true;
                    if error.is_transient() {
                        Counters::add(&shared.counters.reconnects, 1);
                    }
                    tracing::warn!(%error, "could not fetch tasks; retrying with backoff");
                }
                shared.pause(backoff.next_wait());
            }
        }
    }
    shared.consumer_left();
}

fn dispatch(
    shared: &Shared,
    fetched: Vec<Fetched>,
    next_seq: &mut u64,
    to_loop: &SimpleQueue<LoopMessage>,
    to_finisher: &SimpleQueue<Message>,
) {
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
    if tasks.is_empty() {
        return;
    }
    let numbered: Vec<(u64, Arc<Task>)> = shared.take(tasks, next_seq);
    if shared.state() == State::Running {
        let _ = to_loop.put(LoopMessage::Start(numbered));
    } else {
        // Fetched as the stop began: never started, so straight back.
        for (seq, _) in numbered {
            let _ = to_finisher.put(Message::Report(seq, Outcome::Return));
        }
    }
}
