//! The scheduler thread: claims the ticks of the worker's schedules (see
//! [`Schedule`](crate::Schedule)). It sleeps until the next tick of any
//! schedule, then claims, for each schedule, the latest tick at or before
//! now that it has not claimed yet. Every worker that knows a schedule does
//! the same; the claim script lets exactly one of them enqueue each tick.

use std::time::{Duration, SystemTime};

use super::shared::{Backoff, Shared, State};
use crate::protocol::{Claim, Connection};
use crate::Schedule;

/// The longest sleep between looks, so a clock that jumps is noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// One schedule, the connection to its queue, and the last tick this
/// worker knows to be claimed.
pub(crate) struct Planned {
    pub(crate) schedule: Schedule,
    pub(crate) queue: Connection,
    claimed: Option<SystemTime>,
}

impl Planned {
    pub(crate) fn new(schedule: Schedule, queue: Connection) -> Planned {
        Planned { schedule, queue, claimed: None }
    }
}

pub(crate) fn run(shared: &Shared, planned: &mut [Planned]) {
    let mut backoff = Backoff::new();
    while shared.state() == State::Running {
        let now = SystemTime::now();
        let mut failed = false;
        for plan in planned.iter_mut() {
            let Some(tick) = plan.schedule.latest_at_or_before(now) else { continue };
            if plan.claimed.is_some_and(|claimed| claimed >= tick) {
                continue;
            }
            match plan.queue.claim_tick(&plan.schedule, tick, now) {
                Ok(claim) => {
                    plan.claimed = Some(tick);
                    match claim {
                        Claim::Enqueued => tracing::debug!(
                            schedule = plan.schedule.name(),
                            task = plan.schedule.task(),
                            "enqueued the schedule's tick"
                        ),
                        Claim::Recorded => tracing::info!(
                            schedule = plan.schedule.name(),
                            "recorded a tick without enqueuing it: it was missed and the schedule skips missed ticks, \
                             or the schedule is new"
                        ),
                        _ => {}
                    }
                }
                Err(error) => {
                    failed = true;
                    tracing::warn!(%error, schedule = plan.schedule.name(), "could not claim the schedule's tick; retrying");
                }
            }
        }
        let wait = if failed {
            backoff.next_wait()
        } else {
            backoff.reset();
            let now = SystemTime::now();
            planned
                .iter()
                .filter_map(|plan| plan.schedule.next_after(now))
                .filter_map(|next| next.duration_since(now).ok())
                .min()
                .unwrap_or(MAX_SLEEP)
                .min(MAX_SLEEP)
        };
        shared.pause(wait);
    }
}
