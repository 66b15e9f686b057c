//! The event loop: [`EventLoop`] runs and closes a loop, [`RunningLoop`]
//! is what code on the loop calls, and the free functions (`run`,
//! `create_task`, `running_loop`, `all_tasks`) reach the loop running on
//! this thread.
//!
//! The loop's state and the thread's running loop are in `context.rs`, its
//! timers in `timers.rs`; this file is the public face over them.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::awaitable::Awaitable;
use super::callback::Handle;
use super::context::{self, Drive, LoopState, RunGuard};
use super::error::{Error, LoopError};
use super::exception::{self, ExceptionContext, ExceptionHandler};
use super::handle::LoopHandle;
use super::header::{TaskRef, TaskState};
use super::lend::lend;
use super::task::{self, Task};
use super::timers::TimerHandle;

/// Slow steps are reported in debug mode from this long on, as Python's
/// `loop.slow_callback_duration`.
const DEFAULT_SLOW: Duration = Duration::from_millis(100);

/// The environment variable that turns debug mode on for every new loop.
pub const DEBUG_ENV: &str = "CONCUR_AIO_DEBUG";

/// Sets up an [`EventLoop`]: debug mode and its threshold.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::EventLoop;
///
/// let lp = EventLoop::builder().debug(true).slow_callback_duration(Duration::from_millis(50)).build().unwrap();
/// assert!(lp.debug());
/// ```
#[derive(Debug, Clone)]
pub struct EventLoopBuilder {
    debug: Option<bool>,
    slow: Duration,
}

impl EventLoopBuilder {
    /// Debug mode: warn through `tracing` about task steps and callbacks
    /// slower than the threshold, and about tasks dropped without being
    /// awaited. Off unless set here or by the `CONCUR_AIO_DEBUG` environment
    /// variable.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::EventLoop::builder().debug(false).build().unwrap().debug());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.set_debug(True)`, `PYTHONASYNCIODEBUG=1`.
    pub fn debug(mut self, on: bool) -> EventLoopBuilder {
        self.debug = Some(on);
        self
    }

    /// The step duration debug mode reports from (default 100 ms).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = concur::aio::EventLoop::builder().slow_callback_duration(std::time::Duration::from_millis(10));
    /// # drop(builder);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.slow_callback_duration`.
    pub fn slow_callback_duration(mut self, threshold: Duration) -> EventLoopBuilder {
        self.slow = threshold;
        self
    }

    /// Builds the loop.
    ///
    /// # Errors
    ///
    /// [`LoopError::Start`] if the system refuses the runtime's resources.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::builder().build().unwrap();
    /// assert_eq!(lp.run_until_complete(async { 1 + 1 }), Ok(2));
    /// ```
    pub fn build(self) -> Result<EventLoop, LoopError> {
        let debug =
            self.debug.unwrap_or_else(|| std::env::var(DEBUG_ENV).is_ok_and(|value| !value.is_empty() && value != "0"));
        let state = LoopState::new(debug.then_some(self.slow))?;
        Ok(EventLoop { lp: RunningLoop { state } })
    }
}

/// An asyncio-style event loop: runs tasks, callbacks and timers on the
/// thread that owns it.
///
/// Inside is a tokio current-thread runtime, so tokio's sockets, timers and
/// channels work in its tasks. The loop stays on its thread; other threads
/// reach it through a [`LoopHandle`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio::{self, EventLoop};
///
/// let lp = EventLoop::new().unwrap();
/// let greeting = lp.create_task(async {
///     aio::sleep(Duration::from_millis(5)).await?;
///     Ok::<_, aio::Cancelled>("hello")
/// });
/// // The task's value, or one aio::Error for the loop's failure and the task's.
/// let value = lp.run_until_complete(greeting).unwrap();
/// assert_eq!(value, Ok("hello")); // the body's own Result
/// lp.close().unwrap();
/// ```
///
/// # Python
///
/// `asyncio.new_event_loop()` and its methods. The clock is monotonic, as
/// Python's `loop.time()`, but in [`Instant`]s.
///
/// The calls that need no ownership of the loop (`create_task`,
/// `call_soon`, `call_later`, `call_at`, `call_soon_threadsafe`, `stop`,
/// `time`, `handle`, `is_running`, `is_closed`, `debug`) are
/// [`RunningLoop`]'s, reached through `Deref`: the same calls a task makes
/// on the loop [`running_loop`] gives it. What is left here runs and closes
/// the loop, which only its owner may do.
pub struct EventLoop {
    lp: RunningLoop,
}

impl Deref for EventLoop {
    type Target = RunningLoop;

