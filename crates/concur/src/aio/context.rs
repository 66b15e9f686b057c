//! The running-loop context: a loop's shared state, its run queue and
//! wakers, and the loop running on this thread.
//!
//! # How a loop runs
//!
//! A loop is a tokio current-thread runtime (for tokio's sockets and
//! timers, which tasks may use), a `LocalSet` (for the task that runs what
//! other threads send, and for any `tokio::task::spawn_local` a task makes)
//! and, on top, the loop's own scheduler: the [`Drive`] future the
//! `LocalSet` blocks on. `Drive` keeps Python's ready queue — tasks to poll
//! and `call_soon` callbacks in one first-in, first-out queue, run a turn
//! at a time, a turn being what was ready when it began — and the
//! [`Timers`]. Between turns it returns to tokio, which polls the I/O
//! driver and the `LocalSet`'s tasks, as Python's loop polls its selector.
//! Tokio's cooperative budget is therefore a turn's, not a task's: in a
//! turn that polls tokio's sockets or channels more than the budget allows,
//! the later ones report not ready once, wake their task, and go on the
//! next turn.
//!
//! # Why not tokio's tasks
//!
//! The loop's tasks were tokio tasks of the `LocalSet` once, and a profile
//! of create_task + gather of 100,000 (perf, and a counting allocator in
//! `tests/aio_allocations.rs`) showed the price: two allocations a task
//! (tokio's task cell, and the `Rc` of what Python's `Task` keeps beside
//! the future: state, name, cancellation, result, callbacks), half the time
//! in the allocator, and the rest in tokio's bookkeeping of a task the loop
//! tracked a second time in its own registry. A task here is one `Rc`
//! holding both (see `task.rs`), owned by the loop's registry until it
//! finishes, as tokio's `OwnedTasks` owns its cells.
//!
//! # Wakers
//!
//! A waker names its task by number instead of pointing at it: the loop's
//! index in a process-wide table, the task's slot in the loop's registry,
//! and the slot's generation, packed into the waker's data word. Cloning or
//! dropping one costs nothing and keeps nothing alive, so a task can stay
//! an `Rc` — single-threaded, never touched from another thread — while its
//! wakers go anywhere, as `Waker` must allow. Waking on the loop's thread
//! while it runs pushes the task onto the ready queue (once: a slot
//! remembers it is queued). Waking from any other thread sends the same
//! push through the loop's [`Remote`] channel, which the loop runs on its
//! own thread. A waker of a task that finished, or of a loop that is gone,
//! finds the generation or the loop changed and does nothing; a stale
//! number that happens to match (the generation is 16 bits) only polls a
//! task once more than needed, which every future must allow.
//!
//! This is the layer everything that runs *on* a loop reaches it through —
//! tasks ([`deregister`], [`schedule_or_run`]), handles, `to_thread`, task
//! groups — so it knows tasks only as [`Runnable`]s, never by the
//! [`Task`](super::Task) built on top of them.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::LocalSet;

use super::callback::{run_callback, Handle};
use super::error::LoopError;
use super::exception::{self, HandlerSlot};
use super::header::{HasHeader, Runnable, TaskRef};
use super::remote::{Message, Remote};
use super::timers::{Fired, TimerHandle, TimerKey, Timers};
use crate::executor::{Shutdown, ThreadPool};

thread_local! {
    /// The loop running on this thread.
    static RUNNING: RefCell<Option<Rc<LoopState>>> = const { RefCell::new(None) };
}

/// How a waker's data word is split: the registry slot, the slot's
/// generation, the loop's index.
const SLOT_BITS: u32 = if usize::BITS >= 64 { 32 } else { 20 };
const GENERATION_BITS: u32 = if usize::BITS >= 64 { 16 } else { 4 };
const LOOP_BITS: u32 = usize::BITS - SLOT_BITS - GENERATION_BITS;
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;
const GENERATION_MASK: usize = (1 << GENERATION_BITS) - 1;
/// How many loops may exist at once, and tasks be unfinished on one.
const MAX_LOOPS: usize = 1 << LOOP_BITS;
const MAX_SLOTS: usize = 1 << SLOT_BITS;

/// The loops of the process by index, for wakers woken on other threads.
static LOOPS: Mutex<LoopTable> = Mutex::new(LoopTable { remotes: Vec::new(), free: Vec::new() });

/// The next loop's [`LoopState::id`].
static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

struct LoopTable {
    remotes: Vec<Option<Weak<Remote>>>,
    free: Vec<usize>,
}

