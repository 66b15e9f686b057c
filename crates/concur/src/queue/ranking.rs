//! The store of a `PriorityQueue`: a binary min-heap whose ties leave in
//! arrival order, and whose every operation is undone if a comparison
//! panics.
//!
//! # Why not `std::collections::BinaryHeap`
//!
//! std's heap loses an item when `Ord` panics: `pop` has moved the top item
//! into a local before it compares, and drops it while unwinding; and a
//! `push` or `pop` cut short leaves the heap out of order, so later gets
//! come out in the wrong order for ever. A queue shared by many threads
//! cannot shrug that off. Here a panicking comparison undoes the whole
//! call: a `put` whose comparison panics leaves the queue as it was (the
//! item goes down with the panic, as an argument of a call that panicked
//! does), and a `get` leaves every item where it was, the one it would have
//! returned included. The queue stays usable and ordered.
//!
//! Python's `heapq` is weaker on both counts: a comparison that raises in
//! `heappush` leaves the item in the list, perhaps out of place, and
//! `queue.PriorityQueue.put` then skips its `unfinished_tasks += 1`.
//!
//! # Where the time goes
//!
//! The first version moved items by `swap` (safe code, panic-safe for
//! free): three 16-byte moves a level where std moves one, and the profile
//! (`perf record -e cpu-clock` of the `priority` bench) had the swaps'
//! stack round trips as the hottest instructions of `pop`, at 0.32× the
//! bare heap. The algorithms are now std's — `push` and the second half of
//! `pop` carry the moving item in a *hole* and shift the others into it,
//! one move a level; `pop` first sends the hole down to the bottom along
//! the earlier child (one comparison a level, not two) and sifts the last
//! item up from there — and the undo walks the same path back. What is
//! left beyond std's work is the arrival number: every entry is 16 bytes
//! for a `u64` key, not 8, and a comparison of equal keys looks at it.
//! The `priority` bench measures exactly that price: in one run (load 10 on
//! 2 cores) put + get of 1,000 keys took `PriorityQueue` 182 µs,
//! `BinaryHeap<Reverse<u64>>` under a `parking_lot::Mutex` 109 µs (0.60×),
//! and `BinaryHeap<Reverse<(u64, u64)>>` — the same heap carrying an
//! arrival number — 186 µs. So the queue, with its task count, shutdown
//! flag and undo, costs what a stable heap costs; the gap to the bare heap
//! is stability itself: the `[priority, count, task]` entries that
//! Python's `heapq` documentation prescribes ("Priority Queue
//! Implementation Notes") so that equal priorities leave in the order they
//! came. std's heap gives no order among equals.

use std::cmp::Ordering;
use std::mem::ManuallyDrop;
use std::ptr;

use super::sequence::Sequence;

/// A min-heap of items with their arrival numbers.
#[derive(Debug)]
pub(crate) struct Ranking<T: Ord> {
    /// A min-heap by [`Ranked::before`].
    heap: Vec<Ranked<T>>,
    /// Arrival number of the next item, the tie-breaker.
    next: u64,
}

impl<T: Ord> Default for Ranking<T> {
    fn default() -> Self {
        Ranking { heap: Vec::new(), next: 0 }
    }
}

/// An item with its arrival number.
#[derive(Debug)]
struct Ranked<T> {
    item: T,
    arrival: u64,
}

impl<T: Ord> Ranked<T> {
    /// Whether `self` leaves before `other`: the lower item, or the earlier
    /// of two equal ones. One call of `T::cmp`.
    #[inline]
    fn before(&self, other: &Self) -> bool {
        match self.item.cmp(&other.item) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => self.arrival < other.arrival,
        }
    }
}

/// The child of `from` on the way down to its descendant `to`.
#[inline]
fn toward(from: usize, to: usize) -> usize {
    // In one-based numbering a node's children are 2n and 2n + 1, so the
    // ancestors of `to` are `to` shifted right.
    let (from, to) = (from + 1, to + 1);
    let below = to.ilog2() - from.ilog2() - 1;
    (to >> below) - 1
}

