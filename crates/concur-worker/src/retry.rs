//! How long a failed task waits before its next attempt.
//!
//! Exponential backoff: the n-th failure waits about `initial × 2ⁿ⁻¹`, capped at
//! `max`, so a task that fails because a service is down does not hammer it.
//! Jitter spreads the retries of many tasks that failed together (the service
//! went down for all of them at once) so they do not all return in the same
//! second: the wait is drawn uniformly from the upper half of the step,
//! `[step / 2, step]`. Keeping the lower bound at half the step means the
//! ranges of successive attempts never overlap below the cap, so every retry
//! waits longer than the one before — growth is guaranteed, not just expected.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with jitter for failed tasks.
///
/// The n-th failure waits about `initial × 2ⁿ⁻¹`, capped at `max`, so a task
/// that fails because a service is down does not hammer it. The wait is drawn
/// uniformly from the upper half of that step, `[step / 2, step]`: the jitter
/// spreads the retries of many tasks that failed together, and below the cap
/// the ranges of successive attempts do not overlap, so every retry waits at
/// least as long as the longest wait of the one before.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur_worker::RetryPolicy;
///
/// let policy = RetryPolicy { initial: Duration::from_secs(1), max: Duration::from_secs(60) };
/// assert_eq!(policy.bounds(1), (Duration::from_millis(500), Duration::from_secs(1)));
/// assert_eq!(policy.bounds(3), (Duration::from_secs(2), Duration::from_secs(4)));
/// let wait = policy.delay(3);
/// assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(4));
/// ```
///
/// # Python
///
/// Python's standard library has no task queue; this is the policy of Celery's
/// `retry_backoff` / `retry_jitter` and of Sidekiq's retries, in their spirit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[must_use = "a RetryPolicy does nothing until it is set as a QueueConfig's `retry`"]
pub struct RetryPolicy {
    /// The step after the first failure. Serialized as `initial_secs`.
    #[serde(rename = "initial_secs", serialize_with = "crate::record::serialize_secs")]
    pub initial: Duration,
    /// The largest step. Serialized as `max_secs`.
    #[serde(rename = "max_secs", serialize_with = "crate::record::serialize_secs")]
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// One second, doubling, up to ten minutes.
    ///
    /// # Examples
    ///
    /// ```
    /// let policy = concur_worker::RetryPolicy::default();
    /// assert_eq!(policy.initial, std::time::Duration::from_secs(1));
    /// ```
    fn default() -> Self {
        RetryPolicy { initial: Duration::from_secs(1), max: Duration::from_secs(600) }
    }
}

impl RetryPolicy {
    /// The step after the `failures`-th failure (1 for the first):
    /// `initial × 2^(failures−1)`, at most `max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = concur_worker::RetryPolicy { initial: Duration::from_secs(1), max: Duration::from_secs(5) };
    /// assert_eq!(policy.step(2), Duration::from_secs(2));
    /// assert_eq!(policy.step(30), Duration::from_secs(5));
    /// ```
    pub fn step(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1);
        if doublings >= 32 {
            return self.max;
        }
        self.initial.checked_mul(1u32 << doublings).map_or(self.max, |step| step.min(self.max))
    }

    /// The smallest and largest wait [`delay`](Self::delay) can return after
    /// the `failures`-th failure: `(step / 2, step)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = concur_worker::RetryPolicy::default();
    /// assert_eq!(policy.bounds(2), (Duration::from_secs(1), Duration::from_secs(2)));
    /// ```
    pub fn bounds(&self, failures: u32) -> (Duration, Duration) {
        let step = self.step(failures);
        (step / 2, step)
    }

    /// A wait drawn uniformly from [`bounds`](Self::bounds)`(failures)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let policy = concur_worker::RetryPolicy::default();
    /// let (low, high) = policy.bounds(4);
    /// let wait = policy.delay(4);
    /// assert!(low <= wait && wait <= high);
    /// ```
    pub fn delay(&self, failures: u32) -> Duration {
        let (low, high) = self.bounds(failures);
        if low >= high {
            return high;
        }
        rand::rng().random_range(low..=high)
    }
}
