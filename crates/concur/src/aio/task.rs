//! Tasks: futures the loop runs on their own, with Python's states,
//! cancellation and done callbacks.
//!
//! A task is one allocation, a [`TaskCell`]: what Python's `Task` tracks —
//! its state, its name, pending cancellation, the result and the callbacks
//! (the [`Core`]) — and the future itself, side by side in one `Rc` that the
//! loop's registry (which polls it, see `context.rs`), the [`Task`] handles
//! and the [`TaskRef`]s share. Everything runs on the loop's thread, so
//! plain cells suffice and nothing is atomic but the count of live
//! [`Cancelled`] errors (which a body may send elsewhere); the task's wakers
//! carry its number, not a pointer to it, so they cross threads freely.
//!
//! # Profile
//!
//! create_task + gather of 100,000 trivial tasks, against tokio's
//! current-thread `spawn` + `JoinHandle` (`benches/aio.rs`). When a task
//! was a tokio task of a `LocalSet` plus an `Rc` of its state, it made two
//! allocations a task, `perf` put about half the loop's time in glibc's
//! `malloc`/`free`, and the rest in tokio's scheduling and the loop's second
//! registry of the same task; the loop ran at 0.6× tokio's throughput.
//!
//! Now a task is one allocation (`tests/aio_allocations.rs` counts them
//! with a counting global allocator: `n` tasks, `n` allocations and a few
//! for the gather), polled by the loop's own ready queue. `perf` of the
//! bench after the change: the allocator is down to 11 % (`_int_malloc`
//! 6 %, `_int_free` 5 %); the rest is spread over making the tasks (12 %),
//! `gather` registering with each (10 %, mostly the cache miss of touching
//! each task's cell, which any join must), the ready queue (5 %), the
//! step itself (4 %), moving the future into its cell (4 %), finishing (3
//! %) and entering the task (3 %). No part is left that tokio's spawn +
//! join does not also pay; in the same runs the loop is 1.3–1.5× tokio's
//! throughput (figures in `docs/BENCHMARKS.md`).
//!
//! Cancellation is Python's: [`Task::cancel`] marks the task and wakes it;
//! the next `aio` await it polls ([`cancellable`], and every `aio` helper,
//! is built on it) takes the mark and returns [`Cancelled`]. A task paused
//! on something that is not an `aio` await cannot be handed the error, so it
//! is dropped there, as tokio's `abort` does. Awaiting another task passes
//! the cancellation on to it, as Python's `Task.cancel` does to the future
//! the task waits on.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::callback::timed;
use super::context::{self, LoopState};
use super::error::{panic_message, Cancelled, Error};
use super::exception::{self, ExceptionContext};
use crate::futures::CallbackId;

use super::header::{
    cancellation_for_me, enter, forward_pending, raise, raised, take_cancellation, with_current, HasHeader, Header,
    Runnable, TaskRef, TaskState,
};

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
///     task.cancel_with("stop");
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

/// What a task keeps beside its future: everything but the body, typed by
/// the output alone so that a [`Task`] handle need not know the future.
pub(super) struct Core<T> {
    header: Header,
    output: RefCell<Output<T>>,
    awaiter: RefCell<Awaiter>,
    callbacks: RefCell<Vec<(CallbackId, Callback<T>)>>,
    /// The panic or error was read, or the task awaited.
    retrieved: Cell<bool>,
}

/// A task in one allocation: its [`Core`] and its future side by side in
/// the `Rc` the loop's registry, the [`Task`] handles and the
/// [`TaskRef`]s share (as tokio keeps a task's header, future and output in
/// one cell). The registry holds it as a [`Runnable`], a handle as a
/// [`HasCore`], a `TaskRef` as a [`HasHeader`]: three views of the same
/// block.
struct TaskCell<F: Future, T> {
    core: Core<T>,
    /// Polled in place: see [`TaskCell::body`].
    body: RefCell<Body<F>>,
    /// Turns the body's output into the task's outcome.
    outcome: fn(F::Output) -> Result<T, Error>,
}

/// A task as its handles see it: its [`Core`].
pub(super) trait HasCore<T>: Runnable {
    fn core(&self) -> &Core<T>;
}

/// A [`Task`]'s reference to its cell; reads as the [`Core`].
pub(super) struct CoreRef<T>(Rc<dyn HasCore<T>>);

impl<T> Clone for CoreRef<T> {
    fn clone(&self) -> CoreRef<T> {
        CoreRef(self.0.clone())
    }
}

impl<T> std::ops::Deref for CoreRef<T> {
    type Target = Core<T>;

