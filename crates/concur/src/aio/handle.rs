//! Reaching a loop from other threads: [`LoopHandle`] and
//! [`run_coroutine_threadsafe`].
//!
//! A handle holds the loop's [`Remote`]: the sending end of an unbounded
//! tokio channel; a task of the loop receives and runs what comes in, in
//! order. Sending never blocks and wakes the loop's thread if it sleeps.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Waker;

use parking_lot::Mutex;

use super::callback::Handle;
use super::context;
use super::error::{Error, LoopError};
use super::header::current_task;
use super::remote::Remote;
use super::task;
use crate::futures::{self as cf, FutureError};

/// A handle to an event loop for other threads: `Send`, `Clone`, and safe
/// to keep after the loop is gone — its calls then return
/// [`LoopError::Closed`].
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// let (handle, thread) = aio::spawn_background().unwrap();
/// let sum = handle.run_coroutine_threadsafe(async { 2 + 2 }).unwrap();
/// assert_eq!(sum.result(), Ok(4));
/// handle.stop();
/// thread.join().unwrap().unwrap();
/// assert!(handle.is_closed());
/// ```
///
/// # Python
///
/// The loop object as other threads use it: `call_soon_threadsafe`, `stop`
/// through it, and `asyncio.run_coroutine_threadsafe(coro, loop)`.
#[derive(Clone)]
pub struct LoopHandle {
    remote: Arc<Remote>,
}

impl LoopHandle {
    pub(crate) fn new(remote: Arc<Remote>) -> LoopHandle {
        LoopHandle { remote }
    }

    /// Runs `callback` on the loop's thread soon, after what other threads
    /// sent before it. Callbacks run one after another: a callback that
    /// blocks holds up the loop.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] if the loop was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use concur::aio;
    ///
    /// let (handle, thread) = aio::spawn_background().unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// handle.call_soon_threadsafe(move || tx.send(std::thread::current().name().map(String::from)).unwrap()).unwrap();
    /// assert_eq!(rx.recv().unwrap().as_deref(), Some("aio-loop"));
    /// handle.stop();
    /// thread.join().unwrap().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_soon_threadsafe(callback)`.
    pub fn call_soon_threadsafe(&self, callback: impl FnOnce() + Send + 'static) -> Result<Handle, LoopError> {
        let handle = Handle::new();
        let cancelled = handle.flag();
        self.remote.send(Box::new(move || {
            if !cancelled.load(Ordering::Relaxed) {
                callback();
            }
        }))?;
        Ok(handle)
    }

