//! Two threads, two locks, opposite orders: the classic deadlock, and the
//! two ways concur keeps it from happening.
//!
//! 1. `acquire_all` takes any set of locks in one global order, whatever
//!    order the caller lists them in, so thread 1 asking for (x, y) and
//!    thread 2 asking for (y, x) can never hold one each.
//! 2. Nested calls out of order — the reference's `acquire(x)` inside
//!    `acquire(y)` — are refused with a `LockOrderViolation` on the first
//!    run, not on the unlucky one.
//! 3. Plain `Lock` guards feed the lock-order graph (debug builds, or the
//!    `lock-order` feature): the first time a thread takes b then a after
//!    another took a then b, the cycle is reported with both code sites,
//!    while nothing is stuck yet.
//!
//! Run with `cargo run -p concur --example lock_order`.

use std::sync::Arc;

use concur::sync::{acquire_all, lock_order, Lock};
use concur::thread::{self, Builder};

fn label(lock: &Lock) -> &str {
    lock.name().unwrap_or("unnamed")
}

fn main() {
    let x = Arc::new(Lock::new().with_name("x"));
    let y = Arc::new(Lock::new().with_name("y"));

    // 1. Opposite listing orders, many times over, no deadlock.
    let workers: Vec<_> = [("thread-1", x.clone(), y.clone()), ("thread-2", y.clone(), x.clone())]
        .into_iter()
        .map(|(name, first, second)| {
            Builder::new()
                .name(name)
                .spawn(move || {
                    for _ in 0..10_000 {
                        let _both = acquire_all(&[&first, &second]).expect("one call takes both in order");
                    }
                    format!("{} took ({}, {}) 10000 times", thread::current().name(), label(&first), label(&second))
                })
                .expect("the OS starts a thread")
        })
        .collect();
    for worker in workers {
        println!("acquire_all: {}", worker.join().expect("no panic"));
    }

    // 2. Nested, in both orders, as in the reference: one order is refused.
    let nested: Vec<_> = [(x.clone(), y.clone()), (y.clone(), x.clone())]
        .into_iter()
        .map(|(outer, inner)| {
            thread::spawn(move || {
                let _outer = acquire_all(&[&outer]).expect("nothing held yet");
                match acquire_all(&[&inner]) {
                    Ok(_inner) => format!("{} inside {}: fine", label(&inner), label(&outer)),
                    Err(violation) => format!("{} inside {}: refused, {violation}", label(&inner), label(&outer)),
                }
            })
        })
        .collect();
    for attempt in nested {
        println!("nested: {}", attempt.join().expect("no panic"));
    }

    // 3. The lock-order graph, on plain guards. The threads run one after
    // the other, so this program cannot hang; the order alone is reported.
    if !lock_order::is_enabled() {
        println!("graph: the lock-order checker is not compiled into this build (use a debug build)");
        return;
    }
    lock_order::set_handler(|violation| println!("graph: reported before any deadlock:\n  {violation}"));
    let a = Arc::new(Lock::new().with_name("a"));
    let b = Arc::new(Lock::new().with_name("b"));
    let (a1, b1) = (a.clone(), b.clone());
    thread::spawn(move || {
        let _a = a1.guard();
        let _b = b1.guard();
    })
    .join()
    .expect("no panic");
    println!("graph: thread 1 took a then b");
    let (a2, b2) = (a.clone(), b.clone());
    thread::spawn(move || {
        let _b = b2.guard();
        let _a = a2.guard();
    })
    .join()
    .expect("no panic");
    println!("graph: thread 2 took b then a; {} violation(s) on record", lock_order::violations().len());
}
