//! Tasks: futures the loop runs on their own, with Python's states,
//! cancellation and done callbacks.
//!
//! A task is a tokio task of the loop's `LocalSet` whose future is wrapped
//! in a [`Driver`]. The driver keeps what Python's `Task` tracks beside the
//! future — its state, its name, pending cancellation, the result and the
//! callbacks — in one `Rc` shared with the [`Task`] handle. Everything runs
//! on the loop's thread, so plain cells suffice and nothing is atomic but the
//! count of live [`Cancelled`] errors (which a body may send elsewhere).
//!
//! Cancellation is Python's: [`Task::cancel`] marks the task and wakes it;
//! the next `aio` await it polls ([`cancellable`], and every `aio` helper,
//! is built on it) takes the mark and returns [`Cancelled`]. A task paused
//! on something that is not an `aio` await cannot be handed the error, so it
//! is dropped there, as tokio's `abort` does. Awaiting another task passes
//! the cancellation on to it, as Python's `Task.cancel` does to the future
//! the task waits on.

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::error::{Cancelled, Error};
use super::event_loop;

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
    id: u64,
    name: RefCell<Option<Box<str>>>,
    state: Cell<TaskState>,
    /// Cancellations asked for and not withdrawn (Python's `cancelling()`).
    requests: Cell<u32>,
    /// A cancellation waits to be handed to the body at its next `aio` await.
    pending: Cell<bool>,
    /// The pending cancellation was passed on to the task this one awaits.
    forwarded: Cell<bool>,
    message: RefCell<Option<Arc<str>>>,
    /// Copies of delivered cancellations that are still alive.
    live: OnceCell<Arc<AtomicUsize>>,
    /// Wakes the task's driver, so a cancellation is seen.
    pub(crate) waker: RefCell<Option<Waker>>,
    /// Debug mode: warn about polls slower than this.
    slow: Option<Duration>,
    /// Where the loop's registry of unfinished tasks keeps this one.
    slot: Cell<Option<usize>>,
    awaited: Cell<bool>,
}

pub(crate) trait HasHeader {
    fn header(&self) -> &Header;
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

    pub(crate) fn name(&self) -> String {
        match &*self.name.borrow() {
            Some(name) => name.to_string(),
            None => format!("Task-{}", self.id),
        }
    }

