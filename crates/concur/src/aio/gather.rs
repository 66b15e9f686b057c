//! Awaiting many tasks: [`gather`], and [`shield`] for one that must not be
//! cancelled with its awaiter.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::error::{Cancelled, Error};
use super::header;
use super::task::{IntoTask, Signal, Task};

/// Awaits every task and returns their values in the order given. A
/// future that is not a task is started as one, as Python's `gather` does
/// with a coroutine (see [`IntoTask`]).
///
/// The first task to fail (panic, or end cancelled) ends the gather with its
/// error; the others run on. Cancelling the task that awaits the gather
/// cancels every task it gathers.
///
/// # Errors
///
/// The first [`Error`] a task ended with; [`Error::Cancelled`] if the
/// awaiting task was cancelled. For every outcome instead, see
/// [`Gather::return_exceptions`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio;
///
/// let squares = aio::run(async {
///     let tasks = (1..=4u64).map(|n| {
///         aio::create_task(async move {
///             aio::sleep(Duration::from_millis(5 * (5 - n))).await.unwrap(); // finish in reverse
///             n * n
///         })
///     });
///     aio::gather(tasks).await
/// });
/// assert_eq!(squares.unwrap(), Ok(vec![1, 4, 9, 16])); // in the order given
/// ```
///
/// # Panics
///
/// Given a future that is not a task, outside a running loop.
///
/// # Cancel safety
///
/// Dropping the gather leaves the tasks running; their values are lost.
///
/// # Python
///
/// `await asyncio.gather(*aws)`.
pub fn gather<A: IntoTask>(tasks: impl IntoIterator<Item = A>) -> Gather<A::Output> {
    let tasks: Vec<Task<A::Output>> = tasks.into_iter().map(IntoTask::into_task).collect();
    let outcomes = std::iter::repeat_with(|| None).take(tasks.len()).collect();
    let left = tasks.len();
    Gather { tasks, outcomes, left, signal: Signal::new(), watching: false, forwarded: false }
}

/// The future of [`gather`].
///
/// # Examples
///
/// ```
/// use concur::aio;
/// let values = aio::run(async { aio::gather([aio::create_task(async { 'a' })]).await }).unwrap();
/// assert_eq!(values, Ok(vec!['a']));
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Gather<T> {
    tasks: Vec<Task<T>>,
    outcomes: Vec<Option<Result<T, Error>>>,
    left: usize,
    signal: Rc<Signal>,
    watching: bool,
    forwarded: bool,
}

impl<T> Unpin for Gather<T> {}

