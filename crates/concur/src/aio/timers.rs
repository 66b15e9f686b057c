//! The loop's timers: `call_later`/`call_at` callbacks and every `aio`
//! sleep and timeout, filed in one structure the loop fires from.
//!
//! # The structure
//!
//! A timer is filed in the bucket of the millisecond it is due in (its
//! deadline rounded up, so it never fires early), and the buckets are kept
//! in deadline order in a `BTreeMap`. This is a bucket queue — the
//! calendar queue of R. Brown ("Calendar queues: a fast O(1) priority queue
//! implementation for the simulation event set problem", CACM 31(10),
//! 1988), with an ordered map instead of a fixed array of days, which is
//! also the "sorted list of buckets" middle ground of Varghese and Lauck's
//! timing wheels ("Hashed and hierarchical timing wheels", SOSP 1987):
//!
//! - filing a timer costs a search among the *distinct milliseconds*
//!   pending (a few thousand at most in practice), not among the timers,
//!   and a push onto that bucket's `Vec`;
//! - firing takes a whole bucket at once: O(1) a timer;
//! - a timer dropped before it fires (a sleep cut short, a timeout that did
//!   not expire) frees its entry at once and leaves a dead reference in its
//!   bucket; dead references are swept when they outnumber the live timers,
//!   as Python compacts its heap of cancelled handles, so the sweep is O(1)
//!   amortized per cancel.
//!
//! A binary heap (what this was before, and what Python uses) costs
//! O(log n) per timer with a cache miss at most levels: for a million
//! sleepers that was most of the loop's time. Tokio's own hierarchical
//! wheel is O(1) too, but each sleep there is a ~100-byte registration
//! behind the driver's lock, and it fires timers of the same millisecond in
//! no set order, while Python runs them by deadline, equal deadlines in the
//! order they were set: here a due bucket is sorted by exact deadline
//! (stably, so arrival order breaks ties) before it runs, which costs
//! nothing when, as usual, it is already in order.
//!
//! Measured (`benches/aio.rs`, a million concurrent `sleep(1 s)`, each a
//! task; medians of three alternating runs, 2-core AMD EPYC VM,
//! 2026-12-02): 1.361 s wall and 0.56 s of CPU on the loop, 1.376 s and
//! 0.72 s on tokio's current-thread runtime with a million
//! `tokio::time::sleep` tasks. `perf` of the loop: a fifth of it is the
//! kernel's page faults for the half gigabyte the million tasks take;
//! filing the timers is 2–4 %, firing them less; the rest is making,
//! polling and finishing the tasks. The first process to take that half
//! gigabyte on a machine whose memory holds page cache can take twice as
//! long, whichever runtime it is: the kernel reclaims the memory first.
//!
//! An entry is 40 bytes (deadline, generation, and the waker or the
//! callback) plus 8 in its bucket; a generation number tells a live entry
//! from a reused one, so a sleep dropped on another thread or after its
//! loop closed never reaches someone else's timer.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::callback::{run_callback, Handle};

/// Dead bucket references are swept once there are more of them than this
/// and than live timers.
const SWEEP_AFTER: usize = 1024;

const NANOS_PER_TICK: u64 = 1_000_000;

/// Where a timer is: its entry and the entry's generation when it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    entry: u32,
    generation: u32,
}

/// What a due timer does.
pub(super) enum Fired {
    /// Wake a sleeping future.
    Wake(Waker),
    /// Run a callback on the loop (it checks its own cancellation).
    Call(Box<dyn FnOnce()>),
}

enum Action {
    Free,
    Wake(Option<Waker>),
    Call(Box<dyn FnOnce()>),
}

struct Entry {
    /// Nanoseconds after the timers' epoch (before it, for a deadline
    /// already past when the loop was made).
    at: i64,
    generation: u32,
    action: Action,
}

/// A bucket's reference to an entry.
#[derive(Clone, Copy)]
struct Filed {
    entry: u32,
    generation: u32,
}

#[derive(Default)]
struct Inner {
    /// Millisecond tick (rounded up) to the timers due in it, in arrival
    /// order.
    buckets: BTreeMap<u64, Vec<Filed>>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    /// Timers set and neither fired nor cancelled.
    live: usize,
    /// Bucket references to entries cancelled since.
    dead: usize,
}

/// A loop's timers.
pub(super) struct Timers {
    epoch: Instant,
    inner: RefCell<Inner>,
    /// Debug mode's threshold for slow callbacks.
    slow: Option<Duration>,
}

impl Timers {
    pub(super) fn new(slow: Option<Duration>) -> Timers {
        Timers { epoch: Instant::now(), inner: RefCell::new(Inner::default()), slow }
    }

