//! The errors of `aio`: [`Cancelled`] (what a cancelled task sees at its
//! await), [`Error`] (what an awaited task or helper ends with) and
//! [`LoopError`] (what the loop refuses to do).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The error an `aio` await returns in a task that was cancelled.
///
/// A task's [`cancel`](super::Task::cancel) is delivered at the await the
/// task is paused on: [`sleep`](super::sleep), awaiting another task,
/// [`gather`](super::gather), [`Event::wait`](super::Event::wait) … return
/// `Err(Cancelled)` there. The task may handle it (clean up and go on, or
/// return a value) or let it out of its body with `?`, which makes the task
/// cancelled, as a `CancelledError` that leaves a coroutine does in Python.
///
/// How the task knows which it was: while a delivered `Cancelled` value is
/// alive, the cancellation is unhandled. A body that returns it (inside its
/// output) ends cancelled; a body that drops it — a `match` arm that does
/// not keep it — has handled it, and ends done.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, Cancelled};
///
/// aio::run(async {
///     let task = aio::create_task(async {
///         match aio::sleep(Duration::from_secs(60)).await {
///             Err(Cancelled { .. }) => "cleaned up", // handled: the task ends done
///             Ok(()) => "slept",
///         }
///     });
///     aio::sleep(Duration::ZERO).await?; // let it start
///     task.cancel_with("enough");
///     assert_eq!(task.await?, "cleaned up");
///     Ok::<_, aio::Error>(())
/// })
/// .unwrap()
/// .unwrap();
/// ```
///
/// # Python
///
/// `asyncio.CancelledError`.
#[non_exhaustive]
pub struct Cancelled {
    /// The message given to `cancel`, if any.
    pub message: Option<Arc<str>>,
    /// Counts the live copies of a delivered cancellation in its task.
    live: Option<Arc<AtomicUsize>>,
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message.as_deref() {
            Some(message) => write!(f, "the task was cancelled: {message}"),
            None => f.write_str("the task was cancelled"),
        }
    }
}

impl std::error::Error for Cancelled {}

impl Cancelled {
    /// A cancellation with this message, not tied to any task: what a task
    /// that was cancelled reports afterwards.
    pub(crate) fn record(message: Option<Arc<str>>) -> Cancelled {
        Cancelled { message, live: None }
    }

    /// A cancellation delivered into a task; the task watches `live` to
    /// tell whether its body handled it.
    pub(crate) fn delivered(message: Option<Arc<str>>, live: Arc<AtomicUsize>) -> Cancelled {
        live.fetch_add(1, Ordering::Relaxed);
        Cancelled { message, live: Some(live) }
    }
}

impl Clone for Cancelled {
    fn clone(&self) -> Cancelled {
        match &self.live {
            Some(live) => Cancelled::delivered(self.message.clone(), live.clone()),
            None => Cancelled::record(self.message.clone()),
        }
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            live.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled").field("message", &self.message).finish()
    }
}

impl PartialEq for Cancelled {
    fn eq(&self, other: &Cancelled) -> bool {
        self.message == other.message
    }
}

impl Eq for Cancelled {}

/// Why [`wait`](super::wait) returned no tasks: only these two can happen.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, ReturnWhen, Task, WaitError};
///
/// let outcome = aio::run(aio::wait(Vec::<Task<()>>::new(), ReturnWhen::AllCompleted, None)).unwrap();
/// assert_eq!(outcome.unwrap_err(), WaitError::Empty);
/// ```
///
/// # Python
///
/// The `ValueError` of `asyncio.wait(set())`, and `CancelledError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// There was nothing to wait for.
    Empty,
    /// The awaiting task was cancelled (the tasks waited for were not).
    Cancelled(Cancelled),
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Empty => f.write_str("wait was given no tasks or futures to wait for"),
            WaitError::Cancelled(cancelled) => fmt::Display::fmt(cancelled, f),
        }
    }
}

impl std::error::Error for WaitError {}

impl From<Cancelled> for WaitError {
    fn from(cancelled: Cancelled) -> WaitError {
        WaitError::Cancelled(cancelled)
    }
}

impl From<WaitError> for Error {
    fn from(error: WaitError) -> Error {
        match error {
            WaitError::Empty => Error::Empty,
            WaitError::Cancelled(cancelled) => Error::Cancelled(cancelled),
        }
    }
}

