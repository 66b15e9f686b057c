//! Periodic tasks: [`Schedule`], and how its ticks are claimed.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

/// A tick older than this when claimed was missed; see [`Missed`].
pub const MISSED_AFTER: Duration = Duration::from_secs(60);

/// When a schedule ticks.
#[derive(Clone)]
enum When {
    Cron { schedule: Box<cron::Schedule>, zone: Tz, text: String },
    Every(Duration),
}

/// What a schedule does with a tick that was missed (claimed more than
/// [`MISSED_AFTER`] late, as when every worker was down).
///
/// # Examples
///
/// ```
/// use concur_worker::{Missed, Schedule};
///
/// let nightly = Schedule::cron("report", "0 0 3 * * *", "report")?.missed(Missed::Skip);
/// # Ok::<(), concur_worker::ScheduleError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missed {
    /// Enqueue it once when a worker is back (the default).
    #[default]
    RunOnce,
    /// Only record it: the next tick on time runs.
    Skip,
}

/// Why a schedule could not be made.
///
/// # Examples
///
/// ```
/// let err = concur_worker::Schedule::cron("bad", "every day at noon", "noon").unwrap_err();
/// assert!(err.to_string().contains("every day at noon"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the schedule {name:?} cannot be used: {reason}")]
pub struct ScheduleError {
    name: String,
    reason: String,
}

impl ScheduleError {
    fn new(name: &str, reason: impl Into<String>) -> ScheduleError {
        ScheduleError { name: name.to_owned(), reason: reason.into() }
    }
}

/// A task enqueued at every tick of a cron expression or an interval.
///
/// Periodic tasks: a [`Schedule`] enqueues a named task with arguments on a
/// queue at each of its ticks — the ticks of a cron expression, read in UTC
/// or a named time zone, or every fixed interval.
///
/// Every worker that knows a schedule runs it; exactly one of them enqueues
/// each tick. The claim is one script in the target queue's slot (so it
/// works on Redis Cluster): it records the tick in `{QUEUE}:schedules` and
/// pushes the task only if no one recorded that tick, or a later one,
/// before. Workers agree on the ticks without talking to each other because
/// a tick is a function of the clock alone: an interval's ticks are the
/// multiples of it since the Unix epoch, a cron expression's are its own.
///
/// **Missed ticks.** Each check looks at the latest tick at or before now.
/// A tick claimed more than [`MISSED_AFTER`] after its time was missed —
/// every worker was down, say — and what happens then is the schedule's
/// [`Missed`] policy: [`Missed::RunOnce`] enqueues it once on return,
/// [`Missed::Skip`] only records it. Ticks older than the latest are never
/// enqueued one by one: a fleet down for a week runs a nightly task once
/// when it comes back, not seven times. A schedule never claimed before has
/// missed nothing: its first late tick is only recorded.
///
/// Cron expressions are parsed by the `cron` crate: six or seven fields,
/// seconds first (`0 30 3 * * *` is 03:30:00 every day), with the usual
/// ranges, lists, steps and names. Ticks in a named time zone follow its
/// daylight saving rules (`chrono-tz`): a local time that a spring-forward
/// skips has no tick that day, and one that a fall-back repeats ticks once,
/// at its first occurrence.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::Schedule;
/// use serde_json::json;
///
/// let cleanup = Schedule::every("cleanup", Duration::from_secs(30), "cleanup")?.queue("maintenance");
/// let report = Schedule::cron("report", "0 30 3 * * *", "report")?
///     .timezone("Europe/Berlin")?
///     .args(vec![json!("daily")]);
/// # Ok::<(), concur_worker::ScheduleError>(())
/// ```
///
/// # Python
///
/// Celery beat's `beat_schedule` (`crontab(...)`, `schedule(30.0)`), or
/// rq-scheduler's `cron`, run by every worker with one enqueue per tick.
#[derive(Clone)]
#[must_use = "a Schedule does nothing until it is passed to `WorkerBuilder::schedule`"]
pub struct Schedule {
    name: String,
    when: When,
    task: String,
    args: Vec<Value>,
    queue: Option<String>,
    missed: Missed,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("name", &self.name)
            .field("when", &self.spec())
            .field("task", &self.task)
            .field("queue", &self.queue)
            .field("missed", &self.missed)
            .finish()
    }
}