    fn deref(&self) -> &Core<T> {
        self.0.core()
    }
}

impl<T: 'static> From<CoreRef<T>> for Rc<dyn HasHeader> {
    fn from(core: CoreRef<T>) -> Rc<dyn HasHeader> {
        core.0
    }
}

impl<F: Future, T> HasHeader for TaskCell<F, T> {
    fn header(&self) -> &Header {
        &self.core.header
    }

    fn exception(&self) -> Result<Option<Error>, Error> {
        self.core.retrieved.set(true);
        match &*self.core.output.borrow() {
            Output::Empty => Err(Error::NotDone),
            Output::Ready(Ok(_)) | Output::Taken => Ok(None),
            Output::Ready(Err(error)) => Ok(Some(error.clone())),
        }
    }
}

impl<F: Future + 'static, T: 'static> HasCore<T> for TaskCell<F, T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }
}

impl<T: 'static> Core<T> {
    fn finish(this: &CoreRef<T>, outcome: Result<T, Error>) {
        let state = match &outcome {
            Err(Error::Cancelled(_)) => TaskState::Cancelled,
            _ => TaskState::Done,
        };
        *this.output.borrow_mut() = Output::Ready(outcome);
        this.header.state.set(state);
        if let Some(slot) = this.header.slot.take() {
            context::deregister(slot);
        }
        this.header.waker.borrow_mut().take();
        // Done callbacks are queued before the awaiter is woken, so they see
        // the value before an await moves it out: Python runs a task's done
        // callbacks in the order they were added, and they were added
        // before the await (which is a done callback there too).
        let callbacks = std::mem::take(&mut *this.callbacks.borrow_mut());
        for (_, callback) in callbacks {
            let task = Task { core: this.clone(), observer: true };
            context::schedule_or_run(Box::new(move || callback(&task)));
        }
        match std::mem::replace(&mut *this.awaiter.borrow_mut(), Awaiter::None) {
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
                let context = ExceptionContext::new("Task exception was never retrieved")
                    .with_error(Error::Panicked(message.clone()))
                    .with_task(self.header.name());
                exception::report(context);
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

impl<F: Future, T> TaskCell<F, T> {
    /// The body, pinned where it lies.
    fn body(&self) -> Pin<std::cell::RefMut<'_, Body<F>>> {
        // SAFETY: the body lives inside the task's `Rc` allocation, which
        // never moves; nothing moves it out of its `RefCell` (it is only
        // polled, replaced through `Pin::set`, which drops it in place, or
        // dropped with the cell), so it stays where it was first pinned
        // until it is dropped, as `Pin` requires. The `RefMut` keeps a
        // second borrow from aliasing it.
        unsafe { Pin::new_unchecked(self.body.borrow_mut()) }
    }

    /// Drops the body in place.
    fn drop_body(&self) {
        let _ = catch_unwind(AssertUnwindSafe(|| self.body().as_mut().set(Body::Gone)));
    }
}

impl<F, T> Runnable for TaskCell<F, T>
where
    F: Future + 'static,
    T: 'static,
{
    fn run(self: Rc<Self>, waker: &Waker) {
        let header = &self.core.header;
        if header.is_done() {
            return;
        }
        let core = CoreRef(self.clone());
        if header.state.get() == TaskState::Pending {
            if header.pending.get() {
                // Cancelled before it ran: the body never starts.
                let cancelled = header.record();
                self.drop_body();
                Core::finish(&core, Err(Error::Cancelled(cancelled)));
                return;
            }
            header.state.set(TaskState::Running);
            *header.waker.borrow_mut() = Some(waker.clone());
        }
        let cancel_waiting = header.pending.get();
        let cx = &mut Context::from_waker(waker);
        let current: Rc<dyn HasHeader> = self.clone();
        let step = || {
            enter(current, || {
                catch_unwind(AssertUnwindSafe(|| match self.body().as_mut().project() {
                    BodyProj::Live { fut } => fut.poll(cx),
                    BodyProj::Gone => Poll::Pending,
                }))
            })
        };
        let polled = match header.slow {
            None => step(),
            Some(slow) => timed(
                tracing::warn_span!(target: "concur::aio", "task", name = %header.name()),
                slow,
                "a task step",
                step,
            ),
        };
        match polled {
            Ok(Poll::Ready(value)) => {
                // Cancelled by a live error it returned, or by a request it
                // never awaited after (Python's `_must_cancel`).
                let cancelled = header.has_live_cancellation() || (header.pending.get() && !header.forwarded.get());
                self.drop_body();
                if cancelled {
                    drop(value);
                    Core::finish(&core, Err(Error::Cancelled(header.record())));
                } else {
                    Core::finish(&core, (self.outcome)(value));
                }
            }
            Ok(Poll::Pending) => {
                if cancel_waiting && header.pending.get() && !header.forwarded.get() {
                    // The body waits on something that cannot take the
                    // cancellation: drop it there.
                    self.drop_body();
                    Core::finish(&core, Err(Error::Cancelled(header.record())));
                }
            }
            Err(panic) => {
                let message = panic_message(&*panic);
                self.drop_body();
                Core::finish(&core, Err(Error::Panicked(message)));
            }
        }
    }

    fn abandon(&self) {
        let core = &self.core;
        if core.header.is_done() {
            return;
        }
        let cancelled = core.header.record();
        self.drop_body();
        *core.output.borrow_mut() = Output::Ready(Err(Error::Cancelled(cancelled)));
        core.header.state.set(TaskState::Cancelled);
        core.header.slot.take();
        if let Awaiter::Waker(waker) = std::mem::replace(&mut *core.awaiter.borrow_mut(), Awaiter::None) {
            waker.wake();
        }
    }
}

/// Starts `fut` as a task of the loop whose state is `state`; `outcome`
/// makes the task's outcome of the future's output.
///
/// # Panics
///
/// If the loop is closed.
pub(crate) fn spawn<F, T>(state: &LoopState, fut: F, outcome: fn(F::Output) -> Result<T, Error>) -> Task<T>
where
    F: Future + 'static,
    T: 'static,
{
    let cell = Rc::new(TaskCell {
        core: Core {
            header: Header::new(state.next_id(), state.slow),
            output: RefCell::new(Output::Empty),
            awaiter: RefCell::new(Awaiter::None),
            callbacks: RefCell::new(Vec::new()),
            retrieved: Cell::new(false),
        },
        body: RefCell::new(Body::Live { fut }),
        outcome,
    });
    state.spawn("create_task", cell.clone());
    Task { core: CoreRef(cell), observer: false }
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
///     assert_eq!(&*slow.name(), "slow one");
///     assert!(!slow.is_done());
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
    core: CoreRef<T>,
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
    ///     assert!(!task.is_done());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.done()`.
    #[doc(alias = "done")]
    pub fn is_done(&self) -> bool {
        self.core.header.is_done()
    }

    /// Whether the task has started and not finished: its
    /// [`state`](Self::state) is [`TaskState::Running`], whether it runs
    /// now or is paused at an await. A task created and not yet run is not
    /// running, nor is one that finished or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    ///
    /// aio::run(async {
    ///     let task = aio::create_task(aio::sleep(Duration::from_millis(20)));
    ///     assert!(!task.is_running()); // created, not yet started
    ///     aio::sleep(Duration::ZERO).await.unwrap();
    ///     assert!(task.is_running()); // started, paused in its sleep
    ///     let watch = task.task_ref();
    ///     task.await.unwrap();
    ///     assert!(!watch.is_running()); // finished
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Task` has no `running()`; the name is that of
    /// `concurrent.futures.Future.running()`, and a Python task is in this
    /// state while it is pending and its coroutine has begun.
    #[doc(alias = "running")]
    pub fn is_running(&self) -> bool {
        self.core.header.state.get() == TaskState::Running
    }

    /// Whether it ended cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     task.cancel();
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert!(task.is_cancelled());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancelled()`.
    #[doc(alias = "cancelled")]
    pub fn is_cancelled(&self) -> bool {
        self.core.header.state.get() == TaskState::Cancelled
    }

    /// Asks the task to stop: a [`Cancelled`] is handed to it at its next
    /// `aio` await, where it may clean up, handle it, or return it. A task
    /// not started yet never starts. Returns `false` if the task had
    /// already finished.
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
    ///     assert!(sleeper.cancel());
    ///     assert!(sleeper.await.unwrap_err().is_cancelled());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancel()`.
    pub fn cancel(&self) -> bool {
        self.core.header.cancel(None)
    }

    /// As [`cancel`](Self::cancel), with a message the [`Cancelled`] error
    /// carries.
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
    ///     assert!(sleeper.cancel_with("shutting down"));
    ///     let err = sleeper.await.unwrap_err();
    ///     assert_eq!(err.to_string(), "the task was cancelled: shutting down");
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.cancel(msg)`.
    #[doc(alias = "cancel")]
    pub fn cancel_with(&self, message: impl Into<Arc<str>>) -> bool {
        self.core.header.cancel(Some(message.into()))
    }

    /// How many cancellations are pending on the task and not withdrawn.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {});
    ///     task.cancel();
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
    ///     task.cancel();
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

    /// The task's name: `Task-<n>` unless one was given. A shared string:
    /// reading it again does not allocate.
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
    #[doc(alias = "get_name")]
    pub fn name(&self) -> Rc<str> {
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
    ///     assert_eq!(&*task.name(), "fetcher");
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.set_name(name)`.
    pub fn set_name(&self, name: impl Into<String>) {
        self.core.header.set_name(name);
    }

    /// The task, named: for `create_task(fut).with_name("..")`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async {}).with_name("poller");
    ///     assert_eq!(&*task.name(), "poller");
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
        self.core.0.exception()
    }

    /// Runs `callback` once the task finishes (soon after, on the loop),
    /// with the task. Added to a finished task, it is scheduled at once.
    /// Returns the callback's [`CallbackId`], for
    /// [`remove_done_callback`](Self::remove_done_callback).
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
    pub fn add_done_callback(&self, callback: impl FnOnce(&Task<T>) + 'static) -> CallbackId {
        let id = CallbackId::next();
        if self.is_done() {
            let task = Task { core: self.core.clone(), observer: true };
            context::schedule_or_run(Box::new(move || callback(&task)));
        } else {
            self.core.callbacks.borrow_mut().push((id, Box::new(callback)));
        }
        id
    }

    /// Removes the done callback `id` names, if it has not been scheduled;
    /// returns how many were removed: 1, or 0 if the task finished already
    /// (its callbacks are then scheduled), the callback was removed before,
    /// or it belongs to another task.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(async { 1 });
    ///     let id = task.add_done_callback(|_| unreachable!("removed before the task ran"));
    ///     assert_eq!(task.remove_done_callback(id), 1);
    ///     assert_eq!(task.remove_done_callback(id), 0);
    ///     assert_eq!(task.await, Ok(1));
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `task.remove_done_callback(fn)`, which returns the number removed;
    /// Python removes every addition of `fn`, here each addition has an id
    /// of its own, since closures cannot be compared.
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        let mut callbacks = self.core.callbacks.borrow_mut();
        let Some(at) = callbacks.iter().position(|(mine, _)| *mine == id) else { return 0 };
        let (_, callback) = callbacks.remove(at);
        // Dropped after the borrow: a closure's captures may run any code
        // when dropped, this task's methods included.
        drop(callbacks);
        drop(callback);
        1
    }

    /// A handle to the task without its value: what
    /// [`current_task`](super::current_task) gives. It names and cancels
    /// the task, and tells whether and how it ended after this handle was
    /// moved into [`wait_for`](super::wait_for), [`shield`](super::shield)
    /// or [`gather`](super::gather).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio;
    /// aio::run(async {
    ///     let task = aio::create_task(aio::sleep(Duration::from_secs(60))).with_name("t");
    ///     let watch = task.task_ref();
    ///     assert_eq!(&*watch.name(), "t");
    ///     let _ = aio::wait_for(task, Duration::from_millis(5)).await;
    ///     assert!(watch.is_done() && watch.is_cancelled());
    /// })
    /// .unwrap();
    /// ```
    ///
    /// A `Task` is not [`AsRef`]: the method that looked like it is this one.
    ///
    /// ```compile_fail
    /// concur::aio::run(async {
    ///     let task = concur::aio::create_task(async {});
    ///     let _ = task.as_ref().name();
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// The task object itself, which Python code keeps after passing it on.
    pub fn task_ref(&self) -> TaskRef {
        TaskRef::from_header(self.core.clone())
    }

    /// Marks the task as looked after by the library (a group, a
    /// thread-side future), so debug mode does not warn when the handle goes.
    pub(crate) fn mark_awaited(&self) {
        self.core.header.awaited.set(true);
    }

    /// Has the awaiting future be told through `signal` as `index`.
    pub(crate) fn watch(&self, signal: &Rc<Signal>, index: usize) {
        if self.is_done() {
            signal.notify(index);
        } else {
            *self.core.awaiter.borrow_mut() = Awaiter::Signal(signal.clone(), index);
        }
    }

    /// Moves the value out of a finished task. An error stays (a copy is
    /// returned), so that `exception` and `result` still tell how the task
    /// ended, through a [`TaskRef`] too.
    pub(crate) fn take_output(&self) -> Result<T, Error> {
        self.core.retrieved.set(true);
        self.core.header.awaited.set(true);
        let mut output = self.core.output.borrow_mut();
        if let Output::Ready(Err(error)) = &*output {
            return Err(error.clone());
        }
        match std::mem::replace(&mut *output, Output::Taken) {
            Output::Ready(outcome) => outcome,
            Output::Taken => Err(Error::Taken),
            Output::Empty => Err(Error::NotDone),
        }
    }

    /// Passes a pending cancellation of the current task on to this one.
    pub(crate) fn forward_cancellation(&self) {
        if !self.is_done() {
            if let Some(message) = forward_pending() {
                self.core.header.cancel(message);
            }
        }
    }

    /// Cancels with the message, or none, that the awaiting task was given.
    pub(crate) fn cancel_passed_on(&self, message: Option<Arc<str>>) -> bool {
        self.core.header.cancel(message)
    }
}

