//! The maintenance thread: the heartbeat on its own timer, and the chores
//! any live worker does for the whole queue — promoting due tasks and
//! reaping dead workers — on every member queue.
//!
//! Each member queue has its own heartbeat, in its own slot (on a cluster,
//! its own master), so this thread keeps a small state per member: after any
//! failure on a member the next call there is a heartbeat, and reaping or
//! promoting there is done only while this worker's heartbeat on it is known
//! to stand. A worker coming back from an outage never reaps itself, and
//! never reaps others before it has shown it is alive; a master failing over
//! holds up only its own queues.
//!
//! Every second it records the worker's state (running, quiet, stopping)
//! in its record on each member queue and reads back what an operator asked
//! of it there ([`Client::control_worker`](crate::Client::control_worker)):
//! quiet or stop, obeyed as the `Shutdown` handle's calls are.
//!
//! It also ends an idle consumer's blocking fetch (`CLIENT UNBLOCK` on the
//! node of the queue the consumer blocks on) when a stop or quiet begins, so a stop
//! does not wait out the block time, and — for a worker that serves several
//! member queues — when another member gets a task. `BLMOVE` waits on one
//! list only (and lists in different slots cannot be waited on together),
//! so while the consumer blocks on the first queue of its order, this
//! thread looks at the others' pending lists (`LLEN`) every 20 ms
//! ([`WorkerBuilder::idle_watch`](crate::WorkerBuilder::idle_watch)). A task
//! pushed to the first queue starts at once; one pushed to another within
//! about that interval. A shorter `BLMOVE` timeout would not do: Redis checks
//! blocking timeouts only as often as its `hz` (10 a second by default).

use std::time::{Duration, Instant, SystemTime};

use rand::Rng;

use super::shared::{Backoff, Counters, Shared, State};
use crate::protocol::Connection;
use crate::WorkerControl;

/// Promote at least this often, so retries scheduled by other workers and
/// delayed tasks enqueued meanwhile are noticed.
const PROMOTE_EVERY: Duration = Duration::from_secs(1);
/// While a stop waits for the consumer to leave its fetch, unblock it this often.
const UNBLOCK_EVERY: Duration = Duration::from_millis(100);
/// Look for an operator's request (quiet, stop) this often.
const CONTROL_EVERY: Duration = Duration::from_secs(1);

/// The maintenance of one member queue.
struct Member {
    next_beat: Instant,
    next_promote: Instant,
    next_reap: Instant,
    next_control: Instant,
    /// The last call failed: the next one is a heartbeat, after `retry_at`.
    failing: bool,
    retry_at: Instant,
    backoff: Backoff,
    /// When a reaper took this worker for dead, as last reported.
    reaped_seen: Option<SystemTime>,
}

pub(crate) fn run(shared: &Shared, queues: &mut [Connection]) {
    let ttl = shared.settings.heartbeat_ttl;
    let now = Instant::now();
    // `run` beat on every member once before starting this thread.
    let mut members: Vec<Member> = queues
        .iter()
        .map(|_| Member {
            next_beat: now + ttl / 3,
            next_promote: now,
            next_reap: now,
            next_control: now,
            failing: false,
            retry_at: now,
            backoff: Backoff::new(),
            reaped_seen: None,
        })
        .collect();
    while !shared.maintenance_stopped() {
        if let Some(hint) = shared.take_promote_hint() {
            for member in &mut members {
                member.next_promote = member.next_promote.min(hint);
            }
        }
        for (m, member) in members.iter_mut().enumerate() {
            if member.failing && Instant::now() < member.retry_at {
                continue;
            }
            tend(shared, m, &mut queues[m], member);
        }
        let mut wake = members
            .iter()
            .map(|m| {
                if m.failing {
                    m.retry_at
                } else {
                    m.next_beat.min(m.next_promote).min(m.next_reap).min(m.next_control)
                }
            })
            .min()
            .unwrap_or_else(|| Instant::now() + ttl / 3);
        let winding_down = shared.state() != State::Running && shared.consumer_active();
        if winding_down || (shared.is_quiet() && shared.blocked().is_some()) {
            if let Some((m, client)) = shared.blocked().filter(|&(_, client)| client != 0) {
                // An error here only costs the stop up to one block time.
                let _ = queues[m].unblock(client);
            }
            wake = wake.min(Instant::now() + UNBLOCK_EVERY);
        } else if let Some((blocked_on, client)) = shared.blocked().filter(|_| queues.len() > 1) {
            let waiting = (0..queues.len())
                .filter(|&m| m != blocked_on && shared.heartbeat_fresh(m))
                .any(|m| queues[m].pending_len().is_ok_and(|n| n > 0));
            if waiting && client != 0 {
                // An error here only costs the pickup up to one block time.
                let _ = queues[blocked_on].unblock(client);
            }
            wake = wake.min(Instant::now() + shared.settings.idle_watch);
        }
        shared.maintenance_wait(wake);
    }
}