    fn cancel(&self, message: Option<Arc<str>>) -> bool {
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

    fn uncancel(&self) -> u32 {
        let left = self.requests.get().saturating_sub(1);
        self.requests.set(left);
        if left == 0 {
            self.pending.set(false);
            self.forwarded.set(false);
        }
        left
    }

    fn live(&self) -> &Arc<AtomicUsize> {
        self.live.get_or_init(|| Arc::new(AtomicUsize::new(0)))
    }

    /// Whether a delivered cancellation is still alive (the body has not
    /// handled it).
    pub(crate) fn has_live_cancellation(&self) -> bool {
        self.live.get().is_some_and(|live| live.load(Ordering::Relaxed) > 0)
    }

    /// Hands the pending cancellation to the body, if there is one.
    fn take_pending(&self) -> Option<Cancelled> {
        if !self.pending.get() {
            return None;
        }
        self.pending.set(false);
        self.forwarded.set(false);
        Some(Cancelled::delivered(self.message.borrow().clone(), self.live().clone()))
    }

    /// The cancellation this task asked for came back from the task it
    /// passed it on to: it is this task's now.
    fn deliver_forwarded(&self) -> Option<Cancelled> {
        if !self.forwarded.get() {
            return None;
        }
        self.pending.set(true);
        self.take_pending()
    }

    /// The cancellation this task passed on was taken care of by the task
    /// it awaited, which ended with a value: nothing is left to deliver.
    fn forwarded_consumed(&self) {
        if self.forwarded.get() {
            self.forwarded.set(false);
            self.pending.set(false);
        }
    }

    fn record(&self) -> Cancelled {
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

fn with_current<R>(f: impl FnOnce(Option<&Header>) -> R) -> R {
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

/// Makes any future a cancellation point: if the task running it is
/// cancelled, the next poll returns [`Cancelled`] instead of polling `fut`
/// (which is dropped with the `Cancellable`).
///
/// Every `aio` await is built on this. Wrap a future of another library —
/// a tokio socket read, say — to let the task handle a cancellation that
/// arrives while it waits there; otherwise the task is dropped at that await.
///
/// # Examples
///
/// ```
/// use std::future::pending;
/// use concur::aio;
///
/// aio::run(async {
///     let task = aio::create_task(async {
///         // Never finishes on its own; cancel can still reach it.
///         match aio::cancellable(pending::<()>()).await {
///             Err(_) => "cancelled, cleaned up",
///             Ok(()) => unreachable!(),
///         }
///     });
///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
///     task.cancel("stop");
///     assert_eq!(task.await.unwrap(), "cancelled, cleaned up");
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// As cancel-safe as `fut`: a cancellation drops it.
///
/// # Python
///
/// In Python every `await` is one; Rust futures of other libraries do not
/// know about `aio`'s cancellation, so this marks the ones that should.
pub fn cancellable<F: Future>(fut: F) -> Cancellable<F> {
    Cancellable { fut }
}

pin_project! {
    /// The future of [`cancellable`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ready = concur::aio::cancellable(async { 5 });
    /// assert_eq!(concur::aio::run(ready).unwrap().unwrap(), 5);
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Cancellable<F> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Cancellable<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(cancelled) = take_cancellation() {
            return Poll::Ready(Err(cancelled));
        }
        self.project().fut.poll(cx).map(Ok)
    }
}

/// What a task's awaiter waits with.
enum Awaiter {
    None,
    Waker(Waker),
    /// A `gather`, `wait` or task group, told which of its tasks finished.
    Signal(Rc<Signal>, usize),
}

/// Collects which of many tasks finished, for the one future that waits on
/// them all, so that each finish costs O(1) however many tasks there are.
pub(crate) struct Signal {
    finished: RefCell<Vec<usize>>,
    waker: RefCell<Option<Waker>>,
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("finished", &self.finished.borrow().len()).finish()
    }
}

impl Signal {
    pub(crate) fn new() -> Rc<Signal> {
        Rc::new(Signal { finished: RefCell::new(Vec::new()), waker: RefCell::new(None) })
    }

    fn notify(&self, index: usize) {
        self.finished.borrow_mut().push(index);
        if let Some(waker) = &*self.waker.borrow() {
            waker.wake_by_ref();
        }
    }

    /// Registers the waiting future's waker; returns the indices that
    /// finished since the last call.
    pub(crate) fn poll_finished(&self, cx: &Context<'_>) -> Vec<usize> {
        let mut waker = self.waker.borrow_mut();
        match &*waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        std::mem::take(&mut *self.finished.borrow_mut())
    }
}

enum Output<T> {
    Empty,
    Ready(Result<T, Error>),
    Taken,
}

type Callback<T> = Box<dyn FnOnce(&Task<T>)>;

struct Core<T> {
    header: Header,
    output: RefCell<Output<T>>,
    awaiter: RefCell<Awaiter>,
    callbacks: RefCell<Vec<Callback<T>>>,
    /// The panic or error was read, or the task awaited.
    retrieved: Cell<bool>,
}

impl<T> HasHeader for Core<T> {
    fn header(&self) -> &Header {
        &self.header
    }
}

impl<T: 'static> Core<T> {
    fn finish(self: &Rc<Self>, outcome: Result<T, Error>) {
        let state = match &outcome {
            Err(Error::Cancelled(_)) => TaskState::Cancelled,
            _ => TaskState::Done,
        };
        *self.output.borrow_mut() = Output::Ready(outcome);
        self.header.state.set(state);
        if let Some(slot) = self.header.slot.take() {
            event_loop::deregister(slot);
        }
        self.header.waker.borrow_mut().take();
        // Done callbacks are queued before the awaiter is woken, so they see
        // the value before an await moves it out: Python runs a task's done
        // callbacks in the order they were added, and they were added
        // before the await (which is a done callback there too).
        let callbacks = std::mem::take(&mut *self.callbacks.borrow_mut());
        for callback in callbacks {
            let task = Task { core: self.clone(), observer: true };
            event_loop::schedule_or_run(Box::new(move || callback(&task)));
        }
        match std::mem::replace(&mut *self.awaiter.borrow_mut(), Awaiter::None) {
            Awaiter::None => {}
            Awaiter::Waker(waker) => waker.wake(),
            Awaiter::Signal(signal, index) => signal.notify(index),
        }
    }
}

impl<T> Drop for Core<T> {
    fn drop(&mut self) {
        if let Output::Ready(Err(Error::Panicked(message))) = &*self.output.borrow() {
            if !self.retrieved.get() {
                tracing::error!(task = %self.header.name(), panic = %message, "a task's panic was never retrieved");
            }
        }
    }
}

pin_project! {
    #[project = BodyProj]
    enum Body<F> {
        Live { #[pin] fut: F },
        Gone,
    }
}

pin_project! {
    /// The future the loop spawns for a task: polls the body as the current
    /// task and records how it ended.
    pub(crate) struct Driver<F: Future, T> {
        core: Rc<Core<T>>,
        #[pin]
        body: Body<F>,
        // Turns the body's output into the task's outcome.
        outcome: fn(F::Output) -> Result<T, Error>,
    }

    impl<F: Future, T> PinnedDrop for Driver<F, T> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // Dropped unfinished: the loop closed under it.
            if !this.core.header.is_done() {
                let cancelled = this.core.header.record();
                this.body.set(Body::Gone);
                *this.core.output.borrow_mut() = Output::Ready(Err(Error::Cancelled(cancelled)));
                this.core.header.state.set(TaskState::Cancelled);
                if let Awaiter::Waker(waker) = std::mem::replace(&mut *this.core.awaiter.borrow_mut(), Awaiter::None) {
                    waker.wake();
                }
            }
        }
    }
}

pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

impl<F, T> Future for Driver<F, T>
where
    F: Future,
    T: 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let core: &Rc<Core<T>> = this.core;
        let header = &core.header;
        if header.is_done() {
            return Poll::Ready(());
        }
        if header.state.get() == TaskState::Pending {
            if header.pending.get() {
                // Cancelled before it ran: the body never starts.
                let cancelled = header.record();
                this.body.set(Body::Gone);
                core.finish(Err(Error::Cancelled(cancelled)));
                return Poll::Ready(());
            }
            header.state.set(TaskState::Running);
            *header.waker.borrow_mut() = Some(cx.waker().clone());
        }
        let cancel_waiting = header.pending.get();
        let started = header.slow.map(|_| Instant::now());
        let current: Rc<dyn HasHeader> = core.clone();
        let polled = enter(current, || {
            catch_unwind(AssertUnwindSafe(|| match this.body.as_mut().project() {
                BodyProj::Live { fut } => fut.poll(cx),
                BodyProj::Gone => Poll::Pending,
            }))
        });
        if let (Some(slow), Some(started)) = (header.slow, started) {
            let took = started.elapsed();
            if took > slow {
                tracing::warn!(task = %header.name(), took_ms = took.as_millis() as u64, "a task step blocked the event loop");
            }
        }
        match polled {
            Ok(Poll::Ready(value)) => {
                // Cancelled by a live error it returned, or by a request it
                // never awaited after (Python's `_must_cancel`).
                let cancelled = header.has_live_cancellation() || (header.pending.get() && !header.forwarded.get());
                this.body.set(Body::Gone);
                if cancelled {
                    drop(value);
                    core.finish(Err(Error::Cancelled(header.record())));
                } else {
                    core.finish((this.outcome)(value));
                }
                Poll::Ready(())
            }
            Ok(Poll::Pending) => {
                if cancel_waiting && header.pending.get() && !header.forwarded.get() {
                    // The body waits on something that cannot take the
                    // cancellation: drop it there.
                    let _ = catch_unwind(AssertUnwindSafe(|| this.body.set(Body::Gone)));
                    core.finish(Err(Error::Cancelled(header.record())));
                    return Poll::Ready(());
                }
                Poll::Pending
            }
            Err(panic) => {
                let message = panic_message(&*panic);
                let _ = catch_unwind(AssertUnwindSafe(|| this.body.set(Body::Gone)));
                core.finish(Err(Error::Panicked(message)));
                Poll::Ready(())
            }
        }
    }
}