/// The heap with one slot empty, its item held aside. The `Drop` puts every
/// item back where it was before the call began; `finish` instead writes
/// the held item into the slot.
///
/// Invariant: `hole < heap.len()`, the slot at `hole` holds no item (its
/// bits were moved elsewhere), and every other slot below `len` holds one.
struct Hole<'a, T: Ord> {
    heap: &'a mut Vec<Ranked<T>>,
    /// The item that belongs in the hole when the call is done.
    held: ManuallyDrop<Ranked<T>>,
    hole: usize,
    /// A pop's top item, returned by `finish`, put back by the undo.
    top: Option<Ranked<T>>,
    /// How the call began, which says how to undo it.
    undo: Undo,
}

#[derive(Clone, Copy)]
enum Undo {
    /// A push: the held item came from the last slot and sifted up from
    /// there. Undone, it goes back there and the vector drops it.
    Push { start: usize },
    /// A pop: the top came from the root and the held item from one past
    /// the end. The hole goes down (shifting items up) to `bottom`, `None`
    /// until it got there, and from there back up (shifting items down).
    Pop { bottom: Option<usize> },
}

impl<T: Ord> Hole<'_, T> {
    /// Moves the item at `from` into the hole; the hole moves to `from`.
    ///
    /// # Safety
    ///
    /// `from < heap.len()` and `from != hole`.
    #[inline]
    unsafe fn fill_from(&mut self, from: usize) {
        let base = self.heap.as_mut_ptr();
        // SAFETY: both slots are in the vector and distinct (the caller's
        // word); the one at `from` holds an item, which now lives at
        // `hole`, and `from` is the new hole.
        unsafe { ptr::copy_nonoverlapping(base.add(from), base.add(self.hole), 1) };
        self.hole = from;
    }

    /// The item at `index`.
    ///
    /// # Safety
    ///
    /// `index < heap.len()` and `index != hole`.
    #[inline]
    unsafe fn at(&self, index: usize) -> &Ranked<T> {
        debug_assert!(index != self.hole && index < self.heap.len());
        // SAFETY: in the vector (the caller's word); not the hole, so it
        // holds an item. Unchecked because the sift loops already bound
        // every index they make, and the check was a tenth of a pop.
        unsafe { self.heap.get_unchecked(index) }
    }

    /// Sifts the held item up from the hole.
    #[inline]
    fn sift_up(&mut self) {
        while self.hole > 0 {
            let parent = (self.hole - 1) / 2;
            // SAFETY: a parent is in the vector and is not its child.
            if !self.held.before(unsafe { self.at(parent) }) {
                break;
            }
            // SAFETY: a parent is in the vector and is not its child.
            unsafe { self.fill_from(parent) };
        }
    }

    /// Writes the held item into the hole: the call succeeded.
    #[inline]
    fn finish(mut self) -> Option<T> {
        let base = self.heap.as_mut_ptr();
        // SAFETY: the hole is an empty slot of the vector; the held item is
        // read once, and `forget` below keeps the `Drop` from using it again.
        unsafe { ptr::write(base.add(self.hole), ManuallyDrop::take(&mut self.held)) };
        let top = self.top.take().map(|ranked| ranked.item);
        std::mem::forget(self);
        top
    }

    /// Moves the hole down from where it is to `to`, a descendant, moving
    /// each item on the way one level up: the reverse of a sift up that
    /// went from `to` to here.
    fn unshift_down(&mut self, to: usize) {
        while self.hole != to {
            let child = toward(self.hole, to);
            // SAFETY: `child` is on the path to `to`, which is in the
            // vector, and is below the hole.
            unsafe { self.fill_from(child) };
        }
    }

    /// Moves the hole up to the root, moving each item on the way one level
    /// down: the reverse of a descent that went from the root to here.
    fn unshift_up(&mut self) {
        while self.hole > 0 {
            // SAFETY: a parent is in the vector and is not its child.
            unsafe { self.fill_from((self.hole - 1) / 2) };
        }
    }
}

