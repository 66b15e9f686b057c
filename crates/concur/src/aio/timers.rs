//! The loop's timers: `call_later` and `call_at` callbacks in a heap
//! ordered by (deadline, arrival), and one task that sleeps until the first.
//!
//! Timers are not tokio sleeps each: tokio's timer wheel fires deadlines of
//! the same millisecond in no set order, and Python runs timers by
//! deadline, equal deadlines in the order they were set.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::callback::{run_callback, Handle};

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

/// The timers of one loop.
pub(super) struct Timers {
    heap: RefCell<BinaryHeap<Reverse<Timer>>>,
    /// Arrival order, for equal deadlines.
    seq: Cell<u64>,
    /// The driver's waker, for a timer earlier than the one it sleeps for.
    waker: RefCell<Option<Waker>>,
    /// Whether the driver task was spawned (it is, with the first timer).
    driver: Cell<bool>,
    /// Debug mode's threshold for slow callbacks.
    slow: Option<Duration>,
}

impl Timers {
    pub(super) fn new(slow: Option<Duration>) -> Timers {
        Timers {
            heap: RefCell::new(BinaryHeap::new()),
            seq: Cell::new(0),
            waker: RefCell::new(None),
            driver: Cell::new(false),
            slow,
        }
    }

    /// The driver future to spawn, the first time a timer is set.
    pub(super) fn driver(timers: &Rc<Timers>) -> Option<TimerDriver> {
        (!timers.driver.replace(true)).then(|| TimerDriver { timers: Rc::downgrade(timers), sleep: None })
    }

    /// Sets `callback` to run at `when`.
    pub(super) fn schedule(&self, when: Instant, callback: Box<dyn FnOnce()>) -> TimerHandle {
        let handle = Handle::new();
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let earliest = self.heap.borrow().peek().is_none_or(|Reverse(first)| when < first.when);
        self.heap.borrow_mut().push(Reverse(Timer { when, seq, callback, cancelled: handle.flag() }));
        if earliest {
            if let Some(waker) = self.waker.borrow_mut().take() {
                waker.wake();
            }
        }
        TimerHandle { handle, when }
    }

    /// Drops every timer left (the loop closed).
    pub(super) fn clear(&self) {
        self.heap.borrow_mut().clear();
    }
}

/// Runs the loop's timers in deadline order, sleeping until the first.
pub(super) struct TimerDriver {
    timers: Weak<Timers>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for TimerDriver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(timers) = self.timers.upgrade() else { return Poll::Ready(()) };
        loop {
            let now = Instant::now();
            let due = {
                let mut heap = timers.heap.borrow_mut();
                match heap.peek() {
                    Some(Reverse(first)) if first.when <= now => heap.pop().map(|Reverse(timer)| timer),
                    _ => None,
                }
            };
            if let Some(timer) = due {
                if !timer.cancelled.load(Ordering::Relaxed) {
                    run_callback(timer.callback, timers.slow);
                }
                continue;
            }
            let next = timers.heap.borrow().peek().map(|Reverse(first)| first.when);
            *timers.waker.borrow_mut() = Some(cx.waker().clone());
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
