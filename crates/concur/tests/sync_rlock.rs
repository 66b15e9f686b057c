//! `RLock` against CPython's `Lib/test/lock_tests.py` (`BaseLockTests`,
//! `RLockTests`), which `Lib/test/test_threading.py` runs as `PyRLockTests`
//! and `CRLockTests`.
//!
//! The `BaseLockTests` cases, shared with `Lock` and `Condition`, are written
//! once in `common::base_lock` and run here as `base::rlock::test_*`; the
//! `RLockTests` cases, shared with `Condition`, are written once in
//! `common::reentrant_lock` and run here as `rlock::rlock::test_*`. Tests
//! named `test_*` mirror the CPython case named in the comment above them;
//! the others cover what concur adds (error values, guards and panics, huge
//! timeouts).
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
//! `test_release_save_unacquired` through `Condition::wait_timeout`, the
//! public call that uses `_release_save`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_until, Bunch, LONG};
use concur::sync::RLock;

common::base_lock_tests!(rlock: concur::sync::RLock);
common::rlock_tests!(rlock: concur::sync::RLock);

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
