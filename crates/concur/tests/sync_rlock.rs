//! `RLock` against CPython's `Lib/test/lock_tests.py` (`BaseLockTests`,
//! `RLockTests`), which `Lib/test/test_threading.py` runs as `PyRLockTests`
//! and `CRLockTests`.
//!
//! The `BaseLockTests` cases, shared with `Lock` and `Condition`, are written
//! once in `common::base_lock` and run here as `base::rlock::test_*`; the
//! `RLockTests` cases are here. Tests named `test_*` mirror the CPython case
//! named in the comment above them; the others cover what concur adds (error
//! values, guards and panics, huge timeouts).
//!
//! Skipped, because they cannot apply in Rust:
//! - `BaseLockTests.test_constructor_noargs`, `CRLockTests.test_signature`:
//!   `RLock::new` takes no arguments; passing some does not compile.
//! - `BaseLockTests.test_timeout`, its `ValueError`/`OverflowError` half:
//!   `try_acquire` has no timeout to reject, a `Duration` cannot be negative,
//!   and a timeout too large for the clock waits for ever instead of raising
//!   (see `huge_timeouts_*`). The rest of the case is mirrored.
//! - `BaseLockTests.test_weakref_exists`, `test_weakref_deleted`: Rust has
//!   no weak references to plain values.
//! - `BaseLockTests.test_thread_leak`, its `threading.enumerate()` count:
//!   no registry of foreign threads exists to leak into. The 15 foreign
//!   threads still run.
//! - `RLockTests.test_repr_count` and `test_recursion_count`'s
//!   `_recursion_count()`: the depth is private (as `_recursion_count` is in
//!   Python); `test_recursion_count` is mirrored through behaviour instead —
//!   the lock stays held until every level is released.
//!
//! `test_repr` and `test_locked_repr` are mirrored with `Debug`, and
//! `test_release_save_unacquired` through `Condition::wait`, the public call
//! that uses `_release_save`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{spawn, wait_until, Bunch, LONG};
use concur::sync::{Condition, RLock, ReleaseError};

common::base_lock_tests!(rlock: concur::sync::RLock);

// lock_tests.RLockTests.test_reacquire
#[test]
fn test_reacquire() {
    let lock = RLock::new();
    lock.acquire();
    lock.acquire();
    lock.release().unwrap();
    lock.acquire();
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(!lock.is_locked());
}

// lock_tests.RLockTests.test_release_unacquired
#[test]
fn test_release_unacquired() {
    let lock = RLock::new();
    assert!(matches!(lock.release(), Err(ReleaseError::NotOwner(_))));
    lock.acquire();
    lock.acquire();
    lock.release().unwrap();
    lock.acquire();
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(matches!(lock.release(), Err(ReleaseError::NotOwner(_))));
}

// lock_tests.RLockTests.test_locked
#[test]
fn test_locked() {
    let lock = RLock::new();
    assert!(!lock.is_locked());
    lock.acquire();
    assert!(lock.is_locked());
    lock.acquire();
    assert!(lock.is_locked());
    lock.release().unwrap();
    assert!(lock.is_locked());
    lock.release().unwrap();
    assert!(!lock.is_locked());
}

// lock_tests.RLockTests.test_locked_with_2threads
#[test]
fn test_locked_with_2threads() {
    // gh-134323: an RLock held by another thread is locked here too.
    let lock = Arc::new(RLock::new());
    assert!(!lock.is_locked());
    let other = lock.clone();
    let (before, after) = spawn(move || {
        let before = other.is_locked();
        other.acquire();
        (before, other.is_locked())
    })
    .join();
    // The thread ended holding it.
    assert!(lock.is_locked());
    assert!(!lock.is_owned());
    assert!(!before);
    assert!(after);
}

// lock_tests.RLockTests.test_release_save_unacquired
#[test]
fn test_release_save_unacquired() {
    // `_release_save` is what `Condition.wait` calls: it refuses a lock the
    // caller does not hold.
    let cond = Condition::with_lock(RLock::new());
    assert!(cond.wait_timeout(Duration::ZERO).is_err());
    cond.acquire();
    cond.acquire();
    cond.release().unwrap();
    cond.acquire();
    cond.release().unwrap();
    cond.release().unwrap();
    assert!(cond.wait_timeout(Duration::ZERO).is_err());
    assert!(!cond.lock().is_locked());
}

