//! The event loop: a tokio current-thread runtime and a `LocalSet`, with
//! Python's calls around them.
//!
//! Tasks and `call_soon` callbacks are tokio tasks of the `LocalSet`, whose
//! run queue is first in, first out — the order Python's ready queue keeps.
//! Timers (`call_later`, `call_at`) are not tokio sleeps each: tokio's timer
//! wheel fires deadlines of the same millisecond in no set order, and Python
//! runs timers by deadline, so the loop keeps its own heap ordered by
//! (deadline, arrival) and one tokio sleep for its earliest entry.

use std::cell::{Cell, OnceCell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::LocalSet;

use super::error::{Error, LoopError};
use super::handle::{LoopHandle, Message, Remote};
use super::task::{self, HasHeader, Task, TaskRef, TaskState};
use crate::executor::{Shutdown, ThreadPool};

/// Slow steps are reported in debug mode from this long on, as Python's
/// `loop.slow_callback_duration`.
const DEFAULT_SLOW: Duration = Duration::from_millis(100);

/// The environment variable that turns debug mode on for every new loop.
pub const DEBUG_ENV: &str = "CONCUR_AIO_DEBUG";

thread_local! {
    /// The loop running on this thread.
    static RUNNING: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

pub(crate) struct Inner {
    runtime: Runtime,
    /// `None` once closed; dropping it drops every task left.
    local: RefCell<Option<LocalSet>>,
    stopping: Cell<bool>,
    stop_waker: RefCell<Option<Waker>>,
    next_task: Cell<u64>,
    slow: Option<Duration>,
    timers: RefCell<BinaryHeap<Reverse<Timer>>>,
    timer_seq: Cell<u64>,
    timer_waker: RefCell<Option<Waker>>,
    timer_driver: Cell<bool>,
    pub(crate) remote: Arc<Remote>,
    receiver: RefCell<Option<mpsc::UnboundedReceiver<Message>>>,
    /// The pool `to_thread` runs on, made when first needed.
    executor: OnceCell<ThreadPool>,
    tasks: RefCell<Registry>,
    /// Woken whenever a task finishes (`aio::run`'s last step waits on it).
    finished_waker: RefCell<Option<Waker>>,
}

/// The unfinished tasks of a loop: a slab, so that a task joins and leaves
/// in constant time.
#[derive(Default)]
struct Registry {
    slots: Vec<Option<Weak<dyn HasHeader>>>,
    free: Vec<usize>,
}

/// Takes a finished task out of the running loop's registry.
pub(crate) fn deregister(slot: usize) {
    RUNNING.with(|running| {
        if let Some(inner) = &*running.borrow() {
            let mut tasks = inner.tasks.borrow_mut();
            if let Some(entry) = tasks.slots.get_mut(slot) {
                if entry.take().is_some() {
                    tasks.free.push(slot);
                }
            }
            drop(tasks);
            if let Some(waker) = inner.finished_waker.borrow_mut().take() {
                waker.wake();
            }
        }
    });
}

struct Timer {
    when: Instant,
    seq: u64,
    callback: Box<dyn FnOnce()>,
    cancelled: Arc<AtomicBool>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Timer) -> bool {
        (self.when, self.seq) == (other.when, other.seq)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Timer) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Timer) -> std::cmp::Ordering {
        (self.when, self.seq).cmp(&(other.when, other.seq))
    }
}

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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LoopError::Start(e.to_string()))?;
        let debug =
            self.debug.unwrap_or_else(|| std::env::var(DEBUG_ENV).is_ok_and(|value| !value.is_empty() && value != "0"));
        let (sender, receiver) = mpsc::unbounded_channel();
        let inner = Rc::new(Inner {
            runtime,
            local: RefCell::new(Some(LocalSet::new())),
            stopping: Cell::new(false),
            stop_waker: RefCell::new(None),
            next_task: Cell::new(1),
            slow: debug.then_some(self.slow),
            timers: RefCell::new(BinaryHeap::new()),
            timer_seq: Cell::new(0),
            timer_waker: RefCell::new(None),
            timer_driver: Cell::new(false),
            remote: Arc::new(Remote::new(sender)),
            receiver: RefCell::new(Some(receiver)),
            executor: OnceCell::new(),
            tasks: RefCell::new(Registry::default()),
            finished_waker: RefCell::new(None),
        });
        // The task that runs what other threads send is the loop's first,
        // so that their callbacks queue up from the start.
        inner.with_local("a new loop", |local| inner.ensure_pump(local));
        Ok(EventLoop { lp: RunningLoop { inner } })
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
/// let value = lp.run_until_complete(greeting).unwrap();
/// assert_eq!(value.unwrap().unwrap(), "hello");
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

    /// Runs the loop until `fut` finishes; returns its output. Tasks it
    /// started and that are not finished stay, to run the next time the loop
    /// runs.
    ///
    /// `fut` runs as a task of the loop, after the work already ready:
    /// [`current_task`](super::current_task) names it and it can be
    /// cancelled like any task.
    ///
    /// # Errors
    ///
    /// [`LoopError::Closed`], [`LoopError::AlreadyRunning`] (called from
    /// inside this loop: await instead), [`LoopError::OtherLoopRunning`];
    /// [`LoopError::Cancelled`] if the main task ended cancelled;
    /// [`LoopError::Stopped`] if [`stop`](RunningLoop::stop) came first
    /// (`fut` is dropped then: it may borrow from the caller, so it cannot
    /// outlive this call).
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
    pub fn run_until_complete<F: Future>(&self, fut: F) -> Result<F::Output, LoopError> {
        let _running = RunGuard::enter(&self.inner)?;
        let local = self.inner.local.borrow();
        let local = local.as_ref().ok_or(LoopError::Closed)?;
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
        // task must be 'static. So the task polls it through a slot that
        // this call empties before it returns or unwinds.
        let slot = Rc::new(RefCell::new(Some(erase(Box::pin(body)))));
        let _empty = EmptyOnExit(slot.clone());
        let mut task = self.inner.spawn_task(MainBody { slot }, Ok);
        let ended = local.block_on(&self.inner.runtime, MainWait { task: &mut task, inner: &self.inner });
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
        let _running = RunGuard::enter(&self.inner)?;
        let local = self.inner.local.borrow();
        let local = local.as_ref().ok_or(LoopError::Closed)?;
        local.block_on(&self.inner.runtime, StopRequested { inner: &self.inner, yielded: false });
        Ok(())
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
        if self.inner.is_running() {
            return Err(LoopError::CloseWhileRunning);
        }
        self.inner.close();
        Ok(())
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        if !self.inner.is_running() {
            self.inner.close();
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

impl Inner {
    /// Whether the loop runs now; kept where its handles can read it too.
    fn is_running(&self) -> bool {
        self.remote.running.load(Ordering::Acquire)
    }

    fn next_id(&self) -> u64 {
        let id = self.next_task.get();
        self.next_task.set(id + 1);
        id
    }

    fn with_local<R>(&self, what: &str, f: impl FnOnce(&LocalSet) -> R) -> R {
        match &*self.local.borrow() {
            Some(local) => f(local),
            None => panic!("{what} on a closed event loop: create a new EventLoop"),
        }
    }

    pub(crate) fn create_task<F>(&self, fut: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_task(fut, Ok)
    }

    /// Spawns `fut` as a task whose outcome `outcome` makes of its output.
    pub(crate) fn spawn_task<F, T>(&self, fut: F, outcome: fn(F::Output) -> Result<T, Error>) -> Task<T>
    where
        F: Future + 'static,
        T: 'static,
    {
        let (driver, task) = task::new_task(fut, outcome, self.next_id(), self.slow);
        self.with_local("create_task", |local| drop(local.spawn_local(driver)));
        self.register(task.as_ref());
        task
    }

    /// Keeps a weak reference to every unfinished task, for `all_tasks`
    /// and for `aio::run`'s last step. A finished task leaves at once
    /// ([`deregister`]): a weak reference kept longer would keep its memory
    /// from being freed.
    fn register(&self, task: TaskRef) {
        let mut tasks = self.tasks.borrow_mut();
        let weak = task.downgrade();
        let slot = match tasks.free.pop() {
            Some(slot) => {
                tasks.slots[slot] = Some(weak);
                slot
            }
            None => {
                tasks.slots.push(Some(weak));
                tasks.slots.len() - 1
            }
        };
        task.raw().set_slot(slot);
    }

    /// The tasks of this loop not finished yet.
    pub(crate) fn unfinished(&self) -> Vec<TaskRef> {
        self.tasks
            .borrow()
            .slots
            .iter()
            .flatten()
            .filter_map(std::rc::Weak::upgrade)
            .filter(|task| !task.header().is_done())
            .map(TaskRef::from_header)
            .collect()
    }

    fn call_soon(&self, callback: impl FnOnce() + 'static) -> Handle {
        let handle = Handle::new();
        let cancelled = handle.cancelled.clone();
        let slow = self.slow;
        self.with_local("call_soon", |local| {
            drop(local.spawn_local(async move {
                if !cancelled.load(Ordering::Relaxed) {
                    run_callback(callback, slow);
                }
            }))
        });
        handle
    }

    fn call_at(self: &Rc<Self>, when: Instant, callback: impl FnOnce() + 'static) -> TimerHandle {
        let handle = Handle::new();
        self.with_local("call_at", |local| {
            if !self.timer_driver.replace(true) {
                drop(local.spawn_local(TimerDriver { inner: Rc::downgrade(self), sleep: None }));
            }
        });
        let seq = self.timer_seq.get();
        self.timer_seq.set(seq + 1);
        let earliest = self.timers.borrow().peek().is_none_or(|Reverse(first)| when < first.when);
        self.timers.borrow_mut().push(Reverse(Timer {
            when,
            seq,
            callback: Box::new(callback),
            cancelled: handle.cancelled.clone(),
        }));
        if earliest {
            if let Some(waker) = self.timer_waker.borrow_mut().take() {
                waker.wake();
            }
        }
        TimerHandle { handle, when }
    }

    /// The loop's default pool: as Python's, `min(32, cores + 4)` threads.
    pub(crate) fn executor(&self) -> &ThreadPool {
        self.executor.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            // Refused only for 0 workers, and this is at least 4.
            ThreadPool::builder()
                .max_workers((cores + 4).min(32))
                .thread_name_prefix("aio-to-thread")
                .build()
                .expect("a pool of 4 or more workers builds")
        })
    }

    fn stop(&self) {
        self.stopping.set(true);
        if let Some(waker) = self.stop_waker.borrow_mut().take() {
            waker.wake();
        }
    }

    fn close(&self) {
        self.remote.close();
        // Tasks dropped now may run code that looks at the loop; let them
        // see it closed.
        let local = self.local.borrow_mut().take();
        drop(local);
        self.receiver.borrow_mut().take();
        self.timers.borrow_mut().clear();
        if let Some(executor) = self.executor.get() {
            executor.shutdown(Shutdown::no_wait().cancel_futures());
        }
    }

    /// Starts the task that runs what other threads send, once.
    fn ensure_pump(&self, local: &LocalSet) {
        if let Some(mut receiver) = self.receiver.borrow_mut().take() {
            drop(local.spawn_local(async move {
                while let Some(message) = receiver.recv().await {
                    run_callback(|| message.run(), None);
                }
            }));
        }
    }
}

