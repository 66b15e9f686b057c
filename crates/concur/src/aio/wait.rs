//! Waiting on a set of tasks without taking their values: [`wait`], and
//! [`as_completed`] for their values in the order they finish.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::{Error, WaitError};
use super::header;
use super::task::{IntoTask, Signal, Task};
use super::time::Timer;
pub use crate::futures::ReturnWhen;

/// Waits until the tasks meet `return_when`, or `timeout` passes; returns
/// them split into the finished and the pending, each in the order given.
/// Nothing is cancelled: pending tasks run on. A future that is not a task
/// is started as one (see [`IntoTask`]); it comes back as that task.
///
/// `ReturnWhen::FirstException` returns at the first task that panicked
/// (a cancelled task is not an exception, as in Python), or when all are
/// done.
///
/// # Errors
///
/// [`WaitError::Empty`] if there was nothing to wait for, as Python raises
/// `ValueError`; [`WaitError::Cancelled`] if the awaiting task is
/// cancelled (the tasks are not).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, ReturnWhen};
///
/// aio::run(async {
///     let tasks: Vec<_> = [30, 1, 60]
///         .map(|ms| aio::create_task(async move { aio::sleep(Duration::from_millis(ms)).await.map(|()| ms) }))
///         .into();
///     let (done, pending) = aio::wait(tasks, ReturnWhen::FirstCompleted, None).await.unwrap();
///     assert_eq!(done.len(), 1);
///     assert_eq!(done[0].result().unwrap(), Ok(1));
///     let (done, pending) = aio::wait(pending, ReturnWhen::AllCompleted, Some(Duration::from_millis(10))).await.unwrap();
///     assert!(done.is_empty() && pending.len() == 2); // the timeout came first
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// Dropping the wait leaves the tasks running.
///
/// # Python
///
/// `await asyncio.wait(tasks, timeout=..., return_when=...)`, with lists
/// for Python's sets.
pub async fn wait<A: IntoTask>(
    tasks: impl IntoIterator<Item = A>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Result<(Vec<Task<A::Output>>, Vec<Task<A::Output>>), WaitError> {
    let tasks: Vec<Task<A::Output>> = tasks.into_iter().map(IntoTask::into_task).collect();
    if tasks.is_empty() {
        return Err(WaitError::Empty);
    }
    let signal = Signal::new();
    for (index, task) in tasks.iter().enumerate() {
        task.watch(&signal, index);
    }
    let mut finished = 0;
    let met = |task: &Task<A::Output>, finished: usize| match return_when {
        ReturnWhen::FirstCompleted => finished > 0,
        ReturnWhen::AllCompleted => finished == tasks.len(),
        ReturnWhen::FirstException => {
            finished == tasks.len() || matches!(task.exception(), Ok(Some(Error::Panicked(_))))
        }
    };
    let mut deadline = timeout.map(|limit| Box::pin(Timer::after(limit)));
    let outcome = std::future::poll_fn(|cx| {
        if let Some(cancelled) = header::take_cancellation() {
            return Poll::Ready(Err(cancelled));
        }
        let mut done = false;
        for index in signal.poll_finished(cx) {
            finished += 1;
            done |= met(&tasks[index], finished);
        }
        if done {
            return Poll::Ready(Ok(()));
        }
        match &mut deadline {
            Some(sleep) => sleep.as_mut().poll(cx).map(Ok),
            None => Poll::Pending,
        }
    })
    .await;
    outcome?;
    Ok(tasks.into_iter().partition(|task| task.is_done()))
}

/// The values of `tasks` in the order they finish, one per
/// [`next`](AsCompleted::next); with a `timeout`, an [`Error::Timeout`]
/// once it passes (the tasks left run on). A future that is not a task is
/// started as one (see [`IntoTask`]).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio;
///
/// aio::run(async {
///     let tasks = [40, 10, 25].map(|ms| {
///         aio::create_task(async move {
///             aio::sleep(Duration::from_millis(ms)).await.unwrap();
///             ms
///         })
///     });
///     let mut finished = aio::as_completed(tasks, None);
///     let mut order = Vec::new();
///     while let Some(value) = finished.next().await {
///         order.push(value.unwrap());
///     }
///     assert_eq!(order, [10, 25, 40]);
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `for next in asyncio.as_completed(tasks, timeout=...): value = await next`.
pub fn as_completed<A: IntoTask>(
    tasks: impl IntoIterator<Item = A>,
    timeout: Option<Duration>,
) -> AsCompleted<A::Output> {
    let tasks: Vec<Option<Task<A::Output>>> = tasks.into_iter().map(|task| Some(task.into_task())).collect();
    let signal = Signal::new();
    for (index, task) in tasks.iter().enumerate() {
        if let Some(task) = task {
            task.watch(&signal, index);
        }
    }
    let left = tasks.len();
    AsCompleted {
        tasks,
        ready: std::collections::VecDeque::new(),
        signal,
        left,
        timeout,
        deadline: timeout.map(|limit| Box::pin(Timer::after(limit))),
    }
}

/// The finished values of a set of tasks, in the order they finish; made
/// by [`as_completed`].
///
/// # Examples
///
/// ```
/// use concur::aio;
/// aio::run(async {
///     let mut values = aio::as_completed([aio::create_task(async { 1 })], None);
///     assert_eq!(values.next().await, Some(Ok(1)));
///     assert_eq!(values.next().await, None);
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct AsCompleted<T> {
    tasks: Vec<Option<Task<T>>>,
    ready: std::collections::VecDeque<usize>,
    signal: Rc<Signal>,
    left: usize,
    timeout: Option<Duration>,
    deadline: Option<Pin<Box<Timer>>>,
}

impl<T: 'static> AsCompleted<T> {
    /// The next value to finish; `None` when all were given (or after a
    /// timeout was reported).
    ///
    /// # Errors
    ///
    /// The task's own error; [`Error::Timeout`] once, when the timeout
    /// passed; [`Error::Cancelled`] if the awaiting task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let mut values = aio::as_completed(Vec::<aio::Task<u8>>::new(), None);
    ///     assert_eq!(values.next().await, None);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a value not yet returned stays for the next call.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        if let Some(cancelled) = header::take_cancellation() {
            return Poll::Ready(Some(Err(Error::Cancelled(cancelled))));
        }
        self.ready.extend(self.signal.poll_finished(cx));
        if !self.ready.is_empty() {
            let Some(index) = self.ready.pop_front() else { return Poll::Pending };
            self.left -= 1;
            let task = self.tasks[index].take();
            return Poll::Ready(Some(task.map_or(Err(Error::Taken), |task| task.take_output())));
        }
        if let Some(sleep) = &mut self.deadline {
            if sleep.as_mut().poll(cx).is_ready() {
                self.left = 0;
                return Poll::Ready(Some(Err(Error::Timeout(self.timeout.unwrap_or_default()))));
            }
        }
        Poll::Pending
    }
}