    fn deref(&self) -> &RunningLoop {
        &self.lp
    }
}

impl EventLoop {
    /// A new loop, in debug mode if `CONCUR_AIO_DEBUG` is set.
    ///
    /// # Errors
    ///
    /// [`LoopError::Start`] if the system refuses the runtime's resources.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(!lp.is_running());
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.new_event_loop()`.
    pub fn new() -> Result<EventLoop, LoopError> {
        EventLoop::builder().build()
    }

    /// A builder, for debug mode.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::builder().debug(true).build().unwrap();
    /// assert!(lp.debug());
    /// ```
    pub fn builder() -> EventLoopBuilder {
        EventLoopBuilder { debug: None, slow: DEFAULT_SLOW }
    }

    /// Runs the loop until `main` finishes; returns its output. Tasks it
    /// started and that are not finished stay, to run the next time the loop
    /// runs.
    ///
    /// A future runs as a task of the loop, after the work already ready:
    /// [`current_task`](super::current_task) names it and it can be
    /// cancelled like any task. Given a [`Task`], the loop runs until the
    /// task finishes and returns its value, or one [`Error`] that is the
    /// loop's ([`Error::Loop`]) or the task's (see [`Awaitable`]).
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`], [`LoopError::AlreadyRunning`] (called from
    /// inside this loop: await instead), [`LoopError::OtherLoopRunning`];
    /// [`LoopError::Cancelled`] if the main task ended cancelled;
    /// [`LoopError::Stopped`] if [`stop`](RunningLoop::stop) came first
    /// (the future is dropped then: it may borrow from the caller, so it
    /// cannot outlive this call). For a task, these as [`Error::Loop`]
    /// (a cancellation as [`Error::Cancelled`]), and the task's own error.
    ///
    /// # Panics
    ///
    /// If `fut` panics, the panic (its message) goes on from here.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert_eq!(lp.run_until_complete(async { 6 * 7 }), Ok(42));
    /// ```
    ///
    /// # Python
    ///
    /// `loop.run_until_complete(coro)`.
    pub fn run_until_complete<M: Awaitable>(&self, main: M) -> Result<M::Output, M::Error> {
        M::answer(self.run_future(main.into_awaited()))
    }

    fn run_future<F: Future>(&self, fut: F) -> Result<F::Output, LoopError> {
        let _running = RunGuard::enter(&self.state)?;
        let output = Rc::new(RefCell::new(None));
        let body = {
            let output = output.clone();
            async move {
                let value = fut.await;
                *output.borrow_mut() = Some(value);
            }
        };
        // The main future runs as a task of the loop, in its turn with the
        // others, as Python's does; but it may borrow from the caller, and a
        // task must be 'static: the task is lent it for this call.
        let ended = lend(Box::pin(body), |lent| {
            let mut task = task::spawn(&self.state, lent, Ok);
            self.state.try_with_local(|local| {
                local.block_on(
                    &self.state.runtime,
                    Drive::new(&self.state, MainWait { task: &mut task, state: &self.state, ended: None }),
                )
            })
        })?;
        match ended {
            MainEnded::Done(Ok(())) => Ok(output.borrow_mut().take().expect("a finished main future left its value")),
            MainEnded::Done(Err(Error::Cancelled(cancelled))) => Err(LoopError::Cancelled(cancelled)),
            MainEnded::Done(Err(Error::Panicked(message))) => std::panic::resume_unwind(Box::new(message)),
            MainEnded::Done(Err(other)) => unreachable!("a main task ends done, cancelled or panicked, not {other}"),
            MainEnded::Stopped => Err(LoopError::Stopped),
        }
    }

    /// Runs the loop until [`stop`](RunningLoop::stop) is called (from a
    /// task, a callback, or another thread through a [`LoopHandle`]). A stop
    /// asked for before the loop runs lets the ready work run once, then
    /// returns.
    ///
    /// # Errors
    ///
    /// As [`run_until_complete`](Self::run_until_complete).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concur::aio::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// lp.call_later(Duration::from_millis(5), move || handle.stop());
    /// lp.run_forever().unwrap(); // returns after about 5 ms
    /// ```
    ///
    /// # Python
    ///
    /// `loop.run_forever()`.
    pub fn run_forever(&self) -> Result<(), LoopError> {
        let _running = RunGuard::enter(&self.state)?;
        self.state.try_with_local(|local| {
            local.block_on(&self.state.runtime, Drive::new(&self.state, StopRequested { state: &self.state }))
        })
    }

