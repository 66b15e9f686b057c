//! The running-loop context: a loop's shared state, and the loop running
//! on this thread.
//!
//! A loop is a tokio current-thread runtime and a `LocalSet`. Tasks and
//! `call_soon` callbacks are tokio tasks of the `LocalSet`, whose run queue
//! is first in, first out — the order Python's ready queue keeps. Timers
//! keep their own heap ([`Timers`]); other threads send work through the
//! loop's [`Remote`].
//!
//! This is the layer everything that runs *on* a loop reaches it through —
//! tasks ([`deregister`], [`schedule_or_run`]), handles, `to_thread`, task
//! groups — so it knows tasks only by their [`Header`], never by the
//! [`Task`](super::Task) built on top of it.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::LocalSet;

use super::callback::{run_callback, Handle};
use super::error::LoopError;
use super::exception::ExceptionHandler;
use super::header::{HasHeader, TaskRef};
use super::remote::{Message, Remote};
use super::timers::{TimerHandle, Timers};
use crate::executor::{Shutdown, ThreadPool};

thread_local! {
    /// The loop running on this thread.
    static RUNNING: RefCell<Option<Rc<LoopState>>> = const { RefCell::new(None) };
}

/// What a loop is made of, shared by the [`EventLoop`](super::EventLoop)
/// that owns it and the [`RunningLoop`](super::RunningLoop)s lent out.
pub(crate) struct LoopState {
    pub(super) runtime: Runtime,
    /// `None` once closed; dropping it drops every task left.
    local: RefCell<Option<LocalSet>>,
    pub(super) stopping: Cell<bool>,
    pub(super) stop_waker: RefCell<Option<Waker>>,
    next_task: Cell<u64>,
    /// Debug mode's threshold for slow steps; `None` outside debug mode.
    pub(super) slow: Option<Duration>,
    timers: Rc<Timers>,
    pub(super) remote: Arc<Remote>,
    receiver: RefCell<Option<mpsc::UnboundedReceiver<Message>>>,
    /// The pool `to_thread` runs on, made when first needed.
    executor: OnceCell<ThreadPool>,
    tasks: RefCell<Registry>,
    /// Woken whenever a task finishes (`aio::run`'s last step waits on it).
    pub(super) finished_waker: RefCell<Option<Waker>>,
    /// `set_exception_handler`'s handler; `None` for the default.
    pub(super) exception_handler: RefCell<Option<ExceptionHandler>>,
}

/// The unfinished tasks of a loop: a slab, so that a task joins and leaves
/// in constant time.
#[derive(Default)]
struct Registry {
    slots: Vec<Option<Weak<dyn HasHeader>>>,
    free: Vec<usize>,
}

