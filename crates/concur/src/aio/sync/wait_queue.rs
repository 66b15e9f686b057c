//! The queue every primitive of `aio::sync` parks its waiters in, and the
//! future a task waits in it with: one wake-up rule for the four.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::aio::error::Cancelled;
use crate::aio::header::{current_task, take_cancellation, HasHeader};

/// One paused `acquire` or `wait`, as the queue sees it.
pub(super) struct Waiter {
    /// A release or notification chose this waiter (Python: its future
    /// got a result).
    pub(super) woken: Cell<bool>,
    pub(super) waker: RefCell<Option<Waker>>,
    /// The task that waits, to see a cancellation it has not run to take.
    pub(super) task: Option<Weak<dyn HasHeader>>,
    /// A wake-up went past this waiter because its task was cancelled.
    pub(super) passed_over: Cell<bool>,
}

impl Waiter {
    /// Whether the waiting task was cancelled and has not run since
    /// (Python: the waiter's future was cancelled). Such a waiter takes no
    /// wake-up: it leaves the queue when its task runs. Python cancels the
    /// future inside `task.cancel()`; here the task's pending cancellation
    /// is read, to the same effect.
    pub(super) fn cancelled(&self) -> bool {
        let cancelled = !self.woken.get()
            && self.task.as_ref().and_then(Weak::upgrade).is_some_and(|task| {
                let header = task.header();
                header.is_pending() && !header.is_forwarded()
            });
        if cancelled {
            self.passed_over.set(true);
        }
        cancelled
    }

    pub(super) fn register(&self, cx: &Context<'_>) {
        let mut waker = self.waker.borrow_mut();
        match &*waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
    }

    /// Marks the waiter woken and hands back its waker, to be woken once the
    /// queue is no longer borrowed.
    pub(super) fn choose(&self) -> Option<Waker> {
        self.woken.set(true);
        self.waker.borrow_mut().take()
    }
}

/// The waiters of one primitive, first come first served.
#[derive(Default)]
pub(super) struct WaitQueue(RefCell<VecDeque<Rc<Waiter>>>);

impl WaitQueue {
    pub(super) fn push(&self, cx: &Context<'_>) -> Rc<Waiter> {
        let waiter = Rc::new(Waiter {
            woken: Cell::new(false),
            waker: RefCell::new(Some(cx.waker().clone())),
            task: current_task().map(|task| task.downgrade()),
            passed_over: Cell::new(false),
        });
        self.0.borrow_mut().push_back(waiter.clone());
        waiter
    }

    pub(super) fn remove(&self, waiter: &Rc<Waiter>) {
        let mut queue = self.0.borrow_mut();
        // A waiter that leaves is nearly always the first: the scan is short.
        if let Some(at) = queue.iter().position(|queued| Rc::ptr_eq(queued, waiter)) {
            queue.remove(at);
        }
    }

    /// Takes out the first waiter whose task was not cancelled.
    pub(super) fn pop_first_live(&self) -> Option<Rc<Waiter>> {
        let mut queue = self.0.borrow_mut();
        let at = queue.iter().position(|waiter| !waiter.cancelled())?;
        queue.remove(at)
    }

    /// Whether every waiter's task was cancelled (true when none waits).
    pub(super) fn all_cancelled(&self) -> bool {
        self.0.borrow().iter().all(|waiter| waiter.cancelled())
    }

    pub(super) fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// Wakes the first waiter unless it was woken already or its task was
    /// cancelled (Python's `Lock._wake_up_first`: a cancelled first waiter
    /// passes the wake-up on itself when its task runs).
    pub(super) fn wake_first(&self) {
        let waker = match self.0.borrow().front() {
            Some(first) if !first.woken.get() && !first.cancelled() => first.choose(),
            _ => None,
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes up to `n` waiters not woken yet, in order, passing over those
    /// whose task was cancelled (Python's `Condition._notify`, and
    /// `Event.set` with every waiter).
    pub(super) fn wake_unwoken(&self, n: usize) {
        let wakers: Vec<Waker> = self
            .0
            .borrow()
            .iter()
            .filter(|waiter| !waiter.woken.get() && !waiter.cancelled())
            .take(n)
            .filter_map(|w| w.choose())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }
}

/// A task parked in a queue until a `set` or `notify` wakes it: the future
/// inside [`Event::wait`] and [`Condition::wait`].
pub(super) struct Parked<'a> {
    queue: &'a WaitQueue,
    /// A flag that, when set at the start, makes the wait return at once
    /// (the event's).
    unless: Option<&'a Cell<bool>>,
    waiter: Option<Rc<Waiter>>,
}

impl<'a> Parked<'a> {
    /// Parks in `queue`; if `unless` is set when first polled, returns at once.
    pub(super) fn new(queue: &'a WaitQueue, unless: Option<&'a Cell<bool>>) -> Parked<'a> {
        Parked { queue, unless, waiter: None }
    }

    fn leave(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.queue.remove(&waiter);
        }
    }
}

impl Future for Parked<'_> {
    type Output = Result<(), Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(cancelled) = take_cancellation() {
            this.leave();
            return Poll::Ready(Err(cancelled));
        }
        match &this.waiter {
            None if this.unless.is_some_and(Cell::get) => Poll::Ready(Ok(())),
            None => {
                this.waiter = Some(this.queue.push(cx));
                Poll::Pending
            }
            // Woken; or passed over by a wake-up while its task was
            // cancelled, the cancellation withdrawn since (`uncancel`): that
            // wake-up is taken as this waiter's, so it is never missed (for
            // a condition, a spurious wake-up, which its protocol allows).
            Some(waiter) if waiter.woken.get() || waiter.passed_over.get() => {
                this.leave();
                Poll::Ready(Ok(()))
            }
            Some(waiter) => {
                waiter.register(cx);
                Poll::Pending
            }
        }
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}
