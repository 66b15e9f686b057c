//! `SimpleQueue` against CPython 3.13's `Lib/test/test_queue.py`
//! (`BaseSimpleQueueTest` and `CSimpleQueueTest`), and what concur adds to
//! it: a shutdown (Python's `SimpleQueue` has none), async gets, `drain`,
//! `iter`.
//!
//! Tests named `test_*` mirror the CPython case named in the comment above
//! them; the others cover what concur adds. Every test runs in a thread
//! joined with a deadline ([`run_case`]), as does every thread it starts, so
//! a bug fails the test instead of hanging it.
//!
//! Skipped or changed, because they cannot apply in Rust:
//! - `BaseSimpleQueueTest.test_negative_timeout_raises_exception`: a
//!   `Duration` cannot be negative, so the call does not compile;
//!   `zero_timeout_does_not_wait` covers the smallest timeout instead.
//! - `BaseSimpleQueueTest.test_basic`'s `put_nowait` and `get(block=False)`:
//!   `SimpleQueue::put` never waits and has no `try_` form, so `put` stands
//!   for `put_nowait`; `try_get` for both `get_nowait` and
//!   `get(block=False)`.
//! - `CSimpleQueueTest.test_is_default` checks that the C type is the
//!   default `queue.SimpleQueue`; there is one type here, so the case checks
//!   that `SimpleQueue::default()` is `SimpleQueue::new()`.
//! - `CSimpleQueueTest.test_reentrancy`: Python's garbage collector can run
//!   a `__del__` that calls `put` in the middle of a `put`. Rust has no
//!   collector and `put` runs no user code, so that cannot happen; the one
//!   call that runs user code is `shutdown(true)`, which drops the items
//!   left, and the case checks that their `Drop` may call the queue.
//! - `test_references` uses `weakref`; here it is `Arc` and `Weak`.
//! - The `PySimpleQueueTest` / `CSimpleQueueTest` pair: there is one
//!   implementation, so each case runs once.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{spawn, wait_threads_blocked, LONG};
use concur::queue::{GetError, ShutDown, SimpleQueue};

/// Runs a case in a thread joined with a deadline, so a call that should
/// return at once but blocks fails the test instead of hanging it.
#[track_caller]
fn run_case(case: fn()) {
    spawn(case).join();
}

// ---------------------------------------------------------------------------
// BaseSimpleQueueTest
// ---------------------------------------------------------------------------

/// The items of the threaded cases: a number, or the sentinel (`None`) that
/// ends a consumer.
type Queue = SimpleQueue<Option<u32>>;

/// `random.Random(42)`, enough of it: a seeded generator of numbers in
/// `[0, 1)`, so the feeders' pauses are the same on every run.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Random {
        Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn random(&mut self) -> f64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

// test_queue.BaseSimpleQueueTest.feed
fn feed(q: &Queue, seq: &Mutex<Vec<u32>>, rnd: &mut Random) {
    loop {
        let Some(val) = seq.lock().unwrap().pop() else {
            q.put(None).unwrap();
            return;
        };
        q.put(Some(val)).unwrap();
        if rnd.random() > 0.5 {
            thread::sleep(Duration::from_secs_f64(rnd.random() * 1e-3));
        }
    }
}

// test_queue.BaseSimpleQueueTest.consume
fn consume(q: &Queue, results: &Mutex<Vec<u32>>) {
    while let Some(val) = q.get().unwrap() {
        results.lock().unwrap().push(val);
    }
}

// test_queue.BaseSimpleQueueTest.consume_nonblock
fn consume_nonblock(q: &Queue, results: &Mutex<Vec<u32>>) {
    loop {
        let val = loop {
            match q.try_get() {
                Ok(val) => break val,
                Err(GetError::Empty) => thread::sleep(Duration::from_micros(10)),
                Err(GetError::ShutDown) => panic!("the queue was shut down"),
            }
        };
        let Some(val) = val else { return };
        results.lock().unwrap().push(val);
    }
}

// test_queue.BaseSimpleQueueTest.consume_timeout
fn consume_timeout(q: &Queue, results: &Mutex<Vec<u32>>) {
    loop {
        let val = loop {
            match q.get_timeout(Duration::from_micros(10)) {
                Ok(val) => break val,
                Err(GetError::Empty) => {}
                Err(GetError::ShutDown) => panic!("the queue was shut down"),
            }
        };
        let Some(val) = val else { return };
        results.lock().unwrap().push(val);
    }
}

type Feed = fn(&Queue, &Mutex<Vec<u32>>, &mut Random);
type Consume = fn(&Queue, &Mutex<Vec<u32>>);