/// Runs a callback; a panic in it is logged and the loop goes on, as
/// Python's loop logs a callback's exception.
pub(crate) fn run_callback(callback: impl FnOnce(), slow: Option<Duration>) {
    let started = slow.map(|_| Instant::now());
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(callback)) {
        tracing::error!(panic = %task::panic_message(&*panic), "a callback panicked; the event loop goes on");
    }
    if let (Some(slow), Some(started)) = (slow, started) {
        let took = started.elapsed();
        if took > slow {
            tracing::warn!(took_ms = took.as_millis() as u64, "a callback blocked the event loop");
        }
    }
}

/// Marks the loop running on this thread for as long as it lives.
struct RunGuard;

impl RunGuard {
    fn enter(inner: &Rc<Inner>) -> Result<RunGuard, LoopError> {
        if inner.local.borrow().is_none() {
            return Err(LoopError::Closed);
        }
        if inner.is_running() {
            return Err(LoopError::AlreadyRunning);
        }
        if RUNNING.with(|running| running.borrow().is_some()) || tokio::runtime::Handle::try_current().is_ok() {
            return Err(LoopError::OtherLoopRunning);
        }
        inner.remote.running.store(true, Ordering::Release);
        RUNNING.with(|running| *running.borrow_mut() = Some(inner.clone()));
        Ok(RunGuard)
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Some(inner) = RUNNING.with(|running| running.borrow_mut().take()) {
            inner.stopping.set(false);
            inner.remote.running.store(false, Ordering::Release);
        }
    }
}

