//! [`Timer`]: a call that runs after a delay on a thread of its own, unless
//! it is cancelled first.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::builder::{Builder, SpawnError};
use super::handle::{JoinError, JoinHandle, JoinStatus};
use super::registry::Thread;
use crate::deadline::Deadline;
use crate::loom::sync::{Condvar, Mutex};

/// A thread that waits `interval`, then calls a function — unless
/// [`cancel`](Self::cancel) comes first.
///
/// Start one with [`Timer::start`], or with [`Builder::spawn_timer`] to
/// name it, make it a daemon, or get the spawn error back. The timer's
/// thread is a concur thread like any other: it is listed by
/// [`enumerate`](super::enumerate) until it ends, and its handle can be
/// joined for the function's value.
///
/// # Dropping a timer
///
/// Dropping the `Timer` does not cancel it: like a thread whose handle is
/// dropped, it runs on and fires at its time, as a Python `Timer` nobody
/// holds still fires. What happens at the end of the program follows the
/// daemon flag, as for any thread: [`concur::run`](crate::run) waits for a
/// non-daemon timer to fire (or be cancelled), and leaves a daemon timer
/// behind — one that has not fired when the process ends never fires. Keep
/// the `Timer` to be able to cancel it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::thread::Timer;
///
/// let reminder = Timer::start(Duration::from_millis(20), || "tea is ready");
/// assert_eq!(reminder.join().unwrap(), Some("tea is ready"));
///
/// let alarm = Timer::start(Duration::from_secs(60), || "wake up");
/// assert!(alarm.cancel()); // called off before it rang
/// assert_eq!(alarm.join().unwrap(), None);
/// ```
///
/// # Python
///
/// `threading.Timer(interval, function)` followed by `start()`; `cancel()`;
/// `join()`. `cancel` here also says whether it stopped the call, which
/// Python's does not. The function's arguments are the closure's captures.
#[doc(alias = "threading.Timer")]
pub struct Timer<T> {
    handle: JoinHandle<Option<T>>,
    countdown: Arc<Countdown>,
}

/// Where a timer is: waiting, or decided one way or the other. Only the
/// first decision counts, which is what makes `cancel`'s answer exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Cancelled,
    Fired,
}

struct Countdown {
    phase: Mutex<Phase>,
    changed: Condvar,
}

impl Countdown {
    /// Waits out `interval` unless cancelled; returns whether to fire.
    fn wait(&self, interval: Duration) -> bool {
        let deadline = Deadline::after(interval);
        let mut phase = self.phase.lock();
        while *phase == Phase::Waiting && !deadline.has_passed() {
            deadline.wait(&self.changed, &mut phase);
        }
        if *phase == Phase::Waiting {
            *phase = Phase::Fired;
        }
        *phase == Phase::Fired
    }
}

impl<T: Send + 'static> Timer<T> {
    /// Starts a timer that calls `f` on a new thread once `interval` has
    /// passed, with default thread settings (a name `Thread-N`, the daemon
    /// flag of the calling thread).
    ///
    /// # Panics
    ///
    /// If the operating system cannot create a thread, as
    /// [`thread::spawn`](super::spawn) does. Use [`Builder::spawn_timer`] to
    /// get the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use concur::thread::Timer;
    ///
    /// let started = Instant::now();
    /// let timer = Timer::start(Duration::from_millis(30), move || started.elapsed());
    /// assert!(timer.join().unwrap().unwrap() >= Duration::from_millis(30));
    /// ```
    ///
    /// # Python
    ///
    /// `threading.Timer(interval, f).start()`.
    pub fn start<F>(interval: Duration, f: F) -> Timer<T>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        Builder::new().spawn_timer(interval, f).unwrap_or_else(|error| panic!("{error}"))
    }
}