// test_queue.BaseSimpleQueueTest.run_threads
fn run_threads(n_threads: usize, q: &Arc<Queue>, inputs: &[u32], feed: Feed, consume: Consume) -> Vec<u32> {
    let results = Arc::new(Mutex::new(Vec::new()));
    let seq: Vec<u32> = inputs.iter().rev().copied().collect();
    let seq = Arc::new(Mutex::new(seq));

    let feeders: Vec<_> = (0..n_threads)
        .map(|i| {
            let (q, seq) = (q.clone(), seq.clone());
            spawn(move || feed(&q, &seq, &mut Random::new(42 + i as u64)))
        })
        .collect();
    let consumers: Vec<_> = (0..n_threads)
        .map(|_| {
            let (q, results) = (q.clone(), results.clone());
            spawn(move || consume(&q, &results))
        })
        .collect();
    // A panic in any thread (Python's `exceptions` list) fails the join.
    for thread in feeders.into_iter().chain(consumers) {
        thread.join();
    }

    assert!(q.is_empty());
    assert_eq!(q.len(), 0);
    let results = results.lock().unwrap().clone();
    results
}

// test_queue.BaseSimpleQueueTest.test_basic
#[test]
fn test_basic() {
    run_case(|| {
        let q = SimpleQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        q.put(1).unwrap();
        assert!(!q.is_empty());
        assert_eq!(q.len(), 1);
        q.put(2).unwrap();
        q.put(3).unwrap(); // put_nowait
        q.put(4).unwrap();
        assert!(!q.is_empty());
        assert_eq!(q.len(), 4);

        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.len(), 3);

        assert_eq!(q.try_get(), Ok(2)); // get_nowait
        assert_eq!(q.len(), 2);

        assert_eq!(q.try_get(), Ok(3)); // get(block=False)
        assert!(!q.is_empty());
        assert_eq!(q.len(), 1);

        assert_eq!(q.get_timeout(Duration::from_millis(100)), Ok(4));
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);

        assert_eq!(q.try_get(), Err(GetError::Empty));
        assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
        assert_eq!(q.try_get(), Err(GetError::Empty));
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
    });
}

// test_queue.BaseSimpleQueueTest.test_order
#[test]
fn test_order() {
    run_case(|| {
        // A pair of concurrent put() and get().
        let q = Arc::new(SimpleQueue::new());
        let inputs: Vec<u32> = (0..100).collect();
        let results = run_threads(1, &q, &inputs, feed, consume);
        // One producer, one consumer: results in a well-defined order.
        assert_eq!(results, inputs);
    });
}

// test_queue.BaseSimpleQueueTest.test_many_threads
#[test]
fn test_many_threads() {
    run_case(|| {
        // Many concurrent put() and get().
        let q = Arc::new(SimpleQueue::new());
        let inputs: Vec<u32> = (0..10_000).collect();
        let mut results = run_threads(50, &q, &inputs, feed, consume);
        // Many consumers append the results in any order.
        results.sort();
        assert_eq!(results, inputs);
    });
}

// test_queue.BaseSimpleQueueTest.test_many_threads_nonblock
#[test]
fn test_many_threads_nonblock() {
    run_case(|| {
        // Many concurrent put() and get(block=False).
        let q = Arc::new(SimpleQueue::new());
        let inputs: Vec<u32> = (0..10_000).collect();
        let mut results = run_threads(50, &q, &inputs, feed, consume_nonblock);
        results.sort();
        assert_eq!(results, inputs);
    });
}

// test_queue.BaseSimpleQueueTest.test_many_threads_timeout
#[test]
fn test_many_threads_timeout() {
    run_case(|| {
        // Many concurrent put() and get(timeout=...).
        let q = Arc::new(SimpleQueue::new());
        let inputs: Vec<u32> = (0..1000).collect();
        let mut results = run_threads(50, &q, &inputs, feed, consume_timeout);
        results.sort();
        assert_eq!(results, inputs);
    });
}

// test_queue.BaseSimpleQueueTest.test_references
#[test]
fn test_references() {
    run_case(|| {
        // The queue lets go of each item as soon as it leaves the queue.
        struct C;
        const N: usize = 20;
        let q = SimpleQueue::new();
        for _ in 0..N {
            q.put(Arc::new(C)).unwrap();
        }
        for _ in 0..N {
            let wr = Arc::downgrade(&q.get().unwrap());
            assert!(wr.upgrade().is_none());
        }
    });
}

// test_queue.CSimpleQueueTest.test_is_default (see the header)
#[test]
fn test_is_default() {
    run_case(|| {
        let q: SimpleQueue<u8> = SimpleQueue::default();
        assert!(q.is_empty());
        assert!(!q.is_shut_down());
        assert_eq!(format!("{q:?}"), format!("{:?}", SimpleQueue::<u8>::new()));
    });
}