    /// Closes the loop: drops the tasks and callbacks left, and refuses any
    /// use after. Closing twice is fine.
    ///
    /// # Errors
    ///
    /// [`LoopError::CloseWhileRunning`] if the loop runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// lp.close().unwrap();
    /// assert!(lp.is_closed());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.close()`.
    pub fn close(&self) -> Result<(), LoopError> {
        if self.state.is_running() {
            return Err(LoopError::CloseWhileRunning);
        }
        self.state.close();
        Ok(())
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        if !self.state.is_running() {
            self.state.close();
        }
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .field("debug", &self.debug())
            .finish()
    }
}

enum MainEnded {
    Done(Result<(), Error>),
    Stopped,
}

/// What `run_until_complete` blocks on: the main task's end, or a stop.
///
/// The main task's end stops the loop one turn later, as Python's
/// `run_until_complete` stops it from a done callback: what the main task
/// made ready in its last step (tasks it created, say) still runs once.
struct MainWait<'a> {
    task: &'a mut Task<()>,
    state: &'a LoopState,
    ended: Option<Result<(), Error>>,
}

impl Future for MainWait<'_> {
    type Output = MainEnded;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MainEnded> {
        if let Some(outcome) = self.ended.take() {
            return Poll::Ready(MainEnded::Done(outcome));
        }
        if let Poll::Ready(outcome) = self.task.poll_with(cx, false) {
            self.ended = Some(outcome);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.state.stopping.replace(false) {
            return Poll::Ready(MainEnded::Stopped);
        }
        *self.state.stop_waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Finishes when the loop is asked to stop. `Drive` polls it after a turn,
/// so what was ready runs once even when stop came first.
struct StopRequested<'a> {
    state: &'a LoopState,
}

impl Future for StopRequested<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.stopping.replace(false) {
            return Poll::Ready(());
        }
        *self.state.stop_waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The calls of an event loop that need no ownership of it: the loop
/// [`running_loop`] returns to code inside it, and what an [`EventLoop`]
/// dereferences to.
///
/// A clone keeps the loop's state alive, never the loop open: only the
/// `EventLoop` runs and closes it, and calls made after it closed say so.
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// aio::run(async {
///     let lp = aio::running_loop().unwrap();
///     lp.call_soon(|| println!("soon"));
///     assert!(lp.is_running());
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// The loop `asyncio.get_running_loop()` returns.
#[derive(Clone)]
pub struct RunningLoop {
    pub(super) state: Rc<LoopState>,
}

impl RunningLoop {
    /// Whether the loop is running now.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{self, EventLoop};
    /// let lp = EventLoop::new().unwrap();
    /// assert!(!lp.is_running());
    /// assert!(lp.run_until_complete(async { aio::running_loop().unwrap().is_running() }).unwrap());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.is_running()`.
    pub fn is_running(&self) -> bool {
        self.state.is_running()
    }

    /// Whether the loop was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::EventLoop::new().unwrap().is_closed());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.is_closed()`.
    pub fn is_closed(&self) -> bool {
        self.state.is_closed()
    }

    /// Whether debug mode is on.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::builder().debug(false).build().unwrap();
    /// assert!(!lp.debug());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.get_debug()`.
    pub fn debug(&self) -> bool {
        self.state.slow.is_some()
    }

    /// The loop's clock: now, on the monotonic clock timers use.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// let start = lp.time();
    /// assert!(lp.time() >= start);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.time()`.
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// Starts running `fut` as a task of this loop (when the loop runs);
    /// returns its handle.
    ///
    /// # Panics
    ///
    /// If the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// let task = lp.create_task(async { "ran" }).with_name("first");
    /// assert_eq!(lp.run_until_complete(task), Ok("ran"));
    /// ```
    ///
    /// # Python
    ///
    /// `loop.create_task(coro, name=...)`.
    pub fn create_task<F>(&self, fut: F) -> Task<F::Output>
    where
        F: IntoFuture + 'static,
        F::Output: 'static,
    {
        task::spawn(&self.state, fut.into_future(), Ok)
    }

    /// Runs `callback` on the loop soon, after the work already ready, in
    /// the order of the calls.
    ///
    /// # Panics
    ///
    /// If the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use concur::aio::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let order = Rc::new(RefCell::new(Vec::new()));
    /// for n in 0..3 {
    ///     let order = order.clone();
    ///     lp.call_soon(move || order.borrow_mut().push(n));
    /// }
    /// lp.run_until_complete(concur::aio::sleep(std::time::Duration::ZERO)).unwrap().unwrap();
    /// assert_eq!(*order.borrow(), [0, 1, 2]);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_soon(callback)`.
    pub fn call_soon(&self, callback: impl FnOnce() + 'static) -> Handle {
        self.state.call_soon(callback)
    }

    /// Runs `callback` on the loop after `delay`.
    ///
    /// # Panics
    ///
    /// If the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// let timer = lp.call_later(Duration::from_secs(60), || unreachable!());
    /// timer.cancel();
    /// assert!(timer.is_cancelled());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_later(delay, callback)`.
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.state.call_at(Instant::now() + delay, callback)
    }

    /// Runs `callback` on the loop at `when` (on [`time`](Self::time)'s
    /// clock). Timers run in the order of their deadlines; equal deadlines
    /// in the order they were set.
    ///
    /// # Panics
    ///
    /// If the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use concur::aio::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let fired = Rc::new(Cell::new(false));
    /// let flag = fired.clone();
    /// lp.call_at(lp.time() + Duration::from_millis(2), move || flag.set(true));
    /// lp.run_until_complete(concur::aio::sleep(Duration::from_millis(20))).unwrap().unwrap();
    /// assert!(fired.get());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_at(when, callback)`.
    pub fn call_at(&self, when: Instant, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.state.call_at(when, callback)
    }

    /// Runs `callback` on the loop soon; the thread-safe form, for a
    /// callback sent from another thread (see [`LoopHandle`]).
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`] if the loop is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// lp.call_soon_threadsafe(|| println!("on the loop")).unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_soon_threadsafe(callback)`.
    pub fn call_soon_threadsafe(&self, callback: impl FnOnce() + Send + 'static) -> Result<Handle, LoopError> {
        // Called on the loop's own thread (an `EventLoop` never leaves it):
        // the same queue as `call_soon`, so the two keep their order.
        if self.is_closed() {
            return Err(LoopError::Closed);
        }
        Ok(self.state.call_soon(callback))
    }

    /// Asks the running loop to stop: [`run_forever`](EventLoop::run_forever)
    /// returns once the work ready now has run;
    /// [`run_until_complete`](EventLoop::run_until_complete) returns
    /// [`LoopError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// lp.stop(); // before it runs: run_forever runs the ready work once
    /// lp.run_forever().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `loop.stop()`.
    pub fn stop(&self) {
        self.state.stop();
    }

    /// A handle for other threads: `Send`, `Clone`, and usable after the
    /// loop is gone (its calls then say the loop is closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// let answer = std::thread::spawn(move || handle.run_coroutine_threadsafe(async { 40 + 2 }).unwrap())
    ///     .join()
    ///     .unwrap();
    /// lp.run_until_complete(concur::aio::sleep(std::time::Duration::from_millis(10))).unwrap().unwrap();
    /// assert_eq!(answer.result(), Ok(42));
    /// ```
    pub fn handle(&self) -> LoopHandle {
        LoopHandle::new(self.state.remote.clone())
    }
}

