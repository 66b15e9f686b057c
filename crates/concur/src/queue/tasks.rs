//! The count of unfinished tasks behind `task_done` and `join`, kept in two
//! halves so that a put pays nothing for it.
//!
//! Python keeps one number, `unfinished_tasks`, raised by every put and
//! lowered by every `task_done`, under the queue's lock. One shared atomic
//! counter in its place costs every put a locked read-modify-write on a line
//! the consumers write too (its price is in `queue/mod.rs`, "Where the time
//! goes"). So the two halves are counted apart:
//!
//! - the store counts its pushes, as a *position* that moves forward by one
//!   with each push — for the ring and the list, their tails, which a push
//!   moves anyway; for a store under a mutex, a number written while the
//!   mutex is held;
//! - [`Tasks`] counts the `task_done` calls as a position in the same
//!   numbering, on a cache line of its own.
//!
//! The distance from the second to the first is the number of unfinished
//! tasks. A put touches neither line more than it already did; a
//! `task_done` costs one compare-exchange, as it did before; `join` and
//! `unfinished_tasks` read two words.
//!
//! # Why the count is right
//!
//! A store counts a push *before* its item can be taken (the ring moves its
//! tail before it writes the slot; a locked store counts under the lock),
//! so a consumer that took an item sees it counted, and its `task_done`
//! cannot be refused. `task_done` moves its position only while it is
//! behind the stores' (a compare-exchange, retried), so it never passes it:
//! the count cannot go below zero. A reader loads `done` first and the
//! store's position second; both only move forward, so the distance it
//! computes is never less than the count was when it loaded `done`, and
//! when it finds zero the count *was* zero at that moment — which is what
//! `join` promises.

use crossbeam_utils::CachePadded;

use super::error::TaskDoneError;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// A store that counts its pushes as a position, in a numbering of its own.
pub(crate) trait Counted {
    /// The position after the last push. Moves forward by one with each
    /// push, and is moved before the pushed item can be taken.
    fn put_position(&self) -> usize;
    /// The position `n` pushes after `position`.
    fn advance(&self, position: usize, n: usize) -> usize;
    /// How many pushes lead from `from` to `to`; 0 if `to` is not after
    /// `from`.
    fn distance(&self, from: usize, to: usize) -> usize;
}

/// The `task_done` half of the count.
#[derive(Debug)]
pub(crate) struct Tasks {
    /// The store's position up to which every push has been marked done.
    done: CachePadded<AtomicUsize>,
}

impl Tasks {
    pub(crate) fn new() -> Tasks {
        Tasks { done: CachePadded::new(AtomicUsize::new(0)) }
    }

    pub(crate) fn unfinished(&self, store: &impl Counted) -> usize {
        let done = self.done.load(Ordering::SeqCst);
        store.distance(done, store.put_position())
    }

    /// Marks one task done. Returns whether none is left unfinished now, so
    /// the caller knows to wake `join`.
    ///
    /// The compare-exchange is `SeqCst` because `join`'s wake-up relies on
    /// it: a joiner counts itself as a listener, fences, then reads `done`;
    /// this call changes `done`, then loads the listener count.
    pub(crate) fn task_done(&self, store: &impl Counted) -> Result<bool, TaskDoneError> {
        let mut done = self.done.load(Ordering::Acquire);
        loop {
            if store.distance(done, store.put_position()) == 0 {
                return Err(TaskDoneError);
            }
            let next = store.advance(done, 1);
            match self.done.compare_exchange_weak(done, next, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => return Ok(store.distance(next, store.put_position()) == 0),
                Err(now) => done = now,
            }
        }
    }

    /// Marks up to `n` tasks done without the `task_done` check, for items
    /// thrown away unseen; stops at zero, as Python does.
    pub(crate) fn discard(&self, store: &impl Counted, n: usize) {
        let mut done = self.done.load(Ordering::Acquire);
        loop {
            let left = store.distance(done, store.put_position());
            let next = store.advance(done, n.min(left));
            match self.done.compare_exchange_weak(done, next, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => return,
                Err(now) => done = now,
            }
        }
    }
}

/// Positions that are plain counts of pushes, wrapping at the word size:
/// the numbering of the list and of the stores under a mutex.
pub(crate) mod count {
    pub(crate) fn advance(position: usize, n: usize) -> usize {
        position.wrapping_add(n)
    }

    /// A distance past half the word is `to` *behind* `from`, which no
    /// store makes; it counts as nothing left rather than as nearly
    /// `usize::MAX` unfinished tasks.
    pub(crate) fn distance(from: usize, to: usize) -> usize {
        let ahead = to.wrapping_sub(from);
        if ahead > usize::MAX / 2 {
            0
        } else {
            ahead
        }
    }
}
