//! What [`EventLoop::run_until_complete`](super::EventLoop::run_until_complete)
//! and [`wait_for`](super::wait_for) take: a future, or a [`Task`]. A task
//! already runs on its own, so the two differ where that matters: a task
//! given to `run_until_complete` answers its value or one [`Error`] for
//! both the loop's failure and the task's, and one given to `wait_for` with
//! no time at all is cancelled, where a future is never started.

use std::future::{Future, IntoFuture};

use super::error::{Error, LoopError};
use super::task::{Task, TaskFuture};

/// What the loop runs as its main task, or [`wait_for`](super::wait_for)
/// limits in time, and what it gives back.
///
/// A future gives its output, or the [`LoopError`] that kept it from
/// finishing. A [`Task`] gives its value, or one [`Error`] that is either
/// the loop's failure ([`Error::Loop`]) or the task's ([`Error::Cancelled`],
/// [`Error::Panicked`] …): one error type to match once, where awaiting the
/// task inside a future would nest its `Result<T, Error>` in the loop's.
///
/// # Examples
///
/// ```
/// use concur::aio::{Error, EventLoop, LoopError};
///
/// let lp = EventLoop::new().unwrap();
/// // A future: its output, beside the loop's error.
/// assert_eq!(lp.run_until_complete(async { 6 * 7 }), Ok(42));
/// // A task: its value, or one `Error` for the loop's failure and its own.
/// let task = lp.create_task(async { panic!("no") });
/// match lp.run_until_complete(task) {
///     Ok(()) => unreachable!(),
///     Err(Error::Panicked(message)) => assert_eq!(message, "no"),
///     Err(Error::Loop(LoopError::Closed)) => unreachable!("the loop is open"),
///     Err(other) => panic!("{other}"),
/// }
/// ```
///
/// The nested form it replaced does not compile any more:
///
/// ```compile_fail
/// use concur::aio::{Error, EventLoop, LoopError};
/// let lp = EventLoop::new().unwrap();
/// let task = lp.create_task(async { 1 });
/// let _: Result<Result<i32, Error>, LoopError> = lp.run_until_complete(task);
/// ```
///
/// # Python
///
/// An awaitable: a coroutine, or a task. `loop.run_until_complete(aw)` returns the awaitable's result or raises
/// its exception, or the loop's `RuntimeError`, through one `except`.
pub trait Awaitable {
    /// The future the loop runs.
    type Future: Future;
    /// What a finished run gives.
    type Output;
    /// What a failed run gives.
    type Error;
    /// Whether it runs on its own already (a task): a zero timeout then
    /// cancels it, where a future is dropped before it starts.
    const STARTED: bool;

    /// The future to run.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::Awaitable;
    /// let fut = async { 1 }.into_awaited();
    /// assert_eq!(concur::aio::run(fut), Ok(1));
    /// ```
    fn into_awaited(self) -> Self::Future;

    /// The answer of a run that ended with `ran`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{Awaitable, LoopError};
    /// let answer = <std::future::Ready<u8> as Awaitable>::answer(Err(LoopError::Stopped));
    /// assert_eq!(answer, Err(LoopError::Stopped));
    /// ```
    fn answer(ran: Result<<Self::Future as Future>::Output, LoopError>) -> Result<Self::Output, Self::Error>;
}

impl<F: Future> Awaitable for F {
    type Future = F;
    type Output = F::Output;
    type Error = LoopError;
    const STARTED: bool = false;

    fn into_awaited(self) -> F {
        self
    }

    fn answer(ran: Result<F::Output, LoopError>) -> Result<F::Output, LoopError> {
        ran
    }
}

impl<T: 'static> Awaitable for Task<T> {
    type Future = TaskFuture<T>;
    type Output = T;
    type Error = Error;
    const STARTED: bool = true;

    fn into_awaited(self) -> TaskFuture<T> {
        self.into_future()
    }

    fn answer(ran: Result<Result<T, Error>, LoopError>) -> Result<T, Error> {
        ran.map_err(Error::from).and_then(|outcome| outcome)
    }
}
