//! What [`EventLoop::run_until_complete`](super::EventLoop::run_until_complete)
//! and [`run`](super::run) run, and the error type they answer with: a
//! future answers `Result<output, LoopError>`, a [`Task`] answers its value
//! or one [`Error`] for both the loop's failure and the task's.

use std::future::{Future, IntoFuture};

use super::error::{Error, LoopError};
use super::task::{Task, TaskFuture};

/// What the loop runs as its main task, and what it gives back.
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
/// # Python
///
/// `loop.run_until_complete(aw)` returns the awaitable's result or raises
/// its exception, or the loop's `RuntimeError`, through one `except`.
pub trait IntoMain {
    /// The future the loop runs.
    type Future: Future;
    /// What a finished run gives.
    type Output;
    /// What a failed run gives.
    type Error;

    /// The future to run.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::IntoMain;
    /// let fut = async { 1 }.into_main();
    /// assert_eq!(concur::aio::run(fut), Ok(1));
    /// ```
    fn into_main(self) -> Self::Future;

    /// The answer of a run that ended with `ran`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{IntoMain, LoopError};
    /// let answer = <std::future::Ready<u8> as IntoMain>::answer(Err(LoopError::Stopped));
    /// assert_eq!(answer, Err(LoopError::Stopped));
    /// ```
    fn answer(ran: Result<<Self::Future as Future>::Output, LoopError>) -> Result<Self::Output, Self::Error>;
}

impl<F: Future> IntoMain for F {
    type Future = F;
    type Output = F::Output;
    type Error = LoopError;

    fn into_main(self) -> F {
        self
    }

    fn answer(ran: Result<F::Output, LoopError>) -> Result<F::Output, LoopError> {
        ran
    }
}

impl<T: 'static> IntoMain for Task<T> {
    type Future = TaskFuture<T>;
    type Output = T;
    type Error = Error;

    fn into_main(self) -> TaskFuture<T> {
        self.into_future()
    }

    fn answer(ran: Result<Result<T, Error>, LoopError>) -> Result<T, Error> {
        ran.map_err(Error::from).and_then(|outcome| outcome)
    }
}