/// What a loop is made of, shared by the [`EventLoop`](super::EventLoop)
/// that owns it and the [`RunningLoop`](super::RunningLoop)s lent out.
pub(crate) struct LoopState {
    pub(super) runtime: Runtime,
    /// `None` once closed.
    local: RefCell<Option<LocalSet>>,
    /// This loop's index in [`LOOPS`], which its wakers carry.
    index: usize,
    /// A number no other loop of the process ever has (an index is reused
    /// once its loop is gone), which its sleeps carry.
    id: u64,
    pub(super) stopping: Cell<bool>,
    pub(super) stop_waker: RefCell<Option<Waker>>,
    next_task: Cell<u64>,
    /// Debug mode's threshold for slow steps; `None` outside debug mode.
    pub(super) slow: Option<Duration>,
    timers: Timers,
    ready: RefCell<VecDeque<Ready>>,
    /// `Drive` is being polled: whatever is queued now it sees before it
    /// returns, so nothing needs to wake it.
    driving: Cell<bool>,
    /// Wakes `Drive` for work queued while it waits.
    drive_waker: RefCell<Option<Waker>>,
    pub(super) remote: Arc<Remote>,
    receiver: RefCell<Option<mpsc::UnboundedReceiver<Message>>>,
    /// The pool `to_thread` runs on, made when first needed.
    executor: OnceCell<ThreadPool>,
    tasks: RefCell<Registry>,
    /// Woken whenever a task finishes (`aio::run`'s last step waits on it).
    pub(super) finished_waker: RefCell<Option<Waker>>,
    /// `set_exception_handler`'s handler; `None` for the default.
    pub(super) exception_handler: HandlerSlot,
}

/// An entry of the ready queue.
enum Ready {
    /// Poll the task in this slot, if the slot still has this generation.
    Task {
        slot: u32,
        generation: u32,
    },
    Call(Box<dyn FnOnce()>),
}

/// The unfinished tasks of a loop, which it owns: a slab, so that a task
/// joins and leaves in constant time and a waker can name it by slot.
#[derive(Default)]
struct Registry {
    slots: Vec<Slot>,
    free: Vec<usize>,
}

impl Registry {
    /// Whether no task is in it (every slot is free).
    fn is_empty(&self) -> bool {
        self.free.len() == self.slots.len()
    }

    /// Takes the task out of `slot`, if one is there; the caller drops it
    /// outside the registry's borrow.
    fn remove(&mut self, slot: usize) -> Option<Rc<dyn Runnable>> {
        let entry = self.slots.get_mut(slot)?;
        let task = entry.task.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        entry.queued = false;
        self.free.push(slot);
        Some(task)
    }
}

#[derive(Default)]
struct Slot {
    task: Option<Rc<dyn Runnable>>,
    /// Bumped when the slot is emptied, so that wakers and queue entries
    /// of the task that was here miss.
    generation: u32,
    /// On the ready queue already.
    queued: bool,
}

