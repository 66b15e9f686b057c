//! Model checks of the queue engine with loom: every interleaving of the
//! threads below runs, so a lost wake-up shows as a loom deadlock report and
//! a lost or doubled item as a failed assertion.
//!
//! The engine's and the stores' locks, atomics, fences and cells go through
//! the `loom` facade, and `event-listener` is built with its loom support,
//! so the waits and wake-ups are modelled too. An unbounded `Queue` and a
//! `SimpleQueue` run on the list of `queue/list.rs`, a bounded `Queue` on
//! the ring of `queue/ring.rs`.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p concur --test loom_queue --release`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;

use concur::queue::{LifoQueue, Queue, ShutDown, SimpleQueue};

/// Enough preemptions to reach every ordering of a put, a get and a wake-up,
/// few enough to finish in CI.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

#[test]
fn a_blocked_get_is_woken_by_a_put() {
    model(|| {
        let q = Arc::new(Queue::unbounded());
        let consumer = {
            let q = q.clone();
            thread::spawn(move || q.get())
        };
        q.put(7).unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(7));
        assert!(q.is_empty());
    });
}

#[test]
fn a_blocked_put_is_woken_by_a_get() {
    model(|| {
        let q = Arc::new(Queue::bounded(1).unwrap());
        q.put(1).unwrap();
        let producer = {
            let q = q.clone();
            thread::spawn(move || q.put(2))
        };
        assert_eq!(q.get(), Ok(1));
        producer.join().unwrap().unwrap();
        assert_eq!(q.get(), Ok(2));
    });
}

#[test]
fn two_items_two_consumers_each_once() {
    model(|| {
        let q = Arc::new(Queue::unbounded());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || q.get().unwrap())
            })
            .collect();
        q.put(1).unwrap();
        q.put(2).unwrap();
        let mut got: Vec<i32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [1, 2]);
    });
}

#[test]
fn join_returns_after_the_last_task_done() {
    model(|| {
        let q = Arc::new(Queue::unbounded());
        q.put(1).unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                q.get().unwrap();
                q.task_done().unwrap();
            })
        };
        q.join();
        assert!(q.task_done().is_err(), "join returned before the task was done");
        worker.join().unwrap();
    });
}

#[test]
fn shutdown_wakes_a_blocked_getter() {
    model(|| {
        let q: Arc<Queue<i32>> = Arc::new(Queue::unbounded());
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get())
        };
        q.shutdown();
        assert_eq!(getter.join().unwrap(), Err(ShutDown(())));
    });
}

#[test]
fn shutdown_keeps_items_for_getters_but_refuses_puts() {
    model(|| {
        let q = Arc::new(LifoQueue::unbounded());
        q.put(1).unwrap();
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put(2))
        };
        q.shutdown();
        let put = putter.join().unwrap();
        // The put either came first (its item is there) or was refused with
        // its item handed back; nothing is lost either way.
        let mut left: Vec<i32> = q.drain().collect();
        if let Err(ShutDown(item)) = put {
            left.push(item);
        }
        left.sort();
        assert_eq!(left, [1, 2]);
        assert!(q.get().is_err());
    });
}

#[test]
fn immediate_shutdown_releases_join() {
    model(|| {
        let q = Arc::new(Queue::unbounded());
        q.put(1).unwrap();
        let joiner = {
            let q = q.clone();
            thread::spawn(move || q.join())
        };
        q.shutdown_immediate();
        joiner.join().unwrap();
        assert!(q.is_empty());
    });
}

/// A thread that gets `n` items and marks each done.
fn work_off(q: &Arc<Queue<i32>>, n: usize) -> thread::JoinHandle<()> {
    let q = q.clone();
    thread::spawn(move || {
        for _ in 0..n {
            q.get().unwrap();
            q.task_done().unwrap();
        }
    })
}

/// A put and a `task_done` on other threads, and a `join` that must not
/// return before both, on the queue `make` makes.
fn join_waits_for_a_put_racing_its_task_done(make: fn() -> Queue<i32>) {
    model(move || {
        let q = Arc::new(make());
        q.put(1).unwrap();
        let producer = {
            let q = q.clone();
            thread::spawn(move || q.put(2).unwrap())
        };
        let worker = work_off(&q, 2);
        producer.join().unwrap();
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.task_done().is_err(), "join returned before every task was done");
        worker.join().unwrap();
    });
}

/// The task count of a bounded `Queue` is the ring's tail less the
/// position `task_done` has reached.
#[test]
fn ring_join_waits_for_a_put_racing_its_task_done() {
    join_waits_for_a_put_racing_its_task_done(|| Queue::bounded(2).unwrap());
}

/// The task count of an unbounded `Queue` is the list's tail, counted in
/// pushes, less the position `task_done` has reached.
#[test]
fn list_join_waits_for_a_put_racing_its_task_done() {
    join_waits_for_a_put_racing_its_task_done(Queue::unbounded);
}

/// A `task_done` for an item taken from a lap of the ring later than the
/// one `task_done` has reached is accepted, and one too many is refused,
/// whichever thread calls it.
#[test]
fn ring_task_done_across_laps_is_counted_once() {
    model(|| {
        let q = Arc::new(Queue::bounded(1).unwrap());
        let worker = work_off(&q, 2);
        q.put(1).unwrap();
        q.put(2).unwrap();
        worker.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.task_done().is_err());
    });
}

/// The stores under a mutex order a change and a waiter's re-check by the
/// mutex alone, with no fence: a blocked get on a `PriorityQueue` is still
/// woken, and `join` released.
#[test]
fn locked_store_wakes_a_blocked_get_and_join() {
    model(|| {
        let q = Arc::new(concur::queue::PriorityQueue::unbounded());
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                let got = q.get().unwrap();
                q.task_done().unwrap();
                got
            })
        };
        q.put(5).unwrap();
        q.join();
        assert_eq!(worker.join().unwrap(), 5);
    });
}

/// Two puts race a shutdown on the list: each put either lands and is taken
/// exactly once, or is refused with its item handed back — never lost,
/// never taken after the getter was told the queue is shut down.
#[test]
fn list_puts_racing_a_shutdown_land_once_or_come_back() {
    model(|| {
        let q = Arc::new(SimpleQueue::new());
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let q = q.clone();
                thread::spawn(move || match q.put(n) {
                    Ok(()) => Some(n),
                    Err(ShutDown(back)) => {
                        assert_eq!(back, n);
                        None
                    }
                })
            })
            .collect();
        let consumer = {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(n) = q.get() {
                    got.push(n);
                }
                got
            })
        };
        q.shutdown();
        let mut landed: Vec<i32> = producers.into_iter().filter_map(|p| p.join().unwrap()).collect();
        let mut got = consumer.join().unwrap();
        landed.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, landed);
    });
}