/// Runs `f` with the loop running on this thread.
pub(crate) fn with_running<R>(f: impl FnOnce(&Rc<Inner>) -> R) -> Result<R, LoopError> {
    let inner = RUNNING.with(|running| running.borrow().clone()).ok_or(LoopError::NoRunningLoop)?;
    Ok(f(&inner))
}

/// Runs `callback` soon on the running loop, as Python schedules done
/// callbacks; with no loop running (a task finished as its loop closed, a
/// callback added from outside), runs it now.
pub(crate) fn schedule_or_run(callback: Box<dyn FnOnce()>) {
    let callback = RUNNING.with(|running| match &*running.borrow() {
        Some(inner) if inner.local.borrow().is_some() => {
            inner.call_soon(callback);
            None
        }
        _ => Some(callback),
    });
    if let Some(callback) = callback {
        callback();
    }
}

/// The running loop's `stop`, for messages from other threads.
pub(crate) fn stop_running() {
    let _ = with_running(|inner| inner.stop());
}

type MainFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Lets the main future, which may borrow from `run_until_complete`'s
/// caller, be held by a task.
fn erase<'a>(body: Pin<Box<dyn Future<Output = ()> + 'a>>) -> MainFuture {
    // SAFETY: the future is reachable only through the slot that
    // `run_until_complete` empties (dropping it) before it returns or
    // unwinds (`EmptyOnExit`); the task that may outlive the call holds the
    // slot, not the future, and finds it empty. The future cannot hand its
    // borrows to anything longer-lived: tasks it creates must be 'static.
    unsafe { std::mem::transmute::<Pin<Box<dyn Future<Output = ()> + 'a>>, MainFuture>(body) }
}

/// The task of the main future: polls it through the slot.
struct MainBody {
    slot: Rc<RefCell<Option<MainFuture>>>,
}

impl Future for MainBody {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut *self.slot.borrow_mut() {
            Some(body) => body.as_mut().poll(cx),
            None => Poll::Ready(()),
        }
    }
}