impl LoopState {
    /// A new loop's state; `slow` is debug mode's threshold.
    pub(super) fn new(slow: Option<Duration>) -> Result<Rc<LoopState>, LoopError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LoopError::Start(e.to_string()))?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let remote = Arc::new(Remote::new(sender));
        let index = {
            let mut table = LOOPS.lock();
            match table.free.pop() {
                Some(index) => {
                    table.remotes[index] = Some(Arc::downgrade(&remote));
                    index
                }
                None if table.remotes.len() < MAX_LOOPS => {
                    table.remotes.push(Some(Arc::downgrade(&remote)));
                    table.remotes.len() - 1
                }
                None => return Err(LoopError::Start(format!("more than {MAX_LOOPS} event loops at once"))),
            }
        };
        let state = Rc::new(LoopState {
            runtime,
            local: RefCell::new(Some(LocalSet::new())),
            index,
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            stopping: Cell::new(false),
            stop_waker: RefCell::new(None),
            next_task: Cell::new(1),
            slow,
            timers: Timers::new(slow),
            ready: RefCell::new(VecDeque::new()),
            driving: Cell::new(false),
            drive_waker: RefCell::new(None),
            remote,
            receiver: RefCell::new(Some(receiver)),
            executor: OnceCell::new(),
            tasks: RefCell::new(Registry::default()),
            finished_waker: RefCell::new(None),
            exception_handler: Rc::new(RefCell::new(None)),
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

    /// Panics if the loop is closed; `what` names the call in the message.
    fn check_open(&self, what: &str) {
        if self.is_closed() {
            panic!("{what} on a closed event loop: create a new EventLoop");
        }
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

    /// Takes a new task into the registry, which owns it until it finishes,
    /// and queues its first step.
    ///
    /// # Panics
    ///
    /// If the loop is closed; `what` names the call in the message.
    pub(crate) fn spawn(&self, what: &str, task: Rc<dyn Runnable>) {
        self.check_open(what);
        let header = task.header();
        let mut tasks = self.tasks.borrow_mut();
        let slot = match tasks.free.pop() {
            Some(slot) => slot,
            None => {
                assert!(tasks.slots.len() < MAX_SLOTS, "{what}: more than {MAX_SLOTS} unfinished tasks on one loop");
                tasks.slots.push(Slot::default());
                tasks.slots.len() - 1
            }
        };
        header.set_slot(slot);
        let entry = &mut tasks.slots[slot];
        entry.task = Some(task);
        entry.queued = true;
        let generation = entry.generation;
        drop(tasks);
        self.push_ready(Ready::Task { slot: slot as u32, generation });
    }

    /// The tasks of this loop not finished yet.
    pub(crate) fn unfinished(&self) -> Vec<TaskRef> {
        let tasks: Vec<Rc<dyn Runnable>> = self.tasks.borrow().slots.iter().filter_map(|s| s.task.clone()).collect();
        tasks
            .into_iter()
            .filter(|task| !task.header().is_done())
            .map(|task| TaskRef::from_header(task as Rc<dyn HasHeader>))
            .collect()
    }

    fn push_ready(&self, entry: Ready) {
        let mut ready = self.ready.borrow_mut();
        let was_empty = ready.is_empty();
        ready.push_back(entry);
        drop(ready);
        if was_empty {
            self.wake_drive();
        }
    }

    /// Wakes `Drive` if it waits (work came from outside a turn).
    fn wake_drive(&self) {
        if !self.driving.get() {
            if let Some(waker) = &*self.drive_waker.borrow() {
                waker.wake_by_ref();
            }
        }
    }

    /// Queues the task in `slot` if it is still the one the waker named.
    fn wake_slot(&self, slot: usize, generation: usize) {
        let mut tasks = self.tasks.borrow_mut();
        let Some(entry) = tasks.slots.get_mut(slot) else { return };
        if entry.queued || entry.task.is_none() || entry.generation as usize & GENERATION_MASK != generation {
            return;
        }
        entry.queued = true;
        let generation = entry.generation;
        drop(tasks);
        self.push_ready(Ready::Task { slot: slot as u32, generation });
    }

    fn waker(&self, slot: u32, generation: u32) -> Waker {
        let word = self.index << (SLOT_BITS + GENERATION_BITS)
            | (generation as usize & GENERATION_MASK) << SLOT_BITS
            | slot as usize;
        // SAFETY: the data word is a number, never dereferenced; the
        // vtable's functions are sound from any thread: they read the
        // thread's own running loop, or lock `LOOPS` and send through the
        // loop's `Remote` (an `Arc` of `Send + Sync` parts).
        unsafe { Waker::from_raw(RawWaker::new(std::ptr::without_provenance(word), &WAKER)) }
    }

    pub(super) fn call_soon(&self, callback: impl FnOnce() + 'static) -> Handle {
        self.check_open("call_soon");
        let handle = Handle::new();
        let cancelled = handle.flag();
        let slow = self.slow;
        self.push_ready(Ready::Call(Box::new(move || {
            if !cancelled.load(Ordering::Relaxed) {
                run_callback(callback, slow);
            }
        })));
        handle
    }

    pub(super) fn call_at(&self, when: Instant, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.check_open("call_at");
        let handle = self.timers.schedule(when, Box::new(callback));
        self.wake_drive();
        handle
    }

    /// One turn of the loop: the timers due are queued, then what is ready
    /// now runs (what it makes ready runs next turn, as in Python).
    fn turn(&self) {
        for fired in self.timers.due(Instant::now()) {
            match fired {
                Fired::Wake(waker) => waker.wake(),
                Fired::Call(call) => self.ready.borrow_mut().push_back(Ready::Call(call)),
            }
        }
        let count = self.ready.borrow().len();
        for _ in 0..count {
            let Some(entry) = self.ready.borrow_mut().pop_front() else { break };
            match entry {
                Ready::Call(call) => call(),
                Ready::Task { slot, generation } => {
                    let task = {
                        let mut tasks = self.tasks.borrow_mut();
                        match tasks.slots.get_mut(slot as usize) {
                            Some(entry) if entry.generation == generation => {
                                entry.queued = false;
                                entry.task.clone()
                            }
                            _ => None,
                        }
                    };
                    if let Some(task) = task {
                        task.run(&self.waker(slot, generation));
                    }
                }
            }
        }
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
        self.abandon_tasks();
        let ready = std::mem::take(&mut *self.ready.borrow_mut());
        drop(ready);
        self.timers.clear();
        if let Some(executor) = self.executor.get() {
            executor.shutdown(Shutdown::no_wait().cancel_futures());
        }
    }

    /// Ends every unfinished task cancelled, dropping its body, one at a
    /// time outside the registry's borrow (a body's drop may reach it).
    fn abandon_tasks(&self) {
        let mut slot = 0;
        loop {
            let task = {
                let mut tasks = self.tasks.borrow_mut();
                if tasks.is_empty() || slot >= tasks.slots.len() {
                    break;
                }
                tasks.remove(slot)
            };
            if let Some(task) = task {
                task.abandon();
            }
            slot += 1;
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

impl Drop for LoopState {
    fn drop(&mut self) {
        self.abandon_tasks();
        let mut table = LOOPS.lock();
        table.remotes[self.index] = None;
        table.free.push(self.index);
    }
}

/// Runs the loop until `until` is ready: turns of the ready queue, with a
/// return to tokio between them, and a sleep until the next timer when
/// nothing is ready.
pub(super) struct Drive<'a, F> {
    state: &'a LoopState,
    until: F,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<'a, F> Drive<'a, F> {
    pub(super) fn new(state: &'a LoopState, until: F) -> Drive<'a, F> {
        Drive { state, until, sleep: None }
    }
}

impl<F: Future + Unpin> Future for Drive<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let state = this.state;
        {
            let mut known = state.drive_waker.borrow_mut();
            if !known.as_ref().is_some_and(|known| known.will_wake(cx.waker())) {
                *known = Some(cx.waker().clone());
            }
        }
        struct Driving<'a>(&'a Cell<bool>);
        impl Drop for Driving<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        state.driving.set(true);
        let _driving = Driving(&state.driving);
        loop {
            state.turn();
            if let Poll::Ready(output) = Pin::new(&mut this.until).poll(cx) {
                return Poll::Ready(output);
            }
            if !state.ready.borrow().is_empty() {
                // Let tokio poll its I/O and the `LocalSet` between turns.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let Some(next) = state.timers.next_deadline() else { return Poll::Pending };
            let deadline = tokio::time::Instant::from_std(next);
            let sleep = match &mut this.sleep {
                Some(sleep) => {
                    if sleep.deadline() != deadline {
                        sleep.as_mut().reset(deadline);
                    }
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

static WAKER: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake, drop_waker);

fn clone_waker(word: *const ()) -> RawWaker {
    RawWaker::new(word, &WAKER)
}

fn drop_waker(_: *const ()) {}

fn wake(word: *const ()) {
    let word = word.addr();
    let index = word >> (SLOT_BITS + GENERATION_BITS);
    let slot = word & SLOT_MASK;
    let generation = (word >> SLOT_BITS) & GENERATION_MASK;
    // On the loop's thread while it runs: queue the task now. `try_with`,
    // for a waker woken as the thread exits.
    let here = RUNNING
        .try_with(|running| match &*running.borrow() {
            Some(state) if state.index == index => {
                state.wake_slot(slot, generation);
                true
            }
            _ => false,
        })
        .unwrap_or(false);
    if here {
        return;
    }
    let remote = LOOPS.lock().remotes.get(index).and_then(|remote| remote.as_ref()?.upgrade());
    if let Some(remote) = remote {
        // A loop closed since has nothing left to wake.
        let _ = remote.send(Box::new(move || {
            let _ = with_running(|state| {
                if state.index == index {
                    state.wake_slot(slot, generation);
                }
            });
        }));
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
        exception::set_current(Some(state.exception_handler.clone()));
        Ok(RunGuard)
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        exception::set_current(None);
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
    let Ok(state) = with_running(Rc::clone) else { return };
    let task = state.tasks.borrow_mut().remove(slot);
    // The registry's reference goes outside its borrow.
    drop(task);
    let waker = state.finished_waker.borrow_mut().take();
    if let Some(waker) = waker {
        waker.wake();
    }
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

/// A timer of a loop's [`Timers`], for a sleep: which loop (by its
/// never-reused id, so that a sleep outliving its loop cannot reach the
/// timers of a loop made since), and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SleepKey {
    id: u64,
    key: TimerKey,
}

/// Sets a timer on the loop running here to wake `waker` at `when`; `None`
/// if no loop runs on this thread.
pub(crate) fn arm_timer(when: Instant, waker: &Waker) -> Option<SleepKey> {
    RUNNING
        .with(|running| running.borrow().as_ref().map(|state| (state.id, state.timers.insert_wake(when, waker))))
        .map(|(id, key)| SleepKey { id, key })
}

/// Whether the timer fired, updating its waker if not; `None` if the loop
/// it was set on does not run on this thread now.
pub(crate) fn poll_timer(key: SleepKey, waker: &Waker) -> Option<Poll<()>> {
    RUNNING.with(|running| match &*running.borrow() {
        Some(state) if state.id == key.id => Some(state.timers.poll_wake(key.key, waker)),
        _ => None,
    })
}

/// Drops a timer that has not fired. Away from its loop (dropped on
/// another thread, or after the loop stopped) it is left to fire unheard.
pub(crate) fn cancel_timer(key: SleepKey) {
    let _ = RUNNING.try_with(|running| {
        if let Some(state) = &*running.borrow() {
            if state.id == key.id {
                state.timers.cancel(key.key);
            }
        }
    });
}
