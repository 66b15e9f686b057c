//! The maintenance thread: the heartbeat on its own timer, and the chores
//! any live worker does for the whole queue — promoting due tasks and
//! reaping dead workers.
//!
//! After any failure the next call is a heartbeat: reaping or promoting is
//! done only while this worker's own heartbeat is known to stand, so a
//! worker coming back from an outage never reaps itself, and never reaps
//! others before it has shown it is alive.
//!
//! It also ends an idle consumer's blocking fetch when a stop begins
//! (`CLIENT UNBLOCK` on the consumer's connection), so a stop does not wait
//! out the block time.

use std::time::{Duration, Instant, SystemTime};

use rand::Rng;

use super::shared::{Backoff, Counters, Shared, State};
use crate::protocol::Connection;

/// Promote at least this often, so retries scheduled by other workers and
/// delayed tasks enqueued meanwhile are noticed.
const PROMOTE_EVERY: Duration = Duration::from_secs(1);
/// While a stop waits for the consumer to leave its fetch, unblock it this often.
const UNBLOCK_EVERY: Duration = Duration::from_millis(100);

pub(crate) fn run(shared: &Shared, queue: &mut Connection) {
    let ttl = shared.settings.heartbeat_ttl;
    let worker = shared.worker.as_str();
    let now = Instant::now();
    // `run` beat once before starting this thread.
    let mut next_beat = now + ttl / 3;
    let mut next_promote = now;
    let mut next_reap = now;
    let mut backoff = Backoff::new();
    let mut failing = false;
    let mut reaped_seen = None;
    while !shared.maintenance_stopped() {
        let now = Instant::now();
        if let Some(hint) = shared.take_promote_hint() {
            next_promote = next_promote.min(hint);
        }
        if failing || now >= next_beat {
            let sent = Instant::now();
            // The last beat's key lives at least this long on the server,
            // whose countdown began after `sent`.
            let should_be_there = shared.heartbeat_until().is_some_and(|until| sent < until);
            match queue.heartbeat(worker, ttl) {
                Ok(beat) => {
                    shared.heartbeat_ok(sent + ttl);
                    if should_be_there && !beat.key_was_there {
                        Counters::add(&shared.counters.heartbeat_vanished, 1);
                        tracing::warn!(
                            "this worker's heartbeat key had vanished from Redis before it could expire (a \
                             FLUSHALL, an eviction under maxmemory-policy, or a restart that lost data); it is back, \
                             and a reaper takes a worker for dead only when its heartbeat stays missing for a whole \
                             TTL"
                        );
                    }
                    if beat.reaped_at.is_some() && beat.reaped_at != reaped_seen {
                        reaped_seen = beat.reaped_at;
                        tracing::error!(
                            "a reaper took this worker for dead (its heartbeat stayed missing for a whole TTL: was \
                             the process stopped, or cut off from Redis?) and returned the tasks it held to the \
                             queue; those still running here may run twice"
                        );
                    }
                    next_beat = sent + ttl / 3;
                    if failing {
                        failing = false;
                        tracing::info!("the heartbeat reached Redis again");
                    }
                    backoff.reset();
                }
                Err(error) => {
                    if !failing {
                        failing = true;
                        if error.is_transient() {
                            Counters::add(&shared.counters.reconnects, 1);
                        }
                        tracing::warn!(%error, "could not renew the heartbeat; retrying with backoff");
                    }
                    shared.maintenance_wait(Instant::now() + backoff.next_wait());
                    continue;
                }
            }
        }
        if now >= next_promote {
            match queue.promote_due(SystemTime::now()) {
                Ok(promoted) => {
                    if promoted.moved > 0 {
                        tracing::debug!(moved = promoted.moved, "promoted due tasks to pending");
                    }
                    let mut next = Instant::now() + PROMOTE_EVERY;
                    if let Some(due) = promoted.next_due {
                        let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
                        next = next.min(Instant::now() + wait);
                    }
                    next_promote = next;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not promote due tasks");
                    failing = true;
                    continue;
                }
            }
        }
        if now >= next_reap {
            match queue.reap(ttl) {
                Ok(reaped) => {
                    if reaped.returned > 0 || reaped.dead > 0 {
                        tracing::info!(
                            returned = reaped.returned,
                            poison = reaped.dead,
                            "took back the tasks of workers whose heartbeat expired"
                        );
                    }
                    // Spread the reapers of many workers over the interval.
                    let every = ttl / 2;
                    next_reap = Instant::now() + rand::rng().random_range(every * 3 / 4..=every);
                }
                Err(error) => {
                    tracing::warn!(%error, "could not reap dead workers");
                    failing = true;
                    continue;
                }
            }
        }
        let mut wake = next_beat.min(next_promote).min(next_reap);
        if shared.state() != State::Running && shared.consumer_active() {
            let client = shared.fetch_client.load(std::sync::atomic::Ordering::Acquire);
            if client != 0 {
                // An error here only costs the stop up to one block time.
                let _ = queue.unblock(client);
            }
            wake = wake.min(Instant::now() + UNBLOCK_EVERY);
        }
        shared.maintenance_wait(wake);
    }
}
