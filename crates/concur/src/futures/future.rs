//! `ConcurrentFuture`: the result of a call that may not have finished yet.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::deadline::Deadline;
use crate::loom::sync::{Condvar, Mutex};

/// Why a [`ConcurrentFuture`] has no value to give.
///
/// # Examples
///
/// ```
/// use concur::futures::{ConcurrentFuture, FutureError};
///
/// let fut: ConcurrentFuture<u32> = ConcurrentFuture::new();
/// assert!(fut.cancel());
/// assert_eq!(fut.result(), Err(FutureError::Cancelled));
/// assert_eq!(FutureError::Cancelled.to_string(), "the future was cancelled");
/// ```
///
/// # Python
///
/// `CancelledError`, `TimeoutError`, and the exception the call raised.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before its call started.
    Cancelled,
    /// A wait with a timeout ended before the future finished.
    Timeout(Duration),
    /// The call panicked; the panic's message.
    Panicked(String),
    /// The call could not run or its result could not come back: a worker
    /// that died, an initializer that failed, input a worker process could
    /// not read. The message names the cause.
    Failed(String),
    /// The value was already moved out of the future, by `into_result` or
    /// `.await`.
    Taken,
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("the future was cancelled"),
            FutureError::Timeout(timeout) => write!(f, "the future did not finish within {timeout:?}"),
            FutureError::Panicked(message) => write!(f, "the call panicked: {message}"),
            FutureError::Failed(message) => write!(f, "the call failed: {message}"),
            FutureError::Taken => f.write_str("the future's value was already taken"),
        }
    }
}

impl std::error::Error for FutureError {}

/// Where a future is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Running,
    Finished,
    Cancelled,
}

type Callback<T> = Box<dyn FnOnce(&ConcurrentFuture<T>) + Send>;

/// Told when a future it watches finishes; `wait` and `as_completed` use it.
pub(crate) trait Watcher: Send + Sync {
    /// `index` is the watcher's own number for the future; `failed` says it
    /// finished with an error (not by cancellation).
    fn finished(&self, index: usize, failed: bool);
}

struct State<T> {
    status: Status,
    /// `Some` once finished, until the value is taken.
    outcome: Option<Result<T, FutureError>>,
    /// Callbacks not run yet, with the number [`add_done_callback`]
    /// handed out for each.
    ///
    /// [`add_done_callback`]: ConcurrentFuture::add_done_callback
    callbacks: Vec<(CallbackId, Callback<T>)>,
    watchers: Vec<(Arc<dyn Watcher>, usize)>,
    /// The task that awaits the future, if one does.
    waker: Option<Waker>,
}

impl<T> State<T> {
    fn is_done(&self) -> bool {
        matches!(self.status, Status::Finished | Status::Cancelled)
    }

