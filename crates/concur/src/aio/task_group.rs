//! Structured concurrency: a [`TaskGroup`] owns its tasks; one failing
//! cancels the rest, and [`TaskGroup::join`] reports every failure together.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::context;
use super::error::{Cancelled, Error, Failure, LoopError};
use super::header::{self, TaskRef};
use super::task::{self, Task};

/// Why a [`TaskGroup`] did not finish cleanly.
///
/// # Examples
///
/// ```
/// use concur::aio::TaskGroupError;
/// let error = TaskGroupError::Closed;
/// assert!(error.to_string().contains("finished"));
/// ```
///
/// # Python
///
/// The `ExceptionGroup` a task group raises, and its `RuntimeError`s.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskGroupError {
    /// Tasks of the group failed (returned an error or panicked); every
    /// failure, in the order they happened. The other tasks were cancelled.
    Failed(Vec<Error>),
    /// The task joining the group was cancelled; the group's tasks were
    /// cancelled and waited for.
    Cancelled(Cancelled),
    /// A task was added to a group that failed (is shutting down), or was
    /// joined and has no task left (finished); it was not started.
    Closed,
    /// No event loop runs on this thread.
    Loop(LoopError),
}

impl fmt::Display for TaskGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskGroupError::Failed(errors) => {
                write!(f, "{} task(s) of the group failed: {}", errors.len(), join_messages(errors))
            }
            TaskGroupError::Cancelled(cancelled) => fmt::Display::fmt(cancelled, f),
            TaskGroupError::Closed => {
                f.write_str("the task group has finished or is shutting down: no new task can be added to it")
            }
            TaskGroupError::Loop(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl std::error::Error for TaskGroupError {}

impl From<Cancelled> for TaskGroupError {
    fn from(cancelled: Cancelled) -> TaskGroupError {
        TaskGroupError::Cancelled(cancelled)
    }
}

impl From<LoopError> for TaskGroupError {
    fn from(error: LoopError) -> TaskGroupError {
        TaskGroupError::Loop(error)
    }
}

fn join_messages(errors: &[Error]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

struct Group {
    running: Cell<usize>,
    failures: RefCell<Vec<Error>>,
    children: RefCell<Vec<TaskRef>>,
    aborting: Cell<bool>,
    joining: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Group {
    fn abort(&self) {
        if self.aborting.replace(true) {
            return;
        }
        for child in self.children.borrow().iter() {
            if !matches!(child.state(), header::TaskState::Done | header::TaskState::Cancelled) {
                child.cancel_with("another task of the group failed");
            }
        }
    }

    fn child_done(&self, failure: Option<Error>) {
        if let Some(failure) = failure {
            self.failures.borrow_mut().push(failure);
            self.abort();
        }
        self.running.set(self.running.get() - 1);
        if self.running.get() == 0 {
            if let Some(waker) = self.waker.borrow_mut().take() {
                waker.wake();
            }
        }
    }
}

/// Tasks that live and end together: each is started with
/// [`create_task`](Self::create_task); the first to fail cancels the
/// others; [`join`](Self::join) waits for all and reports every failure.
/// A group dropped without being joined cancels its tasks.
///
/// A task fails when its future returns `Err` or panics; one that ends
/// cancelled has not failed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, TaskGroup, TaskGroupError};
///
/// aio::run(async {
///     let group = TaskGroup::new();
///     let slow = group
///         .create_task(async {
///             aio::sleep(Duration::from_secs(60)).await?;
///             Ok::<_, aio::Cancelled>("never")
///         })
///         .unwrap();
///     group.create_task(async { Err::<(), _>(std::io::Error::other("disk full")) }).unwrap();
///     let outcome = group.join().await;
///     assert!(matches!(&outcome, Err(TaskGroupError::Failed(errors)) if errors.len() == 1));
///     assert!(slow.is_cancelled()); // cancelled when its sibling failed
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `async with asyncio.TaskGroup() as tg: tg.create_task(...)`. One
/// difference: Python also cancels the body of the `async with` when a task
/// fails; here the code before `join` goes on, and `join` reports.
pub struct TaskGroup {
    group: Rc<Group>,
    joined: bool,
}

impl TaskGroup {
    /// An empty group.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskGroup};
    /// aio::run(async { TaskGroup::new().join().await.unwrap() }).unwrap();
    /// ```
    #[allow(clippy::new_without_default)] // a group is made in a running loop, on purpose
    pub fn new() -> TaskGroup {
        TaskGroup {
            group: Rc::new(Group {
                running: Cell::new(0),
                failures: RefCell::new(Vec::new()),
                children: RefCell::new(Vec::new()),
                aborting: Cell::new(false),
                joining: Cell::new(false),
                waker: RefCell::new(None),
            }),
            joined: false,
        }
    }

    /// Starts `fut` as a task of the group, on the running loop.
    ///
    /// # Errors
    ///
    /// [`TaskGroupError::Closed`] once the group failed, or was joined and
    /// its tasks all finished (the task is not started); while the join
    /// waits for tasks, new ones may join them, as Python allows.
    /// [`TaskGroupError::Loop`] outside a running loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskGroup};
    ///
    /// aio::run(async {
    ///     let group = TaskGroup::new();
    ///     let one = group.create_task(async { Ok::<_, std::io::Error>(1) }).unwrap();
    ///     group.join().await.unwrap();
    ///     assert_eq!(one.await, Ok(1));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `tg.create_task(coro)`.
    pub fn create_task<F, T, E>(&self, fut: F) -> Result<Task<T>, TaskGroupError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        spawn_child(&self.group, fut)
    }

    /// A handle that adds tasks to this group, for its tasks to keep: a
    /// task may add others to its own group, while the group is joined too.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskGroup};
    ///
    /// aio::run(async {
    ///     let group = TaskGroup::new();
    ///     let handle = group.handle();
    ///     let parent = group
    ///         .create_task(async move {
    ///             let child = handle.create_task(async { Ok::<_, std::io::Error>("child") }).unwrap();
    ///             Ok::<_, std::io::Error>(child)
    ///         })
    ///         .unwrap();
    ///     group.join().await.unwrap(); // waits for the child too
    ///     let child = parent.await.unwrap();
    ///     assert!(child.is_done());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// The `tg` a coroutine is passed to call `tg.create_task` on.
    pub fn handle(&self) -> TaskGroupHandle {
        TaskGroupHandle { group: self.group.clone() }
    }

    /// Waits until every task of the group finished.
    ///
    /// # Errors
    ///
    /// [`TaskGroupError::Failed`] with every failure if any task failed;
    /// [`TaskGroupError::Cancelled`] if the joining task was cancelled
    /// (after the group's tasks were cancelled and finished).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskGroup};
    ///
    /// aio::run(async {
    ///     let group = TaskGroup::new();
    ///     for n in 0..3 {
    ///         group.create_task(async move { Ok::<_, std::io::Error>(n) }).unwrap();
    ///     }
    ///     assert_eq!(group.join().await, Ok(()));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the join cancels the group's tasks.
    ///
    /// # Python
    ///
    /// The end of the `async with` block.
    pub async fn join(mut self) -> Result<(), TaskGroupError> {
        self.joined = true;
        let group = self.group.clone();
        group.joining.set(true);
        let mut cancelled = None;
        let mut guard = AbortOnDrop(Some(group.clone()));
        std::future::poll_fn(|cx| {
            if cancelled.is_none() {
                if let Some(cancel) = header::take_cancellation() {
                    cancelled = Some(cancel);
                    group.abort();
                }
            }
            if group.running.get() == 0 {
                return Poll::Ready(());
            }
            *group.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        guard.0 = None;
        let failures = std::mem::take(&mut *group.failures.borrow_mut());
        if !failures.is_empty() {
            return Err(TaskGroupError::Failed(failures));
        }
        match cancelled {
            Some(cancelled) => Err(TaskGroupError::Cancelled(cancelled)),
            None => Ok(()),
        }
    }
}

/// Adds tasks to a [`TaskGroup`]; made by [`TaskGroup::handle`]. It does
/// not own the group: dropping it changes nothing.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, TaskGroup};
/// aio::run(async {
///     let group = TaskGroup::new();
///     let more = group.handle();
///     more.create_task(async { Ok::<_, std::io::Error>(()) }).unwrap();
///     group.join().await.unwrap();
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct TaskGroupHandle {
    group: Rc<Group>,
}

impl TaskGroupHandle {
    /// Starts `fut` as a task of the group, as
    /// [`TaskGroup::create_task`].
    ///
    /// # Errors
    ///
    /// As [`TaskGroup::create_task`].
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskGroup, TaskGroupError};
    /// aio::run(async {
    ///     let group = TaskGroup::new();
    ///     let late = group.handle();
    ///     group.join().await.unwrap();
    ///     let refused = late.create_task(async { Ok::<_, std::io::Error>(()) });
    ///     assert_eq!(refused.unwrap_err(), TaskGroupError::Closed); // the group finished
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `tg.create_task(coro)`.
    pub fn create_task<F, T, E>(&self, fut: F) -> Result<Task<T>, TaskGroupError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        spawn_child(&self.group, fut)
    }
}

impl fmt::Debug for TaskGroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle").field("running", &self.group.running.get()).finish()
    }
}