/// Why a [`Timeout`](super::Timeout) — the future of
/// [`timeout`](super::timeout), [`timeout_at`](super::timeout_at) and
/// [`wait_for`](super::wait_for) — gave no value: the two of [`Error`]'s
/// cases it can end in. It converts into [`Error`], so `?` in a body that
/// returns [`Error`] takes it as it is.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, TimeoutError};
///
/// let outcome = aio::run(aio::wait_for(aio::sleep(Duration::from_secs(60)), Duration::from_millis(5))).unwrap();
/// assert_eq!(outcome, Err(TimeoutError::Elapsed(Duration::from_millis(5))));
/// assert_eq!(outcome.unwrap_err().to_string(), "the operation did not finish within 5ms");
/// ```
///
/// # Python
///
/// The `TimeoutError` of `asyncio.timeout` and `asyncio.wait_for`, and the
/// `CancelledError` of the task that awaits them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutError {
    /// Time ran out, after this long; what was awaited was cancelled.
    Elapsed(Duration),
    /// The awaiting task was cancelled, by something other than the
    /// timeout.
    Cancelled(Cancelled),
}

impl TimeoutError {
    /// Whether this is a cancellation from outside.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(!concur::aio::TimeoutError::Elapsed(Duration::ZERO).is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TimeoutError::Cancelled(_))
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeoutError::Elapsed(allowed) => write!(f, "the operation did not finish within {allowed:?}"),
            TimeoutError::Cancelled(cancelled) => fmt::Display::fmt(cancelled, f),
        }
    }
}

impl std::error::Error for TimeoutError {}

impl From<Cancelled> for TimeoutError {
    fn from(cancelled: Cancelled) -> TimeoutError {
        TimeoutError::Cancelled(cancelled)
    }
}

impl From<TimeoutError> for Error {
    fn from(error: TimeoutError) -> Error {
        match error {
            TimeoutError::Elapsed(allowed) => Error::Timeout(allowed),
            TimeoutError::Cancelled(cancelled) => Error::Cancelled(cancelled),
        }
    }
}

/// Why an awaited task, or an `aio` helper, gave no value.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, Error};
///
/// let outcome = aio::run(async {
///     aio::wait_for(aio::sleep(Duration::from_secs(60)), Duration::from_millis(5)).await??;
///     Ok::<_, Error>(())
/// })
/// .unwrap();
/// assert!(matches!(outcome, Err(Error::Timeout(_))));
/// ```
///
/// # Python
///
/// The exceptions `await task`, `gather`, `wait_for` and `task.result()`
/// raise: `CancelledError`, `TimeoutError`, the task's own exception (a
/// panic here), `InvalidStateError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The task was cancelled, or the awaiting task was.
    Cancelled(Cancelled),
    /// The time allowed ran out; what was awaited was cancelled.
    Timeout(Duration),
    /// The task panicked; the panic's message.
    Panicked(String),
    /// The task has not finished: its result cannot be read yet. Await it,
    /// or read the result from a done callback.
    NotDone,
    /// The task's value was already moved out by awaiting it.
    Taken,
    /// The loop closed before the work could finish.
    LoopClosed,
    /// A task of a [`TaskGroup`](super::TaskGroup) returned this error.
    Failed(Failure),
    /// The executor refused the call (it was shut down).
    Rejected(String),
    /// The event loop refused to run the task (closed, already running …):
    /// what [`EventLoop::run_until_complete`](super::EventLoop::run_until_complete)
    /// of a task answers beside the task's own errors.
    Loop(LoopError),
    /// [`wait`](super::wait) was given nothing to wait for.
    Empty,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cancelled(cancelled) => fmt::Display::fmt(cancelled, f),
            Error::Timeout(timeout) => write!(f, "the operation did not finish within {timeout:?}"),
            Error::Panicked(message) => write!(f, "the task panicked: {message}"),
            Error::NotDone => f.write_str("the task has not finished: await it, or read its result once it is done"),
            Error::Taken => f.write_str("the task's value was already taken by awaiting it"),
            Error::LoopClosed => f.write_str("the event loop closed before the work finished"),
            Error::Failed(failure) => write!(f, "the task failed: {failure}"),
            Error::Rejected(reason) => write!(f, "the executor refused the call: {reason}"),
            Error::Loop(error) => fmt::Display::fmt(error, f),
            Error::Empty => fmt::Display::fmt(&WaitError::Empty, f),
        }
    }
}

impl std::error::Error for Error {}

