//! The part of a task that does not depend on its output type — its state,
//! name and cancellation — and the task being polled on this thread.
//!
//! Everything that waits inside a task (the `aio` awaits, the primitives of
//! `aio::sync`, the loop's registry of tasks) needs only this part, so it
//! lives below [`Task`](super::Task), which adds the output and the driver.

use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use super::error::{Cancelled, Error};

/// Where a task is in its life.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, TaskState};
///
/// aio::run(async {
///     let task = aio::create_task(async { 1 });
///     assert_eq!(task.state(), TaskState::Pending); // created, not yet run
///     task.await.unwrap();
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// Python's `Task` is pending until done, cancelled or finished; `Running`
/// (started, not done) is the state Python's `Task` keeps only internally.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Created, not yet run.
    Pending,
    /// Started and not finished: paused at an await, or running now.
    Running,
    /// Finished, with a value or a panic.
    Done,
    /// Ended by a cancellation it did not handle.
    Cancelled,
}

thread_local! {
    /// The task whose future is being polled on this thread.
    static CURRENT: RefCell<Option<Rc<dyn HasHeader>>> = const { RefCell::new(None) };
}

/// The part of a task that does not depend on its output type: what
/// `current_task`, cancellation and timeouts need.
pub(crate) struct Header {
    pub(super) id: u64,
    /// Set by `set_name`, or `Task-<id>` made at the first `name()` call,
    /// so that reading a name does not allocate each time.
    pub(super) name: RefCell<Option<Rc<str>>>,
    pub(super) state: Cell<TaskState>,
    /// Cancellations asked for and not withdrawn (Python's `cancelling()`).
    pub(super) requests: Cell<u32>,
    /// A cancellation waits to be handed to the body at its next `aio` await.
    pub(super) pending: Cell<bool>,
    /// The pending cancellation was passed on to the task this one awaits.
    pub(super) forwarded: Cell<bool>,
    pub(super) message: RefCell<Option<Arc<str>>>,
    /// Copies of delivered cancellations that are still alive.
    pub(super) live: OnceCell<Arc<AtomicUsize>>,
    /// Wakes the task's driver, so a cancellation is seen.
    pub(super) waker: RefCell<Option<Waker>>,
    /// Debug mode: warn about polls slower than this.
    pub(super) slow: Option<Duration>,
    /// Where the loop's registry of unfinished tasks keeps this one.
    pub(super) slot: Cell<Option<usize>>,
    pub(super) awaited: Cell<bool>,
}

pub(crate) trait HasHeader {
    fn header(&self) -> &Header;

    /// How the task ended, for [`TaskRef::exception`]; a bare header
    /// carries no outcome.
    fn exception(&self) -> Result<Option<Error>, Error> {
        Err(Error::NotDone)
    }
}

impl HasHeader for Header {
    fn header(&self) -> &Header {
        self
    }
}

impl Header {
    pub(crate) fn new(id: u64, slow: Option<Duration>) -> Header {
        Header {
            id,
            name: RefCell::new(None),
            state: Cell::new(TaskState::Pending),
            requests: Cell::new(0),
            pending: Cell::new(false),
            forwarded: Cell::new(false),
            message: RefCell::new(None),
            live: OnceCell::new(),
            waker: RefCell::new(None),
            slow,
            slot: Cell::new(None),
            awaited: Cell::new(false),
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state.get(), TaskState::Done | TaskState::Cancelled)
    }

    pub(crate) fn set_slot(&self, slot: usize) {
        self.slot.set(Some(slot));
    }

    pub(crate) fn name(&self) -> Rc<str> {
        self.name.borrow_mut().get_or_insert_with(|| Rc::from(format!("Task-{}", self.id))).clone()
    }

    pub(crate) fn set_name(&self, name: impl Into<String>) {
        *self.name.borrow_mut() = Some(Rc::from(name.into()));
    }