    fn nanos(&self, when: Instant) -> i64 {
        match when.checked_duration_since(self.epoch) {
            Some(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
            None => i64::try_from(self.epoch.duration_since(when).as_nanos()).map_or(i64::MIN, |before| -before),
        }
    }

    /// The millisecond tick `at` is due in: rounded up, never early; the
    /// past is due at once.
    fn tick(at: i64) -> u64 {
        u64::try_from(at).map_or(0, |at| at.div_ceil(NANOS_PER_TICK))
    }

    /// Sets `callback` to run at `when`.
    pub(super) fn schedule(&self, when: Instant, callback: Box<dyn FnOnce()>) -> TimerHandle {
        let handle = Handle::new();
        let cancelled = handle.flag();
        let slow = self.slow;
        let call = Box::new(move || {
            if !cancelled.load(Ordering::Relaxed) {
                run_callback(callback, slow);
            }
        });
        self.file(when, Action::Call(call));
        TimerHandle { handle, when }
    }

    /// Sets `waker` to be woken at `when`.
    pub(super) fn insert_wake(&self, when: Instant, waker: &Waker) -> TimerKey {
        self.file(when, Action::Wake(Some(waker.clone())))
    }

    fn file(&self, when: Instant, action: Action) -> TimerKey {
        let at = self.nanos(when);
        let mut inner = self.inner.borrow_mut();
        let (entry, generation) = match inner.free.pop() {
            Some(entry) => {
                let slot = &mut inner.entries[entry as usize];
                slot.at = at;
                slot.action = action;
                (entry, slot.generation)
            }
            None => {
                let entry = u32::try_from(inner.entries.len()).expect("fewer than 2^32 timers at once");
                inner.entries.push(Entry { at, generation: 0, action });
                (entry, 0)
            }
        };
        inner.live += 1;
        inner.buckets.entry(Timers::tick(at)).or_default().push(Filed { entry, generation });
        TimerKey { entry, generation }
    }

    /// Whether the timer fired; if not, `waker` is the one it wakes.
    pub(super) fn poll_wake(&self, key: TimerKey, waker: &Waker) -> Poll<()> {
        let mut inner = self.inner.borrow_mut();
        match inner.entries.get_mut(key.entry as usize) {
            Some(Entry { generation, action: Action::Wake(Some(known)), .. }) if *generation == key.generation => {
                if !known.will_wake(waker) {
                    known.clone_from(waker);
                }
                Poll::Pending
            }
            // Fired (its entry was freed, or reused since).
            _ => Poll::Ready(()),
        }
    }

    /// Drops a timer that has not fired (a sleep dropped early).
    pub(super) fn cancel(&self, key: TimerKey) {
        let mut inner = self.inner.borrow_mut();
        let matches = inner.entries.get(key.entry as usize).is_some_and(|entry| entry.generation == key.generation);
        if !matches {
            return;
        }
        let action = inner.release(key.entry);
        inner.live -= 1;
        inner.dead += 1;
        if inner.dead > SWEEP_AFTER && inner.dead > inner.live {
            inner.sweep();
        }
        drop(inner);
        // The waker's drop runs outside the borrow.
        drop(action);
    }

    /// Takes every timer due by `now`, in deadline order.
    pub(super) fn due(&self, now: Instant) -> Vec<Fired> {
        let now_tick = u64::try_from(self.nanos(now)).map_or(0, |at| at / NANOS_PER_TICK);
        let mut inner = self.inner.borrow_mut();
        let mut due: Vec<(i64, Fired)> = Vec::new();
        while let Some(bucket) = inner.buckets.first_entry() {
            if *bucket.key() > now_tick {
                break;
            }
            let filed = bucket.remove();
            for Filed { entry, generation } in filed {
                let at = inner.entries[entry as usize].at;
                if inner.entries[entry as usize].generation != generation {
                    inner.dead -= 1;
                    continue;
                }
                inner.live -= 1;
                match inner.release(entry) {
                    Action::Wake(Some(waker)) => due.push((at, Fired::Wake(waker))),
                    Action::Call(call) => due.push((at, Fired::Call(call))),
                    Action::Wake(None) | Action::Free => {}
                }
            }
        }
        drop(inner);
        // Stable: equal deadlines keep the order they were set in.
        if !due.is_sorted_by_key(|(at, _)| *at) {
            due.sort_by_key(|(at, _)| *at);
        }
        due.into_iter().map(|(_, fired)| fired).collect()
    }

    /// When the first bucket is due, if any timer is set.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let inner = self.inner.borrow();
        let (tick, _) = inner.buckets.first_key_value()?;
        self.epoch.checked_add(Duration::from_nanos(tick.saturating_mul(NANOS_PER_TICK)))
    }

    /// Drops every timer left (the loop closed).
    pub(super) fn clear(&self) {
        let inner = std::mem::take(&mut *self.inner.borrow_mut());
        drop(inner);
    }
}

impl Inner {
    /// Frees an entry, bumping its generation so no key reaches it again.
    fn release(&mut self, entry: u32) -> Action {
        let slot = &mut self.entries[entry as usize];
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(entry);
        std::mem::replace(&mut slot.action, Action::Free)
    }

    /// Drops the buckets' references to cancelled entries.
    fn sweep(&mut self) {
        let entries = &self.entries;
        self.buckets.retain(|_, filed| {
            filed.retain(|f| entries[f.entry as usize].generation == f.generation);
            !filed.is_empty()
        });
        self.dead = 0;
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
    /// assert!(!lp.call_later(std::time::Duration::ZERO, || {}).is_cancelled());
    /// ```
    ///
    /// # Python
    ///
    /// `timer_handle.cancelled()`.
    #[doc(alias = "cancelled")]
    pub fn is_cancelled(&self) -> bool {
        self.handle.is_cancelled()
    }
}