impl Schedule {
    /// Ticks at the times of the cron expression `expression` (seconds
    /// first: `0 30 3 * * *` is 03:30:00 daily), in UTC unless
    /// [`timezone`](Self::timezone) says otherwise.
    ///
    /// # Errors
    ///
    /// [`ScheduleError`] for an empty name or task, or an expression the
    /// `cron` crate cannot read.
    ///
    /// # Examples
    ///
    /// See [`Schedule`].
    pub fn cron(name: &str, expression: &str, task: &str) -> Result<Schedule, ScheduleError> {
        let schedule = cron::Schedule::from_str(expression)
            .map_err(|e| ScheduleError::new(name, format!("the cron expression {expression:?} is not valid: {e}")))?;
        Schedule::new(
            name,
            When::Cron { schedule: Box::new(schedule), zone: Tz::UTC, text: expression.to_owned() },
            task,
        )
    }

    /// Ticks every `interval`, at the multiples of it since the Unix epoch
    /// (every worker computes the same ticks).
    ///
    /// # Errors
    ///
    /// [`ScheduleError`] for an empty name or task, or an interval under a
    /// millisecond.
    ///
    /// # Examples
    ///
    /// See [`Schedule`].
    pub fn every(name: &str, interval: Duration, task: &str) -> Result<Schedule, ScheduleError> {
        if interval < Duration::from_millis(1) {
            return Err(ScheduleError::new(name, "the interval must be at least a millisecond"));
        }
        Schedule::new(name, When::Every(interval), task)
    }

    fn new(name: &str, when: When, task: &str) -> Result<Schedule, ScheduleError> {
        if name.is_empty() {
            return Err(ScheduleError::new(name, "its name is empty"));
        }
        if task.is_empty() {
            return Err(ScheduleError::new(name, "its task name is empty"));
        }
        Ok(Schedule {
            name: name.to_owned(),
            when,
            task: task.to_owned(),
            args: Vec::new(),
            queue: None,
            missed: Missed::RunOnce,
        })
    }

    /// Reads the cron expression in the IANA time zone `zone`
    /// (`Europe/Berlin`), following its daylight saving rules.
    ///
    /// # Errors
    ///
    /// [`ScheduleError`] for an unknown zone, or for an interval schedule
    /// (its ticks do not depend on a zone).
    ///
    /// # Examples
    ///
    /// See [`Schedule`].
    pub fn timezone(mut self, zone: &str) -> Result<Schedule, ScheduleError> {
        let parsed: Tz =
            zone.parse().map_err(|_| ScheduleError::new(&self.name, format!("{zone:?} is not a known time zone")))?;
        match &mut self.when {
            When::Cron { zone, .. } => *zone = parsed,
            When::Every(_) => {
                return Err(ScheduleError::new(&self.name, "an interval's ticks do not depend on a time zone"));
            }
        }
        Ok(self)
    }

    /// The task's arguments.
    ///
    /// # Examples
    ///
    /// See [`Schedule`].
    pub fn args(mut self, args: Vec<Value>) -> Schedule {
        self.args = args;
        self
    }

    /// The queue the task goes to. Default: the worker's first queue.
    ///
    /// # Examples
    ///
    /// See [`Schedule`].
    pub fn queue(mut self, queue: &str) -> Schedule {
        self.queue = Some(queue.to_owned());
        self
    }

    /// What to do with a missed tick. Default: [`Missed::RunOnce`].
    ///
    /// # Examples
    ///
    /// See [`Missed`].
    pub fn missed(mut self, missed: Missed) -> Schedule {
        self.missed = missed;
        self
    }

