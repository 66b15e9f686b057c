//! A wake-up signal for threads and tasks: an `event_listener::Event` that
//! is only touched when someone listens.
//!
//! `Event::notify` takes the event's internal lock on every call, even with
//! nobody listening, and a queue notifies on every put and get (a future, on
//! every completion). So each
//! signal also counts its listeners, and a notification with none costs one
//! load — the scheme crossbeam-channel's wakers use.
//!
//! Why no wake-up is lost: a waiter counts itself (`SeqCst`), fences
//! (`SeqCst`), then re-checks its condition; a notifier has just changed that
//! condition with a `SeqCst` read-modify-write or a change followed by a
//! `SeqCst` fence (for queues, the store contract in `queue/store.rs`), then
//! loads the count (`SeqCst`). Every user of a signal must keep that side of
//! the bargain. In the
//! single total order of those operations, either the waiter's fence comes
//! after the notifier's change, and its re-check sees the change, or it comes
//! before, and the notifier's load sees the waiter counted.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crossbeam_utils::CachePadded;
use event_listener::{Event, EventListener, Listener};

use crate::deadline::Deadline;
use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering};

#[derive(Debug)]
pub(crate) struct Signal {
    event: Event,
    /// On a line of its own: every put or get reads it, and sharing a line
    /// with another hot counter would make each of those reads a miss.
    listeners: CachePadded<AtomicUsize>,
}

impl Signal {
    pub(crate) fn new() -> Signal {
        Signal { event: Event::new(), listeners: CachePadded::new(AtomicUsize::new(0)) }
    }

    /// Registers interest. The caller must re-check its condition before
    /// waiting on the result.
    pub(crate) fn listen(&self) -> Listening<'_> {
        self.listeners.fetch_add(1, Ordering::SeqCst);
        let listener = self.event.listen();
        fence(Ordering::SeqCst);
        Listening { signal: self, listener: Some(listener) }
    }

    #[inline]
    fn has_listeners(&self) -> bool {
        // loom models `SeqCst` reads and writes as acquire/release only, so
        // under loom the argument above is spelled with a fence, which it
        // models in full.
        #[cfg(loom)]
        fence(Ordering::SeqCst);
        self.listeners.load(Ordering::SeqCst) != 0
    }

    /// Wakes `n` more listeners, for `n` new items (or `n` new free slots).
    #[inline]
    pub(crate) fn notify_additional(&self, n: usize) {
        if self.has_listeners() {
            self.event.notify_additional_relaxed(n);
        }
    }

    /// Wakes every listener.
    pub(crate) fn notify_all(&self) {
        if self.has_listeners() {
            self.event.notify_relaxed(usize::MAX);
        }
    }
}

/// A registered listener. Dropping it unregisters; if it had been notified,
/// the notification passes to the next listener.
#[derive(Debug)]
pub(crate) struct Listening<'a> {
    signal: &'a Signal,
    /// `None` only after a blocking wait consumed it.
    listener: Option<EventListener>,
}

impl Listening<'_> {
    /// Blocks until notified or the deadline passes; returns whether it was
    /// notified.
    pub(crate) fn wait(mut self, deadline: Deadline) -> bool {
        let Some(listener) = self.listener.take() else { return true };
        match deadline.instant() {
            None => {
                listener.wait();
                true
            }
            Some(at) => listener.wait_deadline(at).is_some(),
        }
    }
}

impl Future for Listening<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.listener.as_mut() {
            Some(listener) => Pin::new(listener).poll(cx),
            None => Poll::Ready(()),
        }
    }
}

impl Drop for Listening<'_> {
    fn drop(&mut self) {
        // The listener goes first, so a notification it held is passed on
        // while it is still counted.
        drop(self.listener.take());
        self.signal.listeners.fetch_sub(1, Ordering::Release);
    }
}
