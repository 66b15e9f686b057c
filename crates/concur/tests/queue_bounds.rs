//! Limits of every size behave the same: small ones on a preallocated ring,
//! large and absurd ones on a store that grows as items come. And the
//! constructors say which rule a size follows: `unbounded`, `bounded(n)`
//! (refusing 0), and Python's `with_maxsize(n)` (0 for no limit).

use concur::queue::{LifoQueue, PriorityQueue, PutError, Queue, ZeroCapacity};

// Python: queue.Queue(maxsize=sys.maxsize) is just a queue that never fills.
#[test]
fn an_absurd_limit_allocates_nothing_up_front() {
    let q = Queue::bounded(usize::MAX).unwrap();
    for n in 0..1000 {
        q.put(n).unwrap();
    }
    assert_eq!(q.capacity(), Some(usize::MAX));
    assert!(!q.is_full());
    assert_eq!(q.drain().collect::<Vec<_>>(), (0..1000).collect::<Vec<_>>());
}

#[test]
fn limits_above_and_below_the_ring_size_are_enforced_alike() {
    for maxsize in [1, 2, 1 << 16, (1 << 16) + 1, 100_000] {
        let q = Queue::bounded(maxsize).unwrap();
        for n in 0..maxsize {
            q.try_put(n).unwrap();
        }
        assert!(q.is_full(), "maxsize {maxsize}");
        assert_eq!(q.try_put(usize::MAX), Err(PutError::Full(usize::MAX)), "maxsize {maxsize}");
        assert_eq!(q.try_get(), Ok(0), "maxsize {maxsize}: first in, first out");
        q.try_put(maxsize).unwrap();
        q.shutdown();
        assert_eq!(q.try_put(7), Err(PutError::ShutDown(7)));
        assert_eq!(q.drain().count(), maxsize, "maxsize {maxsize}: the items left come out after shutdown");
    }
}

// The two readers' traps: Python's `Queue(maxsize=0)` is a queue without a
// limit, crossbeam's `bounded(0)` a rendezvous. The Rust spellings say which
// they mean and refuse the number that means both; the Python spelling keeps
// Python's rule.
#[test]
fn bounded_zero_is_refused_for_every_kind() {
    assert_eq!(Queue::<u8>::bounded(0).unwrap_err(), ZeroCapacity);
    assert_eq!(LifoQueue::<u8>::bounded(0).unwrap_err(), ZeroCapacity);
    assert_eq!(PriorityQueue::<u8>::bounded(0).unwrap_err(), ZeroCapacity);
    let message = ZeroCapacity.to_string();
    assert!(message.contains("unbounded()") && message.contains("with_maxsize(0)"), "{message}");
}

#[test]
fn unbounded_and_pythons_maxsize_zero_take_any_number_of_items() {
    let rust: Queue<usize> = Queue::unbounded();
    let python: Queue<usize> = Queue::with_maxsize(0);
    let default: Queue<usize> = Queue::default();
    for q in [&rust, &python, &default] {
        for n in 0..10_000 {
            q.try_put(n).unwrap();
        }
        assert!(!q.is_full());
        assert_eq!(q.capacity(), None);
    }
    assert_eq!(LifoQueue::<u8>::with_maxsize(0).capacity(), None);
    assert_eq!(PriorityQueue::<u8>::unbounded().capacity(), None);
}

#[test]
fn bounded_and_pythons_positive_maxsize_agree() {
    for n in [1, 3, 1 << 16, (1 << 16) + 1] {
        let (rust, python) = (Queue::bounded(n).unwrap(), Queue::with_maxsize(n));
        for q in [&rust, &python] {
            for item in 0..n {
                q.try_put(item).unwrap();
            }
            assert_eq!(q.try_put(n), Err(PutError::Full(n)));
            assert_eq!(q.capacity(), Some(n));
        }
    }
    assert_eq!(LifoQueue::<u8>::bounded(2).unwrap().capacity(), Some(2));
    assert_eq!(PriorityQueue::<u8>::with_maxsize(2).capacity(), Some(2));
}