    fn failed(&self) -> bool {
        self.status == Status::Finished && matches!(self.outcome, Some(Err(_)))
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
}

/// Names one callback added with [`ConcurrentFuture::add_done_callback`], so
/// that it can be removed again with
/// [`remove_done_callback`](ConcurrentFuture::remove_done_callback).
///
/// Each call to `add_done_callback` gets a number no other call in the
/// process gets, so an id given to the wrong future removes nothing.
///
/// # Examples
///
/// ```
/// use concur::futures::ConcurrentFuture;
///
/// let fut: ConcurrentFuture<u8> = ConcurrentFuture::new();
/// let first = fut.add_done_callback(|_| {});
/// let second = fut.add_done_callback(|_| {});
/// assert_ne!(first, second);
/// ```
///
/// # Python
///
/// Python removes a callback by the function object itself
/// (`remove_done_callback(fn)`); Rust closures cannot be compared, so the
/// id stands for the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

impl CallbackId {
    pub(crate) fn next() -> CallbackId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        // Relaxed: the counter only has to hand out distinct numbers.
        CallbackId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The result of a call that may not have finished yet: submitted to a
/// [`ThreadPool`](crate::executor::ThreadPool), or made by hand.
///
/// The name says which Python future it is, `concurrent.futures.Future`,
/// and keeps it apart from the trait `std::future::Future` (in every
/// module's prelude since Rust 2024) and the `futures` crate: see the
/// [module documentation](super) for why it is not called `Future`.
///
/// Dropping it does not stop its call, but loses the call's value and its
/// panic: keep it, wait on it, or say in code that the result does not
/// matter (`let _ = pool.submit(..)`).
///
/// A thread waits for it with [`result`](Self::result); an async task
/// `.await`s it, on any executor. It is pending until its call starts,
/// running while it runs, then finished (with a value or an error) — or
/// cancelled, if [`cancel`](Self::cancel) came first. Callbacks added with
/// [`add_done_callback`](Self::add_done_callback) run once it is done.
///
/// The handle is not `Clone`; share it by reference (it is `Sync`) or in an
/// `Arc`. The value can be read many times with `result` (for `T: Clone`) or
/// moved out once with [`into_result`](Self::into_result) or `.await`.
///
/// # Examples
///
/// ```
/// use concur::executor::ThreadPool;
///
/// let pool = ThreadPool::new(2).unwrap();
/// let answer = pool.submit(|| 6 * 7).unwrap();
/// assert_eq!(answer.result(), Ok(42));
/// assert!(answer.is_done());
/// ```
///
/// # Python
///
/// `concurrent.futures.Future`: `cancel`, `cancelled()` as
/// [`is_cancelled`](Self::is_cancelled), `running()` as
/// [`is_running`](Self::is_running), `done()` as
/// [`is_done`](Self::is_done), `result(timeout)` as
/// [`result`](Self::result) and [`result_timeout`](Self::result_timeout),
/// `exception`, `add_done_callback`, `remove_done_callback` (from
/// `asyncio.Future`), and the methods for executors
/// (`set_running_or_notify_cancel`, `set_result`, `set_exception` as
/// [`set_failure`](Self::set_failure)). Unlike Python's, it can also be
/// awaited.
#[doc(alias = "Future")]
#[must_use = "dropping a ConcurrentFuture loses its call's value and panic; write `let _ = ...` if neither matters"]
pub struct ConcurrentFuture<T> {
    shared: Arc<Shared<T>>,
}

impl<T> ConcurrentFuture<T> {
    /// A pending future, to be completed with [`set_result`](Self::set_result)
    /// or [`set_failure`](Self::set_failure): for executors and tests, as in
    /// Python.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = concur::futures::ConcurrentFuture::new();
    /// assert!(!fut.is_done());
    /// fut.set_result("ok").unwrap();
    /// assert_eq!(fut.result(), Ok("ok"));
    /// ```
    pub fn new() -> ConcurrentFuture<T> {
        ConcurrentFuture {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    status: Status::Pending,
                    outcome: None,
                    callbacks: Vec::new(),
                    watchers: Vec::new(),
                    waker: None,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// A second handle to the same future, for the side that completes it:
    /// an executor of its own keeps one (to call
    /// [`set_result`](Self::set_result) on when the call ends) and hands out
    /// the other, as the pools here do. Both see the same state; the value
    /// can be moved out ([`into_result`](Self::into_result), `.await`) once.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::futures::ConcurrentFuture;
    ///
    /// let handed_out: ConcurrentFuture<u32> = ConcurrentFuture::new();
    /// let kept = handed_out.twin();
    /// std::thread::spawn(move || kept.set_result(42).unwrap());
    /// assert_eq!(handed_out.result(), Ok(42));
    /// ```
    ///
    /// # Python
    ///
    /// A second reference to the same `Future` object, which Python's
    /// executors keep in their work items.
    pub fn twin(&self) -> ConcurrentFuture<T> {
        ConcurrentFuture { shared: Arc::clone(&self.shared) }
    }

    /// Cancels the future if its call has not started. Returns whether the
    /// future is now cancelled (`true` also if it already was).
    ///
    /// # Examples
    ///
    /// ```
    /// let fut: concur::futures::ConcurrentFuture<()> = concur::futures::ConcurrentFuture::new();
    /// assert!(fut.cancel());
    /// assert!(fut.is_cancelled() && fut.is_done());
    /// ```
    ///
    /// # Python
    ///
    /// `cancel()`: a running or finished future cannot be cancelled.
    pub fn cancel(&self) -> bool {
        let mut state = self.shared.state.lock();
        match state.status {
            Status::Cancelled => true,
            Status::Running | Status::Finished => false,
            Status::Pending => {
                state.status = Status::Cancelled;
                self.complete(state);
                true
            }
        }
    }

    /// Whether the future was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut: concur::futures::ConcurrentFuture<u8> = concur::futures::ConcurrentFuture::new();
    /// assert!(!fut.is_cancelled());
    /// ```
    ///
    /// # Python
    ///
    /// `cancelled()`.
    #[doc(alias = "cancelled")]
    pub fn is_cancelled(&self) -> bool {
        self.shared.state.lock().status == Status::Cancelled
    }

    /// Whether the call is running now.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut: concur::futures::ConcurrentFuture<u8> = concur::futures::ConcurrentFuture::new();
    /// assert!(fut.set_running_or_notify_cancel());
    /// assert!(fut.is_running());
    /// ```
    ///
    /// # Python
    ///
    /// `running()`.
    #[doc(alias = "running")]
    pub fn is_running(&self) -> bool {
        self.shared.state.lock().status == Status::Running
    }

    /// Whether the future is finished or cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = concur::futures::ConcurrentFuture::new();
    /// fut.set_result(1).unwrap();
    /// assert!(fut.is_done());
    /// ```
    ///
    /// # Python
    ///
    /// `done()`.
    #[doc(alias = "done")]
    pub fn is_done(&self) -> bool {
        self.shared.state.lock().is_done()
    }

    /// Waits for the future, then moves its value out.
    ///
    /// # Errors
    ///
    /// [`FutureError::Cancelled`], [`FutureError::Panicked`] or
    /// [`FutureError::Failed`] as the future ended; [`FutureError::Taken`] if
    /// the value was moved out before.
    ///
    /// # Examples
    ///
    /// ```
    /// // A value that cannot be cloned comes out this way.
    /// let fut = concur::futures::ConcurrentFuture::new();
    /// fut.set_result(std::fs::File::open("/dev/null").unwrap()).unwrap();
    /// let _file = fut.into_result().unwrap();
    /// ```
    pub fn into_result(self) -> Result<T, FutureError> {
        let mut state = self.wait_done(Deadline::NEVER);
        Self::take(&mut state)
    }

    fn take(state: &mut State<T>) -> Result<T, FutureError> {
        match state.status {
            Status::Cancelled => Err(FutureError::Cancelled),
            _ => state.outcome.take().unwrap_or(Err(FutureError::Taken)),
        }
    }

    /// Waits for the future and returns the error it ended with, or `None`
    /// if it finished with a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::ThreadPool;
    /// use concur::futures::FutureError;
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let fut = pool.submit(|| -> u8 { panic!("out of paper") }).unwrap();
    /// assert_eq!(fut.exception(), Some(FutureError::Panicked("out of paper".into())));
    /// ```
    ///
    /// # Python
    ///
    /// `exception()`; cancellation is reported here rather than raised.
    pub fn exception(&self) -> Option<FutureError> {
        let state = self.wait_done(Deadline::NEVER);
        Self::error_of(&state)
    }

    /// As [`exception`](Self::exception), waiting at most `timeout`:
    /// `Some(FutureError::Timeout)` if the future did not finish in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::futures::{ConcurrentFuture, FutureError};
    ///
    /// let fut: ConcurrentFuture<()> = ConcurrentFuture::new();
    /// let waited = Duration::from_millis(5);
    /// assert_eq!(fut.exception_timeout(waited), Some(FutureError::Timeout(waited)));
    /// ```
    pub fn exception_timeout(&self, timeout: Duration) -> Option<FutureError> {
        match self.wait_done_timeout(timeout) {
            Ok(state) => Self::error_of(&state),
            Err(err) => Some(err),
        }
    }

    fn error_of(state: &State<T>) -> Option<FutureError> {
        match (&state.status, &state.outcome) {
            (Status::Cancelled, _) => Some(FutureError::Cancelled),
            (_, Some(Err(err))) => Some(err.clone()),
            _ => None,
        }
    }

    /// Runs `callback` with this future once it is done — at once, on this
    /// thread, if it already is; otherwise on the thread that finishes or
    /// cancels it. Callbacks run in the order they were added. One that
    /// panics is reported as a `tracing` error and changes nothing else.
    ///
    /// Returns the callback's [`CallbackId`], for
    /// [`remove_done_callback`](Self::remove_done_callback).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let fut = concur::futures::ConcurrentFuture::new();
    /// let seen = Arc::new(AtomicBool::new(false));
    /// let s = seen.clone();
    /// fut.add_done_callback(move |f| s.store(f.result() == Ok(3), Ordering::SeqCst));
    /// fut.set_result(3).unwrap();
    /// assert!(seen.load(Ordering::SeqCst));
    /// ```
    ///
    /// # Python
    ///
    /// `add_done_callback(fn)`; Python logs a callback's exception, this
    /// logs its panic as a `tracing` error.
    pub fn add_done_callback(&self, callback: impl FnOnce(&ConcurrentFuture<T>) + Send + 'static) -> CallbackId {
        let id = CallbackId::next();
        let mut state = self.shared.state.lock();
        if state.is_done() {
            drop(state);
            run_callback(self, Box::new(callback));
        } else {
            state.callbacks.push((id, Box::new(callback)));
        }
        id
    }

    /// Removes the callback `id` names, if it has not run; returns how many
    /// callbacks were removed: 1, or 0 if it had run, was removed before, or
    /// belongs to another future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let fut = concur::futures::ConcurrentFuture::new();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = ran.clone();
    /// let id = fut.add_done_callback(move |_| r.store(true, Ordering::SeqCst));
    /// assert_eq!(fut.remove_done_callback(id), 1);
    /// assert_eq!(fut.remove_done_callback(id), 0);
    /// fut.set_result(()).unwrap();
    /// assert!(!ran.load(Ordering::SeqCst));
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Future.remove_done_callback(fn)`, which returns the number
    /// of callbacks removed; it counts every time `fn` was added, where here
    /// each addition has an id of its own.
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        let mut state = self.shared.state.lock();
        let Some(at) = state.callbacks.iter().position(|(mine, _)| *mine == id) else { return 0 };
        let (_, callback) = state.callbacks.remove(at);
        // Dropped after the lock: a closure's captures may run any code
        // when dropped, this future's methods included.
        drop(state);
        drop(callback);
        1
    }

    /// Marks the future running, unless it was cancelled. Returns `false` if
    /// it was cancelled: the executor must then not run the call. For
    /// executors and tests.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut: concur::futures::ConcurrentFuture<u8> = concur::futures::ConcurrentFuture::new();
    /// fut.cancel();
    /// assert!(!fut.set_running_or_notify_cancel());
    /// ```
    ///
    /// # Python
    ///
    /// `set_running_or_notify_cancel()`, which raises if the future is
    /// already running or finished; that misuse is reported here by
    /// returning `false` for a finished future and `true` for a running one.
    pub fn set_running_or_notify_cancel(&self) -> bool {
        let mut state = self.shared.state.lock();
        match state.status {
            Status::Pending => {
                state.status = Status::Running;
                true
            }
            Status::Running => true,
            Status::Finished | Status::Cancelled => false,
        }
    }

    /// Finishes the future with `value`. For executors and tests.
    ///
    /// # Errors
    ///
    /// Hands `value` back if the future is already done (Python raises
    /// `InvalidStateError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = concur::futures::ConcurrentFuture::new();
    /// assert!(fut.set_result(1).is_ok());
    /// assert_eq!(fut.set_result(2), Err(2));
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), T> {
        let Some(mut state) = self.unsettled() else { return Err(value) };
        state.status = Status::Finished;
        state.outcome = Some(Ok(value));
        self.complete(state);
        Ok(())
    }

    /// Finishes the future with an error. For executors and tests.
    ///
    /// # Errors
    ///
    /// Hands `error` back if the future is already done.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::futures::{ConcurrentFuture, FutureError};
    ///
    /// let fut: ConcurrentFuture<u8> = ConcurrentFuture::new();
    /// fut.set_failure(FutureError::Failed("disk full".into())).unwrap();
    /// assert_eq!(fut.result(), Err(FutureError::Failed("disk full".into())));
    /// ```
    ///
    /// # Python
    ///
    /// `set_exception(exception)`.
    #[doc(alias = "set_exception")]
    pub fn set_failure(&self, error: FutureError) -> Result<(), FutureError> {
        let Some(mut state) = self.unsettled() else { return Err(error) };
        state.status = Status::Finished;
        state.outcome = Some(Err(error));
        self.complete(state);
        Ok(())
    }

    /// The locked state, if the future is not done yet.
    fn unsettled(&self) -> Option<crate::loom::sync::MutexGuard<'_, State<T>>> {
        let state = self.shared.state.lock();
        (!state.is_done()).then_some(state)
    }

