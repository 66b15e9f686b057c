//! The claim of a schedule's tick: exactly one worker enqueues each.

use std::time::SystemTime;

use super::Connection;
use crate::envelope::Envelope;
use crate::error::Error;
use crate::record::unix_seconds;
use crate::schedule::{Missed, Schedule, MISSED_AFTER};
use crate::scripts;

/// What a [`Connection::claim_tick`] did.
///
/// # Examples
///
/// ```no_run
/// use std::time::{Duration, SystemTime};
/// use concur_worker::protocol::{Claim, Connection};
/// use concur_worker::Schedule;
///
/// let mut queue = Connection::connect("redis://127.0.0.1", Default::default())?;
/// let every = Schedule::every("tick", Duration::from_secs(1), "ping").unwrap();
/// let now = SystemTime::now();
/// if let Some(tick) = every.latest_at_or_before(now) {
///     if queue.claim_tick(&every, tick, now)? == Claim::Enqueued {
///         println!("this worker enqueued the tick");
///     }
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// This call claimed the tick and enqueued the task.
    Enqueued,
    /// This call claimed the tick and only recorded it: it was missed and
    /// the schedule skips missed ticks, or the schedule had never ticked.
    Recorded,
    /// The tick, or a later one, was claimed before.
    Taken,
}

impl Connection {
    /// Claims `tick` of `schedule` on this queue, at the time `now`: if no
    /// one claimed it (or a later tick) before, records it in
    /// `{QUEUE}:schedules` and, unless it was missed and the schedule skips
    /// missed ticks, enqueues the task (its envelope's `eta` is the tick) —
    /// one script, so of many workers
    /// claiming one tick exactly one enqueues it. A tick is missed when
    /// `now` is more than [`MISSED_AFTER`] past it.
    ///
    /// # Errors
    ///
    /// Connection errors; [`Error::PayloadTooLarge`] for arguments past the
    /// queue's payload limit.
    ///
    /// # Examples
    ///
    /// See [`Claim`].
    pub fn claim_tick(&mut self, schedule: &Schedule, tick: SystemTime, now: SystemTime) -> Result<Claim, Error> {
        let on_time = now.duration_since(tick).unwrap_or_default() <= MISSED_AFTER;
        let mut envelope = Envelope::new(schedule.task(), schedule.task_args().to_vec());
        envelope.enqueued_at = Some(unix_seconds(now));
        // The tick the task stands for, as the time it was due.
        envelope.eta = Some(unix_seconds(tick));
        let payload = envelope.to_json();
        if payload.len() > self.config.max_payload {
            return Err(Error::PayloadTooLarge { size: payload.len(), limit: self.config.max_payload });
        }
        let millis = |t: SystemTime| (unix_seconds(t) * 1000.0).round() as u64;
        let next = schedule.next_after(tick).map(|t| millis(t).to_string()).unwrap_or_default();
        let mut invocation = scripts::CLAIM_TICK.prepare_invoke();
        invocation
            .key(self.keys.schedules())
            .key(self.keys.pending())
            .arg(schedule.name())
            .arg(millis(tick))
            .arg(if on_time { "on-time" } else { "late" })
            .arg(match schedule.missed_policy() {
                Missed::RunOnce => "run-once",
                Missed::Skip => "skip",
            })
            .arg(payload)
            .arg(next)
            .arg(schedule.spec())
            .arg(schedule.task());
        let code: i64 = self.with_conn(|c| invocation.invoke(c))?;
        let keys = self.keys.clone();
        self.replicated(&keys)?;
        match code {
            0 => Ok(Claim::Taken),
            1 => Ok(Claim::Enqueued),
            2 => Ok(Claim::Recorded),
            other => Err(self.protocol_error(format!("the claim code {other}"))),
        }
    }
}