    /// The schedule's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = concur_worker::Schedule::every("tick", std::time::Duration::from_secs(1), "tick")?;
    /// assert_eq!(s.name(), "tick");
    /// # Ok::<(), concur_worker::ScheduleError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The task it enqueues.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = concur_worker::Schedule::every("tick", std::time::Duration::from_secs(1), "ping")?;
    /// assert_eq!(s.task(), "ping");
    /// # Ok::<(), concur_worker::ScheduleError>(())
    /// ```
    pub fn task(&self) -> &str {
        &self.task
    }

    /// The task's arguments.
    pub(crate) fn task_args(&self) -> &[Value] {
        &self.args
    }

    /// The queue named with [`queue`](Self::queue), if any.
    pub(crate) fn target_queue(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    pub(crate) fn missed_policy(&self) -> Missed {
        self.missed
    }

    /// How the schedule ticks, as `status` shows it: the cron expression
    /// with its zone, or `every 30s`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = concur_worker::Schedule::cron("r", "0 0 3 * * *", "r")?.timezone("Asia/Tokyo")?;
    /// assert_eq!(s.spec(), "0 0 3 * * * (Asia/Tokyo)");
    /// # Ok::<(), concur_worker::ScheduleError>(())
    /// ```
    pub fn spec(&self) -> String {
        match &self.when {
            When::Cron { text, zone, .. } => format!("{text} ({zone})"),
            When::Every(interval) => format!("every {interval:?}"),
        }
    }

    /// The first tick strictly after `t`, if the schedule has one.
    ///
    /// The clock is an argument, so the ticks of any date can be worked out
    /// without waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let s = concur_worker::Schedule::every("tick", Duration::from_secs(10), "tick")?;
    /// let t = UNIX_EPOCH + Duration::from_secs(1_000_003);
    /// assert_eq!(s.next_after(t), Some(UNIX_EPOCH + Duration::from_secs(1_000_010)));
    /// # Ok::<(), concur_worker::ScheduleError>(())
    /// ```
    pub fn next_after(&self, t: SystemTime) -> Option<SystemTime> {
        match &self.when {
            When::Every(interval) => {
                let n = since_epoch(t).as_nanos() / interval.as_nanos() + 1;
                nanos_to_time(n * interval.as_nanos())
            }
            When::Cron { schedule, zone, .. } => {
                let local = to_datetime(t)?.with_timezone(zone);
                schedule.after(&local).next().map(|tick| from_datetime(tick.with_timezone(&Utc)))
            }
        }
    }

    /// The last tick at or before `t`, if the schedule has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let s = concur_worker::Schedule::every("tick", Duration::from_secs(10), "tick")?;
    /// let t = UNIX_EPOCH + Duration::from_secs(1_000_003);
    /// assert_eq!(s.latest_at_or_before(t), Some(UNIX_EPOCH + Duration::from_secs(1_000_000)));
    /// # Ok::<(), concur_worker::ScheduleError>(())
    /// ```
    pub fn latest_at_or_before(&self, t: SystemTime) -> Option<SystemTime> {
        match &self.when {
            When::Every(interval) => {
                let n = since_epoch(t).as_nanos() / interval.as_nanos();
                nanos_to_time(n * interval.as_nanos())
            }
            When::Cron { schedule, zone, .. } => {
                // `after` is strict, so ask after a nanosecond past `t`,
                // walking back from there.
                let local = to_datetime(t + Duration::from_nanos(1))?.with_timezone(zone);
                schedule.after(&local).next_back().map(|tick| from_datetime(tick.with_timezone(&Utc)))
            }
        }
    }
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn nanos_to_time(nanos: u128) -> Option<SystemTime> {
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

fn to_datetime(t: SystemTime) -> Option<DateTime<Utc>> {
    let since = since_epoch(t);
    Utc.timestamp_opt(i64::try_from(since.as_secs()).ok()?, since.subsec_nanos()).single()
}

fn from_datetime(t: DateTime<Utc>) -> SystemTime {
    let secs = u64::try_from(t.timestamp()).unwrap_or(0);
    UNIX_EPOCH + Duration::new(secs, t.timestamp_subsec_nanos())
}
