//! [`Stop`]: how the program that runs a bench asks it to stop early.
//!
//! A library installs no signal handler: the program does (the `concur`
//! binary with `signal-hook`), and on Ctrl-C calls [`Stop::request`]. The
//! run notices within a moment wherever it is — between runs, inside a
//! task that computes, writes or sleeps, while waiting on worker processes
//! or on Python — stops its children, writes the report of what it had
//! measured (marked partial), and returns
//! [`BenchError::Interrupted`](crate::BenchError::Interrupted).
//!
//! Blocking waits park on a [`concur::sync::Event`]; tasks on the event
//! loop wait on a `tokio::sync::Notify` beside it, since a thread's event
//! cannot wake a future.

use std::sync::Arc;
use std::time::Duration;

use concur::sync::Event;
use tokio::sync::Notify;

/// A request to stop a running bench early, shared between the program's
/// signal handling and the run. Clones share the one request.
///
/// # Examples
///
/// ```
/// use concur_lab::Stop;
///
/// let stop = Stop::new();
/// let handler = stop.clone(); // what a signal thread would hold
/// assert!(!stop.is_requested());
/// handler.request();
/// assert!(stop.is_requested());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    event: Event,
    notify: Notify,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop").field("requested", &self.event.is_set()).finish()
    }
}

impl Stop {
    /// A stop nobody has requested yet.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur_lab::Stop::new().is_requested());
    /// ```
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks the run to stop. Safe to call from any thread, any number of
    /// times.
    ///
    /// # Examples
    ///
    /// See [`Stop`].
    ///
    /// ```
    /// let stop = concur_lab::Stop::new();
    /// stop.request();
    /// stop.request();
    /// assert!(stop.is_requested());
    /// ```
    pub fn request(&self) {
        self.inner.event.set();
        self.inner.notify.notify_waiters();
    }

    /// Whether a stop was requested.
    ///
    /// # Examples
    ///
    /// See [`Stop`].
    ///
    /// ```
    /// assert!(!concur_lab::Stop::new().is_requested());
    /// ```
    pub fn is_requested(&self) -> bool {
        self.inner.event.is_set()
    }

    /// Sleeps for `duration` or until a stop is requested; `true` if the
    /// stop came first.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        self.inner.event.wait_timeout(duration)
    }

    /// Resolves once a stop is requested.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it loses nothing, and a new call sees a stop
    /// requested meanwhile.
    pub(crate) async fn requested(&self) {
        // `notify_waiters` reaches every `Notified` made before it, polled or
        // not; checking the flag after making one closes the gap.
        let notified = self.inner.notify.notified();
        if self.is_requested() {
            return;
        }
        notified.await;
    }
}
