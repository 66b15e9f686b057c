//! Where a queue keeps its items, which decides the order they leave in:
//! first in first out, last in first out, or lowest first.
//!
//! A bounded first-in-first-out queue keeps its items in a lock-free
//! [`Ring`] of its own, an unbounded one in a lock-free [`List`] of blocks
//! of its own (see `ring.rs` and `list.rs` for why not a crate's). Both
//! close atomically with their pushes — no item can slip in after a
//! shutdown — and both count their pushes with their tails. The other two
//! orders have no lock-free form worth its complexity, so they keep a
//! sequence under a mutex, with the closed flag under the same mutex for
//! the same guarantee.
//!
//! Every store but `SimpleQueue`'s also counts its pushes for `task_done`
//! and `join` ([`Counted`], see `tasks.rs`).

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::error::{GetError, PutError};
use super::list::List;
use super::ranking::Ranking;
use super::ring::Ring;
use super::sequence::Sequence;
use super::tasks::{count, Counted};
use crate::loom::sync::atomic::{AtomicUsize, Ordering as MemoryOrder};
use crate::loom::sync::Mutex;

/// A queue's items. Every call is atomic on its own; `push` after `close`
/// fails, and `pop` reports `ShutDown` only when closed *and* empty.
///
/// The engine's wake-ups (see `signal.rs`) need every change a store makes
/// (a successful `push` or `pop`, a `close`) to be ordered before the
/// notifier's look at the waiters, and a waiter's re-check (`push` or `pop`
/// again, after it has counted itself) to see the change if the notifier did
/// not see the waiter. A store gives that in one of two ways:
///
/// - lock-free stores make each change with a `SeqCst` read-modify-write,
///   and look for an item or room behind a `SeqCst` fence;
/// - locked stores make each change under their mutex, which the re-check
///   takes too: either the re-check's lock comes after the change's unlock
///   and sees the change, or it comes before the change's lock, and then
///   the waiter's counting of itself happens before the notifier's look.
///   No fence is needed, and none is paid.
pub(crate) trait Store<T> {
    /// A store for at most `maxsize` items; 0 means unbounded.
    fn with_maxsize(maxsize: usize) -> Self;
    fn push(&self, item: T) -> Result<(), PutError<T>>;
    fn pop(&self) -> Result<T, GetError>;
    /// Refuses every later `push`. Returns whether this call closed it.
    fn close(&self) -> bool;
    fn is_closed(&self) -> bool;
    fn len(&self) -> usize;
    fn is_full(&self) -> bool;
}

/// First in, first out (`queue.Queue`).
///
/// Up to [`RING_LIMIT`] items, the items live in a [`Ring`] allocated up
/// front, whose tail counts the pushes. Without a limit they live in a
/// [`List`], whose tail counts them too. A bounded ring
/// allocates every slot at once, though, so a queue with a larger limit —
/// `Queue::bounded(10_000_000)`, or an absurd one — keeps its items in a
/// `VecDeque` under a mutex instead, which grows as items come, as Python's
/// deque does.
#[derive(Debug)]
// The large variant is the common one: boxing it would add a pointer chase
// to every put and get.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Fifo<T> {
    Ring(Ring<T>),
    List(List<T>),
    Locked(Locked<VecDeque<T>>),
}

/// The largest limit served by a ring allocated up front.
pub(crate) const RING_LIMIT: usize = 1 << 16;

impl<T> Store<T> for Fifo<T> {
    fn with_maxsize(maxsize: usize) -> Self {
        match maxsize {
            0 => Fifo::List(List::new()),
            1..=RING_LIMIT => Fifo::Ring(Ring::new(maxsize)),
            _ => Fifo::Locked(Locked::with_maxsize(maxsize)),
        }
    }
    #[inline]
    fn push(&self, item: T) -> Result<(), PutError<T>> {
        match self {
            Fifo::Ring(ring) => ring.push(item),
            Fifo::List(list) => list.push(item),
            Fifo::Locked(store) => store.push(item),
        }
    }
    #[inline]
    fn pop(&self) -> Result<T, GetError> {
        match self {
            Fifo::Ring(ring) => ring.pop(),
            Fifo::List(list) => list.pop(),
            Fifo::Locked(store) => store.pop(),
        }
    }
    fn close(&self) -> bool {
        match self {
            Fifo::Ring(ring) => ring.close(),
            Fifo::List(list) => list.close(),
            Fifo::Locked(store) => store.close(),
        }
    }
    fn is_closed(&self) -> bool {
        match self {
            Fifo::Ring(ring) => ring.is_closed(),
            Fifo::List(list) => list.is_closed(),
            Fifo::Locked(store) => store.is_closed(),
        }
    }
    fn len(&self) -> usize {
        match self {
            Fifo::Ring(ring) => ring.len(),
            Fifo::List(list) => list.len(),
            Fifo::Locked(store) => store.len(),
        }
    }
    fn is_full(&self) -> bool {
        match self {
            Fifo::Ring(ring) => ring.is_full(),
            Fifo::List(list) => list.is_full(),
            Fifo::Locked(store) => store.is_full(),
        }
    }
}

impl<T> Counted for Fifo<T> {
    fn put_position(&self) -> usize {
        match self {
            Fifo::Ring(ring) => ring.put_position(),
            Fifo::List(list) => list.put_position(),
            Fifo::Locked(store) => store.put_position(),
        }
    }
    fn advance(&self, position: usize, n: usize) -> usize {
        match self {
            Fifo::Ring(ring) => ring.advance(position, n),
            _ => count::advance(position, n),
        }
    }
    fn distance(&self, from: usize, to: usize) -> usize {
        match self {
            Fifo::Ring(ring) => ring.distance(from, to),
            _ => count::distance(from, to),
        }
    }
}