    /// Wakes every waiter of a future just made done, then runs its watchers
    /// and callbacks outside the lock.
    fn complete(&self, mut state: crate::loom::sync::MutexGuard<'_, State<T>>) {
        let failed = state.failed();
        let callbacks = std::mem::take(&mut state.callbacks);
        let watchers = std::mem::take(&mut state.watchers);
        let waker = state.waker.take();
        self.shared.changed.notify_all();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        for (watcher, index) in watchers {
            watcher.finished(index, failed);
        }
        for (_, callback) in callbacks {
            run_callback(self, callback);
        }
    }

    fn wait_done(&self, deadline: Deadline) -> crate::loom::sync::MutexGuard<'_, State<T>> {
        let mut state = self.shared.state.lock();
        while !state.is_done() && !deadline.has_passed() {
            deadline.wait(&self.shared.changed, &mut state);
        }
        state
    }

    fn wait_done_timeout(&self, timeout: Duration) -> Result<crate::loom::sync::MutexGuard<'_, State<T>>, FutureError> {
        let state = self.wait_done(Deadline::after(timeout));
        if state.is_done() {
            Ok(state)
        } else {
            Err(FutureError::Timeout(timeout))
        }
    }

    /// Waits until the future is done or the deadline passes; returns
    /// whether it is done.
    pub(crate) fn wait_until(&self, deadline: Deadline) -> bool {
        self.wait_done(deadline).is_done()
    }

