//! The store of an unbounded first-in, first-out queue: a lock-free list of
//! blocks whose tail doubles as the count of items ever put.
//!
//! # Why not a crate
//!
//! This is the list of crossbeam-channel's `unbounded` flavor and of
//! `concurrent_queue::ConcurrentQueue::unbounded`, which this store used to
//! be. Three things made a store of concur's own worth its unsafe code:
//!
//! - `concurrent-queue`, built with its `std` feature (which
//!   `event-listener` switches on for every user), *yields the thread* —
//!   a system call — wherever a thread finds another halfway through a step:
//!   a slot being written, a block being linked. crossbeam spins first, with
//!   its `Backoff`. Profiled at one producer and one consumer (`perf
//!   record -e cpu-clock`), `SimpleQueue` on `concurrent-queue` spent about
//!   8 % of its time in the kernel (yields, scheduler) where crossbeam spent
//!   4 %; on this list the two profiles match, four fifths in push and pop.
//! - Its queue sits behind a second `Box` and an enum of three flavors: one
//!   more pointer to chase, and one more branch, on every put and get.
//! - Neither crate tells how many items were ever pushed, which `Queue`
//!   needs for `task_done` and `join`; counted beside the list, it cost a
//!   second locked read-modify-write on every put. The tail's index already
//!   moves by one with every push (and by one more at each block's end), so
//!   here it *is* the count, as the ring's tail is (`ring.rs`).
//!
//! crossbeam's channel has the first two right but no way to close it from
//! the side that keeps a sender, and no `try` push that hands the item back
//! on shutdown; `crossbeam_queue::SegQueue` has no close at all.
//!
//! Measured in alternating pairs of transfers (`cargo bench -p concur
//! --bench queue -- pairs`, 300 pairs, 2-core AMD EPYC VM, 2026-12-02),
//! `SimpleQueue` on this list moved a million items at 0.96× crossbeam's
//! unbounded channel's speed with one producer and one consumer and 0.95×
//! with two of each (median ratios; the pairs' own spread is ±0.1): level
//! with it, as the same algorithm should be.
//!
//! Tried and not kept: keeping the last freed block as a spare for the next
//! push, so that a steady stream allocates nothing. It took the transfers
//! to 1.12× and 1.25× crossbeam, but cost `concur worker`, whose threads
//! talk through `SimpleQueue`s, about a tenth of its drain rate at
//! concurrency 64 (81,000–84,000 tasks/s against 90,000–95,000 without it,
//! three rounds each beside `redis-benchmark`). Why is not settled; the
//! likeliest reason is that a reused block's lines must first come over
//! from the core that freed it.
//!
//! # The algorithm
//!
//! crossbeam-channel's list (`flavors/list.rs`), with `concurrent-queue`'s
//! use of the tail's mark bit for `close`. Items live in blocks of
//! [`BLOCK_CAP`] slots linked in order. Head and tail are an index and the
//! block it falls in; an index counts up by one per slot, and by one more
//! at each block's end ([`LAP`] indices a block), which is the moment the
//! next block is linked. Each slot has a state: `WRITE` once its item is
//! in, `READ` once taken, `DESTROY` when the thread freeing its block found
//! it still in use and left the freeing to it. A push moves the tail by
//! compare-exchange and then writes its slot; a pop moves the head and then
//! waits (briefly) for that slot's `WRITE`. The mark bit of the tail says
//! the list is closed; the mark bit of the head says the head's block is
//! not the last, so a pop need not look at the tail.
//!
//! # Orderings
//!
//! - Head and tail indices move by `SeqCst` compare-exchange, and `close` by
//!   `SeqCst` fetch-or. The engine's wake-ups rely on it (the store contract
//!   in `store.rs`): a waiter counts itself, fences, then re-checks; a push
//!   or pop that changed the list then loads that count.
//! - A slot's state gets `WRITE` with `Release` after its item is written,
//!   and is loaded with `Acquire` before the item is read.
//! - Before concluding "empty" a pop fences (`SeqCst`) and reads the tail:
//!   if the tail has moved past the head, an item is on its way.
//! - Links (`next`, the head and tail blocks) are stored with `Release` and
//!   loaded with `Acquire`, so a block is initialised before it is reached.

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;

