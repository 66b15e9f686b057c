//! The store of an unbounded first-in, first-out queue: a lock-free list of
//! blocks whose tail doubles as the count of items ever put.
//!
//! # Why not a crate
//!
//! This is the list of crossbeam-channel's `unbounded` flavor and of
//! `concurrent_queue::ConcurrentQueue::unbounded`, which this store used to
//! be. Four things made a store of concur's own worth its unsafe code —
//! the three below, and the spare block after them:
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
//! One thing here neither crate does: a retired block is kept as a spare
//! and reused by the next push that needs one (`List::recycle`), so a steady
//! stream through the list allocates nothing. With the same algorithm as
//! crossbeam's, that is what puts the list ahead of it. In alternating
//! pairs of transfers (`cargo bench -p concur --bench queue -- pairs`, 100
//! pairs, 2-core AMD EPYC VM, 2026-12-02), one producer and one consumer
//! moving a million items, `SimpleQueue` ran at 1.18× crossbeam's unbounded
//! channel's speed with the spare and 0.86× without it, an unbounded
//! `Queue` at 1.10× and 0.68× (median ratios; with two of each, 1.28× and
//! 1.12× for `SimpleQueue`).
//!
//! The spare was taken out once, when `concur worker` (whose threads talk
//! through `SimpleQueue`s) drained no-op tasks a tenth slower with it. That
//! worker moved its whole concurrency as one batch, so its speed hung on
//! every hand-off's timing; since it runs two finishers and keeps Redis
//! busy, the drains with and without the spare are the same within the
//! machine's noise (concurrency 64: 1.33× and 1.24× `redis-benchmark`
//! unpipelined with it, 1.29× and 1.29× without, alternating rounds).
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

    /// Marks the slots from `start` on for destruction, and retires the
    /// block to `list` unless one of them is still being read (its reader
    /// retires it then).
    ///
    /// # Safety
    ///
    /// `block` is a block of `list` every slot of which below `start` has
    /// been read, and whose last slot's reader is the caller or has called
    /// this.
    unsafe fn destroy(list: &List<T>, block: *mut Block<T>, start: usize) {
        // The last slot need not be marked: its reader is what started the
        // destruction.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is live until retired below, and `i` is in
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
        unsafe { list.recycle(block) };
    }
}

/// An end of the list.
struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

impl<T> Position<T> {
    /// The index, then the block. Not one atomic snapshot: the block may be
    /// newer than the index, which the compare-exchange on the index then
    /// catches (it fails, and the caller loads again).
    fn load(&self) -> (usize, *mut Block<T>) {
        (self.index.load(Ordering::Acquire), self.block.load(Ordering::Acquire))
    }
}

pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    /// The last block retired, kept for the next push that needs one: a
    /// steady stream through the list then allocates nothing (see
    /// `recycle`).
    spare: CachePadded<AtomicPtr<Block<T>>>,
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
            spare: CachePadded::new(AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// An empty block: the spare if there is one, else a new one.
    fn empty_block(&self) -> Box<Block<T>> {
        // A plain load first: most pushes that need a block find the spare
        // there, and a swap on an empty slot would only move its line.
        if !self.spare.load(Ordering::Relaxed).is_null() {
            // Acquire: pairs with `recycle`'s Release, so the cleared states
            // are seen before the block is used.
            let spare = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
            if !spare.is_null() {
                // SAFETY: `recycle` put it there emptied, from a `Box`,
                // and the swap gave it to this thread alone.
                return unsafe { Box::from_raw(spare) };
            }
        }
        Block::new()
    }

    /// Keeps a retired block as the spare, emptied, or frees it if there
    /// is one already.
    ///
    /// This is what the allocator would do with a freed block — hand the
    /// same memory to the next allocation — without its cost: in a
    /// transfer between two threads, `malloc`, `free` and the page faults
    /// of fresh blocks were about 7 % of the time (`perf`). A block is
    /// retired only when no thread will touch it again (every slot read,
    /// see `destroy`), which is what freeing it needs too, and it reaches
    /// other threads again only through the same `Release` stores of a
    /// block's link as a new block, after its states are cleared here.
    ///
    /// # Safety
    ///
    /// `block` came from a `Box` and no thread will use it any more.
    unsafe fn recycle(&self, block: *mut Block<T>) {
        // SAFETY: the caller gives this thread the block alone.
        let emptied = unsafe { &*block };
        emptied.next.store(ptr::null_mut(), Ordering::Relaxed);
        for slot in &emptied.slots {
            slot.state.store(0, Ordering::Relaxed);
        }
        if self.spare.compare_exchange(ptr::null_mut(), block, Ordering::Release, Ordering::Relaxed).is_err() {
            // SAFETY: as above; there is a spare already.
            drop(unsafe { Box::from_raw(block) });
        }
    }

    pub(crate) fn push(&self, value: T) -> Result<(), PutError<T>> {
        let backoff = Backoff::new();
        let (mut tail, mut block) = self.tail.load();
        let mut next_block = None;
        loop {
            if tail & MARK_BIT != 0 {
                return Err(PutError::ShutDown(value));
            }
            let offset = (tail >> SHIFT) % LAP;
            // Another push is linking the next block.
            if offset == BLOCK_CAP {
                backoff.snooze();
                (tail, block) = self.tail.load();
                continue;
            }
            // This push may have to link the next block: allocate it before
            // taking the slot, so that others wait for the link as briefly
            // as possible.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(self.empty_block());
            }
            // The very first push allocates the first block.
            if block.is_null() {
                let new = Box::into_raw(self.empty_block());
                if self.tail.block.compare_exchange(block, new, Ordering::Release, Ordering::Relaxed).is_ok() {
                    self.head.block.store(new, Ordering::Release);
                    block = new;
                } else {
                    // SAFETY: `new` came from `Box::into_raw` and was not
                    // published; keep it for the next block.
                    next_block = Some(unsafe { Box::from_raw(new) });
                    (tail, block) = self.tail.load();
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
        let (mut head, mut block) = self.head.load();
        loop {
            let offset = (head >> SHIFT) % LAP;
            // Another pop is moving the head to the next block.
            if offset == BLOCK_CAP {
                backoff.snooze();
                (head, block) = self.head.load();
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
                (head, block) = self.head.load();
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
                            Block::destroy(self, block, 0);
                        } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                            Block::destroy(self, block, offset + 1);
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
            let spare = self.spare.load(Ordering::Relaxed);
            if !spare.is_null() {
                drop(Box::from_raw(spare));
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
    fn a_steady_stream_reuses_the_retired_block() {
        let list = List::new();
        for n in 0..BLOCK_CAP {
            list.push(n).unwrap();
        }
        assert!(list.spare.load(Ordering::Relaxed).is_null());
        let first = list.head.block.load(Ordering::Relaxed);
        // Popping the whole first block retires it: the last pop moves the
        // head on, and the block becomes the spare.
        list.push(BLOCK_CAP).unwrap();
        for n in 0..BLOCK_CAP {
            assert_eq!(list.pop(), Ok(n));
        }
        assert_eq!(list.spare.load(Ordering::Relaxed), first);
        // The push that fills the second block links the spare as the third,
        // with its states cleared: the items come out right.
        for n in BLOCK_CAP + 1..3 * BLOCK_CAP {
            list.push(n).unwrap();
        }
        assert!(list.spare.load(Ordering::Relaxed).is_null());
        for n in BLOCK_CAP..3 * BLOCK_CAP {
            assert_eq!(list.pop(), Ok(n));
        }
        assert_eq!(list.pop(), Err(GetError::Empty));
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