    /// Installs `watcher` as `index`, unless the future is done: then
    /// returns `Some(failed)` and installs nothing.
    pub(crate) fn watch(&self, watcher: &Arc<dyn Watcher>, index: usize) -> Option<bool> {
        let mut state = self.shared.state.lock();
        if state.is_done() {
            return Some(state.failed());
        }
        state.watchers.push((Arc::clone(watcher), index));
        None
    }

    pub(crate) fn unwatch(&self, watcher: &Arc<dyn Watcher>) {
        self.shared.state.lock().watchers.retain(|(w, _)| !Arc::ptr_eq(w, watcher));
    }
}

impl<T: Clone> ConcurrentFuture<T> {
    /// Waits for the future and returns a copy of its value.
    ///
    /// # Errors
    ///
    /// [`FutureError::Cancelled`], [`FutureError::Panicked`] or
    /// [`FutureError::Failed`] as the future ended; [`FutureError::Taken`] if
    /// the value was moved out.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ThreadPool::new(1).unwrap();
    /// let fut = pool.submit(|| "done".to_string()).unwrap();
    /// assert_eq!(fut.result().unwrap(), "done");
    /// assert_eq!(fut.result().unwrap(), "done"); // as often as needed
    /// ```
    ///
    /// # Python
    ///
    /// `result()`.
    pub fn result(&self) -> Result<T, FutureError> {
        let state = self.wait_done(Deadline::NEVER);
        Self::copy(&state)
    }