use crossbeam_utils::CachePadded;

use super::error::{GetError, PutError};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};
use crate::loom::Backoff;

/// A slot's item has been written.
const WRITE: usize = 1;
/// A slot's item has been read.
const READ: usize = 2;
/// The thread freeing the block left the freeing to this slot's reader.
const DESTROY: usize = 4;

/// Indices a block covers: one per slot, and one for the move to the next
/// block.
const LAP: usize = 32;
/// Items a block holds.
const BLOCK_CAP: usize = LAP - 1;
/// Low bits of an index kept for the mark.
const SHIFT: usize = 1;
/// In the tail: the list is closed. In the head: the head's block is not
/// the last one.
const MARK_BIT: usize = 1;

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits for the item being written to this slot.
    fn wait_write(&self) {
        let backoff = Backoff::new();
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// An empty block, on the heap: built in place, since a block of large
    /// items would not fit on a stack.
    #[cfg(not(loom))]
    fn new() -> Box<Block<T>> {
        // SAFETY: every field is valid as zeroes — a null `next`, states of
        // 0 (empty), and values that are `MaybeUninit`.
        unsafe { Box::<Block<T>>::new_zeroed().assume_init() }
    }

    /// loom's atomics and cells are not valid as zeroes.
    #[cfg(loom)]
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                state: AtomicUsize::new(0),
            }),
        })
    }

    /// Waits for the next block to be linked.
    fn wait_next(&self) -> *mut Block<T> {
        let backoff = Backoff::new();
        loop {
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Marks the slots from `start` on for destruction, and frees the block
    /// unless one of them is still being read (its reader frees it then).
    ///
    /// # Safety
    ///
    /// `block` came from `Box::into_raw`, and every slot of it below
    /// `start` has been read, and whose last slot's reader is the caller or has
    /// called this.
    unsafe fn destroy(block: *mut Block<T>, start: usize) {
        // The last slot need not be marked: its reader is what started the
        // destruction.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is live until freed below, and `i` is in
            // range.
            let slot = unsafe { (*block).slots.get_unchecked(i) };
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                // That slot's reader sees `DESTROY` and goes on from here.
                return;
            }
        }
        // SAFETY: every slot has been read and no thread uses the block any
        // more; it came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(block) });
    }
}

/// An end of the list.
struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
}