    pub(super) fn cancel(&self, message: Option<Arc<str>>) -> bool {
        if self.is_done() {
            return false;
        }
        self.requests.set(self.requests.get() + 1);
        self.pending.set(true);
        self.forwarded.set(false);
        *self.message.borrow_mut() = message;
        if let Some(waker) = &*self.waker.borrow() {
            waker.wake_by_ref();
        }
        true
    }

    pub(super) fn uncancel(&self) -> u32 {
        let left = self.requests.get().saturating_sub(1);
        self.requests.set(left);
        if left == 0 {
            self.pending.set(false);
            self.forwarded.set(false);
        }
        left
    }

    pub(super) fn live(&self) -> &Arc<AtomicUsize> {
        self.live.get_or_init(|| Arc::new(AtomicUsize::new(0)))
    }

    /// Whether a delivered cancellation is still alive (the body has not
    /// handled it).
    pub(crate) fn has_live_cancellation(&self) -> bool {
        self.live.get().is_some_and(|live| live.load(Ordering::Relaxed) > 0)
    }

    /// Hands the pending cancellation to the body, if there is one.
    pub(super) fn take_pending(&self) -> Option<Cancelled> {
        if !self.pending.get() {
            return None;
        }
        self.pending.set(false);
        self.forwarded.set(false);
        Some(Cancelled::delivered(self.message.borrow().clone(), self.live().clone()))
    }

    /// The cancellation this task asked for came back from the task it
    /// passed it on to: it is this task's now.
    pub(super) fn deliver_forwarded(&self) -> Option<Cancelled> {
        if !self.forwarded.get() {
            return None;
        }
        self.pending.set(true);
        self.take_pending()
    }

    /// The cancellation this task passed on was taken care of by the task
    /// it awaited, which ended with a value: nothing is left to deliver.
    pub(super) fn forwarded_consumed(&self) {
        if self.forwarded.get() {
            self.forwarded.set(false);
            self.pending.set(false);
        }
    }

    pub(super) fn record(&self) -> Cancelled {
        Cancelled::record(self.message.borrow().clone())
    }

    pub(crate) fn is_forwarded(&self) -> bool {
        self.forwarded.get()
    }

    pub(crate) fn is_pending(&self) -> bool {
        self.pending.get()
    }

    /// Takes the pending cancellation as a live error, or raises a new one
    /// with the last message.
    pub(crate) fn deliver_now(&self) -> Cancelled {
        self.take_pending().unwrap_or_else(|| Cancelled::delivered(self.message.borrow().clone(), self.live().clone()))
    }
}

/// Runs `f` with `task` as the current task.
pub(crate) fn enter<R>(task: Rc<dyn HasHeader>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Rc<dyn HasHeader>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|current| *current.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CURRENT.with(|current| current.borrow_mut().replace(task)));
    f()
}

pub(super) fn with_current<R>(f: impl FnOnce(Option<&Header>) -> R) -> R {
    CURRENT.with(|current| f(current.borrow().as_deref().map(HasHeader::header)))
}

/// The cancellation pending on the current task, handed over: `Some` means
/// the caller, an `aio` await, must return it now.
pub(crate) fn take_cancellation() -> Option<Cancelled> {
    with_current(|task| task.and_then(Header::take_pending))
}

/// If the current task has a cancellation pending that was not passed on
/// yet, marks it passed on (to the tasks it awaits) and returns its message.
pub(crate) fn forward_pending() -> Option<Option<Arc<str>>> {
    with_current(|current| {
        let current = current.filter(|c| c.pending.get() && !c.forwarded.get())?;
        current.forwarded.set(true);
        Some(current.message.borrow().clone())
    })
}

/// The current task's cancellation, come back from the tasks it was passed
/// on to.
pub(crate) fn cancellation_for_me() -> Option<Cancelled> {
    with_current(|current| current.and_then(Header::deliver_forwarded))
}