impl<T: Ord> Drop for Hole<'_, T> {
    /// Reached only when a comparison panicked: undoes the call. Nothing
    /// here compares, so nothing here can panic.
    fn drop(&mut self) {
        match self.undo {
            Undo::Push { start } => {
                self.unshift_down(start);
                // The pushed item goes with the panic; the heap is as it was.
                // SAFETY: `start` is the last slot and the hole; the vector
                // gives it up, and the held item is dropped once, here.
                unsafe {
                    self.heap.set_len(start);
                    ManuallyDrop::drop(&mut self.held);
                }
            }
            Undo::Pop { bottom } => {
                if let Some(bottom) = bottom {
                    self.unshift_down(bottom);
                }
                self.unshift_up();
                let Some(top) = self.top.take() else { return };
                let base = self.heap.as_mut_ptr();
                let end = self.heap.len();
                // SAFETY: the hole is the root again, with every other item
                // back in its slot; the top goes to the root and the held
                // item (the old last) to the slot past the end, which the
                // vector still owns (its length was cut by one), and the
                // length is restored.
                unsafe {
                    ptr::write(base, top);
                    ptr::write(base.add(end), ManuallyDrop::take(&mut self.held));
                    self.heap.set_len(end + 1);
                }
            }
        }
    }
}

impl<T: Ord> Sequence<T> for Ranking<T> {
    #[inline]
    fn push(&mut self, item: T) {
        let arrival = self.next;
        self.heap.push(Ranked { item, arrival });
        let start = self.heap.len() - 1;
        // SAFETY: `start` is the slot just pushed; the hole owns its item
        // from here on, and `finish` or the undo puts one back.
        let held = unsafe { ptr::read(self.heap.as_ptr().add(start)) };
        let mut hole = Hole {
            heap: &mut self.heap,
            held: ManuallyDrop::new(held),
            hole: start,
            top: None,
            undo: Undo::Push { start },
        };
        hole.sift_up();
        hole.finish();
        // Only a push that stood takes an arrival number.
        self.next += 1;
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        let len = self.heap.len();
        if len <= 1 {
            return self.heap.pop().map(|ranked| ranked.item);
        }
        let end = len - 1;
        // SAFETY: `len >= 2`, so slots 0 and `end` are distinct items. Both
        // are moved out, and the vector gives up the last slot, so from
        // here the root is the hole and every other slot below `end` holds
        // an item, as `Hole` requires. Its `finish` or undo puts them back.
        let mut hole = unsafe {
            let base = self.heap.as_mut_ptr();
            let top = ptr::read(base);
            let last = ptr::read(base.add(end));
            self.heap.set_len(end);
            Hole {
                heap: &mut self.heap,
                held: ManuallyDrop::new(last),
                hole: 0,
                top: Some(top),
                undo: Undo::Pop { bottom: None },
            }
        };
        // Down to the bottom along the earlier child, one comparison a
        // level...
        let mut child = 1;
        while child + 1 < end {
            // SAFETY: `child + 1 < end`, and both are below the hole.
            child += usize::from(unsafe { hole.at(child + 1).before(hole.at(child)) });
            // SAFETY: `child < end`, below the hole.
            unsafe { hole.fill_from(child) };
            child = 2 * hole.hole + 1;
        }
        if child + 1 == end {
            // SAFETY: as above.
            unsafe { hole.fill_from(child) };
        }
        hole.undo = Undo::Pop { bottom: Some(hole.hole) };
        // ...then the old last item up from there: it is usually near the
        // bottom already, so this is a comparison or two.
        hole.sift_up();
        hole.finish()
    }

    #[inline]
    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::*;

    thread_local! {
        /// Comparisons left before the next one panics; `usize::MAX` for
        /// never.
        static FUSE: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    /// A key whose comparison panics when the fuse runs out, and which
    /// counts its drops.
    #[derive(Debug)]
    struct Touchy(u32, std::rc::Rc<Cell<usize>>);

    impl Drop for Touchy {
        fn drop(&mut self) {
            self.1.set(self.1.get() + 1);
        }
    }

    /// `Eq` and `Ord` by a key taken from the item.
    macro_rules! ord_by_key {
        ($type:ty, |$item:ident| $key:expr) => {
            impl PartialEq for $type {
                fn eq(&self, other: &Self) -> bool {
                    self.cmp(other) == Ordering::Equal
                }
            }
            impl Eq for $type {}
            impl PartialOrd for $type {
                fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                    Some(self.cmp(other))
                }
            }
            impl Ord for $type {
                fn cmp(&self, other: &Self) -> Ordering {
                    let key = |$item: &Self| $key;
                    key(self).cmp(&key(other))
                }
            }
        };
    }

