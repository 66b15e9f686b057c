//! A shared counter, two ways. Ten threads each add one a hundred thousand
//! times with a separate read and write: without a lock, two threads read the
//! same value and one addition vanishes. With a `Lock` around the read and the
//! write, the total is exact.
//!
//! Python hides this behind the GIL for simple cases; Rust threads run truly
//! in parallel, so the lost updates show at once on any machine with two
//! cores.
//!
//! Run with `cargo run -p concur --example lock_counter`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use concur::sync::Lock;
use concur::thread;

const THREADS: u64 = 10;
const ADDS: u64 = 100_000;

/// Adds one with a load and a store: the gap between them is the race.
fn add_one(total: &AtomicU64) {
    let seen = total.load(Ordering::Relaxed);
    std::hint::spin_loop(); // widen the gap a little, as real work would
    total.store(seen + 1, Ordering::Relaxed);
}

fn count(lock: Option<Arc<Lock>>) -> u64 {
    let total = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (total, lock) = (total.clone(), lock.clone());
            thread::spawn(move || {
                for _ in 0..ADDS {
                    match &lock {
                        Some(lock) => {
                            let _turn = lock.guard();
                            add_one(&total);
                        }
                        None => add_one(&total),
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker does not panic");
    }
    total.load(Ordering::Relaxed)
}

fn main() {
    let expected = THREADS * ADDS;
    let unlocked = count(None);
    println!("without a lock: {unlocked} of {expected} ({} additions lost)", expected - unlocked);
    let locked = count(Some(Arc::new(Lock::new().with_name("total"))));
    println!("with a Lock:    {locked} of {expected} ({} additions lost)", expected - locked);
    assert_eq!(locked, expected);
}
