//! `Lock` against CPython's `Lib/test/lock_tests.py` (`BaseLockTests`,
//! `LockTests`) and the `Lock` cases of `Lib/test/test_threading.py`.
//!
//! The `BaseLockTests` cases, shared with `RLock` and `Condition`, are written
//! once in `common::base_lock` and run here as `base::lock::test_*`; the
//! `LockTests` cases are here. Tests named `test_*` mirror the CPython case
//! named in the comment above them; the others cover what concur adds (error
//! values, guards and panics, huge timeouts).
//!
//! Skipped, because they cannot apply in Rust:
//! - `BaseLockTests.test_constructor_noargs`: `Lock::new` takes no
//!   arguments; passing some does not compile.
//! - `BaseLockTests.test_timeout`, its `ValueError`/`OverflowError` half:
//!   `try_acquire` has no timeout to reject, a `Duration` cannot be negative,
//!   and a timeout too large for the clock waits for ever instead of raising
//!   (see `huge_timeouts_*`). The rest of the case is mirrored.
//! - `BaseLockTests.test_weakref_exists`, `test_weakref_deleted`: Rust has
//!   no weak references to plain values; an `Arc<Lock>`'s `Weak` is std's.
//! - `BaseLockTests.test_thread_leak`, its `threading.enumerate()` count:
//!   no registry of foreign threads exists to leak into. The 15 foreign
//!   threads still run.
//! - `LockTests.test_at_fork_reinit`: no `fork` support and no
//!   `_at_fork_reinit`.
//!
//! `test_repr` and `test_locked_repr` are mirrored with `Debug`, Rust's repr.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use common::{spawn, wait_threads_blocked, wait_until, Bunch, LONG};
use concur::sync::{Lock, ReleaseError};

common::base_lock_tests!(lock: concur::sync::Lock);

// lock_tests.LockTests.test_reacquire
#[test]
fn test_reacquire() {
    // A Lock must be released before it can be acquired again, even by the
    // thread that holds it.
    let lock = Arc::new(Lock::new());
    let phase = Arc::new(AtomicUsize::new(0));
    let (other, p) = (lock.clone(), phase.clone());
    let thread = spawn(move || {
        other.acquire();
        p.store(1, Ordering::SeqCst);
        other.acquire();
        p.store(2, Ordering::SeqCst);
    });
    wait_until("the thread holds the lock", || phase.load(Ordering::SeqCst) >= 1);
    // Thread blocked on its second acquire().
    wait_threads_blocked(1);
    assert_eq!(phase.load(Ordering::SeqCst), 1);
    // Thread unblocked.
    lock.release().unwrap();
    thread.join();
    assert_eq!(phase.load(Ordering::SeqCst), 2);
    assert!(lock.is_locked());
}

// lock_tests.LockTests.test_different_thread
#[test]
fn test_different_thread() {
    // A Lock can be released by a thread that did not acquire it.
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let other = lock.clone();
    spawn(move || other.release()).join().unwrap();
    assert!(!lock.is_locked());
    lock.acquire();
    lock.release().unwrap();
}

// lock_tests.LockTests.test_state_after_timeout
#[test]
fn test_state_after_timeout() {
    // Issue #11618: the lock is in a proper state after a (non-zero) timeout.
    let lock = Lock::new();
    lock.acquire();
    assert!(!lock.acquire_timeout(Duration::from_millis(10)));
    lock.release().unwrap();
    assert!(!lock.is_locked());
    assert!(lock.try_acquire());
}

// test_threading.ThreadingExceptionTests.test_releasing_unacquired_lock
#[test]
fn test_releasing_unacquired_lock() {
    let lock = Lock::new();
    assert!(matches!(lock.release(), Err(ReleaseError::NotLocked { .. })));
}

// concur: the error names the call and the lock, by name or by number.
#[test]
fn release_unlocked_error_names_call_and_lock() {
    let named = Lock::new().with_name("counter");
    let err = named.release().unwrap_err();
    assert_eq!(err, ReleaseError::NotLocked { call: "Lock::release", object: "Lock \"counter\"".into() });
    assert_eq!(err.to_string(), "Lock::release: Lock \"counter\" is not locked");

    let unnamed = Lock::new();
    let err = unnamed.release().unwrap_err();
    assert_eq!(err.to_string(), format!("Lock::release: Lock #{} is not locked", unnamed.order()));
}

// concur: a refused release changes nothing.
#[test]
fn release_error_changes_nothing() {
    let lock = Lock::new();
    lock.acquire();
    lock.release().unwrap();
    assert!(lock.release().is_err());
    assert!(!lock.is_locked());
    // The lock still works, and one release per acquire is still right.
    assert!(lock.try_acquire());
    assert!(lock.is_locked());
    lock.release().unwrap();
    assert!(lock.release().is_err());
}

// concur: a thread blocked on the lock gets it when the holder panics.
#[test]
fn waiter_gets_lock_when_holder_panics() {
    let lock = Arc::new(Lock::new());
    let (holding_tx, holding) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let other = lock.clone();
    let holder = spawn(move || {
        let _held = other.guard();
        holding_tx.send(()).unwrap();
        let _ = go.recv_timeout(LONG);
        panic!("the holder panics");
    });
    holding.recv_timeout(LONG).unwrap();
    let other = lock.clone();
    let waiter = spawn(move || {
        let taken = other.acquire_timeout(LONG);
        if taken {
            other.release().unwrap();
        }
        taken
    });
    wait_threads_blocked(1);
    go_tx.send(()).unwrap();
    assert!(holder.join_result().is_err());
    assert!(waiter.join());
}

// concur: a zero timeout is a try.
#[test]
fn zero_timeout_is_a_try() {
    let lock = Lock::new();
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(!lock.acquire_timeout(Duration::ZERO));
    lock.release().unwrap();
}

// concur: many threads, exact count (nothing lost under the lock).
#[test]
fn excludes_under_contention() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let lock = Arc::new(Lock::new());
    let total = Arc::new(AtomicUsize::new(0));
    let (other, sum) = (lock.clone(), total.clone());
    Bunch::new(THREADS, move |i| {
        for round in 0..ROUNDS {
            // Mix the three ways in; a load and a store, so only the lock
            // keeps two threads from losing an update.
            match (i + round) % 3 {
                0 => other.acquire(),
                1 => {
                    while !other.try_acquire() {
                        thread::yield_now();
                    }
                }
                _ => assert!(other.acquire_timeout(LONG)),
            }
            let seen = sum.load(Ordering::Relaxed);
            sum.store(seen + 1, Ordering::Relaxed);
            other.release().unwrap();
        }
    })
    .join();
    assert_eq!(total.load(Ordering::Relaxed), THREADS * ROUNDS);
    assert!(!lock.is_locked());
}