struct EmptyOnExit(Rc<RefCell<Option<MainFuture>>>);

impl Drop for EmptyOnExit {
    fn drop(&mut self) {
        let body = self.0.borrow_mut().take();
        drop(body);
    }
}

enum MainEnded {
    Done(Result<(), Error>),
    Stopped,
}

/// What `run_until_complete` blocks on: the main task's end, or a stop.
struct MainWait<'a> {
    task: &'a mut Task<()>,
    inner: &'a Inner,
}

impl Future for MainWait<'_> {
    type Output = MainEnded;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MainEnded> {
        if let Poll::Ready(outcome) = self.task.poll_with(cx, false) {
            return Poll::Ready(MainEnded::Done(outcome));
        }
        if self.inner.stopping.replace(false) {
            return Poll::Ready(MainEnded::Stopped);
        }
        *self.inner.stop_waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Finishes when the loop is asked to stop, after one turn of the ready
/// work.
struct StopRequested<'a> {
    inner: &'a Inner,
    yielded: bool,
}

impl Future for StopRequested<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.yielded {
            // Let what is ready run once, even when stop came first.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.inner.stopping.replace(false) {
            return Poll::Ready(());
        }
        *self.inner.stop_waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Runs the loop's timers in deadline order, sleeping until the first.