    /// As [`result`](Self::result), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`FutureError::Timeout`] if the future did not finish in time, and
    /// those of [`result`](Self::result).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::futures::{ConcurrentFuture, FutureError};
    ///
    /// let fut: ConcurrentFuture<u8> = ConcurrentFuture::new();
    /// let waited = Duration::from_millis(5);
    /// assert_eq!(fut.result_timeout(waited), Err(FutureError::Timeout(waited)));
    /// ```
    ///
    /// # Python
    ///
    /// `result(timeout)`, which raises `TimeoutError`.
    pub fn result_timeout(&self, timeout: Duration) -> Result<T, FutureError> {
        let state = self.wait_done_timeout(timeout)?;
        Self::copy(&state)
    }

    fn copy(state: &State<T>) -> Result<T, FutureError> {
        match (&state.status, &state.outcome) {
            (Status::Cancelled, _) => Err(FutureError::Cancelled),
            (_, Some(outcome)) => outcome.clone(),
            (_, None) => Err(FutureError::Taken),
        }
    }
}

fn run_callback<T>(future: &ConcurrentFuture<T>, callback: Callback<T>) {
    if panic::catch_unwind(AssertUnwindSafe(|| callback(future))).is_err() {
        tracing::error!("a done callback of a future panicked; the future and its other callbacks are unaffected");
    }
}

impl<T> Default for ConcurrentFuture<T> {
    fn default() -> ConcurrentFuture<T> {
        ConcurrentFuture::new()
    }
}

/// Awaiting a future moves its value out, as [`ConcurrentFuture::into_result`] does.
///
/// # Cancel safety
///
/// Dropping the `.await` before the future is done changes nothing: the call
/// goes on, and the value stays in the future.
impl<T> std::future::Future for ConcurrentFuture<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.state.lock();
        if state.is_done() {
            return Poll::Ready(Self::take(&mut state));
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for ConcurrentFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        let status = match (state.status, &state.outcome) {
            (Status::Pending, _) => "pending",
            (Status::Running, _) => "running",
            (Status::Cancelled, _) => "cancelled",
            (Status::Finished, Some(Ok(_))) => "finished",
            (Status::Finished, Some(Err(_))) => "failed",
            (Status::Finished, None) => "finished, value taken",
        };
        f.debug_struct("ConcurrentFuture").field("state", &status).finish()
    }
}
