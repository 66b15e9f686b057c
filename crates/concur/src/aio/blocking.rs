//! Blocking work from a task: [`to_thread`] and [`run_in_executor`] run it
//! on threads of a [`ThreadPool`] and await the result, so the loop goes on
//! meanwhile.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::context;
use super::error::Error;
use crate::executor::{SubmitError, ThreadPool};
use crate::futures::{self as cf, FutureError};

/// Runs `call` on a thread of the running loop's default pool and awaits
/// its value; the loop runs other tasks meanwhile.
///
/// # Errors
///
/// [`Error::Panicked`] if `call` panicked; [`Error::Cancelled`] if the
/// awaiting task was cancelled (a call already running finishes on its
/// thread, its value unused); [`Error::Rejected`] outside a running loop or
/// once the loop is closing.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use concur::aio;
///
/// aio::run(async {
///     let start = Instant::now();
///     let blocking = aio::to_thread(|| {
///         std::thread::sleep(Duration::from_millis(300));
///         "slept on a thread"
///     });
///     let meanwhile = aio::sleep(Duration::from_millis(300));
///     let (value, _) = (blocking.await, meanwhile.await);
///     assert_eq!(value, Ok("slept on a thread"));
///     assert!(start.elapsed() < Duration::from_millis(600)); // the two overlapped
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// Dropping it cancels the call if it has not started. The call is handed
/// to the pool at the first poll, as Python's coroutine runs when awaited.
///
/// # Python
///
/// `await asyncio.to_thread(func)`.
pub async fn to_thread<F, T>(call: F) -> Result<T, Error>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let submitted = context::with_running(|state| state.executor().submit(call))
        .map_err(|error| Error::Rejected(error.to_string()))
        .and_then(|submitted| submitted.map_err(rejected));
    ExecutorCall { call: submitted.map_err(Some) }.await
}

/// Runs `call` on `pool` and awaits its value; the loop runs other tasks
/// meanwhile.
///
/// # Errors
///
/// [`Error::Panicked`] if `call` panicked; [`Error::Cancelled`] if the
/// awaiting task was cancelled; [`Error::Rejected`] if the pool is shut
/// down.
///
/// # Examples
///
/// ```
/// use concur::aio;
/// use concur::executor::ThreadPool;
///
/// let pool = ThreadPool::new(2).unwrap();
/// let sum = aio::run(aio::run_in_executor(&pool, || (1..=100u32).sum::<u32>())).unwrap();
/// assert_eq!(sum, Ok(5050));
/// ```
///
/// # Cancel safety
///
/// Dropping it cancels the call if it has not started.
///
/// # Python
///
/// `await loop.run_in_executor(pool, func)`.
pub fn run_in_executor<F, T>(pool: &ThreadPool, call: F) -> ExecutorCall<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ExecutorCall { call: pool.submit(call).map_err(|error| Some(rejected(error))) }
}

fn rejected(error: SubmitError) -> Error {
    Error::Rejected(error.to_string())
}

/// The future of [`run_in_executor`].
///
/// # Examples
///
/// ```
/// let pool = concur::executor::ThreadPool::new(1).unwrap();
/// assert_eq!(concur::aio::run(concur::aio::run_in_executor(&pool, || 7)).unwrap(), Ok(7));
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct ExecutorCall<T> {
    /// The pool's future, or why there is none (`None` once reported).
    call: Result<cf::ConcurrentFuture<T>, Option<Error>>,
}

impl<T> Unpin for ExecutorCall<T> {}

impl<T> Future for ExecutorCall<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let future = match &mut this.call {
            Ok(future) => future,
            Err(error) => return Poll::Ready(Err(error.take().unwrap_or(Error::Taken))),
        };
        if let Some(cancelled) = super::header::take_cancellation() {
            future.cancel();
            return Poll::Ready(Err(Error::Cancelled(cancelled)));
        }
        Pin::new(future).poll(cx).map(|outcome| {
            outcome.map_err(|error| match error {
                FutureError::Panicked(message) => Error::Panicked(message),
                FutureError::Cancelled => Error::Rejected("the pool cancelled the call as it shut down".to_string()),
                other => Error::Rejected(other.to_string()),
            })
        })
    }
}

impl<T> Drop for ExecutorCall<T> {
    fn drop(&mut self) {
        if let Ok(future) = &self.call {
            future.cancel();
        }
    }
}