impl<T: 'static> Gather<T> {
    /// Waits for every task and returns every outcome, values and errors
    /// alike, in the order given.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the awaiting task was cancelled (the tasks were
    /// cancelled with it).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Error};
    ///
    /// let outcomes = aio::run(async {
    ///     let fine = aio::create_task(async { 1 });
    ///     let broken = aio::create_task(async { panic!("no") });
    ///     aio::gather([fine, broken]).return_exceptions().await.unwrap()
    /// })
    /// .unwrap();
    /// assert_eq!(outcomes, vec![Ok(1), Err(Error::Panicked("no".into()))]);
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.gather(*tasks, return_exceptions=True)`.
    pub fn return_exceptions(self) -> GatherAll<T> {
        GatherAll { gather: self }
    }

    /// Collects what finished; `Some(Err)` for the first error unless
    /// `settle`, `Some(Ok)` once every task finished.
    fn poll_gather(&mut self, cx: &mut Context<'_>, settle: bool) -> Poll<Option<Error>> {
        if !self.watching {
            self.watching = true;
            for (index, task) in self.tasks.iter().enumerate() {
                task.watch(&self.signal, index);
            }
        }
        if !self.forwarded && self.left > 0 {
            if let Some(message) = header::forward_pending() {
                // The awaiting task was cancelled: cancel every task
                // gathered; their ending cancelled ends the gather.
                self.forwarded = true;
                for task in self.tasks.iter().filter(|task| !task.is_done()) {
                    task.cancel_passed_on(message.clone());
                }
            }
        }
        for index in self.signal.poll_finished(cx) {
            let outcome = self.tasks[index].take_output();
            self.left -= 1;
            if let Err(error) = &outcome {
                if !settle {
                    let error = match error {
                        Error::Cancelled(_) if self.forwarded => {
                            header::cancellation_for_me().map_or_else(|| header::raise(error.clone()), Error::Cancelled)
                        }
                        _ => header::raise(error.clone()),
                    };
                    return Poll::Ready(Some(error));
                }
            }
            self.outcomes[index] = Some(outcome);
        }
        if self.left > 0 {
            return Poll::Pending;
        }
        if self.forwarded {
            if let Some(mine) = header::cancellation_for_me() {
                return Poll::Ready(Some(Error::Cancelled(mine)));
            }
        }
        Poll::Ready(None)
    }

    fn take_outcomes(&mut self) -> impl Iterator<Item = Result<T, Error>> + '_ {
        self.outcomes.drain(..).map(|outcome| outcome.unwrap_or(Err(Error::Taken)))
    }
}

impl<T: 'static> Future for Gather<T> {
    type Output = Result<Vec<T>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.poll_gather(cx, false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(error)) => Poll::Ready(Err(error)),
            Poll::Ready(None) => Poll::Ready(this.take_outcomes().collect()),
        }
    }
}

/// The future of [`Gather::return_exceptions`].
///
/// # Examples
///
/// ```
/// use concur::aio;
/// let all = aio::run(async { aio::gather([aio::create_task(async { 2 })]).return_exceptions().await }).unwrap();
/// assert_eq!(all, Ok(vec![Ok(2)]));
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct GatherAll<T> {
    gather: Gather<T>,
}

impl<T: 'static> Future for GatherAll<T> {
    type Output = Result<Vec<Result<T, Error>>, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let gather = &mut self.get_mut().gather;
        match gather.poll_gather(cx, true) {
            Poll::Pending => Poll::Pending,
            // Only the awaiting task's own cancellation ends a settling
            // gather with an error.
            Poll::Ready(Some(Error::Cancelled(cancelled))) => Poll::Ready(Err(cancelled)),
            Poll::Ready(_) => Poll::Ready(Ok(gather.take_outcomes().collect())),
        }
    }
}

/// Awaits `task` but keeps a cancellation of the awaiting task from
/// reaching it: the awaiter gets [`Error::Cancelled`] and the task runs on.
/// A future that is not a task is started as one (see [`IntoTask`]).
///
/// # Errors
///
/// The task's own error; [`Error::Cancelled`] if the awaiting task was
/// cancelled (the shielded task was not).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio;
///
/// aio::run(async {
///     let save = aio::create_task(async {
///         aio::sleep(Duration::from_millis(20)).await.unwrap();
///         "saved"
///     });
///     let state = save.task_ref();
///     let waiter = aio::create_task(aio::shield(save));
///     aio::sleep(Duration::from_millis(1)).await.unwrap();
///     waiter.cancel_with("leaving");
///     assert!(waiter.await.is_err()); // the waiter was cancelled
///     aio::sleep(Duration::from_millis(40)).await.unwrap();
///     assert_eq!(state.state(), aio::TaskState::Done); // the save was not
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// Dropping the shield leaves the task running.
///
/// # Python
///
/// `await asyncio.shield(aw)`.
pub fn shield<A: IntoTask>(task: A) -> Shield<A::Output> {
    Shield { task: task.into_task() }
}

/// The future of [`shield`].
///
/// # Examples
///
/// ```
/// use concur::aio;
/// assert_eq!(aio::run(async { aio::shield(aio::create_task(async { 1 })).await }).unwrap(), Ok(1));
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Unpin for Shield<T> {}

impl<T: 'static> Future for Shield<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(cancelled) = header::take_cancellation() {
            return Poll::Ready(Err(Error::Cancelled(cancelled)));
        }
        self.get_mut().task.poll_with(cx, false)
    }
}
