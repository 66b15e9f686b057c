//! Per-task-name statistics: how many attempts ended, how many failed, and
//! histograms of run time and wait time.
//!
//! Workers count in memory and add their counts to Redis every few seconds
//! (one script per queue), into a hash per minute that expires after two
//! hours and a running total that never does; `docs/PROTOCOL.md` gives the
//! fields. Fixed buckets, the same in every worker, are what make the
//! counts of many workers add up: a percentile is read from the sum, as
//! Prometheus's `histogram_quantile` reads it, exact to within a bucket.
//! (A mergeable sketch such as HDR or t-digest would be finer, but its
//! state is not a set of counters Redis can add to atomically.)

use std::collections::HashMap;
use std::time::Duration;

/// The upper bounds of the duration buckets, in seconds; a last bucket
/// counts what is longer than the last bound. The same bounds as the
/// Prometheus client libraries' defaults, widened to five minutes for
/// tasks.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::DURATION_BOUNDS[0], 0.001);
/// assert_eq!(concur_worker::DURATION_BOUNDS.last(), Some(&300.0));
/// ```
pub const DURATION_BOUNDS: [f64; 17] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// The most task names a queue's statistics keep apart; the counts of any
/// further name go to [`OTHER_TASKS`], so producers cannot grow the
/// statistics without bound by inventing names.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::MAX_TASK_NAMES, 1000);
/// ```
pub const MAX_TASK_NAMES: usize = 1000;

/// The name the counts of task names beyond [`MAX_TASK_NAMES`] are kept under.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::OTHER_TASKS, "(other)");
/// ```
pub const OTHER_TASKS: &str = "(other)";

const BUCKETS: usize = DURATION_BOUNDS.len() + 1;

/// A histogram of durations over [`DURATION_BOUNDS`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::Histogram;
///
/// let mut run = Histogram::default();
/// for ms in [2, 3, 4, 40, 900] {
///     run.record(Duration::from_millis(ms));
/// }
/// assert_eq!(run.count(), 5);
/// let p50 = run.quantile(0.5).unwrap();
/// assert!((0.0025..=0.005).contains(&p50));
/// ```
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Histogram {
    counts: [u64; BUCKETS],
    /// The sum of the durations, in microseconds.
    sum_micros: u64,
}

impl Histogram {
    /// Counts one duration.
    ///
    /// # Examples
    ///
    /// See [`Histogram`].
    pub fn record(&mut self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = DURATION_BOUNDS.iter().position(|&bound| seconds <= bound).unwrap_or(BUCKETS - 1);
        self.counts[bucket] += 1;
        self.sum_micros = self.sum_micros.saturating_add(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX));
    }

    /// How many durations were counted.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::Histogram::default().count(), 0);
    /// ```
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of the durations counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut h = concur_worker::Histogram::default();
    /// h.record(Duration::from_millis(30));
    /// h.record(Duration::from_millis(20));
    /// assert_eq!(h.sum(), Duration::from_millis(50));
    /// ```
    pub fn sum(&self) -> Duration {
        Duration::from_micros(self.sum_micros)
    }

    /// The count of each bucket, in the order of [`DURATION_BOUNDS`], the
    /// last counting what is longer than the last bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = concur_worker::Histogram::default();
    /// assert_eq!(h.counts().len(), concur_worker::DURATION_BOUNDS.len() + 1);
    /// ```
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Each upper bound in seconds (the last one infinite) with the count
    /// of durations at or below it: the `le` buckets of a Prometheus
    /// histogram.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut h = concur_worker::Histogram::default();
    /// h.record(Duration::from_secs(1000));
    /// let last = h.cumulative().last().unwrap();
    /// assert_eq!(last, (f64::INFINITY, 1));
    /// ```
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let bounds = DURATION_BOUNDS.iter().copied().chain(std::iter::once(f64::INFINITY));
        bounds.zip(self.counts.iter().scan(0, |total, &n| {
            *total += n;
            Some(*total)
        }))
    }

    /// The `q` quantile (0 to 1) in seconds, interpolated linearly within
    /// its bucket; `None` when nothing was counted or `q` is out of range.
    /// A quantile in the last bucket answers the last bound: the histogram
    /// knows only that it is longer.
    ///
    /// # Examples
    ///
    /// See [`Histogram`].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total as f64;
        let mut below = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            if n > 0 && (below + n) as f64 >= rank {
                let Some(&upper) = DURATION_BOUNDS.get(i) else { return Some(DURATION_BOUNDS[BUCKETS - 2]) };
                let lower = if i == 0 { 0.0 } else { DURATION_BOUNDS[i - 1] };
                let within = ((rank - below as f64) / n as f64).clamp(0.0, 1.0);
                return Some(lower + (upper - lower) * within);
            }
            below += n;
        }
        Some(DURATION_BOUNDS[BUCKETS - 2])
    }

    /// Adds the counts of `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut a = concur_worker::Histogram::default();
    /// let mut b = concur_worker::Histogram::default();
    /// a.record(Duration::from_millis(1));
    /// b.record(Duration::from_millis(2));
    /// a.merge(&b);
    /// assert_eq!(a.count(), 2);
    /// ```
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.sum_micros = self.sum_micros.saturating_add(other.sum_micros);
    }

    /// The (field, increment) pairs of this histogram's nonzero counts,
    /// with `tag` (`r` or `w`) before each bucket number.
    fn fields(&self, tag: char, out: &mut Vec<(String, u64)>) {
        for (i, &n) in self.counts.iter().enumerate() {
            if n > 0 {
                out.push((format!("{tag}{i}"), n));
            }
        }
        if self.sum_micros > 0 {
            out.push((format!("{tag}s"), self.sum_micros));
        }
    }

    /// Adds a field read back from Redis (`3` for bucket 3, `s` for the sum).
    fn add_field(&mut self, field: &str, n: u64) -> bool {
        if field == "s" {
            self.sum_micros = self.sum_micros.saturating_add(n);
            return true;
        }
        match field.parse::<usize>() {
            Ok(i) if i < BUCKETS => {
                self.counts[i] += n;
                true
            }
            _ => false,
        }
    }
}