// SAFETY: the list moves whole `T`s from the thread that pushes to the one
// that pops, so it is `Send` and `Sync` when `T` is `Send`; no `&T` is ever
// shared. A slot's state gives its value to one thread at a time.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> List<T> {
        List {
            head: CachePadded::new(Position { index: AtomicUsize::new(0), block: AtomicPtr::new(ptr::null_mut()) }),
            tail: CachePadded::new(Position { index: AtomicUsize::new(0), block: AtomicPtr::new(ptr::null_mut()) }),
        }
    }

    pub(crate) fn push(&self, value: T) -> Result<(), PutError<T>> {
        let backoff = Backoff::new();
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut next_block = None;
        loop {
            if tail & MARK_BIT != 0 {
                return Err(PutError::ShutDown(value));
            }
            let offset = (tail >> SHIFT) % LAP;
            // Another push is linking the next block.
            if offset == BLOCK_CAP {
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            // This push may have to link the next block: allocate it before
            // taking the slot, so that others wait for the link as briefly
            // as possible.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(Block::<T>::new());
            }
            // The very first push allocates the first block.
            if block.is_null() {
                let new = Box::into_raw(Block::<T>::new());
                if self.tail.block.compare_exchange(block, new, Ordering::Release, Ordering::Relaxed).is_ok() {
                    self.head.block.store(new, Ordering::Release);
                    block = new;
                } else {
                    // SAFETY: `new` came from `Box::into_raw` and was not
                    // published; keep it for the next block.
                    next_block = Some(unsafe { Box::from_raw(new) });
                    tail = self.tail.index.load(Ordering::Acquire);
                    block = self.tail.block.load(Ordering::Acquire);
                    continue;
                }
            }
            let new_tail = tail + (1 << SHIFT);
            match self.tail.index.compare_exchange_weak(tail, new_tail, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => {
                    // SAFETY: the compare-exchange gave this push slot
                    // `offset` of `block`, which is live: a block is freed
                    // only after each of its slots is read, and this one
                    // has not been written yet.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            let next = Box::into_raw(next_block.take().expect("allocated above"));
                            self.tail.block.store(next, Ordering::Release);
                            self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                            (*block).next.store(next, Ordering::Release);
                        }
                        let slot = (*block).slots.get_unchecked(offset);
                        slot.value.with_mut(|cell| cell.write(MaybeUninit::new(value)));
                        slot.state.fetch_or(WRITE, Ordering::Release);
                    }
                    return Ok(());
                }
                Err(now) => {
                    tail = now;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    pub(crate) fn pop(&self) -> Result<T, GetError> {
        let backoff = Backoff::new();
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            // Another pop is moving the head to the next block.
            if offset == BLOCK_CAP {
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            // Unless the head's block is known not to be the last, look at
            // the tail to tell an empty list.
            if new_head & MARK_BIT == 0 {
                fence(Ordering::SeqCst);
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    return Err(if tail & MARK_BIT != 0 { GetError::ShutDown } else { GetError::Empty });
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= MARK_BIT;
                }
            }
            // The first push has moved the tail but not yet published its
            // block.
            if block.is_null() {
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            match self.head.index.compare_exchange_weak(head, new_head, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => {
                    // SAFETY: the compare-exchange gave this pop slot
                    // `offset` of `block`, whose push has taken it too; the
                    // block is live until this pop marks the slot read.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            let next = (*block).wait_next();
                            let mut next_index = (new_head & !MARK_BIT).wrapping_add(1 << SHIFT);
                            if !(*next).next.load(Ordering::Relaxed).is_null() {
                                next_index |= MARK_BIT;
                            }
                            self.head.block.store(next, Ordering::Release);
                            self.head.index.store(next_index, Ordering::Release);
                        }
                        let slot = (*block).slots.get_unchecked(offset);
                        slot.wait_write();
                        let value = slot.value.with_mut(|cell| cell.read().assume_init());
                        // The last slot's reader frees the block; so does a
                        // reader that the freeing thread left it to.
                        if offset + 1 == BLOCK_CAP {
                            Block::destroy(block, 0);
                        } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                            Block::destroy(block, offset + 1);
                        }
                        return Ok(value);
                    }
                }
                Err(now) => {
                    head = now;
                    block = self.head.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Refuses every later push. Returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        self.tail.index.fetch_or(MARK_BIT, Ordering::SeqCst) & MARK_BIT == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.index.load(Ordering::SeqCst) & MARK_BIT != 0
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            // A tail read twice the same around the head's read is a
            // consistent pair.
            let tail = self.tail.index.load(Ordering::SeqCst);
            let head = self.head.index.load(Ordering::SeqCst);
            if self.tail.index.load(Ordering::SeqCst) == tail {
                return pushes(tail >> SHIFT).wrapping_sub(pushes(head >> SHIFT));
            }
        }
    }

    /// How many pushes there have been: the task count's half that
    /// `Queue` reads (`tasks.rs`). A push is counted by the compare-exchange
    /// that gives it its slot, before its item can be taken.
    pub(crate) fn put_position(&self) -> usize {
        pushes(self.tail.index.load(Ordering::SeqCst) >> SHIFT)
    }
}

/// The pushes up to `index`: one per index but those at a block's end.
fn pushes(index: usize) -> usize {
    index - index / LAP
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // `&mut self`: no push or pop is under way, so every slot between
        // head and tail holds an item, and the tail is never left at a
        // block's end.
        let mut head = self.head.index.load(Ordering::Relaxed) & !MARK_BIT;
        let tail = self.tail.index.load(Ordering::Relaxed) & !MARK_BIT;
        let mut block = self.head.block.load(Ordering::Relaxed);
        // SAFETY: the blocks from the head's on are live and linked up to
        // the tail's; each slot in between holds an item nobody took.
        unsafe {
            while head != tail {
                let offset = (head >> SHIFT) % LAP;
                if offset < BLOCK_CAP {
                    (*block).slots.get_unchecked(offset).value.with_mut(|cell| (*cell).assume_init_drop());
                } else {
                    let next = (*block).next.load(Ordering::Relaxed);
                    drop(Box::from_raw(block));
                    block = next;
                }
                head = head.wrapping_add(1 << SHIFT);
            }
            if !block.is_null() {
                drop(Box::from_raw(block));
            }
        }
    }
}