/// Does what is due on one member queue.
fn tend(shared: &Shared, m: usize, queue: &mut Connection, member: &mut Member) {
    let ttl = shared.settings.heartbeat_ttl;
    let worker = shared.worker.as_str();
    let now = Instant::now();
    if member.failing || now >= member.next_beat {
        let sent = Instant::now();
        // The last beat's key lives at least this long on the server, whose
        // countdown began after `sent`.
        let should_be_there = shared.heartbeat_until(m).is_some_and(|until| sent < until);
        match queue.heartbeat_as(worker, ttl, &shared.settings.serves, shared.settings.concurrency) {
            Ok(beat) => {
                shared.heartbeat_ok(m, sent + ttl);
                member.next_beat = sent + ttl / 3;
                if member.failing {
                    member.failing = false;
                    tracing::info!(queue = queue.name(), "the heartbeat reached Redis again");
                }
                member.backoff.reset();
                if should_be_there && !beat.key_was_there {
                    Counters::add(&shared.counters.heartbeat_vanished, 1);
                    tracing::warn!(
                        queue = queue.name(),
                        "this worker's heartbeat key had vanished from Redis before it could expire (a FLUSHALL, \
                         an eviction under maxmemory-policy, or a restart that lost data); it is back, and a reaper \
                         takes a worker for dead only when its heartbeat stays missing for a whole TTL"
                    );
                }
                if beat.reaped_at.is_some() && beat.reaped_at != member.reaped_seen {
                    member.reaped_seen = beat.reaped_at;
                    tracing::error!(
                        queue = queue.name(),
                        "a reaper took this worker for dead (its heartbeat stayed missing for a whole TTL: was the \
                         process stopped, or cut off from Redis?) and returned the tasks it held to the queue; \
                         those still running here may run twice"
                    );
                }
            }
            Err(error) => {
                fail(shared, queue, member, &error, "could not renew the heartbeat");
                return;
            }
        }
    }
    if now >= member.next_promote {
        match queue.promote_due(SystemTime::now()) {
            Ok(promoted) => {
                if promoted.moved > 0 {
                    tracing::debug!(moved = promoted.moved, queue = queue.name(), "promoted due tasks to pending");
                }
                let mut next = Instant::now() + PROMOTE_EVERY;
                if let Some(due) = promoted.next_due {
                    let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
                    next = next.min(Instant::now() + wait);
                }
                member.next_promote = next;
            }
            Err(error) => {
                fail(shared, queue, member, &error, "could not promote due tasks");
                return;
            }
        }
    }
    if now >= member.next_control {
        let state = match shared.state() {
            State::Running if shared.is_quiet() => "quiet",
            State::Running => "running",
            _ => "stopping",
        };
        match queue.check_control(worker, state) {
            Ok(Some(WorkerControl::Quiet)) => {
                if shared.quiet() {
                    tracing::info!(queue = queue.name(), "quieted by an operator: taking no new tasks");
                }
            }
            Ok(Some(WorkerControl::Stop)) => {
                if shared.stop() {
                    tracing::info!(queue = queue.name(), "stopping, as an operator asked");
                }
            }
            Ok(None) => {}
            Err(error) if error.is_transient() => {
                fail(shared, queue, member, &error, "could not look for an operator's request");
                return;
            }
            // A request written by hand that means nothing is not a reason to stop.
            Err(error) => tracing::warn!(%error, queue = queue.name(), "ignored an operator's request"),
        }
        member.next_control = Instant::now() + CONTROL_EVERY;
    }
    if now >= member.next_reap {
        match queue.reap(ttl) {
            Ok(reaped) => {
                shared.dead_trimmed(reaped.dead_trimmed);
                if reaped.returned > 0 || reaped.dead > 0 {
                    tracing::info!(
                        returned = reaped.returned,
                        poison = reaped.dead,
                        queue = queue.name(),
                        "took back the tasks of workers whose heartbeat stayed missing"
                    );
                }
                // Spread the reapers of many workers over the interval.
                let every = ttl / 2;
                member.next_reap = Instant::now() + rand::rng().random_range(every * 3 / 4..=every);
            }
            Err(error) => fail(shared, queue, member, &error, "could not reap dead workers"),
        }
    }
}

fn fail(shared: &Shared, queue: &Connection, member: &mut Member, error: &crate::Error, what: &str) {
    if !member.failing {
        member.failing = true;
        if error.is_transient() {
            Counters::add(&shared.counters.reconnects, 1);
        }
        tracing::warn!(%error, queue = queue.name(), "{what}; retrying with backoff");
    }
    member.retry_at = Instant::now() + member.backoff.next_wait();
}
