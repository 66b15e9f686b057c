//! Limits of every size behave the same: small ones on a preallocated ring,
//! large and absurd ones on a store that grows as items come.

use concur::queue::{PutError, Queue};

// Python: queue.Queue(maxsize=sys.maxsize) is just a queue that never fills.
#[test]
fn an_absurd_limit_allocates_nothing_up_front() {
    let q = Queue::new(usize::MAX);
    for n in 0..1000 {
        q.put(n).unwrap();
    }
    assert_eq!(q.maxsize(), usize::MAX);
    assert!(!q.is_full());
    assert_eq!(q.drain().collect::<Vec<_>>(), (0..1000).collect::<Vec<_>>());
}

#[test]
fn limits_above_and_below_the_ring_size_are_enforced_alike() {
    for maxsize in [1, 2, 1 << 16, (1 << 16) + 1, 100_000] {
        let q = Queue::new(maxsize);
        for n in 0..maxsize {
            q.try_put(n).unwrap();
        }
        assert!(q.is_full(), "maxsize {maxsize}");
        assert_eq!(q.try_put(usize::MAX), Err(PutError::Full(usize::MAX)), "maxsize {maxsize}");
        assert_eq!(q.try_get(), Ok(0), "maxsize {maxsize}: first in, first out");
        q.try_put(maxsize).unwrap();
        q.shutdown(false);
        assert_eq!(q.try_put(7), Err(PutError::ShutDown(7)));
        assert_eq!(q.drain().count(), maxsize, "maxsize {maxsize}: the items left come out after shutdown");
    }
}
