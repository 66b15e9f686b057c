//! Where a queue keeps its items, which decides the order they leave in:
//! first in first out, last in first out, or lowest first.
//!
//! The first-in-first-out store is `concurrent_queue::ConcurrentQueue`, a
//! lock-free ring (bounded) or block list (unbounded) from the smol project,
//! whose `close` is atomic with `push`: no item can slip in after a shutdown.
//! The other two orders have no lock-free form worth its complexity, so they
//! keep a sequence under a mutex, with the closed flag under the same mutex
//! for the same guarantee.

use std::cmp::Ordering;
use std::collections::VecDeque;

use concurrent_queue::{ConcurrentQueue, PopError, PushError};

use super::error::{GetError, PutError};
use crate::loom::sync::atomic::{fence, Ordering as MemoryOrder};
use crate::loom::sync::Mutex;

/// A queue's items. Every call is atomic on its own; `push` after `close`
/// fails, and `pop` reports `ShutDown` only when closed *and* empty.
///
/// Every change a store makes (a successful `push` or `pop`, a `close`) must
/// be sequentially consistent: a `SeqCst` read-modify-write, or followed by
/// a `SeqCst` fence. The engine's wake-ups rely on it in place of a fence of
/// their own (see `signal.rs`).
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
/// Up to [`RING_LIMIT`] items, and without a limit, the items live in a
/// `ConcurrentQueue`, which makes every push, pop and close a `SeqCst`
/// read-modify-write of its head, tail or state. A bounded `ConcurrentQueue`
/// allocates every slot up front, though, so a queue with a larger limit —
/// `Queue::new(10_000_000)`, or an absurd one — keeps its items in a
/// `VecDeque` under a mutex instead, which grows as items come, as Python's
/// deque does.
#[derive(Debug)]
// The large variant is the common one: boxing it would add a pointer chase
// to every put and get.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Fifo<T> {
    Lockless(ConcurrentQueue<T>),
    Locked(Locked<VecDeque<T>>),
}

/// The largest limit served by a ring allocated up front.
pub(crate) const RING_LIMIT: usize = 1 << 16;

impl<T> Store<T> for Fifo<T> {
    fn with_maxsize(maxsize: usize) -> Self {
        match maxsize {
            0 => Fifo::Lockless(ConcurrentQueue::unbounded()),
            1..=RING_LIMIT => Fifo::Lockless(ConcurrentQueue::bounded(maxsize)),
            _ => Fifo::Locked(Locked::with_maxsize(maxsize)),
        }
    }
    #[inline]
    fn push(&self, item: T) -> Result<(), PutError<T>> {
        match self {
            Fifo::Lockless(queue) => queue.push(item).map_err(|e| match e {
                PushError::Full(item) => PutError::Full(item),
                PushError::Closed(item) => PutError::ShutDown(item),
            }),
            Fifo::Locked(store) => store.push(item),
        }
    }
    #[inline]
    fn pop(&self) -> Result<T, GetError> {
        match self {
            Fifo::Lockless(queue) => queue.pop().map_err(|e| match e {
                PopError::Empty => GetError::Empty,
                PopError::Closed => GetError::ShutDown,
            }),
            Fifo::Locked(store) => store.pop(),
        }
    }
    fn close(&self) -> bool {
        match self {
            Fifo::Lockless(queue) => queue.close(),
            Fifo::Locked(store) => store.close(),
        }
    }
    fn is_closed(&self) -> bool {
        match self {
            Fifo::Lockless(queue) => queue.is_closed(),
            Fifo::Locked(store) => store.is_closed(),
        }
    }
    fn len(&self) -> usize {
        match self {
            Fifo::Lockless(queue) => queue.len(),
            Fifo::Locked(store) => store.len(),
        }
    }
    fn is_full(&self) -> bool {
        match self {
            Fifo::Lockless(queue) => queue.is_full(),
            Fifo::Locked(store) => store.is_full(),
        }
    }
}

