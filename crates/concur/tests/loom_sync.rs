//! Model checks of the core primitives with loom: every interleaving of the
//! threads below is run, so a lost wake-up or a broken exclusion shows as a
//! failure (or a loom deadlock report), not as a rare flake.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p concur --test loom_sync --release`.
//! Timed waits are left out: loom has no clock.
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use concur::sync::{Condition, Event, Lock, RLock, ReleaseError, Semaphore};

/// A read-modify-write split into a load and a store: any two threads inside
/// at once lose an update in some interleaving, which loom finds.
fn bump(counter: &AtomicUsize) {
    let seen = counter.load(Ordering::Relaxed);
    counter.store(seen + 1, Ordering::Relaxed);
}

#[test]
fn lock_excludes() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let other = {
            let (lock, counter) = (lock.clone(), counter.clone());
            thread::spawn(move || {
                let _held = lock.guard();
                bump(&counter);
            })
        };
        {
            let _held = lock.guard();
            bump(&counter);
        }
        other.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 2);
        assert!(!lock.is_locked());
    });
}

#[test]
fn lock_released_by_another_thread_wakes_the_waiter() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let waiter = {
            let lock = lock.clone();
            thread::spawn(move || {
                lock.acquire(); // blocks until main releases
                lock.release().unwrap();
            })
        };
        lock.release().unwrap();
        waiter.join().unwrap();
        assert!(matches!(lock.release(), Err(ReleaseError::NotLocked { .. })));
    });
}

#[test]
fn lock_three_contenders() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (lock, counter) = (lock.clone(), counter.clone());
                thread::spawn(move || {
                    lock.acquire();
                    bump(&counter);
                    lock.release().unwrap();
                })
            })
            .collect();
        let took = lock.try_acquire();
        if took {
            bump(&counter);
            lock.release().unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), 2 + usize::from(took));
    });
}

#[test]
fn rlock_reenters_and_excludes() {
    loom::model(|| {
        let lock = Arc::new(RLock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let other = {
            let (lock, counter) = (lock.clone(), counter.clone());
            thread::spawn(move || {
                let _outer = lock.guard();
                let _inner = lock.guard();
                bump(&counter);
            })
        };
        {
            let _outer = lock.guard();
            assert!(lock.try_acquire());
            bump(&counter);
            lock.release().unwrap();
        }
        other.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 2);
        assert!(!lock.is_locked());
    });
}

#[test]
fn rlock_refuses_a_non_owner() {
    loom::model(|| {
        let lock = Arc::new(RLock::new());
        lock.acquire();
        let other = {
            let lock = lock.clone();
            thread::spawn(move || matches!(lock.release(), Err(ReleaseError::NotOwner(_))))
        };
        assert!(other.join().unwrap());
        lock.release().unwrap();
    });
}

#[test]
fn event_set_wakes_waiter() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || event.wait())
        };
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

// A `set` followed at once by `clear` is not modelled here: in the
// interleaving where both run before the waiter starts, the waiter must block
// (as in Python), so no model can require it to return. `sync_event.rs`
// covers the case with a waiter known to be asleep.
#[test]
fn event_set_wakes_every_waiter() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || event.wait())
            })
            .collect();
        event.set();
        for w in waiters {
            w.join().unwrap();
        }
    });
}

#[test]
fn condition_notify_is_not_lost() {
    loom::model(|| {
        let cond = Arc::new(Condition::with_lock(Lock::new()));
        let ready = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (cond, ready) = (cond.clone(), ready.clone());
            thread::spawn(move || {
                let _held = cond.guard();
                ready.store(1, Ordering::Relaxed);
                cond.notify(1).unwrap();
            })
        };
        {
            let _held = cond.guard();
            cond.wait_for(|| ready.load(Ordering::Relaxed) == 1).unwrap();
        }
        producer.join().unwrap();
    });
}

#[test]
fn condition_over_rlock_restores_depth() {
    loom::model(|| {
        let cond = Arc::new(Condition::new());
        let ready = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (cond, ready) = (cond.clone(), ready.clone());
            thread::spawn(move || {
                let _held = cond.guard();
                ready.store(1, Ordering::Relaxed);
                cond.notify_all().unwrap();
            })
        };
        {
            let _outer = cond.guard();
            let _inner = cond.guard();
            cond.wait_for(|| ready.load(Ordering::Relaxed) == 1).unwrap();
            assert!(cond.lock().is_owned());
        }
        producer.join().unwrap();
        assert!(!cond.lock().is_locked());
    });
}

#[test]
fn semaphore_limits_and_wakes() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let counter = Arc::new(AtomicUsize::new(0));
        let other = {
            let (sem, counter) = (sem.clone(), counter.clone());
            thread::spawn(move || {
                let _permit = sem.guard();
                bump(&counter);
            })
        };
        {
            let _permit = sem.guard();
            bump(&counter);
        }
        other.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 2);
        assert_eq!(sem.value(), 1);
    });
}
