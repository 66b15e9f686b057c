//! Time: [`sleep`], and the limits [`timeout`] and [`wait_for`] put on a
//! future.
//!
//! A timeout works as Python 3.11's `asyncio.timeout` does: when time runs
//! out it cancels the task it runs in, lets the future see that cancellation
//! at its await (so it can clean up), and turns the cancellation into
//! [`TimeoutError::Elapsed`] when the future ends. If the future waits on something
//! that cannot take a cancellation, it is dropped instead.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::awaitable::Awaitable;
use super::context::{self, SleepKey};
use super::error::{Cancelled, TimeoutError};
use super::header::{self, current_task};

pin_project! {
    /// The future of [`sleep`].
    ///
    /// # Examples
    ///
    /// ```
    /// let nap = concur::aio::sleep(std::time::Duration::from_millis(1));
    /// concur::aio::run(nap).unwrap().unwrap();
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Sleep {
        #[pin]
        kind: SleepKind,
    }
}

pin_project! {
    #[project = SleepProj]
    #[derive(Debug)]
    enum SleepKind {
        /// `sleep(0)`: give the other ready work one turn.
        Yield { yielded: bool },
        Timer { #[pin] timer: Timer },
    }
}

/// The clock under [`Sleep`], [`Timeout`] and `wait`: a timer of the
/// loop's own (see `timers.rs`), set at the first poll, so that the future
/// can be made outside the loop; under a tokio runtime with no `aio` loop,
/// a tokio sleep.
#[derive(Debug)]
pub(crate) struct Timer {
    state: TimerState,
}

#[derive(Debug)]
enum TimerState {
    Unarmed(Instant),
    Armed(Instant, SleepKey),
    Tokio(Pin<Box<tokio::time::Sleep>>),
    Fired,
}

impl Timer {
    pub(crate) fn after(duration: Duration) -> Timer {
        let now = Instant::now();
        // A deadline past the clock's range never comes: a century will do.
        let deadline = now.checked_add(duration).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400));
        Timer::at(deadline)
    }

    pub(crate) fn at(deadline: Instant) -> Timer {
        Timer { state: TimerState::Unarmed(deadline) }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let state = &mut self.state;
        let deadline = match state {
            TimerState::Fired => return Poll::Ready(()),
            TimerState::Tokio(sleep) => {
                let fired = sleep.as_mut().poll(cx);
                if fired.is_ready() {
                    *state = TimerState::Fired;
                }
                return fired;
            }
            TimerState::Armed(deadline, key) => match context::poll_timer(*key, cx.waker()) {
                Some(Poll::Ready(())) => {
                    *state = TimerState::Fired;
                    return Poll::Ready(());
                }
                Some(Poll::Pending) => return Poll::Pending,
                // Moved to another loop, or off it: set it again here.
                None => *deadline,
            },
            TimerState::Unarmed(deadline) => *deadline,
        };
        // Always pending at first, even when already due, so that a sleep
        // yields as Python's does.
        *state = match context::arm_timer(deadline, cx.waker()) {
            Some(key) => TimerState::Armed(deadline, key),
            None => {
                let mut sleep = Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)));
                if sleep.as_mut().poll(cx).is_ready() {
                    *state = TimerState::Fired;
                    return Poll::Ready(());
                }
                TimerState::Tokio(sleep)
            }
        };
        Poll::Pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let TimerState::Armed(_, key) = self.state {
            context::cancel_timer(key);
        }
    }
}

/// Pauses the task for `duration`, letting the loop run other work. A zero
/// duration lets the work ready now run once, then continues.
///
/// # Errors
///
/// [`Cancelled`] if the task is cancelled while it sleeps.
///
/// # Panics
///
/// When polled outside an event loop (a non-zero sleep needs its timer).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use concur::aio;
///
/// let start = Instant::now();
/// aio::run(aio::sleep(Duration::from_millis(20))).unwrap().unwrap();
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// ```
///
/// # Cancel safety
///
/// Cancel-safe: nothing is lost when the sleep is dropped.
///
/// # Python
///
/// `await asyncio.sleep(delay)`.
pub fn sleep(duration: Duration) -> Sleep {
    let kind = if duration.is_zero() {
        SleepKind::Yield { yielded: false }
    } else {
        SleepKind::Timer { timer: Timer::after(duration) }
    };
    Sleep { kind }
}