impl<T> Sequence<T> for VecDeque<T> {
    #[inline]
    fn push(&mut self, item: T) {
        self.push_back(item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}

/// A plain sequence that a [`Locked`] store guards.
pub(crate) trait Sequence<T>: Default {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

/// A sequence and its closed flag under one mutex.
#[derive(Debug)]
pub(crate) struct Locked<S> {
    state: Mutex<(S, bool)>,
    maxsize: usize,
}

impl<T, S: Sequence<T>> Store<T> for Locked<S> {
    fn with_maxsize(maxsize: usize) -> Self {
        Locked { state: Mutex::new((S::default(), false)), maxsize }
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
        items.push(item);
        drop(state);
        // The mutex orders by acquire and release only; the store contract
        // asks for sequential consistency.
        fence(MemoryOrder::SeqCst);
        Ok(())
    }
    #[inline]
    fn pop(&self) -> Result<T, GetError> {
        let mut state = self.state.lock();
        let (items, closed) = &mut *state;
        match items.pop() {
            Some(item) => {
                drop(state);
                fence(MemoryOrder::SeqCst);
                Ok(item)
            }
            None if *closed => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }
    fn close(&self) -> bool {
        let closed_now = !std::mem::replace(&mut self.state.lock().1, true);
        fence(MemoryOrder::SeqCst);
        closed_now
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

/// Last in, first out (`queue.LifoQueue`).
pub(crate) type Lifo<T> = Locked<Vec<T>>;

impl<T> Sequence<T> for Vec<T> {
    #[inline]
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// Lowest first; equal items leave in the order they came
/// (`queue.PriorityQueue`, made stable).
pub(crate) type Lowest<T> = Locked<Ranking<T>>;

/// A binary heap, written out rather than `std::collections::BinaryHeap`,
/// for one property std's lacks: a comparison that panics (a faulty `Ord`)
/// loses no item. std's `pop` has already moved the top item out when it
/// compares, and drops it while unwinding; here every item stays in the
/// heap, which may be out of order afterwards, as Python's `heapq` may.
#[derive(Debug)]
pub(crate) struct Ranking<T: Ord> {
    heap: Vec<Ranked<T>>,
    /// Arrival number of the next item, the tie-breaker.
    next: u64,
}

impl<T: Ord> Default for Ranking<T> {
    fn default() -> Self {
        Ranking { heap: Vec::new(), next: 0 }
    }
}

/// Puts an item taken out of the heap back if the code between panics.
struct PutBack<'a, T: Ord> {
    heap: &'a mut Vec<Ranked<T>>,
    item: Option<Ranked<T>>,
}

impl<T: Ord> Drop for PutBack<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.heap.push(item);
        }
    }
}

impl<T: Ord> Sequence<T> for Ranking<T> {
    #[inline]
    fn push(&mut self, item: T) {
        let arrival = self.next;
        self.next += 1;
        self.heap.push(Ranked { item, arrival });
        // Sift up. Only swaps move items, so a panicking comparison leaves
        // them all in place.
        let mut at = self.heap.len() - 1;
        while at > 0 {
            let parent = (at - 1) / 2;
            if self.heap[at] <= self.heap[parent] {
                break;
            }
            self.heap.swap(at, parent);
            at = parent;
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(last.item);
        }
        let top = std::mem::replace(&mut self.heap[0], last);
        let guard = PutBack { heap: &mut self.heap, item: Some(top) };
        // Sift the new root down; swaps only, as above.
        let heap = &mut *guard.heap;
        let mut at = 0;
        loop {
            let left = 2 * at + 1;
            if left >= heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < heap.len() && heap[right] > heap[left] { right } else { left };
            if heap[child] <= heap[at] {
                break;
            }
            heap.swap(child, at);
            at = child;
        }
        let mut guard = guard;
        guard.item.take().map(|ranked| ranked.item)
    }

    #[inline]
    fn len(&self) -> usize {
        self.heap.len()
    }
}

/// An item with its arrival number. The heap keeps the greatest on top, so
/// the order is reversed: the smallest item, then the earliest arrival, is
/// "greatest".
#[derive(Debug)]
struct Ranked<T> {
    item: T,
    arrival: u64,
}

impl<T: Ord> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.item.cmp(&self.item).then_with(|| other.arrival.cmp(&self.arrival))
    }
}

impl<T: Ord> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Ranked<T> {}

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