struct TimerDriver {
    inner: Weak<Inner>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for TimerDriver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.inner.upgrade() else { return Poll::Ready(()) };
        loop {
            let now = Instant::now();
            let due = {
                let mut timers = inner.timers.borrow_mut();
                match timers.peek() {
                    Some(Reverse(first)) if first.when <= now => timers.pop().map(|Reverse(timer)| timer),
                    _ => None,
                }
            };
            if let Some(timer) = due {
                if !timer.cancelled.load(Ordering::Relaxed) {
                    run_callback(timer.callback, inner.slow);
                }
                continue;
            }
            let next = inner.timers.borrow().peek().map(|Reverse(first)| first.when);
            *inner.timer_waker.borrow_mut() = Some(cx.waker().clone());
            let Some(next) = next else { return Poll::Pending };
            let deadline = tokio::time::Instant::from_std(next);
            let sleep = match &mut self.sleep {
                Some(sleep) => {
                    sleep.as_mut().reset(deadline);
                    sleep
                }
                slot => slot.insert(Box::pin(tokio::time::sleep_until(deadline))),
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

/// A scheduled callback, which can be cancelled until it runs.
///
/// # Examples
///
/// ```
/// let lp = concur::aio::EventLoop::new().unwrap();
/// let handle = lp.call_soon(|| unreachable!("cancelled first"));
/// handle.cancel();
/// lp.run_until_complete(async {}).unwrap();
/// ```
///
/// # Python
///
/// `asyncio.Handle`: `cancel()`, `cancelled()`.
#[derive(Debug, Clone)]
pub struct Handle {
    cancelled: Arc<AtomicBool>,
}

impl Handle {
    pub(crate) fn new() -> Handle {
        Handle { cancelled: Arc::new(AtomicBool::new(false)) }
    }

    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }

    /// Keeps the callback from running, if it has not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// lp.call_soon(|| {}).cancel();
    /// ```
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(!lp.call_soon(|| {}).cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// A callback set to run at a time, which can be cancelled until it runs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let lp = concur::aio::EventLoop::new().unwrap();
/// let timer = lp.call_later(Duration::from_secs(1), || {});
/// assert!(timer.when() > lp.time());
/// ```
///
/// # Python
///
/// `asyncio.TimerHandle`: `when()`, `cancel()`, `cancelled()`.
#[derive(Debug, Clone)]
pub struct TimerHandle {
    handle: Handle,
    when: Instant,
}

impl TimerHandle {
    /// When the callback is set to run.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// let at = lp.time();
    /// assert_eq!(lp.call_at(at, || {}).when(), at);
    /// ```
    pub fn when(&self) -> Instant {
        self.when
    }

    /// Keeps the callback from running, if it has not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// lp.call_later(std::time::Duration::ZERO, || unreachable!()).cancel();
    /// lp.run_until_complete(concur::aio::sleep(std::time::Duration::from_millis(2))).unwrap().unwrap();
    /// ```
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(!lp.call_later(std::time::Duration::ZERO, || {}).cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.handle.cancelled()
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
    inner: Rc<Inner>,
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
        self.inner.is_running()
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
        self.inner.local.borrow().is_none()
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
        self.inner.slow.is_some()
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
    /// assert_eq!(lp.run_until_complete(task).unwrap(), Ok("ran"));
    /// ```
    ///
    /// # Python
    ///
    /// `loop.create_task(coro, name=...)`.
    pub fn create_task<F>(&self, fut: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.inner.create_task(fut)
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
        self.inner.call_soon(callback)
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
    /// assert!(timer.cancelled());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_later(delay, callback)`.
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.inner.call_at(Instant::now() + delay, callback)
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
        self.inner.call_at(when, callback)
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
        Ok(self.inner.call_soon(callback))
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
        self.inner.stop();
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
        LoopHandle::new(self.inner.remote.clone())
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
    with_running(|inner| RunningLoop { inner: inner.clone() })
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
    F: Future + 'static,
    F::Output: 'static,
{
    match with_running(|inner| inner.create_task(fut)) {
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
pub fn run<F: Future>(main: F) -> Result<F::Output, LoopError> {
    if RUNNING.with(|running| running.borrow().is_some()) {
        return Err(LoopError::OtherLoopRunning);
    }
    let lp = EventLoop::new()?;
    let output = lp.run_until_complete(main);
    lp.finish_tasks();
    lp.close()?;
    output
}

impl EventLoop {
    /// Cancels the tasks left and runs the loop until they end, so that
    /// their cleanup runs (`asyncio.run`'s last step).
    fn finish_tasks(&self) {
        let left = self.inner.unfinished();
        if left.is_empty() {
            return;
        }
        for task in &left {
            task.cancel("");
        }
        // Tasks may await in their cleanup: look again each time one ends.
        let _ = self.run_until_complete(std::future::poll_fn(|cx| {
            if left.iter().all(|task| matches!(task.state(), TaskState::Done | TaskState::Cancelled)) {
                return Poll::Ready(());
            }
            *self.inner.finished_waker.borrow_mut() = Some(cx.waker().clone());
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
    with_running(|inner| inner.unfinished())
}