// lock_tests.RLockTests.test_recursion_count (by behaviour; see the header)
#[test]
fn test_recursion_count() {
    let lock = Arc::new(RLock::new());
    let try_elsewhere = |lock: &Arc<RLock>| {
        let other = lock.clone();
        spawn(move || {
            let taken = other.try_acquire();
            if taken {
                other.release().unwrap();
            }
            taken
        })
        .join()
    };
    lock.acquire();
    lock.acquire();
    lock.acquire();
    lock.release().unwrap();
    // Two levels left: still held.
    assert!(!try_elsewhere(&lock));
    lock.release().unwrap();
    assert!(!try_elsewhere(&lock));
    lock.release().unwrap();
    assert!(try_elsewhere(&lock));

    // While another thread holds it, this thread holds no level of it.
    let (holding_tx, holding) = mpsc::channel();
    let (done_tx, done) = mpsc::channel::<()>();
    let other = lock.clone();
    let holder = spawn(move || {
        other.acquire();
        holding_tx.send(()).unwrap();
        let _ = done.recv_timeout(LONG);
        other.release().unwrap();
    });
    holding.recv_timeout(LONG).unwrap();
    assert!(!lock.is_owned());
    assert!(lock.release().is_err());
    done_tx.send(()).unwrap();
    holder.join();
    assert!(!lock.is_owned());
    assert!(!lock.is_locked());
}

// lock_tests.RLockTests.test_different_thread
#[test]
fn test_different_thread() {
    // An RLock cannot be released by a thread that does not own it.
    let lock = Arc::new(RLock::new().with_name("tree"));
    let (holding_tx, holding) = mpsc::channel();
    let (finish_tx, finish) = mpsc::channel::<()>();
    let other = lock.clone();
    let holder = spawn(move || {
        other.acquire();
        holding_tx.send(()).unwrap();
        // Bunch(f, 1, wait_before_exit=True)
        let _ = finish.recv_timeout(LONG);
    });
    holding.recv_timeout(LONG).unwrap();
    let err = lock.release().unwrap_err();
    let ReleaseError::NotOwner(not_owner) = &err else { panic!("expected NotOwner, got {err:?}") };
    assert_eq!(not_owner.call(), "RLock::release");
    assert_eq!(err.to_string(), "RLock::release: RLock \"tree\" is not held by the calling thread");
    // Nothing changed: the other thread still holds it.
    assert!(lock.is_locked());
    finish_tx.send(()).unwrap();
    holder.join();
}

// lock_tests.RLockTests.test__is_owned
#[test]
fn test_is_owned() {
    let lock = Arc::new(RLock::new());
    assert!(!lock.is_owned());
    lock.acquire();
    assert!(lock.is_owned());
    lock.acquire();
    assert!(lock.is_owned());
    let other = lock.clone();
    assert!(!spawn(move || other.is_owned()).join());
    lock.release().unwrap();
    assert!(lock.is_owned());
    lock.release().unwrap();
    assert!(!lock.is_owned());
}

// concur: the error names the call and the lock; unnamed locks by number.
#[test]
fn release_unowned_error_names_call_and_lock() {
    let named = RLock::new().with_name("tree");
    assert_eq!(named.name(), Some("tree"));
    assert_eq!(
        named.release().unwrap_err().to_string(),
        "RLock::release: RLock \"tree\" is not held by the calling thread"
    );
    let unnamed = RLock::new();
    assert_eq!(unnamed.name(), None);
    let err = unnamed.release().unwrap_err().to_string();
    assert!(err.starts_with("RLock::release: RLock #"), "{err}");
    assert!(err.ends_with(" is not held by the calling thread"), "{err}");
}

// concur: try_acquire and acquire_timeout re-enter for the owner.
#[test]
fn owner_reenters_every_way() {
    let lock = RLock::new();
    lock.acquire();
    assert!(lock.try_acquire());
    assert!(lock.acquire_timeout(Duration::ZERO));
    let guard = lock.guard();
    drop(guard);
    for _ in 0..3 {
        lock.release().unwrap();
    }
    assert!(!lock.is_locked());
    assert!(lock.release().is_err());
}

// concur: many threads nesting, exact count.
#[test]
fn excludes_under_contention() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 1_000;
    let lock = Arc::new(RLock::new());
    let total = Arc::new(AtomicUsize::new(0));
    let (other, sum) = (lock.clone(), total.clone());
    Bunch::new(THREADS, move |_| {
        for _ in 0..ROUNDS {
            let _outer = other.guard();
            assert!(other.acquire_timeout(LONG));
            let seen = sum.load(Ordering::Relaxed);
            sum.store(seen + 1, Ordering::Relaxed);
            other.release().unwrap();
        }
    })
    .join();
    assert_eq!(total.load(Ordering::Relaxed), THREADS * ROUNDS);
    wait_until("the lock is free", || !lock.is_locked());
}
