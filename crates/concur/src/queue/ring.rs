//! The store of a bounded first-in, first-out queue: a lock-free ring whose
//! tail doubles as the count of items ever put.
//!
//! # Why not a crate
//!
//! This is the ring of `concurrent_queue::ConcurrentQueue::bounded` and of
//! crossbeam's `ArrayQueue`, which this store used to be. Neither tells how
//! many items were ever pushed, and a `Queue` needs that number for
//! `task_done` and `join`. Counted beside the ring, it took a second locked
//! read-modify-write on every put — a full barrier on x86 that waits for the
//! previous push's stores to reach a contended cache line (its price is in
//! `queue/mod.rs`, "Where the time goes"). The ring's tail already moves by one with
//! every push, so here it *is* the count, and a put pays for task tracking
//! nothing at all. Two smaller differences from `concurrent-queue`: a thread
//! that finds another halfway through a push or pop backs off by spinning
//! first (crossbeam's `Backoff`), where `concurrent-queue` yields the thread,
//! a system call; and no slot is reached through a second enum.
//!
//! # The algorithm
//!
//! Dmitry Vyukov's bounded multi-producer multi-consumer queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>),
//! in the form of crossbeam-channel's `array` flavor: head and tail are
//! *positions* `{ lap, mark, index }` packed into one `usize` (so any
//! capacity works, not only powers of two), and every slot carries a stamp
//! saying which position it is ready for. A slot whose stamp equals the tail
//! is free for that push; one whose stamp is the head + 1 holds the item for
//! that pop. The mark bit in the tail is `concurrent-queue`'s: set by
//! `close`, it makes every later push fail, atomically with the pushes before
//! it, which is what Python's `shutdown` needs.
//!
//! # Orderings
//!
//! - Head and tail move by `SeqCst` compare-exchange. The engine's wake-ups
//!   rely on it (the store contract in `store.rs`): a waiter counts itself,
//!   fences, then re-checks; a push or pop that changed the queue then loads
//!   that count.
//! - A slot's stamp is stored with `Release` after its value is written or
//!   read, and loaded with `Acquire` before, so the value's write happens
//!   before its read and its read before the next lap's write.
//! - Before concluding "empty" (or "full") from a stamp, a `SeqCst` fence and
//!   then the other end's position: if that end has moved, an item (or room)
//!   is on its way and the caller spins for the stamp instead of reporting
//!   empty.

use std::fmt;
use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use super::error::{GetError, PutError};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering};
use crate::loom::Backoff;