impl fmt::Debug for RunningLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningLoop").finish_non_exhaustive()
    }
}

/// The loop running on this thread.
///
/// # Errors
///
/// [`LoopError::NoRunningLoop`] outside a running loop.
///
/// # Examples
///
/// ```
/// use concur::aio::{self, LoopError};
///
/// assert_eq!(aio::running_loop().unwrap_err(), LoopError::NoRunningLoop);
/// aio::run(async { assert!(aio::running_loop().is_ok()) }).unwrap();
/// ```
///
/// # Python
///
/// `asyncio.get_running_loop()`.
pub fn running_loop() -> Result<RunningLoop, LoopError> {
    context::with_running(|state| RunningLoop { state: state.clone() })
}

/// Starts running `fut` as a task of the running loop; returns its handle.
///
/// # Panics
///
/// Outside a running loop (use [`RunningLoop::create_task`] on an
/// [`EventLoop`] there, or [`running_loop`] to check first).
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// let sum = aio::run(async {
///     let a = aio::create_task(async { 1 });
///     let b = aio::create_task(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, Ok(3));
/// ```
///
/// # Python
///
/// `asyncio.create_task(coro)`.
pub fn create_task<F>(fut: F) -> Task<F::Output>
where
    F: IntoFuture + 'static,
    F::Output: 'static,
{
    match context::with_running(|state| task::spawn(state, fut.into_future(), Ok)) {
        Ok(task) => task,
        Err(error) => panic!("aio::create_task: {error}"),
    }
}