/// Builds the driver of a new task and its handle.
pub(crate) fn new_task<F, T>(
    fut: F,
    outcome: fn(F::Output) -> Result<T, Error>,
    id: u64,
    slow: Option<Duration>,
) -> (Driver<F, T>, Task<T>)
where
    F: Future + 'static,
    T: 'static,
{
    let core = Rc::new(Core {
        header: Header::new(id, slow),
        output: RefCell::new(Output::Empty),
        awaiter: RefCell::new(Awaiter::None),
        callbacks: RefCell::new(Vec::new()),
        retrieved: Cell::new(false),
    });
    (Driver { core: core.clone(), body: Body::Live { fut }, outcome }, Task { core, observer: false })
}

/// A future the loop runs on its own, with Python's task states,
/// cancellation, name and done callbacks.
///
/// Made by [`create_task`](super::create_task) (or
/// [`RunningLoop::create_task`](super::RunningLoop::create_task)); runs
/// whether or not it is awaited. Await it for its value: `Ok(value)`, or
/// [`Error::Cancelled`] / [`Error::Panicked`]. A task stays on its loop's
/// thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio;
///
/// aio::run(async {
///     let slow = aio::create_task(async {
///         aio::sleep(Duration::from_millis(20)).await?;
///         Ok::<_, aio::Cancelled>("slow")
///     })
///     .with_name("slow one");
///     assert_eq!(slow.name(), "slow one");
///     assert!(!slow.done());
///     assert_eq!(slow.await.unwrap().unwrap(), "slow");
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `asyncio.Task`. Its exception is a panic here; errors a body returns are
/// part of its value. Dropping the handle leaves the task running (Python
/// may collect an unreferenced task; here the loop keeps it).
pub struct Task<T> {
    core: Rc<Core<T>>,
    /// A handle lent to a done callback: not the owner's.
    observer: bool,
}

