//! What the worker's threads share: the run state, the slot count, the tasks
//! held in Redis, the heartbeat's validity and the counters.
//!
//! One mutex guards the small control record (state, free slots, tasks on
//! the loop, timers); two condition variables wake the two kinds of waiter —
//! the consumer and the stopping thread on `changed`, the maintenance thread
//! on `maintenance` — so a slot freed by an acknowledgement does not wake the
//! heartbeat timer. The state is mirrored in an atomic for the hot path's
//! reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::protocol::Task;
use crate::RetryPolicy;

/// Where the worker is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum State {
    /// Fetching and running tasks.
    Running = 0,
    /// Stopped fetching; running tasks may finish within the grace period.
    Draining = 1,
    /// Running tasks are being cancelled.
    Aborting = 2,
}

/// The settings the threads read.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) concurrency: usize,
    /// Tasks fetched beyond the concurrency, waiting on the loop for a turn.
    pub(crate) prefetch: usize,
    pub(crate) heartbeat_ttl: Duration,
    pub(crate) grace: Duration,
    /// How long an idle fetch blocks in `BLMOVE` before it looks around.
    pub(crate) block: Duration,
    /// How often the maintenance thread looks at the other queues while the
    /// consumer blocks on one.
    pub(crate) idle_watch: Duration,
    /// The dead-letter list's cap, for the warning when it trims.
    pub(crate) dead_cap: usize,
    /// The queues served, as the heartbeat records them.
    pub(crate) serves: String,
}

impl Settings {
    /// How many tasks the worker holds at most: running and waiting.
    pub(crate) fn slots(&self) -> usize {
        self.concurrency + self.prefetch
    }
}

#[derive(Debug)]
struct Control {
    free: usize,
    /// Tasks handed to the loop (or routed straight to the finisher) whose
    /// outcome the finisher has not received yet.
    on_loop: usize,
    /// Per member queue: its heartbeat is known to hold until then.
    heartbeat_until: Vec<Option<Instant>>,
    /// A retry falls due then: promote no later.
    promote_hint: Option<Instant>,
    maintenance_stop: bool,
    /// The consumer began to block: the maintenance thread should look at
    /// its timers again (it watches the other queues meanwhile).
    consumer_blocked: bool,
    /// During a stop: when the finisher stops retrying calls Redis refuses.
    give_up_at: Option<Instant>,
}

/// Running totals, read into a [`RunReport`](crate::RunReport) at the end.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) done: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dead: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) returned: AtomicU64,
    pub(crate) not_held: AtomicU64,
    pub(crate) vanished: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) dead_trimmed: AtomicU64,
    pub(crate) heartbeat_vanished: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A task this worker holds, and the member queue it came from.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) member: usize,
    pub(crate) task: Arc<Task>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) worker: String,
    pub(crate) settings: Settings,
    state: AtomicU8,
    /// Quiet: running, but taking no new tasks (set once, under the
    /// control lock, so the consumer's wait cannot miss it).
    quiet: AtomicBool,
    control: Mutex<Control>,
    changed: Condvar,
    maintenance: Condvar,
    /// Every task this worker holds in a processing list, by local number:
    /// fetched and not yet acknowledged, failed, rejected or returned.
    held: Mutex<HashMap<u64, Held>>,
    /// While the consumer blocks in a fetch: the member queue it waits on,
    /// and the `CLIENT ID` of its connection there (0 if unknown).
    blocked: Mutex<Option<(usize, u64)>>,
    consumer_active: AtomicBool,
    /// The last local number given to a fetched task.
    last_seq: AtomicU64,
    /// Held from a fetch's call to its tasks' registration as held: for
    /// writing by the consumer (whose fetch asks for the free slots and may
    /// first `recover`), for reading by the finishers' refills. So a
    /// recovery never takes for an orphan a task another fetch is about to
    /// register, and the free slots the consumer asks for stay free. Refills
    /// may overlap one another: each fetches at most as many tasks as it
    /// acknowledges in the same script, so none takes a slot the other
    /// counted on.
    fetching: RwLock<()>,
    /// Per member queue: a fetch's reply may have been lost, so the
    /// processing list may hold tasks this worker never saw.
    recover: Mutex<Vec<bool>>,
    pub(crate) counters: Counters,
}