// `spawn_timer` is written here, beside what it builds, so that the builder
// does not depend on the timer built on top of it: no import cycle between
// the two files.
impl Builder {
    /// Starts a [`Timer`]: a thread with these settings that calls `f` once
    /// `interval` has passed, unless the timer is cancelled first.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Builder::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::thread::Builder;
    ///
    /// let flush = Builder::new()
    ///     .name("flush")
    ///     .daemon(true)
    ///     .spawn_timer(Duration::from_millis(10), || "flushed")
    ///     .unwrap();
    /// assert!(flush.thread().is_daemon());
    /// assert_eq!(flush.join().unwrap(), Some("flushed"));
    /// ```
    ///
    /// # Python
    ///
    /// `t = threading.Timer(interval, f)`, `t.name = ...`,
    /// `t.daemon = ...`, then `t.start()`.
    pub fn spawn_timer<F, T>(self, interval: Duration, f: F) -> Result<Timer<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let countdown = Arc::new(Countdown { phase: Mutex::new(Phase::Waiting), changed: Condvar::new() });
        let theirs = Arc::clone(&countdown);
        let handle = self.spawn(move || theirs.wait(interval).then(f))?;
        Ok(Timer { handle, countdown })
    }
}

impl<T> Timer<T> {
    /// Stops the timer if it is still waiting. Returns whether the function
    /// will not run: `true` if this call (or an earlier one) stopped it,
    /// `false` if it has fired already.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::thread::Timer;
    ///
    /// let quick = Timer::start(Duration::ZERO, || ());
    /// quick.join_timeout(Duration::from_secs(10)).unwrap();
    /// assert!(!quick.cancel()); // too late: it ran
    /// ```
    ///
    /// # Python
    ///
    /// `Timer.cancel()`, which returns `None` either way.
    pub fn cancel(&self) -> bool {
        let mut phase = self.countdown.phase.lock();
        if *phase == Phase::Waiting {
            *phase = Phase::Cancelled;
            self.countdown.changed.notify_all();
        }
        *phase == Phase::Cancelled
    }

    /// Waits for the timer's thread to end; returns what the function
    /// returned, or `None` if the timer was cancelled.
    ///
    /// # Errors
    ///
    /// As [`JoinHandle::join`]: the function's panic, or a join from the
    /// timer's own thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = concur::thread::Timer::start(Duration::from_millis(5), || 7);
    /// assert_eq!(timer.join().unwrap(), Some(7));
    /// ```
    ///
    /// # Python
    ///
    /// `Timer.join()`.
    pub fn join(self) -> Result<Option<T>, JoinError> {
        self.handle.join()
    }

    /// As [`JoinHandle::join_timeout`]: waits at most `timeout` for the
    /// timer's thread to end.
    ///
    /// # Errors
    ///
    /// [`JoinError::CurrentThread`] if called from the timer's own thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::thread::{JoinStatus, Timer};
    ///
    /// let timer = Timer::start(Duration::from_secs(60), || ());
    /// assert_eq!(timer.join_timeout(Duration::from_millis(5)).unwrap(), JoinStatus::TimedOut);
    /// timer.cancel();
    /// assert_eq!(timer.join_timeout(Duration::from_secs(10)).unwrap(), JoinStatus::Finished);
    /// ```
    ///
    /// # Python
    ///
    /// `Timer.join(timeout)` followed by `is_alive()`.
    pub fn join_timeout(&self, timeout: Duration) -> Result<JoinStatus, JoinError> {
        self.handle.join_timeout(timeout)
    }

    /// The timer's thread: its name, identifier, daemon flag and whether it
    /// is alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = concur::thread::Builder::new()
    ///     .name("reminder")
    ///     .spawn_timer(Duration::from_secs(60), || ())
    ///     .unwrap();
    /// assert_eq!(timer.thread().name(), "reminder");
    /// assert!(timer.thread().is_alive());
    /// timer.cancel();
    /// ```
    pub fn thread(&self) -> &Thread {
        self.handle.thread()
    }
}

impl<T> fmt::Debug for Timer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("thread", self.handle.thread())
            .field("phase", &*self.countdown.phase.lock())
            .finish()
    }
}
