//! The consumer: the thread that fetches. It waits for free slots, asks the
//! member queues for as many tasks as there are — one script per queue,
//! in the plan's order, until the slots are filled — and hands them to the
//! event loop. When no queue has a task it blocks in `BLMOVE` on the first
//! queue of the order; when it serves several, the maintenance thread
//! watches the others meanwhile and ends the block when one of them gets a
//! task (see `maintenance.rs`).
//!
//! It fetches from a queue only while this worker's heartbeat on that queue
//! is known to stand for at least another third of its TTL, so it never
//! takes tasks into a list a reaper may be emptying. After losing the
//! connection to a queue it calls `recover` there before fetching again: a
//! fetch whose reply was lost may have moved tasks into the processing list
//! that this worker never saw.

use std::time::{Duration, Instant};

use concur::queue::SimpleQueue;

use super::handoff::{dispatch, LoopMessage, Message};
use super::plan::Plan;
use super::shared::{Backoff, Counters, Shared};
use crate::protocol::FETCH_MAX;
use crate::protocol::{Connection, Fetched, Task};
use crate::Error;

/// How often a paused queue is asked whether it was resumed: the longest a
/// resume waits to be noticed.
const PAUSE_RECHECK: Duration = Duration::from_millis(500);

/// What the consumer knows about one member queue.
struct Member {
    queue: Connection,
    /// The last call lost the connection: recover before fetching.
    recover: bool,
    /// The queue was found paused: ask again then.
    paused_until: Option<Instant>,
}

impl Member {
    fn is_paused(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|until| now < until)
    }
}

pub(crate) fn run(
    shared: &Shared,
    queues: Vec<Connection>,
    plan: &mut Plan,
    to_loop: &SimpleQueue<LoopMessage>,
    to_finisher: &SimpleQueue<Message>,
) -> Vec<Connection> {
    let mut members: Vec<Member> =
        queues.into_iter().map(|queue| Member { queue, recover: false, paused_until: None }).collect();
    let mut rng = rand::rng();
    let mut backoff = Backoff::new();
    let mut failing = false;
    let block = shared.settings.block;
    let return_waiting = || drop(to_loop.put(LoopMessage::ReturnWaiting));
    while shared.wait_for_slots(return_waiting).is_some() {
        if !shared.any_heartbeat_fresh() {
            shared.pause(Duration::from_millis(20));
            continue;
        }
        let now = Instant::now();
        let order: Vec<usize> = plan
            .order(&mut rng)
            .into_iter()
            .filter(|&m| shared.heartbeat_fresh(m) && !members[m].is_paused(now))
            .collect();
        if order.is_empty() {
            // Every queue this worker may take from is paused.
            let recheck = members.iter().filter_map(|member| member.paused_until).min();
            shared.pause(recheck.map_or(PAUSE_RECHECK, |at| at.saturating_duration_since(now)));
            continue;
        }
        // The finisher may have refilled the slots meanwhile; under the
        // lock the count stays true until the tasks are registered.
        let fetching = shared.fetch_lock();
        let mut free = shared.free_slots();
        if free == 0 {
            continue;
        }
        let mut fetched_any = false;
        let mut error = None;
        for &m in &order {
            if free == 0 {
                break;
            }
            match fetch(shared, &mut members[m], m, free, Duration::ZERO) {
                Ok(fetched) => {
                    let n = dispatch(shared, m, fetched, to_loop, to_finisher);
                    fetched_any |= n > 0;
                    free = free.saturating_sub(n);
                }
                Err(Error::Paused { .. }) => {}
                Err(e) => error = Some(e),
            }
        }
        if !fetched_any && error.is_none() {
            let now = Instant::now();
            if let Some(&first) = order.iter().find(|&&m| !members[m].is_paused(now)) {
                match fetch(shared, &mut members[first], first, 1, block) {
                    Ok(fetched) => {
                        dispatch(shared, first, fetched, to_loop, to_finisher);
                    }
                    Err(Error::Paused { .. }) => {}
                    Err(e) => error = Some(e),
                }
            }
        }
        drop(fetching);
        match error {
            None => {
                if failing {
                    failing = false;
                    tracing::info!("the consumer reached Redis again");
                }
                backoff.reset();
            }
            Some(error) => {
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
    members.into_iter().map(|member| member.queue).collect()
}

/// One fetch from member `m`: `recover` first if its connection was lost,
/// then up to `max` tasks, blocking up to `block` when there are none.
fn fetch(shared: &Shared, member: &mut Member, m: usize, max: usize, block: Duration) -> Result<Vec<Fetched>, Error> {
    let worker = shared.worker.as_str();
    let outcome = (|| {
        if shared.take_recover(m) {
            member.recover = true;
        }
        if member.recover {
            let held = shared.held_tasks(m);
            let held: Vec<&Task> = held.iter().map(|task| &**task).collect();
            let orphans = member.queue.recover(worker, &held)?;
            if orphans > 0 {
                tracing::info!(
                    orphans,
                    queue = member.queue.name(),
                    "returned to pending the tasks a fetch moved while its reply was lost"
                );
            }
            member.recover = false;
        }
        if !block.is_zero() {
            let client = match member.queue.connection_id() {
                Ok(id) => id,
                Err(error) if error.is_transient() => return Err(error),
                // Not allowed to ask (an ACL, say): stops then wait out the block time.
                Err(_) => 0,
            };
            shared.set_blocked(Some((m, client)));
        }
        let fetched = member.queue.fetch(worker, max.min(FETCH_MAX), block);
        shared.set_blocked(None);
        fetched
    })();
    match &outcome {
        Err(Error::Paused { .. }) => {
            if member.paused_until.is_none() {
                tracing::info!(queue = member.queue.name(), "the queue is paused; taking nothing from it");
            }
            member.paused_until = Some(Instant::now() + PAUSE_RECHECK);
        }
        Err(error) if error.is_transient() => member.recover = true,
        Err(_) => {}
        Ok(_) => {
            if member.paused_until.take().is_some() {
                tracing::info!(queue = member.queue.name(), "the queue was resumed");
            }
        }
    }
    outcome
}