impl<T: 'static> Task<T> {
    /// Where the task is in its life.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, TaskState};
    ///
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     assert_eq!(task.state(), TaskState::Pending);
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(task.state(), TaskState::Done);
    /// })
    /// .unwrap();
    /// ```
    pub fn state(&self) -> TaskState {
        self.core.header.state.get()
    }

    /// Whether it finished: done or cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     assert!(!task.done());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.done()`.
    pub fn done(&self) -> bool {
        self.core.header.is_done()
    }

    /// Whether it ended cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     task.cancel("never mind");
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert!(task.cancelled());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancelled()`.
    pub fn cancelled(&self) -> bool {
        self.core.header.state.get() == TaskState::Cancelled
    }

    /// Asks the task to stop: a [`Cancelled`] with `message` is handed to it
    /// at its next `aio` await, where it may clean up, handle it, or return
    /// it. A task not started yet never starts. Returns `false` if the task
    /// had already finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    ///
    /// aio::run(async {
    ///     let sleeper = aio::create_task(async {
    ///         aio::sleep(Duration::from_secs(60)).await?;
    ///         Ok::<_, aio::Cancelled>(())
    ///     });
    ///     aio::sleep(Duration::ZERO).await.unwrap();
    ///     assert!(sleeper.cancel("shutting down"));
    ///     let err = sleeper.await.unwrap_err();
    ///     assert_eq!(err.to_string(), "the task was cancelled: shutting down");
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancel(msg)`; pass `""` for no message.
    pub fn cancel(&self, message: &str) -> bool {
        self.core.header.cancel((!message.is_empty()).then(|| Arc::from(message)))
    }

    /// How many cancellations are pending on the task and not withdrawn.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     task.cancel("");
    ///     assert_eq!(task.cancelling(), 1);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancelling()`.
    pub fn cancelling(&self) -> u32 {
        self.core.header.requests.get()
    }

    /// Withdraws one cancellation; when none is left, a cancellation not yet
    /// handed to the task is not handed over. Returns how many are left.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async { 7 });
    ///     task.cancel("");
    ///     assert_eq!(task.uncancel(), 0);
    ///     assert_eq!(task.await.unwrap(), 7); // it ran after all
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.uncancel()`.
    pub fn uncancel(&self) -> u32 {
        self.core.header.uncancel()
    }

    /// The task's name: `Task-<n>` unless one was given.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     assert!(task.name().starts_with("Task-"));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.get_name()`.
    pub fn name(&self) -> String {
        self.core.header.name()
    }

    /// Renames the task.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     task.set_name("fetcher");
    ///     assert_eq!(task.name(), "fetcher");
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.set_name(name)`.
    pub fn set_name(&self, name: impl Into<String>) {
        *self.core.header.name.borrow_mut() = Some(name.into().into_boxed_str());
    }

    /// The task, named: for `create_task(fut).with_name("..")`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {}).with_name("poller");
    ///     assert_eq!(task.name(), "poller");
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `create_task(coro, name=...)`.
    #[must_use]
    pub fn with_name(self, name: impl Into<String>) -> Task<T> {
        self.set_name(name);
        self
    }

    /// The task's value, for a finished task: a copy of it, or how it
    /// failed.
    ///
    /// # Errors
    ///
    /// [`Error::NotDone`] before the task finished; [`Error::Cancelled`],
    /// [`Error::Panicked`] as it ended; [`Error::Taken`] if it was awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, Error};
    /// aio::run(async {
    ///     let task = aio::create_task(async { 5 });
    ///     assert_eq!(task.result(), Err(Error::NotDone));
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(task.result(), Ok(5));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.result()`.
    pub fn result(&self) -> Result<T, Error>
    where
        T: Clone,
    {
        self.core.retrieved.set(true);
        match &*self.core.output.borrow() {
            Output::Empty => Err(Error::NotDone),
            Output::Ready(outcome) => outcome.clone().map_err(raise),
            Output::Taken => Err(Error::Taken),
        }
    }

    /// How a finished task failed, if it did: `None` for a value.
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
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(task.exception(), Ok(Some(Error::Panicked("boom".into()))));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.exception()`; for a cancelled task Python raises, here it is
    /// `Some(Error::Cancelled)`.
    pub fn exception(&self) -> Result<Option<Error>, Error> {
        self.core.retrieved.set(true);
        match &*self.core.output.borrow() {
            Output::Empty => Err(Error::NotDone),
            Output::Ready(Ok(_)) | Output::Taken => Ok(None),
            Output::Ready(Err(error)) => Ok(Some(error.clone())),
        }
    }

    /// Runs `callback` once the task finishes (soon after, on the loop),
    /// with the task. Added to a finished task, it is scheduled at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use concur::aio;
    ///
    /// aio::run(async {
    ///     let seen = Rc::new(Cell::new(0));
    ///     let task = aio::create_task(async { 21 });
    ///     let record = seen.clone();
    ///     task.add_done_callback(move |t| record.set(t.result().unwrap() * 2));
    ///     aio::sleep(std::time::Duration::from_millis(1)).await.unwrap();
    ///     assert_eq!(seen.get(), 42);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.add_done_callback(fn)`; the callback gets the task.
    pub fn add_done_callback(&self, callback: impl FnOnce(&Task<T>) + 'static) {
        if self.done() {
            let task = Task { core: self.core.clone(), observer: true };
            event_loop::schedule_or_run(Box::new(move || callback(&task)));
        } else {
            self.core.callbacks.borrow_mut().push(Box::new(callback));
        }
    }

    /// A handle to the task without its value: what
    /// [`current_task`] gives, for naming and cancelling.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {}).with_name("t");
    ///     assert_eq!(task.as_ref().name(), "t");
    /// })
    /// .unwrap();
    /// ```
    pub fn as_ref(&self) -> TaskRef {
        TaskRef { header: self.core.clone() }
    }

    /// Marks the task as looked after by the library (a group, a
    /// thread-side future), so debug mode does not warn when the handle goes.
    pub(crate) fn mark_awaited(&self) {
        self.core.header.awaited.set(true);
    }

    /// Has the awaiting future be told through `signal` as `index`.
    pub(crate) fn watch(&self, signal: &Rc<Signal>, index: usize) {
        if self.done() {
            signal.notify(index);
        } else {
            *self.core.awaiter.borrow_mut() = Awaiter::Signal(signal.clone(), index);
        }
    }

    /// Moves the outcome out of a finished task.
    pub(crate) fn take_output(&self) -> Result<T, Error> {
        self.core.retrieved.set(true);
        self.core.header.awaited.set(true);
        match std::mem::replace(&mut *self.core.output.borrow_mut(), Output::Taken) {
            Output::Ready(outcome) => outcome,
            Output::Taken => Err(Error::Taken),
            Output::Empty => Err(Error::NotDone),
        }
    }

    /// Passes a pending cancellation of the current task on to this one.
    pub(crate) fn forward_cancellation(&self) {
        if !self.done() {
            if let Some(message) = forward_pending() {
                self.cancel_with(message);
            }
        }
    }

    pub(crate) fn cancel_with(&self, message: Option<Arc<str>>) -> bool {
        self.core.header.cancel(message)
    }
}