/// The unbounded lock-free list: `SimpleQueue`'s store, and an unbounded
/// `Queue`'s (through [`Fifo`]), whose pushes its tail counts.
impl<T> Store<T> for List<T> {
    fn with_maxsize(maxsize: usize) -> Self {
        debug_assert_eq!(maxsize, 0, "the list is only for unbounded queues");
        List::new()
    }
    #[inline]
    fn push(&self, item: T) -> Result<(), PutError<T>> {
        List::push(self, item)
    }
    #[inline]
    fn pop(&self) -> Result<T, GetError> {
        List::pop(self)
    }
    fn close(&self) -> bool {
        List::close(self)
    }
    fn is_closed(&self) -> bool {
        List::is_closed(self)
    }
    fn len(&self) -> usize {
        List::len(self)
    }
    fn is_full(&self) -> bool {
        false
    }
}

/// A sequence and its closed flag under one mutex, and the count of its
/// pushes beside them.
#[derive(Debug)]
pub(crate) struct Locked<S> {
    state: Mutex<(S, bool)>,
    maxsize: usize,
    /// Written only while `state` is held, so a plain store does: no
    /// read-modify-write. It shares the mutex's cache line, which a push
    /// has in hand anyway.
    pushed: AtomicUsize,
}

impl<T, S: Sequence<T>> Store<T> for Locked<S> {
    fn with_maxsize(maxsize: usize) -> Self {
        Locked { state: Mutex::new((S::default(), false)), maxsize, pushed: AtomicUsize::new(0) }
    }
    #[inline]
    fn push(&self, item: T) -> Result<(), PutError<T>> {
        let mut state = self.state.lock();
        let (items, closed) = &mut *state;
        if *closed {
            return Err(PutError::ShutDown(item));
        }
        if self.maxsize != 0 && items.len() >= self.maxsize {
            return Err(PutError::Full(item));
        }
        // A comparison that panics in a priority queue's `push` undoes it
        // (see `ranking.rs`), so the item is counted only once it stands;
        // no consumer can take it before the mutex is released. `Release`
        // so a `task_done` that reads the count sees what it counts.
        items.push(item);
        self.pushed.store(self.pushed.load(MemoryOrder::Relaxed).wrapping_add(1), MemoryOrder::Release);
        Ok(())
    }
    #[inline]
    fn pop(&self) -> Result<T, GetError> {
        let mut state = self.state.lock();
        let (items, closed) = &mut *state;
        match items.pop() {
            Some(item) => Ok(item),
            None if *closed => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }
    fn close(&self) -> bool {
        !std::mem::replace(&mut self.state.lock().1, true)
    }
    fn is_closed(&self) -> bool {
        self.state.lock().1
    }
    fn len(&self) -> usize {
        self.state.lock().0.len()
    }
    fn is_full(&self) -> bool {
        self.maxsize != 0 && self.state.lock().0.len() >= self.maxsize
    }
}

impl<S> Locked<S> {
    fn put_position(&self) -> usize {
        self.pushed.load(MemoryOrder::SeqCst)
    }
}

impl<S> Counted for Locked<S> {
    fn put_position(&self) -> usize {
        Locked::put_position(self)
    }
    fn advance(&self, position: usize, n: usize) -> usize {
        count::advance(position, n)
    }
    fn distance(&self, from: usize, to: usize) -> usize {
        count::distance(from, to)
    }
}

/// Last in, first out (`queue.LifoQueue`).
pub(crate) type Lifo<T> = Locked<Vec<T>>;

/// Lowest first; equal items leave in the order they came
/// (`queue.PriorityQueue`, made stable).
pub(crate) type Lowest<T> = Locked<Ranking<T>>;

/// An item with a priority, ordered by the priority alone: for a
/// [`PriorityQueue`](super::PriorityQueue) of items that cannot be compared,
/// or should not be.
///
/// Lower priorities leave first; equal priorities leave in the order they
/// were put.
///
/// # Examples
///
/// ```
/// use concur::queue::{Prioritized, PriorityQueue};
///
/// // A closure cannot be compared, so it rides with a priority.
/// let jobs: PriorityQueue<Prioritized<u8, Box<dyn FnOnce() -> &'static str + Send>>> = PriorityQueue::unbounded();
/// jobs.put_with_priority(Box::new(|| "backup"), 5).unwrap();
/// jobs.put_with_priority(Box::new(|| "page the on-call"), 0).unwrap();
/// let first = jobs.get().unwrap();
/// assert_eq!(first.priority, 0);
/// assert_eq!((first.item)(), "page the on-call");
/// ```
///
/// # Python
///
/// The `@dataclass(order=True)` with `field(compare=False)` recipe from the
/// `queue` module's documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prioritized<P, T> {
    /// The rank: lower leaves first.
    pub priority: P,
    /// The payload, never compared.
    pub item: T,
}

impl<P: Ord, T> Ord for Prioritized<P, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.cmp(&other.priority)
    }
}

impl<P: Ord, T> PartialOrd for Prioritized<P, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<P: Ord, T> PartialEq for Prioritized<P, T> {
    fn eq(&self, other: &Self) -> bool {
        self.priority == other.priority
    }
}

impl<P: Ord, T> Eq for Prioritized<P, T> {}