/// Runs `main` on a new event loop until it finishes, closes the loop, and
/// returns `main`'s output.
///
/// Tasks still running when `main` finishes are cancelled, and the loop runs
/// until they end, so that their cleanup runs.
///
/// # Errors
///
/// [`LoopError::OtherLoopRunning`] when called inside a running loop;
/// [`LoopError::Start`] if the loop cannot be built;
/// [`LoopError::Cancelled`] if `main` ended cancelled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::aio;
///
/// let answer = aio::run(async {
///     aio::sleep(Duration::from_millis(1)).await.unwrap();
///     42
/// });
/// assert_eq!(answer, Ok(42));
/// ```
///
/// # Python
///
/// `asyncio.run(main())`.
pub fn run<F: IntoFuture>(main: F) -> Result<F::Output, LoopError> {
    if context::is_loop_running() {
        return Err(LoopError::OtherLoopRunning);
    }
    let lp = EventLoop::new()?;
    let output = lp.run_future(main.into_future());
    lp.finish_tasks();
    lp.close()?;
    output
}

impl EventLoop {
    /// Cancels the tasks left and runs the loop until they end, so that
    /// their cleanup runs (`asyncio.run`'s last step).
    fn finish_tasks(&self) {
        let left = self.state.unfinished();
        if left.is_empty() {
            return;
        }
        for task in &left {
            task.cancel();
        }
        // Tasks may await in their cleanup: look again each time one ends.
        let _ = self.run_future(std::future::poll_fn(|cx| {
            if left.iter().all(|task| matches!(task.state(), TaskState::Done | TaskState::Cancelled)) {
                return Poll::Ready(());
            }
            *self.state.finished_waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }));
    }
}

/// The tasks of the running loop that have not finished.
///
/// # Errors
///
/// [`LoopError::NoRunningLoop`] outside a running loop.
///
/// # Examples
///
/// ```
/// use concur::aio;
///
/// aio::run(async {
///     let _napper = aio::create_task(aio::sleep(std::time::Duration::from_millis(5)));
///     // This task (the main one) and the napper.
///     assert_eq!(aio::all_tasks().unwrap().len(), 2);
/// })
/// .unwrap();
/// ```
///
/// # Python
///
/// `asyncio.all_tasks()`.
pub fn all_tasks() -> Result<Vec<TaskRef>, LoopError> {
    context::with_running(|state| state.unfinished())
}

impl RunningLoop {
    /// Sets the handler the loop calls with what went wrong where nobody
    /// could be told: a callback that panicked, a task's panic that was
    /// never read. `None` puts the default back
    /// ([`default_exception_handler`](super::default_exception_handler)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use concur::aio::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let record = seen.clone();
    /// lp.set_exception_handler(Some(Rc::new(move |context| record.borrow_mut().push(context.to_string()))));
    /// lp.call_soon(|| panic!("oops"));
    /// lp.run_until_complete(async {}).unwrap();
    /// assert_eq!(*seen.borrow(), ["Exception in callback: the task panicked: oops"]);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.set_exception_handler(handler)`; the handler gets the context
    /// only (the loop is [`running_loop`](super::running_loop)).
    pub fn set_exception_handler(&self, handler: Option<ExceptionHandler>) {
        *self.state.exception_handler.borrow_mut() = handler;
    }

    /// The handler set by [`set_exception_handler`](Self::set_exception_handler),
    /// if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(lp.get_exception_handler().is_none());
    /// lp.set_exception_handler(Some(std::rc::Rc::new(|_| {})));
    /// assert!(lp.get_exception_handler().is_some());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.get_exception_handler()`.
    pub fn get_exception_handler(&self) -> Option<ExceptionHandler> {
        self.state.exception_handler.borrow().clone()
    }

    /// Calls the loop's exception handler with `context`, or the default
    /// one. A handler that panics is reported by the default one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use concur::aio::{EventLoop, ExceptionContext};
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let calls = Rc::new(Cell::new(0));
    /// let count = calls.clone();
    /// lp.set_exception_handler(Some(Rc::new(move |_| count.set(count.get() + 1))));
    /// lp.call_exception_handler(&ExceptionContext::new("reported by hand"));
    /// assert_eq!(calls.get(), 1);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_exception_handler(context)`.
    pub fn call_exception_handler(&self, context: &ExceptionContext) {
        let handler = self.get_exception_handler();
        exception::call(handler.as_ref(), context);
    }

    /// The default handler, as [`default_exception_handler`](super::default_exception_handler): for a
    /// handler of the program's own to fall back on.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{EventLoop, ExceptionContext};
    /// let lp = EventLoop::new().unwrap();
    /// lp.default_exception_handler(&ExceptionContext::new("logged through tracing"));
    /// ```
    ///
    /// # Python
    ///
    /// `loop.default_exception_handler(context)`.
    pub fn default_exception_handler(&self, context: &ExceptionContext) {
        exception::default_exception_handler(context);
    }
}