impl Shared {
    pub(crate) fn new(worker: String, settings: Settings, members: usize) -> Shared {
        let free = settings.slots();
        Shared {
            worker,
            settings,
            state: AtomicU8::new(State::Running as u8),
            quiet: AtomicBool::new(false),
            control: Mutex::new(Control {
                free,
                on_loop: 0,
                heartbeat_until: vec![None; members],
                promote_hint: None,
                maintenance_stop: false,
                consumer_blocked: false,
                give_up_at: None,
            }),
            changed: Condvar::new(),
            maintenance: Condvar::new(),
            held: Mutex::new(HashMap::new()),
            blocked: Mutex::new(None),
            consumer_active: AtomicBool::new(true),
            last_seq: AtomicU64::new(0),
            fetching: RwLock::new(()),
            recover: Mutex::new(vec![false; members]),
            counters: Counters::default(),
        }
    }

    pub(crate) fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Running,
            1 => State::Draining,
            _ => State::Aborting,
        }
    }

    /// Called with the control lock held, so no waiter misses the change
    /// between checking the state and waiting.
    fn set_state(&self, _locked: &mut MutexGuard<'_, Control>, state: State) {
        self.state.store(state as u8, Ordering::Release);
        self.changed.notify_all();
        self.maintenance.notify_all();
    }

    /// Stops fetching; running tasks may finish. Returns whether this call
    /// made the change.
    pub(crate) fn stop(&self) -> bool {
        let mut control = self.control.lock();
        if self.state() == State::Running {
            self.set_state(&mut control, State::Draining);
            true
        } else {
            false
        }
    }

    /// Takes no new tasks from now on; running tasks finish, heartbeats go
    /// on, and the worker waits for a stop. Returns whether this call made
    /// the change.
    pub(crate) fn quiet(&self) -> bool {
        let _control = self.control.lock();
        let changed = !self.quiet.swap(true, Ordering::AcqRel);
        if changed {
            self.changed.notify_all();
            self.maintenance.notify_all();
        }
        changed
    }

    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet.load(Ordering::Acquire)
    }

    /// Whether the consumer should take tasks: running and not quiet.
    pub(crate) fn taking(&self) -> bool {
        self.state() == State::Running && !self.is_quiet()
    }

    /// Cancels running tasks now.
    pub(crate) fn stop_now(&self) {
        let mut control = self.control.lock();
        self.set_state(&mut control, State::Aborting);
    }

    /// Waits for a free slot; `None` once the worker stops. `on_quiet` is
    /// called when the worker is found quiet, so that tasks prefetched but
    /// not started can go back to pending.
    pub(crate) fn wait_for_slots(&self, mut on_quiet: impl FnMut()) -> Option<usize> {
        let mut control = self.control.lock();
        let mut told = false;
        loop {
            if self.state() != State::Running {
                return None;
            }
            if !self.is_quiet() {
                if control.free > 0 {
                    return Some(control.free);
                }
            } else if !told {
                told = true;
                on_quiet();
            }
            self.changed.wait(&mut control);
        }
    }

    /// Sleeps for `pause` or until the worker starts stopping.
    pub(crate) fn pause(&self, pause: Duration) {
        let deadline = Instant::now() + pause;
        let mut control = self.control.lock();
        while self.state() == State::Running && !self.changed.wait_until(&mut control, deadline).timed_out() {}
    }

    /// Registers tasks fetched from `member` as held and on the loop;
    /// returns their numbers.
    pub(crate) fn take(&self, member: usize, tasks: Vec<Task>) -> Vec<(u64, Arc<Task>)> {
        let numbered = self.number(tasks);
        self.held.lock().extend(numbered.iter().map(|(seq, task)| (*seq, Held { member, task: task.clone() })));
        let mut control = self.control.lock();
        control.free = control.free.saturating_sub(numbered.len());
        control.on_loop += numbered.len();
        numbered
    }

    /// Gives fetched tasks their local numbers.
    fn number(&self, tasks: Vec<Task>) -> Vec<(u64, Arc<Task>)> {
        tasks.into_iter().map(|task| (self.last_seq.fetch_add(1, Ordering::Relaxed) + 1, Arc::new(task))).collect()
    }

    /// Waits for the sole right to fetch (see `fetching`).
    pub(crate) fn fetch_lock(&self) -> RwLockWriteGuard<'_, ()> {
        self.fetching.write()
    }

    /// The right to refill, shared with the other finishers, if the
    /// consumer is neither fetching nor waiting to.
    pub(crate) fn try_refill_lock(&self) -> Option<RwLockReadGuard<'_, ()>> {
        self.fetching.try_read()
    }

    /// The free slots now: what a fetch may ask for once it holds the
    /// fetch lock.
    pub(crate) fn free_slots(&self) -> usize {
        self.control.lock().free
    }

    /// A fetch on `member` lost its reply: recover there before fetching.
    pub(crate) fn recover_later(&self, member: usize) {
        self.recover.lock()[member] = true;
    }

    /// Whether `member` needs a recovery, clearing the mark.
    pub(crate) fn take_recover(&self, member: usize) -> bool {
        std::mem::take(&mut self.recover.lock()[member])
    }

    /// Releases the tasks `seqs` (finished in Redis) and registers `tasks`
    /// fetched from `member` in their place, in one step: the consumer
    /// never sees the slots free in between, so it does not wake for them.
    pub(crate) fn swap(&self, seqs: &[u64], member: usize, tasks: Vec<Task>) -> Vec<(u64, Arc<Task>)> {
        let numbered = self.number(tasks);
        {
            let mut held = self.held.lock();
            for seq in seqs {
                held.remove(seq);
            }
            held.extend(numbered.iter().map(|(seq, task)| (*seq, Held { member, task: task.clone() })));
        }
        let mut control = self.control.lock();
        control.free = (control.free + seqs.len()).min(self.settings.slots()).saturating_sub(numbered.len());
        control.on_loop += numbered.len();
        if control.free > 0 {
            self.changed.notify_all();
        }
        numbered
    }

    /// The finisher received `n` outcomes.
    pub(crate) fn received(&self, n: usize) {
        let mut control = self.control.lock();
        control.on_loop = control.on_loop.saturating_sub(n);
        if control.on_loop == 0 {
            self.changed.notify_all();
        }
    }

    /// Tasks no longer held: finished in Redis, or returned.
    pub(crate) fn release(&self, seqs: &[u64]) {
        if seqs.is_empty() {
            return;
        }
        {
            let mut held = self.held.lock();
            for seq in seqs {
                held.remove(seq);
            }
        }
        let mut control = self.control.lock();
        control.free = (control.free + seqs.len()).min(self.settings.slots());
        self.changed.notify_all();
    }

    pub(crate) fn held_task(&self, seq: u64) -> Option<Held> {
        self.held.lock().get(&seq).cloned()
    }

    /// The tasks held from `member`.
    pub(crate) fn held_tasks(&self, member: usize) -> Vec<Arc<Task>> {
        self.held.lock().values().filter(|held| held.member == member).map(|held| held.task.clone()).collect()
    }

    /// The consumer is about to block in a fetch on `member`, on the
    /// connection `client` (0 if unknown); `None` when the fetch is over.
    pub(crate) fn set_blocked(&self, blocked: Option<(usize, u64)>) {
        *self.blocked.lock() = blocked;
        if blocked.is_some() {
            // Under the control lock, so the maintenance thread either sees
            // the flag before it sleeps or is asleep and gets the notice.
            self.control.lock().consumer_blocked = true;
            self.maintenance.notify_all();
        }
    }

    /// The member and connection of the consumer's blocking fetch, while
    /// it blocks.
    pub(crate) fn blocked(&self) -> Option<(usize, u64)> {
        *self.blocked.lock()
    }

    pub(crate) fn held_count(&self) -> usize {
        self.held.lock().len()
    }

    /// Waits until the loop has reported every task, the state turns to
    /// `Aborting` (when `until_abort`), or `deadline` passes. Returns the
    /// tasks still on the loop.
    pub(crate) fn wait_loop_empty(&self, deadline: Instant, until_abort: bool) -> usize {
        let mut control = self.control.lock();
        while control.on_loop > 0 && !(until_abort && self.state() == State::Aborting) {
            if self.changed.wait_until(&mut control, deadline).timed_out() {
                break;
            }
        }
        control.on_loop
    }

    pub(crate) fn heartbeat_ok(&self, member: usize, valid_until: Instant) {
        self.control.lock().heartbeat_until[member] = Some(valid_until);
    }

    /// Until when the last confirmed heartbeat on `member` holds, if there
    /// was one.
    pub(crate) fn heartbeat_until(&self, member: usize) -> Option<Instant> {
        self.control.lock().heartbeat_until[member]
    }

    /// Whether the heartbeat on `member` holds for at least another third of
    /// its TTL: fetching from it stops before it could lapse with tasks
    /// fetched under it. (Each member queue has a heartbeat of its own, in
    /// its own slot: on a cluster one master failing over stops the fetches
    /// from its queues only.)
    pub(crate) fn heartbeat_fresh(&self, member: usize) -> bool {
        let until = self.control.lock().heartbeat_until[member];
        self.fresh(until)
    }

    /// Whether any member's heartbeat is fresh: if none is, the consumer
    /// waits for the maintenance thread.
    pub(crate) fn any_heartbeat_fresh(&self) -> bool {
        let until = self.control.lock().heartbeat_until.clone();
        until.into_iter().any(|until| self.fresh(until))
    }

    fn fresh(&self, until: Option<Instant>) -> bool {
        until.is_some_and(|until| until.saturating_duration_since(Instant::now()) > self.settings.heartbeat_ttl / 3)
    }

    /// A retry falls due at `due`: wake the promoter by then.
    pub(crate) fn promote_by(&self, due: Instant) {
        let mut control = self.control.lock();
        if control.promote_hint.is_none_or(|hint| due < hint) {
            control.promote_hint = Some(due);
            self.maintenance.notify_all();
        }
    }

    pub(crate) fn take_promote_hint(&self) -> Option<Instant> {
        self.control.lock().promote_hint.take()
    }

    /// Sleeps the maintenance thread until `deadline`, a stop, or a hint.
    pub(crate) fn maintenance_wait(&self, deadline: Instant) {
        let mut control = self.control.lock();
        if !(control.maintenance_stop || control.promote_hint.is_some() || control.consumer_blocked) {
            let _ = self.maintenance.wait_until(&mut control, deadline);
        }
        control.consumer_blocked = false;
    }

    pub(crate) fn stop_maintenance(&self) {
        self.control.lock().maintenance_stop = true;
        self.maintenance.notify_all();
    }

    pub(crate) fn maintenance_stopped(&self) -> bool {
        self.control.lock().maintenance_stop
    }

    pub(crate) fn consumer_active(&self) -> bool {
        self.consumer_active.load(Ordering::Acquire)
    }

    pub(crate) fn consumer_left(&self) {
        self.consumer_active.store(false, Ordering::Release);
        self.maintenance.notify_all();
    }

    pub(crate) fn give_up_at(&self, at: Instant) {
        self.control.lock().give_up_at = Some(at);
    }

    /// Counts dead-letter entries the list dropped at its cap, warning the
    /// first time in a run: the oldest dead tasks are being lost.
    pub(crate) fn dead_trimmed(&self, n: u64) {
        if n == 0 {
            return;
        }
        if self.counters.dead_trimmed.fetch_add(n, Ordering::Relaxed) == 0 {
            tracing::warn!(
                cap = self.settings.dead_cap,
                "the dead-letter list is full: its oldest entries are being dropped to keep it within its cap of \
                 {} (counted as dead_trimmed in `concur status`); look at them with `concur dead list`, then retry \
                 or purge them, or raise the cap",
                self.settings.dead_cap
            );
        }
    }

    /// Whether the finisher should stop retrying (a stop whose time is up).
    pub(crate) fn giving_up(&self) -> bool {
        self.control.lock().give_up_at.is_some_and(|at| Instant::now() >= at)
    }
}

/// Backoff for reconnecting: the retry policy's exponential steps with
/// jitter, from 50 ms doubling to 2 s, counting the failures in a row.
#[derive(Debug)]
pub(crate) struct Backoff {
    failures: u32,
}

impl Backoff {
    const POLICY: RetryPolicy = RetryPolicy { initial: Duration::from_millis(50), max: Duration::from_secs(2) };

    pub(crate) fn new() -> Backoff {
        Backoff { failures: 0 }
    }

    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    pub(crate) fn next_wait(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        Backoff::POLICY.delay(self.failures)
    }
}