impl<T: 'static> Future for Task<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, Error>> {
        self.get_mut().poll_with(cx, true)
    }
}

impl<T: 'static> Task<T> {
    /// Polls for the outcome; `forward` passes a cancellation of the
    /// awaiting task on to this one (all but `shield` do).
    pub(crate) fn poll_with(&mut self, cx: &mut Context<'_>, forward: bool) -> Poll<Result<T, Error>> {
        let this = self;
        this.core.header.awaited.set(true);
        if !this.done() {
            if forward {
                this.forward_cancellation();
            }
            let mut awaiter = this.core.awaiter.borrow_mut();
            match &*awaiter {
                Awaiter::Waker(known) if known.will_wake(cx.waker()) => {}
                _ => *awaiter = Awaiter::Waker(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        let outcome = this.take_output();
        Poll::Ready(match outcome {
            // Cancelled because the awaiting task was: the cancellation is
            // the awaiting task's own now. Cancelled otherwise: raised in
            // the awaiting task all the same, as Python's await raises.
            Err(Error::Cancelled(cancelled)) => {
                Err(Error::Cancelled(cancellation_for_me().unwrap_or_else(|| raised(cancelled.message.clone()))))
            }
            outcome => {
                with_current(|current| current.map(Header::forwarded_consumed));
                outcome
            }
        })
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        let header = &self.core.header;
        if !self.observer && header.slow.is_some() && !header.awaited.get() && !self.core.retrieved.get() {
            tracing::warn!(task = %header.name(), "a task was dropped without being awaited or its result read");
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.core.header.name())
            .field("state", &self.core.header.state.get())
            .finish()
    }
}

/// A handle to a task that does not carry its value: for the task itself
/// ([`current_task`]) and for code that only names or cancels it.
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
    pub(crate) fn from_header(header: Rc<dyn HasHeader>) -> TaskRef {
        TaskRef { header }
    }

    pub(crate) fn downgrade(&self) -> std::rc::Weak<dyn HasHeader> {
        Rc::downgrade(&self.header)
    }

    /// The task's name.
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async { assert!(!concur::aio::current_task().unwrap().name().is_empty()) }).unwrap();
    /// ```
    pub fn name(&self) -> String {
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
    ///     assert_eq!(me.name(), "main");
    /// })
    /// .unwrap();
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        *self.header.header().name.borrow_mut() = Some(name.into().into_boxed_str());
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

    /// Asks the task to stop, as [`Task::cancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    ///
    /// let outcome = aio::run(async {
    ///     aio::current_task().unwrap().cancel("from inside");
    ///     aio::sleep(Duration::from_secs(1)).await // the cancellation arrives here
    /// });
    /// // The main task let it out, so it ended cancelled.
    /// assert!(matches!(outcome, Err(aio::LoopError::Cancelled(_))));
    /// ```
    pub fn cancel(&self, message: &str) -> bool {
        self.header.header().cancel((!message.is_empty()).then(|| Arc::from(message)))
    }

    /// How many cancellations are pending, as [`Task::cancelling`].
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async { assert_eq!(concur::aio::current_task().unwrap().cancelling(), 0) }).unwrap();
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.header.header().requests.get()
    }

    /// Withdraws one cancellation, as [`Task::uncancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// concur::aio::run(async {
    ///     let me = concur::aio::current_task().unwrap();
    ///     me.cancel("");
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
///     assert_eq!(task.await.unwrap(), "worker");
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