/// Starts a task of `group`, unless it failed or finished.
fn spawn_child<F, T, E>(group: &Rc<Group>, fut: F) -> Result<Task<T>, TaskGroupError>
where
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // Python's "TaskGroup is shutting down" and "TaskGroup is finished": a
    // group being joined still takes tasks while some run.
    if group.aborting.get() || (group.joining.get() && group.running.get() == 0) {
        return Err(TaskGroupError::Closed);
    }
    let body = async move { fut.await.map_err(|error| Error::Failed(Failure::new(error))) };
    let task = context::with_running(|state| task::spawn(state, body, |outcome| outcome))?;
    task.mark_awaited();
    group.running.set(group.running.get() + 1);
    group.children.borrow_mut().push(task.task_ref());
    let watching = group.clone();
    task.add_done_callback(move |task| {
        let failure = match task.exception() {
            Ok(Some(error @ (Error::Failed(_) | Error::Panicked(_)))) => Some(error),
            _ => None,
        };
        watching.child_done(failure);
    });
    Ok(task)
}

/// Cancels the group's tasks if the join is dropped before they finish.
struct AbortOnDrop(Option<Rc<Group>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(group) = &self.0 {
            group.abort();
        }
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        if !self.joined {
            self.group.abort();
        }
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("running", &self.group.running.get())
            .field("failures", &self.group.failures.borrow().len())
            .finish()
    }
}