/// Awaiting a task gives its value, or how it failed. A `Task` is not a
/// [`Future`] itself but turns into one ([`TaskFuture`]) when awaited, so
/// that the helpers that take tasks ([`gather`](super::gather),
/// [`wait`](super::wait) …) can take any future as well, through
/// [`IntoTask`].
impl<T: 'static> std::future::IntoFuture for Task<T> {
    type Output = Result<T, Error>;
    type IntoFuture = TaskFuture<T>;

    fn into_future(self) -> TaskFuture<T> {
        TaskFuture { task: self }
    }
}

/// The future of awaiting a [`Task`]: its value, or [`Error::Cancelled`] /
/// [`Error::Panicked`] (or [`Error::Failed`] for a task of a
/// [`TaskGroup`](super::TaskGroup)).
///
/// # Examples
///
/// ```
/// use std::future::IntoFuture;
/// use concur::aio;
///
/// aio::run(async {
///     let awaiting = aio::create_task(async { 3 }).into_future();
///     assert_eq!(awaiting.await, Ok(3));
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// Dropping it leaves the task running; its value is lost.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct TaskFuture<T> {
    task: Task<T>,
}

impl<T> Unpin for TaskFuture<T> {}

impl<T: 'static> Future for TaskFuture<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, Error>> {
        self.get_mut().task.poll_with(cx, true)
    }
}

