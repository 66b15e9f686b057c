//! A point in time a blocking call gives up at, or never.
//!
//! Every timed call in the crate (`acquire_timeout`, `wait_timeout`,
//! `join_timeout`, …) turns its `Duration` into a `Deadline` once, so that
//! spurious wake-ups and retries never stretch the total wait. A timeout too
//! large to add to `Instant::now()` means "wait forever", as in Python, where
//! any timeout above `threading.TIMEOUT_MAX` is refused instead.

use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, MutexGuard};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// Never gives up.
    pub(crate) const NEVER: Deadline = Deadline(None);

    /// `timeout` from now.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(timeout))
    }

    /// `Some(d)` is `after(d)`, `None` is `NEVER`.
    pub(crate) fn from_timeout(timeout: Option<Duration>) -> Deadline {
        timeout.map_or(Deadline::NEVER, Deadline::after)
    }

    /// The instant, or `None` for a deadline that never comes.
    pub(crate) fn instant(self) -> Option<Instant> {
        self.0
    }

    /// Whether the deadline has passed.
    pub(crate) fn has_passed(self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }

    /// Blocks on `condvar` until notified or the deadline passes. Returns
    /// `false` when it returned because the deadline passed.
    pub(crate) fn wait<T>(self, condvar: &Condvar, guard: &mut MutexGuard<'_, T>) -> bool {
        match self.0 {
            None => {
                condvar.wait(guard);
                true
            }
            Some(at) => !condvar.wait_until(guard, at).timed_out(),
        }
    }
}