impl From<Cancelled> for Error {
    fn from(cancelled: Cancelled) -> Error {
        Error::Cancelled(cancelled)
    }
}

/// The loop's failure as an [`Error`], so that one `?` or one `match`
/// covers a run and what it ran. The main task ending cancelled is a
/// cancellation, as awaiting it would be.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, Error, LoopError};
///
/// fn main_task() -> Result<u8, Error> {
///     let value = aio::run(async { Ok::<_, Error>(7) })??; // the loop's error, then the body's
///     Ok(value)
/// }
/// assert_eq!(main_task(), Ok(7));
/// assert_eq!(Error::from(LoopError::Closed), Error::Loop(LoopError::Closed));
/// ```
impl From<LoopError> for Error {
    fn from(error: LoopError) -> Error {
        match error {
            LoopError::Cancelled(cancelled) => Error::Cancelled(cancelled),
            other => Error::Loop(other),
        }
    }
}

/// An error a task of a [`TaskGroup`](super::TaskGroup) returned, shared
/// between the task and the group's report.
///
/// # Examples
///
/// ```
/// use concur::aio::Failure;
///
/// let failure = Failure::new(std::io::Error::other("disk on fire"));
/// assert_eq!(failure.to_string(), "disk on fire");
/// assert!(failure.downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Clone)]
pub struct Failure(Arc<dyn std::error::Error + Send + Sync>);

impl Failure {
    /// Wraps `error`.
    ///
    /// # Examples
    ///
    /// ```
    /// let failure = concur::aio::Failure::new(std::fmt::Error);
    /// assert_eq!(failure.to_string(), "an error occurred when formatting an argument");
    /// ```
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Failure {
        Failure(Arc::from(error.into()))
    }

    /// The error, if it is an `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// let failure = concur::aio::Failure::new(std::fmt::Error);
    /// assert!(failure.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl PartialEq for Failure {
    fn eq(&self, other: &Failure) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl Eq for Failure {}

impl Error {
    /// Whether this is a cancellation.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(!concur::aio::Error::Timeout(Duration::ZERO).is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled(_))
    }
}

/// Why an event loop refused a call.
///
/// # Examples
///
/// ```
/// use concur::aio::{EventLoop, LoopError};
///
/// let lp = EventLoop::new().unwrap();
/// lp.close().unwrap();
/// assert_eq!(lp.run_until_complete(async {}), Err(LoopError::Closed));
/// ```
///
/// # Python
///
/// The `RuntimeError`s of `asyncio`'s loop: "Event loop is closed", "This
/// event loop is already running", "Cannot run the event loop while another
/// loop is running", "no running event loop".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoopError {
    /// The loop was closed: make a new one.
    Closed,
    /// The loop is running already; from inside it, await the future or
    /// spawn it with `create_task` instead.
    AlreadyRunning,
    /// Another loop runs on this thread; a thread runs one loop at a time.
    /// Use `spawn_background` for a loop of its own thread.
    OtherLoopRunning,
    /// A call that needs a running loop was made outside one.
    NoRunningLoop,
    /// `close` was called while the loop ran; stop it first.
    CloseWhileRunning,
    /// The main future of `run_until_complete` ended cancelled.
    Cancelled(Cancelled),
    /// `stop` was called before the main future of `run_until_complete`
    /// finished; the future was dropped.
    Stopped,
    /// The loop's runtime could not be built (the system refused a
    /// resource); the message says which.
    Start(String),
}

impl fmt::Display for LoopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoopError::Closed => "the event loop is closed: create a new EventLoop",
            LoopError::AlreadyRunning => {
                "the event loop is already running: await the future, or spawn it with create_task, instead"
            }
            LoopError::OtherLoopRunning => {
                "another event loop is running on this thread: use spawn_background for a second loop"
            }
            LoopError::NoRunningLoop => {
                "no event loop is running on this thread: call this from inside aio::run or run_until_complete"
            }
            LoopError::CloseWhileRunning => "cannot close a running event loop: stop it first",
            LoopError::Cancelled(cancelled) => return write!(f, "the future the loop ran was cancelled: {cancelled}"),
            LoopError::Stopped => "the event loop was stopped before the future it ran finished",
            LoopError::Start(reason) => return write!(f, "the event loop could not start: {reason}"),
        })
    }
}

impl std::error::Error for LoopError {}

pub(crate) use crate::thread::panic_message;