/// What the helpers that await many tasks take: a [`Task`], or any future,
/// which is started as a task of the running loop as
/// [`create_task`](super::create_task) does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio;
///
/// async fn double(n: u64) -> u64 {
///     aio::sleep(Duration::from_millis(n)).await.unwrap();
///     n * 2
/// }
///
/// aio::run(async {
///     // Futures: gather starts each as a task, as Python's does a coroutine.
///     assert_eq!(aio::gather([3, 1, 2].map(double)).await, Ok(vec![6, 2, 4]));
///     // Tasks: gathered as they are.
///     let tasks = [3, 1].map(|n| aio::create_task(double(n)));
///     assert_eq!(aio::gather(tasks).await, Ok(vec![6, 2]));
/// })
/// .unwrap();
/// ```
///
/// # Panics
///
/// [`into_task`](Self::into_task) of a future panics outside a running
/// loop, as `create_task` does.
///
/// # Python
///
/// `asyncio.ensure_future(aw)`: what `gather`, `wait`, `as_completed` and
/// `shield` do to the coroutines they are given.
pub trait IntoTask {
    /// The value of the task.
    type Output: 'static;

    /// The task: itself, or the future started as a task.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, IntoTask};
    /// aio::run(async {
    ///     let task = async { 'x' }.into_task();
    ///     assert_eq!(task.await, Ok('x'));
    /// })
    /// .unwrap();
    /// ```
    fn into_task(self) -> Task<Self::Output>;
}

impl<T: 'static> IntoTask for Task<T> {
    type Output = T;

    fn into_task(self) -> Task<T> {
        self
    }
}

impl<F> IntoTask for F
where
    F: Future + 'static,
    F::Output: 'static,
{
    type Output = F::Output;

    fn into_task(self) -> Task<F::Output> {
        // What `aio::create_task` does, here so that this file does not
        // depend on the loop's, which depends on it.
        match context::with_running(|state| spawn(state, self, Ok)) {
            Ok(task) => task,
            Err(error) => panic!("aio::create_task: {error}"),
        }
    }
}

impl<T: 'static> Task<T> {
    /// Polls for the outcome; `forward` passes a cancellation of the
    /// awaiting task on to this one (all but `shield` do).
    pub(crate) fn poll_with(&mut self, cx: &mut Context<'_>, forward: bool) -> Poll<Result<T, Error>> {
        let this = self;
        this.core.header.awaited.set(true);
        if !this.is_done() {
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

#[cfg(test)]
mod tests;