    /// Runs `fut` as a task of the loop and returns a thread-side
    /// [`ConcurrentFuture`](crate::futures::ConcurrentFuture) of its value: wait with `result()`
    /// from a thread, or await it elsewhere. Cancelling that future cancels
    /// the task.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] if the loop was closed. If the loop closes
    /// before the task finishes, the future fails with
    /// [`FutureError::Failed`] saying so.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use concur::aio;
    ///
    /// let (handle, thread) = aio::spawn_background().unwrap();
    /// let start = Instant::now();
    /// let naps: Vec<_> = (0..3)
    ///     .map(|_| handle.run_coroutine_threadsafe(aio::sleep(Duration::from_millis(200))).unwrap())
    ///     .collect();
    /// for nap in naps {
    ///     nap.result().unwrap().unwrap();
    /// }
    /// assert!(start.elapsed() < Duration::from_millis(600)); // they overlapped
    /// handle.stop();
    /// thread.join().unwrap().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.run_coroutine_threadsafe(coro, loop)`.
    pub fn run_coroutine_threadsafe<F>(&self, fut: F) -> Result<cf::ConcurrentFuture<F::Output>, LoopError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let future = cf::ConcurrentFuture::new();
        let completer = Completer(Some(future.twin()));
        // A cancel of the thread-side future reaches the task through its
        // loop; the flag covers a cancel that comes before the task exists.
        let cancel = Arc::new(CancelFromThread { requested: AtomicBool::new(false), waker: Mutex::new(None) });
        let watcher = cancel.clone();
        future.add_done_callback(move |done| {
            if done.is_cancelled() {
                watcher.requested.store(true, Ordering::Release);
                if let Some(waker) = watcher.waker.lock().take() {
                    waker.wake();
                }
            }
        });
        self.remote.send(Box::new(move || {
            let _ = context::with_running(|state| {
                let task = task::spawn(state, WatchCancel { fut: Box::pin(fut), cancel }, Ok);
                task.mark_awaited();
                // The task's end, however it comes (a value, a panic, a
                // cancellation), reaches the thread-side future; if the loop
                // closes first, the completer's drop says so.
                let mut completer = completer;
                task.add_done_callback(move |task| match task.take_output() {
                    Ok(value) => completer.complete(value),
                    Err(Error::Panicked(message)) => completer.fail(FutureError::Panicked(message)),
                    Err(Error::Cancelled(_)) => completer.cancel(),
                    Err(other) => completer.fail(FutureError::Failed(other.to_string())),
                });
            });
        }))?;
        Ok(future)
    }

    /// Asks the loop to stop, as [`RunningLoop::stop`](super::RunningLoop::stop);
    /// a loop already closed ignores it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (handle, thread) = concur::aio::spawn_background().unwrap();
    /// handle.stop();
    /// thread.join().unwrap().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_soon_threadsafe(loop.stop)`.
    pub fn stop(&self) {
        let _ = self.remote.send(Box::new(context::stop_running));
    }

    /// Whether the loop was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// drop(lp);
    /// assert!(handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.remote.closed.load(Ordering::Acquire)
    }

    /// Whether the loop is running now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(!lp.handle().is_running());
    /// ```
    pub fn is_running(&self) -> bool {
        self.remote.running.load(Ordering::Acquire)
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle").field("running", &self.is_running()).field("closed", &self.is_closed()).finish()
    }
}

struct CancelFromThread {
    requested: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// Polls the task's future; a cancel of the thread-side future is handed to
/// the task, so the body sees it at its await as any cancelled task does.
struct WatchCancel<F: Future> {
    fut: std::pin::Pin<Box<F>>,
    cancel: Arc<CancelFromThread>,
}

impl<F: Future> Future for WatchCancel<F> {
    type Output = F::Output;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        *self.cancel.waker.lock() = Some(cx.waker().clone());
        if self.cancel.requested.swap(false, Ordering::AcqRel) {
            if let Some(me) = current_task() {
                me.cancel_with("the caller cancelled the future");
            }
        }
        self.fut.as_mut().poll(cx)
    }
}

/// Completes the thread-side future; if dropped first (the loop closed),
/// fails it, so that a thread waiting on it never waits forever.
struct Completer<T>(Option<cf::ConcurrentFuture<T>>);

impl<T> Completer<T> {
    fn complete(&mut self, value: T) {
        if let Some(future) = self.0.take() {
            if future.set_running_or_notify_cancel() {
                let _ = future.set_result(value);
            }
        }
    }

    fn cancel(&mut self) {
        if let Some(future) = self.0.take() {
            future.cancel();
        }
    }

    fn fail(&mut self, error: FutureError) {
        if let Some(future) = self.0.take() {
            if future.set_running_or_notify_cancel() {
                let _ = future.set_failure(error);
            }
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        self.fail(FutureError::Failed(Error::LoopClosed.to_string()));
    }
}

/// Runs `fut` as a task of `handle`'s loop, from any thread; the same as
/// [`LoopHandle::run_coroutine_threadsafe`], under Python's spelling.
///
/// # Errors
///
/// [`LoopError::Closed`] if the loop was closed.
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// let (handle, thread) = aio::spawn_background().unwrap();
/// let answer = aio::run_coroutine_threadsafe(async { 6 * 7 }, &handle).unwrap();
/// assert_eq!(answer.result(), Ok(42));
/// handle.stop();
/// thread.join().unwrap().unwrap();
/// ```
///
/// # Python
///
/// `asyncio.run_coroutine_threadsafe(coro, loop)`.
pub fn run_coroutine_threadsafe<F>(fut: F, handle: &LoopHandle) -> Result<cf::ConcurrentFuture<F::Output>, LoopError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    handle.run_coroutine_threadsafe(fut)
}