impl<T> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List").field("len", &self.len()).field("closed", &self.is_closed()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The list alone, on one thread and a few; the queue's tests and loom
    //! models cover it under the engine. `scripts/test` runs these under
    //! miri, which checks every slot's value is written before it is read,
    //! read once, and every block freed once.

    use std::sync::atomic::AtomicUsize as Counter;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn items_leave_in_order_across_blocks() {
        let list = List::new();
        let mut next = 0;
        for round in 0..6 {
            // Batches that end in every part of a block, and cross its end.
            for n in 0..(round * 17 + 5) {
                list.push(round * 1000 + n).unwrap();
            }
            for n in 0..(round * 17 + 5) {
                assert_eq!(list.pop(), Ok(round * 1000 + n));
                next += 1;
            }
            assert_eq!(list.len(), 0);
        }
        assert_eq!(list.pop(), Err(GetError::Empty));
        assert_eq!(list.put_position(), next);
    }

    #[test]
    fn len_and_put_position_count_items_not_indices() {
        let list = List::new();
        for pushed in 1..=100 {
            list.push(pushed).unwrap();
            assert_eq!(list.len(), pushed);
            assert_eq!(list.put_position(), pushed);
        }
        for left in (0..100).rev() {
            list.pop().unwrap();
            assert_eq!(list.len(), left);
        }
        assert_eq!(list.put_position(), 100);
    }

    #[test]
    fn close_refuses_pushes_and_keeps_items_for_pops() {
        let list = List::new();
        for n in 0..40 {
            list.push(n.to_string()).unwrap();
        }
        assert!(list.close());
        assert!(!list.close(), "only the first close closes");
        assert!(list.is_closed());
        assert_eq!(list.push(String::from("late")), Err(PutError::ShutDown(String::from("late"))));
        for n in 0..40 {
            assert_eq!(list.pop(), Ok(n.to_string()));
        }
        assert_eq!(list.pop(), Err(GetError::ShutDown));
        assert_eq!(list.put_position(), 40, "a refused push is not counted");
    }

    #[test]
    fn a_closed_empty_list_is_shut_down_even_before_its_first_block() {
        let list: List<u8> = List::new();
        list.close();
        assert_eq!(list.pop(), Err(GetError::ShutDown));
        assert_eq!(list.push(1), Err(PutError::ShutDown(1)));
    }

    /// Counts drops, to check each item is dropped exactly once.
    struct Tracked(Arc<Counter>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[test]
    fn dropping_the_list_drops_each_item_left_once() {
        let dropped = Arc::new(Counter::new(0));
        let list = List::new();
        for _ in 0..70 {
            list.push(Tracked(dropped.clone())).unwrap();
        }
        for _ in 0..33 {
            drop(list.pop().unwrap());
        }
        assert_eq!(dropped.load(std::sync::atomic::Ordering::Relaxed), 33);
        drop(list);
        assert_eq!(dropped.load(std::sync::atomic::Ordering::Relaxed), 70);
    }

    #[test]
    fn threads_move_every_item_once() {
        // Few enough for miri, enough to cross several blocks.
        let per_producer: usize = if cfg!(miri) { 100 } else { 20_000 };
        let list = Arc::new(List::new());
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let list = list.clone();
                std::thread::spawn(move || {
                    for n in 0..per_producer {
                        list.push(p * per_producer + n).unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let list = list.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut last_of = [None; 2];
                    while got.len() < per_producer {
                        if let Ok(n) = list.pop() {
                            // First in, first out: one producer's items
                            // reach any one consumer in the order put.
                            let producer = n / per_producer;
                            assert!(last_of[producer] < Some(n), "{n} after {:?}", last_of[producer]);
                            last_of[producer] = Some(n);
                            got.push(n);
                        } else {
                            std::thread::yield_now();
                        }
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let mut all: Vec<usize> = consumers.into_iter().flat_map(|c| c.join().unwrap()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..2 * per_producer).collect::<Vec<_>>());
        assert_eq!(list.pop(), Err(GetError::Empty));
    }
}