/// A cancellation raised into the current task's body (by awaiting a
/// cancelled task, say): alive against it, so that the task ends cancelled
/// if the body lets the error out, as a `CancelledError` does in Python.
pub(crate) fn raised(message: Option<Arc<str>>) -> Cancelled {
    with_current(|current| match current {
        Some(task) => Cancelled::delivered(message, task.live().clone()),
        None => Cancelled::record(message),
    })
}

/// As [`raised`], for an error: a cancellation becomes the current task's.
pub(crate) fn raise(error: Error) -> Error {
    match error {
        Error::Cancelled(cancelled) => Error::Cancelled(raised(cancelled.message.clone())),
        other => other,
    }
}

/// A handle to a task that does not carry its value: for the task itself
/// ([`current_task`]), for code that only names or cancels it, and to ask
/// how a task ended after its [`Task`](super::Task) handle was moved into
/// [`wait_for`](super::wait_for), [`shield`](super::shield) or
/// [`gather`](super::gather) ([`Task::task_ref`](super::Task::task_ref)).
///
/// # Why no `result`
///
/// A `TaskRef` does not know the type of the task's value (that is what
/// lets [`current_task`] return one for any task), so it cannot hand the
/// value back. Await the [`Task`](super::Task) itself for the value, or
/// ask [`exception`](Self::exception) here to learn how the task ended:
/// `Ok(None)` for a value, `Ok(Some(error))` for a panic or a
/// cancellation.
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// aio::run(async {
///     let me = aio::current_task().unwrap();
///     assert!(me.name().starts_with("Task-"));
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct TaskRef {
    header: Rc<dyn HasHeader>,
}

impl TaskRef {
    pub(crate) fn from_header(header: impl Into<Rc<dyn HasHeader>>) -> TaskRef {
        TaskRef { header: header.into() }
    }

    pub(crate) fn downgrade(&self) -> std::rc::Weak<dyn HasHeader> {
        Rc::downgrade(&self.header)
    }

    /// The task's name: `Task-<n>` unless one was given. A shared string:
    /// reading it again does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async { assert!(!concur::aio::current_task().unwrap().name().is_empty()) }).unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.get_name()`.
    #[doc(alias = "get_name")]
    pub fn name(&self) -> Rc<str> {
        self.header.header().name()
    }