/// The statistics of one task name: attempts that ended, failures, and how
/// long attempts ran and waited.
///
/// Run time is from the fetch to the outcome (a worker fetches only for a
/// free slot, so a task starts as it is fetched); wait time from when the
/// task became due (enqueued, or its delay or retry came due) to the
/// fetch.
///
/// # Examples
///
/// ```no_run
/// # let mut queue = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
/// for stats in queue.task_stats(60)? {
///     println!(
///         "{}: {} runs, {} failed, p95 {:.3}s",
///         stats.name,
///         stats.count,
///         stats.failed,
///         stats.run.quantile(0.95).unwrap_or(0.0)
///     );
/// }
/// # Ok::<(), concur_worker::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
#[non_exhaustive]
pub struct TaskStats {
    /// The task name ([`OTHER_TASKS`] for names past the cap).
    pub name: String,
    /// Attempts that ended (succeeded or failed).
    pub count: u64,
    /// Attempts that failed (an error, a panic, a time limit, a rejection).
    pub failed: u64,
    /// Run times.
    pub run: Histogram,
    /// Wait times.
    pub wait: Histogram,
}

impl TaskStats {
    /// Counts one attempt that ended.
    pub(crate) fn record(&mut self, failed: bool, run: Duration, wait: Duration) {
        self.count += 1;
        self.failed += u64::from(failed);
        self.run.record(run);
        self.wait.record(wait);
    }

    /// The (field, increment) pairs to add to Redis.
    pub(crate) fn fields(&self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        if self.count > 0 {
            out.push(("c".to_owned(), self.count));
        }
        if self.failed > 0 {
            out.push(("f".to_owned(), self.failed));
        }
        self.run.fields('r', &mut out);
        self.wait.fields('w', &mut out);
        out
    }

    fn merge(&mut self, other: &TaskStats) {
        self.count += other.count;
        self.failed += other.failed;
        self.run.merge(&other.run);
        self.wait.merge(&other.wait);
    }
}

/// Adds the fields of statistics hashes (`FIELD|NAME` to a count) into
/// per-name statistics; fields concur did not write are skipped.
pub(crate) fn add_fields(into: &mut HashMap<String, TaskStats>, fields: HashMap<String, u64>) {
    for (field, n) in fields {
        let Some((kind, name)) = field.split_once('|') else { continue };
        let stats =
            into.entry(name.to_owned()).or_insert_with(|| TaskStats { name: name.to_owned(), ..TaskStats::default() });
        match kind.split_at_checked(1) {
            Some(("c", "")) => stats.count += n,
            Some(("f", "")) => stats.failed += n,
            Some(("r", rest)) => {
                stats.run.add_field(rest, n);
            }
            Some(("w", rest)) => {
                stats.wait.add_field(rest, n);
            }
            _ => {}
        }
    }
}

/// Merges per-name statistics and sorts them by name.
pub(crate) fn merged(parts: impl IntoIterator<Item = HashMap<String, TaskStats>>) -> Vec<TaskStats> {
    let mut all: HashMap<String, TaskStats> = HashMap::new();
    for part in parts {
        for (name, stats) in part {
            all.entry(name)
                .or_insert_with_key(|name| TaskStats { name: name.clone(), ..TaskStats::default() })
                .merge(&stats);
        }
    }
    let mut all: Vec<TaskStats> = all.into_values().collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_take_durations_at_their_bound() {
        let mut h = Histogram::default();
        h.record(Duration::from_millis(1));
        h.record(Duration::from_micros(1001));
        h.record(Duration::from_secs(301));
        assert_eq!(h.counts()[0], 1);
        assert_eq!(h.counts()[1], 1);
        assert_eq!(h.counts()[BUCKETS - 1], 1);
        assert_eq!(h.quantile(1.0), Some(300.0));
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let mut h = Histogram::default();
        for _ in 0..100 {
            h.record(Duration::from_millis(75)); // the (0.05, 0.1] bucket
        }
        let p50 = h.quantile(0.5).unwrap();
        assert!((p50 - 0.075).abs() < 1e-9, "{p50}");
        assert_eq!(h.quantile(1.5), None);
        assert_eq!(Histogram::default().quantile(0.5), None);
    }

    #[test]
    fn fields_written_are_fields_read() {
        let mut stats = TaskStats { name: "email".into(), ..TaskStats::default() };
        stats.record(false, Duration::from_millis(3), Duration::from_millis(40));
        stats.record(true, Duration::from_secs(2), Duration::from_millis(1));
        let fields: HashMap<String, u64> =
            stats.fields().into_iter().map(|(field, n)| (format!("{field}|email"), n)).collect();
        let mut read = HashMap::new();
        add_fields(&mut read, fields);
        assert_eq!(read["email"], stats);
    }

    #[test]
    fn merging_adds_counts_by_name() {
        let mut a = HashMap::new();
        let mut one = TaskStats { name: "x".into(), ..TaskStats::default() };
        one.record(false, Duration::from_millis(1), Duration::ZERO);
        a.insert("x".to_owned(), one.clone());
        let merged = merged([a.clone(), a]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].count, 2);
        assert_eq!(merged[0].run.count(), 2);
    }
}