    // Each comparison burns the fuse twice, once for each side.
    ord_by_key!(Touchy, |item| {
        FUSE.with(|fuse| match fuse.get() {
            usize::MAX => {}
            0 => panic!("comparison refused"),
            left => fuse.set(left - 1),
        });
        item.0
    });

    fn keys(n: u32) -> impl Iterator<Item = u32> {
        (0..n).map(move |i| (i * 7919) % n)
    }

    #[test]
    fn toward_finds_the_child_on_the_path() {
        assert_eq!(toward(0, 1), 1);
        assert_eq!(toward(0, 5), 2);
        assert_eq!(toward(0, 9), 1);
        assert_eq!(toward(1, 9), 4);
        assert_eq!(toward(4, 9), 9);
        assert_eq!(toward(2, 13), 6);
    }

    #[test]
    fn lowest_first_and_ties_in_arrival_order() {
        let mut heap = Ranking::default();
        for (n, key) in keys(200).enumerate() {
            heap.push((key / 4, n));
        }
        // Compare by the key alone: the arrival numbers must break ties.
        let mut ranked: Ranking<Key> = Ranking::default();
        while let Some((key, n)) = heap.pop() {
            ranked.push(Key(key, n));
        }
        let mut last = None;
        while let Some(Key(key, n)) = ranked.pop() {
            if let Some((last_key, last_n)) = last {
                assert!(key > last_key || (key == last_key && n > last_n), "{key}/{n} after {last_key}/{last_n}");
            }
            last = Some((key, n));
        }
    }

    /// Ordered by the first field alone.
    #[derive(Debug)]
    struct Key(u32, usize);
    ord_by_key!(Key, |item| item.0);

    /// Every comparison of every push and pop, in turn, panics; each time
    /// the heap must be left exactly as it was, and after all of them still
    /// give every item, in order, each dropped once.
    #[test]
    fn a_panicking_comparison_undoes_the_call() {
        let drops = std::rc::Rc::new(Cell::new(0));
        let size = if cfg!(miri) { 12 } else { 64 };
        let mut heap = Ranking::default();
        let mut expected = Vec::new();
        let mut refused = 0;
        for key in keys(size) {
            // Fail the push after 0, 1, 2, ... comparisons, until it stands.
            for fuse in 0.. {
                FUSE.with(|f| f.set(fuse));
                let before: Vec<u32> = heap.heap.iter().map(|r: &Ranked<Touchy>| r.item.0).collect();
                let pushed = catch_unwind(AssertUnwindSafe(|| heap.push(Touchy(key, drops.clone()))));
                FUSE.with(|f| f.set(usize::MAX));
                if pushed.is_ok() {
                    break;
                }
                refused += 1;
                let after: Vec<u32> = heap.heap.iter().map(|r| r.item.0).collect();
                assert_eq!(before, after, "a refused push changed the heap");
            }
            expected.push(key);
        }
        assert_eq!(drops.get(), refused, "each refused item is dropped once");
        expected.sort_unstable();
        let mut got = Vec::new();
        while !heap.heap.is_empty() {
            for fuse in 0.. {
                FUSE.with(|f| f.set(fuse));
                let before: Vec<u32> = heap.heap.iter().map(|r| r.item.0).collect();
                let popped = catch_unwind(AssertUnwindSafe(|| heap.pop()));
                FUSE.with(|f| f.set(usize::MAX));
                match popped {
                    Ok(item) => {
                        got.push(item.unwrap().0);
                        break;
                    }
                    Err(_) => {
                        let after: Vec<u32> = heap.heap.iter().map(|r| r.item.0).collect();
                        assert_eq!(before, after, "a refused pop changed the heap");
                    }
                }
            }
        }
        assert_eq!(got, expected);
        assert_eq!(drops.get(), refused + size as usize);
    }
}