    /// Renames the task.
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async {
    ///     let me = concur::aio::current_task().unwrap();
    ///     me.set_name("main");
    ///     assert_eq!(&*me.name(), "main");
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.set_name(name)`.
    pub fn set_name(&self, name: impl Into<String>) {
        self.header.header().set_name(name);
    }

    /// Where the task is in its life.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskState};
    /// aio::run(async { assert_eq!(aio::current_task().unwrap().state(), TaskState::Running) }).unwrap();
    /// ```
    pub fn state(&self) -> TaskState {
        self.header.header().state.get()
    }

    /// Whether the task finished: done or cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     let watch = task.task_ref();
    ///     task.await.unwrap(); // the handle is gone; the TaskRef still answers
    ///     assert!(watch.is_done());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.done()`.
    #[doc(alias = "done")]
    pub fn is_done(&self) -> bool {
        self.header.header().is_done()
    }

    /// Whether the task has started and not finished, as
    /// [`Task::is_running`](super::Task::is_running): its state is
    /// [`TaskState::Running`].
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let me = aio::current_task().unwrap();
    ///     assert!(me.is_running()); // a task asking about itself is running
    ///     let task = aio::create_task(async {});
    ///     let watch = task.task_ref();
    ///     assert!(!watch.is_running()); // created, not yet started
    ///     task.await.unwrap();
    ///     assert!(!watch.is_running()); // finished
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Task` has no `running()`; the name is that of
    /// `concurrent.futures.Future.running()`.
    #[doc(alias = "running")]
    pub fn is_running(&self) -> bool {
        self.header.header().state.get() == TaskState::Running
    }

    /// Whether the task ended cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    /// aio::run(async {
    ///     let slow = aio::create_task(aio::sleep(Duration::from_secs(60)));
    ///     let watch = slow.task_ref();
    ///     let _ = aio::wait_for(slow, Duration::from_millis(5)).await; // moves the task
    ///     assert!(watch.is_cancelled());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancelled()`.
    #[doc(alias = "cancelled")]
    pub fn is_cancelled(&self) -> bool {
        self.header.header().state.get() == TaskState::Cancelled
    }

    /// How the finished task failed, if it did: `None` for a value (or a
    /// value already taken by awaiting the task), as
    /// [`Task::exception`](super::Task::exception).
    ///
    /// # Errors
    ///
    /// [`Error::NotDone`] before the task finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Error};
    /// aio::run(async {
    ///     let task = aio::create_task(async { panic!("boom") });
    ///     let watch = task.task_ref();
    ///     let shielded = aio::shield(task); // the handle moves into the shield
    ///     assert_eq!(watch.exception(), Err(Error::NotDone));
    ///     assert!(shielded.await.is_err());
    ///     assert_eq!(watch.exception(), Ok(Some(Error::Panicked("boom".into()))));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.exception()`; for a cancelled task Python raises, here it is
    /// `Some(Error::Cancelled)`.
    pub fn exception(&self) -> Result<Option<Error>, Error> {
        self.header.exception()
    }

    /// Asks the task to stop, as [`Task::cancel`](super::Task::cancel).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    ///
    /// let outcome = aio::run(async {
    ///     aio::current_task().unwrap().cancel();
    ///     aio::sleep(Duration::from_secs(1)).await // the cancellation arrives here
    /// });
    /// // The main task let it out, so it ended cancelled.
    /// assert!(matches!(outcome, Err(aio::LoopError::Cancelled(_))));
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancel()`.
    pub fn cancel(&self) -> bool {
        self.header.header().cancel(None)
    }

    /// Asks the task to stop with a message, as
    /// [`Task::cancel_with`](super::Task::cancel_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    ///
    /// let outcome = aio::run(async {
    ///     aio::current_task().unwrap().cancel_with("from inside");
    ///     aio::sleep(Duration::from_secs(1)).await
    /// });
    /// assert_eq!(outcome.unwrap_err().to_string(), "the future the loop ran was cancelled: the task was cancelled: from inside");
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancel(msg)`.
    pub fn cancel_with(&self, message: impl Into<Arc<str>>) -> bool {
        self.header.header().cancel(Some(message.into()))
    }

    /// How many cancellations are pending, as [`Task::cancelling`](super::Task::cancelling).
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async { assert_eq!(concur::aio::current_task().unwrap().cancelling(), 0) }).unwrap();
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.header.header().requests.get()
    }

    /// Withdraws one cancellation, as [`Task::uncancel`](super::Task::uncancel).
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async {
    ///     let me = concur::aio::current_task().unwrap();
    ///     me.cancel();
    ///     assert_eq!(me.uncancel(), 0);
    ///     concur::aio::sleep(std::time::Duration::ZERO).await.unwrap(); // not cancelled
    /// })
    /// .unwrap();
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.header.header().uncancel()
    }

    pub(crate) fn raw(&self) -> &Header {
        self.header.header()
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRef").field("name", &self.name()).field("state", &self.state()).finish()
    }
}

/// The task running now, if this is called from inside one.
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// assert!(aio::current_task().is_none());
/// aio::run(async {
///     let task = aio::create_task(async { aio::current_task().unwrap().name() }).with_name("worker");
///     assert_eq!(&*task.await.unwrap(), "worker");
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `asyncio.current_task()`.
pub fn current_task() -> Option<TaskRef> {
    CURRENT.with(|current| current.borrow().clone().map(TaskRef::from_header))
}

/// A task as the loop's registry holds it: something to poll, or to drop
/// unfinished when the loop closes.
pub(crate) trait Runnable: HasHeader {
    /// Polls the task's body once, with `waker` as its waker.
    fn run(self: Rc<Self>, waker: &Waker);
    /// The loop closed under the unfinished task: drops its body and ends
    /// it cancelled.
    fn abandon(&self);
}