impl LoopState {
    /// A new loop's state; `slow` is debug mode's threshold.
    pub(super) fn new(slow: Option<Duration>) -> Result<Rc<LoopState>, LoopError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LoopError::Start(e.to_string()))?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = Rc::new(LoopState {
            runtime,
            local: RefCell::new(Some(LocalSet::new())),
            stopping: Cell::new(false),
            stop_waker: RefCell::new(None),
            next_task: Cell::new(1),
            slow,
            timers: Rc::new(Timers::new(slow)),
            remote: Arc::new(Remote::new(sender)),
            receiver: RefCell::new(Some(receiver)),
            executor: OnceCell::new(),
            tasks: RefCell::new(Registry::default()),
            finished_waker: RefCell::new(None),
            exception_handler: RefCell::new(None),
        });
        // The task that runs what other threads send is the loop's first,
        // so that their callbacks queue up from the start.
        state.with_local("a new loop", |local| state.ensure_pump(local));
        Ok(state)
    }

    /// Whether the loop runs now; kept where its handles can read it too.
    pub(super) fn is_running(&self) -> bool {
        self.remote.running.load(Ordering::Acquire)
    }

    pub(super) fn is_closed(&self) -> bool {
        self.local.borrow().is_none()
    }

    /// The id of the next task, for its default name.
    pub(super) fn next_id(&self) -> u64 {
        let id = self.next_task.get();
        self.next_task.set(id + 1);
        id
    }

    /// Runs `f` with the loop's `LocalSet`.
    ///
    /// # Panics
    ///
    /// If the loop is closed; `what` names the call in the message.
    pub(super) fn with_local<R>(&self, what: &str, f: impl FnOnce(&LocalSet) -> R) -> R {
        match &*self.local.borrow() {
            Some(local) => f(local),
            None => panic!("{what} on a closed event loop: create a new EventLoop"),
        }
    }

    /// Runs `f` with the loop's `LocalSet`, or says the loop is closed.
    pub(super) fn try_with_local<R>(&self, f: impl FnOnce(&LocalSet) -> R) -> Result<R, LoopError> {
        self.local.borrow().as_ref().map(f).ok_or(LoopError::Closed)
    }

    /// Keeps a weak reference to every unfinished task, for `all_tasks`
    /// and for `aio::run`'s last step. A finished task leaves at once
    /// ([`deregister`]): a weak reference kept longer would keep its memory
    /// from being freed.
    pub(super) fn register(&self, task: TaskRef) {
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
            .filter_map(Weak::upgrade)
            .filter(|task| !task.header().is_done())
            .map(TaskRef::from_header)
            .collect()
    }

    pub(super) fn call_soon(&self, callback: impl FnOnce() + 'static) -> Handle {
        let handle = Handle::new();
        let cancelled = handle.flag();
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

    pub(super) fn call_at(&self, when: Instant, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.with_local("call_at", |local| {
            if let Some(driver) = Timers::driver(&self.timers) {
                drop(local.spawn_local(driver));
            }
        });
        self.timers.schedule(when, Box::new(callback))
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

    pub(super) fn stop(&self) {
        self.stopping.set(true);
        if let Some(waker) = self.stop_waker.borrow_mut().take() {
            waker.wake();
        }
    }

    pub(super) fn close(&self) {
        self.remote.close();
        // Tasks dropped now may run code that looks at the loop; let them
        // see it closed.
        let local = self.local.borrow_mut().take();
        drop(local);
        self.receiver.borrow_mut().take();
        self.timers.clear();
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

/// Marks the loop running on this thread for as long as it lives.
pub(super) struct RunGuard;

impl RunGuard {
    pub(super) fn enter(state: &Rc<LoopState>) -> Result<RunGuard, LoopError> {
        if state.is_closed() {
            return Err(LoopError::Closed);
        }
        if state.is_running() {
            return Err(LoopError::AlreadyRunning);
        }
        if is_loop_running() || tokio::runtime::Handle::try_current().is_ok() {
            return Err(LoopError::OtherLoopRunning);
        }
        state.remote.running.store(true, Ordering::Release);
        RUNNING.with(|running| *running.borrow_mut() = Some(state.clone()));
        Ok(RunGuard)
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Some(state) = RUNNING.with(|running| running.borrow_mut().take()) {
            state.stopping.set(false);
            state.remote.running.store(false, Ordering::Release);
        }
    }
}

/// Whether a loop runs on this thread.
pub(super) fn is_loop_running() -> bool {
    RUNNING.with(|running| running.borrow().is_some())
}

/// Runs `f` with the loop running on this thread.
pub(crate) fn with_running<R>(f: impl FnOnce(&Rc<LoopState>) -> R) -> Result<R, LoopError> {
    let state = RUNNING.with(|running| running.borrow().clone()).ok_or(LoopError::NoRunningLoop)?;
    Ok(f(&state))
}

/// Takes a finished task out of the running loop's registry.
pub(crate) fn deregister(slot: usize) {
    RUNNING.with(|running| {
        if let Some(state) = &*running.borrow() {
            let mut tasks = state.tasks.borrow_mut();
            if let Some(entry) = tasks.slots.get_mut(slot) {
                if entry.take().is_some() {
                    tasks.free.push(slot);
                }
            }
            drop(tasks);
            if let Some(waker) = state.finished_waker.borrow_mut().take() {
                waker.wake();
            }
        }
    });
}

/// Runs `callback` soon on the running loop, as Python schedules done
/// callbacks; with no loop running (a task finished as its loop closed, a
/// callback added from outside), runs it now.
pub(crate) fn schedule_or_run(callback: Box<dyn FnOnce()>) {
    let callback = RUNNING.with(|running| match &*running.borrow() {
        Some(state) if !state.is_closed() => {
            state.call_soon(callback);
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
    let _ = with_running(|state| state.stop());
}