struct Slot<T> {
    /// The position this slot is ready for: the tail's when free, the
    /// head's + 1 when it holds an item.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

pub(crate) struct Ring<T> {
    /// Where the next pop takes from. The mark bit is always clear.
    head: CachePadded<AtomicUsize>,
    /// Where the next push goes; the mark bit says the ring is closed.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// The smallest power of two above the capacity: positions keep the
    /// index below it and the closed flag in it.
    mark_bit: usize,
    /// `{ lap: 1, mark: 0, index: 0 }`.
    one_lap: usize,
}

// SAFETY: the ring moves whole `T`s from the thread that pushes to the one
// that pops, so it is `Send` and `Sync` when `T` is `Send`; no `&T` is ever
// shared. The stamps give each slot's value to one thread at a time.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring for `capacity` items, all allocated now.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: the callers refuse it first.
    pub(crate) fn new(capacity: usize) -> Ring<T> {
        assert!(capacity > 0, "a ring needs room for one item");
        let slots = (0..capacity)
            .map(|index| Slot { stamp: AtomicUsize::new(index), value: UnsafeCell::new(MaybeUninit::uninit()) })
            .collect();
        let mark_bit = (capacity + 1).next_power_of_two();
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots,
            mark_bit,
            one_lap: mark_bit * 2,
        }
    }

    fn index(&self, position: usize) -> usize {
        position & (self.mark_bit - 1)
    }

    fn lap(&self, position: usize) -> usize {
        position & !(self.one_lap - 1)
    }

    /// The position after `position`.
    #[inline]
    fn next(&self, position: usize) -> usize {
        if self.index(position) + 1 < self.slots.len() {
            position + 1
        } else {
            self.lap(position).wrapping_add(self.one_lap)
        }
    }

    #[inline]
    pub(crate) fn push(&self, item: T) -> Result<(), PutError<T>> {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(PutError::ShutDown(item));
            }
            let slot = &self.slots[self.index(tail)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                // The slot is free for this lap: claim it by moving the tail.
                // A `close` in between changes the tail, so this fails and
                // the next round sees the mark.
                match self.tail.compare_exchange_weak(tail, self.next(tail), Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => {
                        // SAFETY: the compare-exchange gave this thread the
                        // slot for this lap: no other push can claim it, and
                        // no pop reads it until the stamp below says so.
                        slot.value.with_mut(|value| unsafe { value.write(MaybeUninit::new(item)) });
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => {
                        tail = now;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds the item of the previous lap: full,
                // unless a pop has moved the head since.
                fence(Ordering::SeqCst);
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(PutError::Full(item));
                }
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another push claimed this slot and moved on; catch up.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    #[inline]
    pub(crate) fn pop(&self) -> Result<T, GetError> {
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[self.index(head)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                match self.head.compare_exchange_weak(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => {
                        // SAFETY: the stamp says the push of this lap wrote
                        // the value (its `Release` store pairs with the
                        // `Acquire` load above), and the compare-exchange
                        // gave this thread the only right to take it; no
                        // push reuses the slot until the stamp below.
                        let item = slot.value.with_mut(|value| unsafe { value.read().assume_init() });
                        slot.stamp.store(head.wrapping_add(self.one_lap), Ordering::Release);
                        return Ok(item);
                    }
                    Err(now) => {
                        head = now;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // No item here yet: empty, unless a push has moved the tail
                // and is about to write it.
                fence(Ordering::SeqCst);
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 { GetError::ShutDown } else { GetError::Empty });
                }
                backoff.spin();
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another pop took this slot's item and moved on.
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Refuses every later push. Returns whether this call closed the ring.
    pub(crate) fn close(&self) -> bool {
        self.tail.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            // A tail that did not move while the head was read gives a
            // consistent pair.
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                return self.distance(head, tail & !self.mark_bit);
            }
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        // A tail that moved before the head was read only means there was
        // room for a moment, so `false` is a fair answer.
        head.wrapping_add(self.one_lap) == tail & !self.mark_bit
    }

    /// The position of the next push. It moves by one with each push and
    /// never back, so with [`advance`](Self::advance) and
    /// [`distance`](Self::distance) it counts the items ever put.
    pub(crate) fn put_position(&self) -> usize {
        self.tail.load(Ordering::SeqCst) & !self.mark_bit
    }

    /// The position `n` pushes after `position`.
    pub(crate) fn advance(&self, position: usize, n: usize) -> usize {
        let capacity = self.slots.len();
        let mut laps = n / capacity;
        let mut index = self.index(position) + n % capacity;
        if index >= capacity {
            index -= capacity;
            laps += 1;
        }
        self.lap(position).wrapping_add(laps.wrapping_mul(self.one_lap)) | index
    }

    /// How many pushes lead from position `from` to the later position `to`.
    pub(crate) fn distance(&self, from: usize, to: usize) -> usize {
        // Whole laps between the two (wrapping, as positions do), then the
        // step within a lap, which may be back: `to`'s index can be lower.
        let laps = self.lap(to).wrapping_sub(self.lap(from)) / self.one_lap;
        laps * self.slots.len() + self.index(to) - self.index(from)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Items left in the ring are dropped with it.
        while self.pop().is_ok() {}
    }
}

impl<T> fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("len", &self.len())
            .field("capacity", &self.slots.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The ring alone, on one thread and a few; the queue's tests and loom
    //! models cover it under the engine. `scripts/test` runs these under miri,
    //! which checks every slot's value is written before it is read and read
    //! once.

    use std::sync::Arc;

    use super::*;

    #[test]
    fn items_leave_in_order_across_laps() {
        let ring = Ring::new(3);
        let mut next = 0;
        for round in 0..10 {
            for n in 0..=round % 3 {
                ring.push(round * 10 + n).unwrap();
            }
            for n in 0..=round % 3 {
                assert_eq!(ring.pop(), Ok(round * 10 + n));
                next += 1;
            }
        }
        assert_eq!(ring.pop(), Err(GetError::Empty));
        assert_eq!(ring.distance(0, ring.put_position()), next);
    }

    #[test]
    fn full_refuses_and_hands_the_item_back() {
        let ring = Ring::new(2);
        ring.push("a").unwrap();
        ring.push("b").unwrap();
        assert!(ring.is_full());
        assert_eq!(ring.push("c"), Err(PutError::Full("c")));
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.pop(), Ok("a"));
        ring.push("c").unwrap();
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn close_refuses_pushes_and_keeps_items_for_pops() {
        let ring = Ring::new(4);
        ring.push(String::from("kept")).unwrap();
        assert!(ring.close());
        assert!(!ring.close(), "only the first close closes");
        assert!(ring.is_closed());
        assert_eq!(ring.push(String::from("late")), Err(PutError::ShutDown(String::from("late"))));
        assert_eq!(ring.pop().as_deref(), Ok("kept"));
        assert_eq!(ring.pop(), Err(GetError::ShutDown));
    }

    #[test]
    fn positions_count_every_push() {
        for capacity in [1, 2, 3, 4, 7, 8] {
            let ring = Ring::new(capacity);
            let start = ring.put_position();
            for pushed in 1..=50 {
                ring.push(pushed).unwrap();
                ring.pop().unwrap();
                let now = ring.put_position();
                assert_eq!(ring.distance(start, now), pushed, "capacity {capacity}");
                assert_eq!(ring.advance(start, pushed), now, "capacity {capacity}");
                for back in 0..=pushed {
                    let earlier = ring.advance(start, pushed - back);
                    assert_eq!(ring.distance(earlier, now), back, "capacity {capacity}");
                }
            }
        }
    }

    #[test]
    fn positions_wrap_around_the_word() {
        let ring: Ring<u8> = Ring::new(3);
        // The last lap a position can hold, then one step further.
        let last = ring.lap(usize::MAX) | 2;
        let wrapped = ring.advance(last, 1);
        assert_eq!(wrapped, 0);
        assert_eq!(ring.distance(last, wrapped), 1);
        assert_eq!(ring.distance(ring.advance(last, usize::MAX / 8), ring.advance(last, usize::MAX / 8 + 5)), 5);
    }

    #[test]
    fn items_left_are_dropped_with_the_ring() {
        let item = Arc::new(());
        let ring = Ring::new(4);
        ring.push(item.clone()).unwrap();
        ring.push(item.clone()).unwrap();
        ring.pop().unwrap();
        ring.push(item.clone()).unwrap();
        drop(ring);
        assert_eq!(Arc::strong_count(&item), 1);
    }

    #[test]
    fn threads_move_every_item_once() {
        const PER_PRODUCER: usize = if cfg!(miri) { 50 } else { 20_000 };
        let ring = Arc::new(Ring::new(4));
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    for n in 0..PER_PRODUCER {
                        let mut item = p * PER_PRODUCER + n;
                        loop {
                            match ring.push(item) {
                                Ok(()) => break,
                                Err(PutError::Full(back)) => item = back,
                                Err(PutError::ShutDown(_)) => unreachable!("nothing closes the ring"),
                            }
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        match ring.pop() {
                            Ok(item) => got.push(item),
                            Err(GetError::ShutDown) => return got,
                            Err(GetError::Empty) => std::thread::yield_now(),
                        }
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.join().unwrap();
        }
        ring.close();
        let mut got: Vec<usize> = consumers.into_iter().flat_map(|c| c.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..2 * PER_PRODUCER).collect::<Vec<_>>());
    }
}