// test_queue.CSimpleQueueTest.test_reentrancy (the part that applies; see
// the header)
#[test]
fn test_reentrancy() {
    run_case(|| {
        /// Calls the queue it is in when dropped.
        struct Circular {
            queue: std::sync::Weak<SimpleQueue<Circular>>,
            refused: Arc<AtomicUsize>,
        }

        impl Drop for Circular {
            fn drop(&mut self) {
                let Some(q) = self.queue.upgrade() else { return };
                let plain = Circular { queue: std::sync::Weak::new(), refused: self.refused.clone() };
                if q.put(plain).is_err() {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }

        const N: usize = 100;
        let q = Arc::new(SimpleQueue::new());
        let refused = Arc::new(AtomicUsize::new(0));
        for _ in 0..N {
            q.put(Circular { queue: Arc::downgrade(&q), refused: refused.clone() }).unwrap();
        }
        // Each item dropped by the shutdown puts into the queue that is
        // dropping it, and is refused: no deadlock, nothing let in.
        q.shutdown_immediate();
        assert_eq!(refused.load(Ordering::SeqCst), N);
        assert!(q.is_empty());
    });
}

// ---------------------------------------------------------------------------
// concur: timeouts, shutdown, async, drain, iter, Debug
// ---------------------------------------------------------------------------

// What is left of test_negative_timeout_raises_exception: the smallest
// timeout is one try; the largest waits as long as needed, without panic.
#[test]
fn zero_timeout_does_not_wait() {
    run_case(|| {
        let q = SimpleQueue::new();
        assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
        q.put(1).unwrap();
        assert_eq!(q.get_timeout(Duration::ZERO), Ok(1));
        q.put(2).unwrap();
        assert_eq!(q.get_timeout(Duration::MAX), Ok(2));
    });
}

#[test]
fn max_timeout_waits_until_released() {
    run_case(|| {
        let q = Arc::new(SimpleQueue::new());
        let getter = {
            let q = q.clone();
            spawn(move || q.get_timeout(Duration::MAX))
        };
        wait_threads_blocked(1);
        assert!(!getter.is_finished());
        q.put("late").unwrap();
        assert_eq!(getter.join(), Ok("late"));
    });
}

// Python 3.13's shutdown semantics, on the queue Python gave none.
#[test]
fn shutdown_refuses_puts_and_drains_gets() {
    run_case(|| {
        let q = SimpleQueue::new();
        q.put("left").unwrap();
        assert!(!q.is_shut_down());
        q.shutdown();
        assert!(q.is_shut_down());
        assert_eq!(q.put("refused"), Err(ShutDown("refused")));
        assert_eq!(q.get(), Ok("left"));
        assert_eq!(q.get(), Err(ShutDown(())));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(q.get_timeout(LONG), Err(GetError::ShutDown));

        let q = SimpleQueue::new();
        q.put("thrown away").unwrap();
        q.shutdown_immediate();
        assert!(q.is_empty());
        assert_eq!(q.get(), Err(ShutDown(())));
    });
}

// A blocked getter, thread or task, wakes at the shutdown and fails.
#[test]
fn shutdown_releases_pending_gets() {
    run_case(|| {
        let q = Arc::new(SimpleQueue::<u8>::new());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        let task = {
            let q = q.clone();
            runtime.spawn(async move { q.get_async().await })
        };
        let thread = {
            let q = q.clone();
            spawn(move || q.get())
        };
        wait_threads_blocked(2);
        assert!(!task.is_finished());
        assert!(!thread.is_finished());
        q.shutdown();
        assert_eq!(thread.join(), Err(ShutDown(())));
        let got = runtime.block_on(async { tokio::time::timeout(LONG, task).await });
        assert_eq!(got.expect("get_async did not wake").unwrap(), Err(ShutDown(())));
    });
}

// A task blocked in `get_async` is woken by a thread's `put`.
#[test]
fn get_async_woken_by_a_thread_put() {
    run_case(|| {
        let q = Arc::new(SimpleQueue::new());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        let task = {
            let q = q.clone();
            runtime.spawn(async move { q.get_async().await })
        };
        wait_threads_blocked(2);
        assert!(!task.is_finished());
        let putter = {
            let q = q.clone();
            spawn(move || q.put(11).unwrap())
        };
        let got = runtime.block_on(async { tokio::time::timeout(LONG, task).await });
        assert_eq!(got.expect("get_async did not wake").unwrap(), Ok(11));
        putter.join();
    });
}

// `drain` takes what is there now, in order; `iter` (and `for x in &q`)
// gets until the shutdown, the items left included.
#[test]
fn drain_and_iter_end_at_shutdown() {
    run_case(|| {
        let q = Arc::new(SimpleQueue::new());
        for c in ['a', 'b', 'c'] {
            q.put(c).unwrap();
        }
        assert_eq!(q.drain().collect::<String>(), "abc");
        assert_eq!(q.drain().count(), 0);

        let consumer = {
            let q = q.clone();
            spawn(move || {
                let mut seen = String::new();
                for c in &*q {
                    seen.push(c);
                }
                seen
            })
        };
        for c in ['x', 'y', 'z'] {
            q.put(c).unwrap();
        }
        q.shutdown();
        assert_eq!(consumer.join(), "xyz");
        assert_eq!(q.iter().next(), None);
    });
}

// `Debug` shows the type's name and its state.
#[test]
fn debug_shows_the_state() {
    run_case(|| {
        let q = SimpleQueue::new();
        q.put(1).unwrap();
        let repr = format!("{q:?}");
        assert!(repr.starts_with("SimpleQueue { len: 1,"), "{repr}");
        assert!(repr.contains("shut_down: false"), "{repr}");
    });
}