impl Future for Sleep {
    type Output = Result<(), Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Cancelled>> {
        if let Some(cancelled) = header::take_cancellation() {
            return Poll::Ready(Err(cancelled));
        }
        match self.project().kind.project() {
            SleepProj::Yield { yielded } => {
                if *yielded {
                    return Poll::Ready(Ok(()));
                }
                *yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            SleepProj::Timer { timer } => timer.poll(cx).map(Ok),
        }
    }
}

pin_project! {
    /// The future of [`timeout`], [`timeout_at`] and [`wait_for`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let quick = concur::aio::timeout(Duration::from_secs(1), async { 5 });
    /// assert_eq!(concur::aio::run(quick).unwrap(), Ok(5));
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        fut: Inner<F>,
        #[pin]
        timer: Timer,
        allowed: Duration,
        // The deadline the timer was armed for; the handle's may differ
        // after a `reschedule`.
        armed_for: Option<Instant>,
        control: Rc<Control>,
        // The task's cancellation count when the scope was entered (its
        // first poll), as Python's `timeout` records on entry.
        entered: Option<u32>,
    }
}

pin_project! {
    #[project = InnerProj]
    #[derive(Debug)]
    enum Inner<F> {
        Live { #[pin] fut: F },
        // `wait_for` with no time: the future was never started.
        Unstarted { yielded: bool },
        Gone,
    }
}

/// Runs `fut`, but for no longer than `limit`: when time runs out, the
/// future is cancelled (it sees [`Cancelled`] at its `aio` await and may
/// clean up) and the result is [`TimeoutError::Elapsed`].
///
/// # Errors
///
/// [`TimeoutError::Elapsed`] when time ran out first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, TimeoutError};
///
/// let outcome = aio::run(aio::timeout(Duration::from_millis(10), aio::sleep(Duration::from_secs(60)))).unwrap();
/// assert_eq!(outcome, Err(TimeoutError::Elapsed(Duration::from_millis(10))));
/// ```
///
/// # Cancel safety
///
/// As cancel-safe as `fut`.
///
/// # Python
///
/// `async with asyncio.timeout(delay): ...` (3.11), with the block as a
/// future.
pub fn timeout<F: Future>(limit: Duration, fut: F) -> Timeout<F> {
    let mut limited = timeout_at(Instant::now() + limit, fut);
    limited.allowed = limit;
    limited
}

/// As [`timeout`], with a deadline instead of a duration.
///
/// # Errors
///
/// [`TimeoutError::Elapsed`] when the deadline passed first.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use concur::aio;
///
/// let deadline = Instant::now() + Duration::from_secs(1);
/// assert_eq!(aio::run(aio::timeout_at(deadline, async { "in time" })).unwrap(), Ok("in time"));
/// ```
///
/// # Cancel safety
///
/// As cancel-safe as `fut`.
///
/// # Python
///
/// `async with asyncio.timeout_at(when): ...`.
pub fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Timeout<F> {
    Timeout {
        fut: Inner::Live { fut },
        timer: Timer::at(deadline),
        allowed: deadline.saturating_duration_since(Instant::now()),
        armed_for: Some(deadline),
        control: Rc::new(Control {
            deadline: Cell::new(Some(deadline)),
            expired: Cell::new(false),
            finished: Cell::new(false),
            waker: RefCell::new(None),
        }),
        entered: None,
    }
}

/// Awaits `fut` for at most `limit`; on timeout `fut` is cancelled and the
/// result is [`TimeoutError::Elapsed`]. The same as [`timeout`], under Python's
/// other name, but for a zero `limit` as Python 3.12's: a future is not
/// started at all (it is dropped unpolled, after the loop ran the work
/// ready once) and a [`Task`](super::Task) is cancelled (a finished one
/// gives its value); the result is [`TimeoutError::Elapsed`].
///
/// # Errors
///
/// [`TimeoutError::Elapsed`] when time ran out first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, TimeoutError};
///
/// aio::run(async {
///     let slow = aio::create_task(async {
///         aio::sleep(Duration::from_secs(60)).await?;
///         Ok::<_, aio::Cancelled>(())
///     });
///     let state = slow.task_ref();
///     // Awaiting a task passes the cancellation on to it: it is cancelled too.
///     let outcome = aio::wait_for(slow, Duration::from_millis(10)).await;
///     assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))));
///     assert_eq!(state.state(), aio::TaskState::Cancelled);
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// As cancel-safe as `fut`.
///
/// # Python
///
/// `await asyncio.wait_for(aw, timeout)`.
pub fn wait_for<A: Awaitable>(fut: A, limit: Duration) -> Timeout<A::Future> {
    let mut limited = timeout(limit, fut.into_awaited());
    if limit.is_zero() && !A::STARTED {
        limited.fut = Inner::Unstarted { yielded: false };
    }
    limited
}

/// What a [`TimeoutHandle`] shares with its [`Timeout`].
#[derive(Debug)]
struct Control {
    deadline: Cell<Option<Instant>>,
    expired: Cell<bool>,
    /// The timeout's future gave its output: there is nothing left to limit.
    finished: Cell<bool>,
    /// Wakes the timeout's future so that it sees a new deadline.
    waker: RefCell<Option<Waker>>,
}

impl<F> Timeout<F> {
    /// A handle to read and move this timeout's deadline while it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use concur::aio;
    ///
    /// aio::run(async {
    ///     let limited = aio::timeout(Duration::from_millis(5), aio::sleep(Duration::from_millis(30)));
    ///     let handle = limited.handle();
    ///     handle.reschedule(Some(Instant::now() + Duration::from_secs(5))).unwrap(); // more time
    ///     assert_eq!(limited.await, Ok(Ok(())));
    ///     assert!(!handle.expired());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// The object `async with asyncio.timeout(delay) as cm` binds.
    pub fn handle(&self) -> TimeoutHandle {
        TimeoutHandle { control: self.control.clone() }
    }
}

/// Reads and moves the deadline of a running [`Timeout`]; made by
/// [`Timeout::handle`]. Stays on the loop's thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, TimeoutError};
///
/// aio::run(async {
///     let limited = aio::timeout(Duration::from_secs(60), aio::sleep(Duration::from_secs(60)));
///     let handle = limited.handle();
///     let sooner = handle.clone();
///     aio::create_task(async move { sooner.reschedule(Some(std::time::Instant::now())).unwrap() });
///     assert!(matches!(limited.await, Err(TimeoutError::Elapsed(_))));
///     assert!(handle.expired());
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `asyncio.Timeout`: `when()`, `reschedule(when)`, `expired()`.
#[derive(Debug, Clone)]
pub struct TimeoutHandle {
    control: Rc<Control>,
}

impl TimeoutHandle {
    /// The deadline; `None` if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// let limited = concur::aio::timeout_at(deadline, async {});
    /// assert_eq!(limited.handle().when(), Some(deadline));
    /// ```
    ///
    /// # Python
    ///
    /// `cm.when()`.
    pub fn when(&self) -> Option<Instant> {
        self.control.deadline.get()
    }

    /// Moves the deadline (sooner or later), or removes it with `None`;
    /// the timeout's future sees the change at its next poll. Moving it
    /// before the first poll is allowed (the deadline is the timeout's
    /// from the start).
    ///
    /// # Errors
    ///
    /// [`RescheduleError::Expired`] once the deadline passed (the future
    /// was cancelled), [`RescheduleError::Finished`] once the future gave
    /// its output; the deadline is left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio::{self, RescheduleError};
    ///
    /// aio::run(async {
    ///     let limited = aio::timeout(Duration::from_millis(1), aio::sleep(Duration::from_millis(20)));
    ///     let handle = limited.handle();
    ///     handle.reschedule(None).unwrap(); // no limit at all
    ///     assert_eq!(limited.await, Ok(Ok(())));
    ///     assert_eq!(handle.reschedule(None), Err(RescheduleError::Finished));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `cm.reschedule(when)`, which raises `RuntimeError` ("Cannot change
    /// state of expiring/expired/finished Timeout") in the same cases.
    pub fn reschedule(&self, when: Option<Instant>) -> Result<(), RescheduleError> {
        if self.control.expired.get() {
            return Err(RescheduleError::Expired);
        }
        if self.control.finished.get() {
            return Err(RescheduleError::Finished);
        }
        self.control.deadline.set(when);
        if let Some(waker) = self.control.waker.borrow_mut().take() {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the deadline passed while the future ran (it was cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    ///
    /// aio::run(async {
    ///     let limited = aio::timeout(Duration::from_millis(1), aio::sleep(Duration::from_secs(60)));
    ///     let handle = limited.handle();
    ///     assert!(!handle.expired());
    ///     assert!(limited.await.is_err());
    ///     assert!(handle.expired());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `cm.expired()`.
    pub fn expired(&self) -> bool {
        self.control.expired.get()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = self.as_mut().poll_limited(cx);
        if polled.is_ready() {
            self.control.finished.set(true);
        }
        polled
    }
}

impl<F: Future> Timeout<F> {
    fn poll_limited(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<F::Output, TimeoutError>> {
        let mut this = self.project();
        if let InnerProj::Unstarted { yielded } = this.fut.as_mut().project() {
            // Out of time before it started: Python cancels the task it
            // made of the coroutine and waits one turn of the loop for it.
            if !*yielded {
                *yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(Err(TimeoutError::Elapsed(*this.allowed)));
        }
        let me = current_task();
        if this.entered.is_none() {
            *this.entered = Some(me.as_ref().map_or(0, |me| me.cancelling()));
        }
        let mut waker = this.control.waker.borrow_mut();
        match &*waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        drop(waker);
        let wanted = this.control.deadline.get();
        if wanted != *this.armed_for {
            *this.armed_for = wanted;
            if let Some(deadline) = wanted {
                this.timer.set(Timer::at(deadline));
                *this.allowed = deadline.saturating_duration_since(Instant::now());
            }
        }
        if !this.control.expired.get() && this.armed_for.is_some() && this.timer.as_mut().poll(cx).is_ready() {
            this.control.expired.set(true);
            match &me {
                Some(me) => {
                    me.cancel_with("timed out");
                }
                None => {
                    this.fut.set(Inner::Gone);
                    return Poll::Ready(Err(TimeoutError::Elapsed(*this.allowed)));
                }
            }
        }
        let polled = match this.fut.as_mut().project() {
            InnerProj::Live { fut } => fut.poll(cx),
            InnerProj::Gone | InnerProj::Unstarted { .. } => {
                return Poll::Ready(Err(TimeoutError::Elapsed(*this.allowed)))
            }
        };
        let (true, Some(before), Some(me)) = (this.control.expired.get(), *this.entered, &me) else {
            return polled.map(Ok);
        };
        let task = me.raw();
        match polled {
            Poll::Ready(value) => {
                // Python's `timeout.__aexit__`: a cancellation coming out of
                // the block is the timeout's, unless others asked too.
                let cancelled = task.has_live_cancellation();
                let others = me.uncancel() > before;
                if !cancelled {
                    return Poll::Ready(Ok(value));
                }
                drop(value);
                Poll::Ready(Err(if others {
                    TimeoutError::Cancelled(task.deliver_now())
                } else {
                    TimeoutError::Elapsed(*this.allowed)
                }))
            }
            Poll::Pending => {
                if task.is_pending() && !task.is_forwarded() {
                    // Parked where a cancellation cannot reach: drop it.
                    this.fut.set(Inner::Gone);
                    let others = me.uncancel() > before;
                    return Poll::Ready(Err(if others {
                        TimeoutError::Cancelled(task.deliver_now())
                    } else {
                        TimeoutError::Elapsed(*this.allowed)
                    }));
                }
                Poll::Pending
            }
        }
    }
}

/// Why [`TimeoutHandle::reschedule`] changed nothing: the timeout is over.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, RescheduleError};
///
/// aio::run(async {
///     let limited = aio::timeout(Duration::from_millis(1), aio::sleep(Duration::from_secs(60)));
///     let handle = limited.handle();
///     assert!(limited.await.is_err());
///     let refused = handle.reschedule(None).unwrap_err();
///     assert_eq!(refused, RescheduleError::Expired);
///     assert_eq!(refused.to_string(), "cannot move the deadline of an expired timeout");
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// The `RuntimeError` of `cm.reschedule` on an expiring, expired or
/// finished `asyncio.Timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RescheduleError {
    /// The deadline passed and the future was cancelled.
    Expired,
    /// The future gave its output before the deadline.
    Finished,
}

impl std::fmt::Display for RescheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RescheduleError::Expired => "cannot move the deadline of an expired timeout",
            RescheduleError::Finished => "cannot move the deadline of a finished timeout",
        })
    }
}

impl std::error::Error for RescheduleError {}
