//! `Condition` against CPython's `Lib/test/lock_tests.py` (`ConditionTests`)
//! and `Lib/test/test_threading.py` (`ConditionTests`, and
//! `ConditionAsRLockTests`, which runs `RLockTests` on a `Condition`).
//!
//! Every `ConditionTests` case runs twice, as a module named after the case
//! with two tests: `rlock` (over an `RLock`, Python's default) and `lock`
//! (over a plain `Lock`, Python's `Condition(Lock())`). The cases
//! `ConditionAsRLockTests` inherits are written once, shared with the lock
//! types: those of `BaseLockTests` (with `Lock` and `RLock`) in
//! `common::base_lock`, run here as `base::condition::test_*`, and those of
//! `RLockTests` (with `RLock`) in `common::reentrant_lock`, run here as
//! `rlock::condition::test_*`. Tests named `test_*` mirror the CPython case in
//! the comment above them; the others cover what concur adds (error values,
//! guards and panics, huge timeouts, wake order).
//!
//! `RLockTests.test_recursion_count` runs here although CPython skips it for
//! `Condition`: CPython's reads `_recursion_count()`, which `Condition` does
//! not expose; concur's checks the depth by behaviour, which applies.
//!
//! Skipped, because they cannot apply in Rust:
//! - `ConditionAsRLockTests.test_constructor_noargs`: CPython skips it for
//!   `Condition` too.
//! - `ConditionAsRLockTests`'s inherited `test_weakref_*`: Rust has no weak
//!   references to plain values.
//! - `BaseLockTests.test_timeout`'s `ValueError`/`OverflowError` half, as in
//!   `sync_lock.rs`: no negative `Duration`, and huge timeouts wait for ever.
//! - `BaseLockTests.test_thread_leak`'s `threading.enumerate()` count, as in
//!   `sync_lock.rs`: no registry of foreign threads exists to leak into.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_waited, spawn, wait_threads_blocked, wait_until, Bunch, Joiner, HUGE, LONG};
use concur::sync::{Condition, ConditionLock, Lock, RLock};

common::base_lock_tests!(condition: concur::sync::Condition);
common::rlock_tests!(condition: concur::sync::Condition);

/// Runs a generic case once over each kind of lock: `mod case { rlock, lock }`.
macro_rules! over_both_locks {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn rlock() {
                super::$case(concur::sync::Condition::new);
            }

            #[test]
            fn lock() {
                super::$case(|| concur::sync::Condition::with_lock(concur::sync::Lock::new()));
            }
        }
    )*};
}

over_both_locks!(
    test_unacquired_wait,
    test_unacquired_notify,
    test_notify,
    test_timeout,
    test_waitfor,
    test_waitfor_timeout,
    failed_wait_leaves_no_waiter_behind,
    notify_wakes_longest_waiting_first,
    notify_zero_and_too_many,
    zero_timeout_returns_with_the_lock,
    wait_for_already_true_needs_no_lock,
    wait_for_returns_the_predicates_value,
    guard_released_when_its_thread_panics,
    predicate_panic_releases_the_lock,
    huge_timeouts_do_not_panic,
);

type Make<L> = fn() -> Condition<L>;

/// The main thread's `with cond:`: runs `f` holding the lock, taken with a
/// deadline, since a guard would wait for ever if a bug kept the lock held.
fn locked<L: ConditionLock, R>(cond: &Condition<L>, f: impl FnOnce() -> R) -> R {
    assert!(cond.acquire_timeout(LONG), "the lock was not free within {LONG:?}");
    let result = f();
    cond.release().unwrap();
    result
}

/// Starts a thread that takes `cond`'s lock and calls `wait` holding it;
/// returns once that thread is inside its wait. It says it is about to wait
/// while it holds the lock, so once the lock is free again it is inside
/// `wait`, which alone lets the lock go.
fn start_waiter<L: ConditionLock + 'static, T: Send + 'static>(
    cond: &Arc<Condition<L>>,
    wait: impl FnOnce(&Condition<L>) -> T + Send + 'static,
) -> Joiner<T> {
    let waiting = Arc::new(AtomicBool::new(false));
    let (c, w) = (cond.clone(), waiting.clone());
    let waiter = spawn(move || {
        let _held = c.guard();
        w.store(true, Ordering::SeqCst);
        wait(&c)
    });
    wait_until("the waiter is about to wait", || waiting.load(Ordering::SeqCst));
    locked(cond, || ());
    waiter
}

// lock_tests.ConditionTests.test_acquire
#[test]
fn test_acquire() {
    let cond = Condition::new();
    // By default the lock is an RLock: the condition can be acquired
    // multiple times.
    cond.acquire();
    cond.acquire();
    cond.release().unwrap();
    cond.release().unwrap();

    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(lock.clone());
    cond.acquire();
    assert!(!lock.try_acquire());
    cond.release().unwrap();
    assert!(lock.try_acquire());
    assert!(!cond.try_acquire());
    lock.release().unwrap();
    {
        let _held = cond.guard();
        assert!(!lock.try_acquire());
    }
    assert!(!lock.is_locked());
}

// lock_tests.ConditionTests.test_unacquired_wait
fn test_unacquired_wait<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    // The untimed waits run in a thread, so a bug fails the join, not CI.
    let c = cond.clone();
    let (wait, wait_for) = spawn(move || (c.wait().unwrap_err(), c.wait_for(|| false).unwrap_err())).join();
    assert!(wait.to_string().starts_with("Condition::wait: "), "{wait}");
    assert_eq!(wait.call(), "Condition::wait");
    assert_eq!(wait_for.call(), "Condition::wait_for");
    let err = cond.wait_timeout(LONG).unwrap_err();
    assert!(err.to_string().starts_with("Condition::wait_timeout: "), "{err}");
    let err = cond.wait_for_timeout(|| false, LONG).unwrap_err();
    assert_eq!(err.call(), "Condition::wait_for_timeout");
}

// lock_tests.ConditionTests.test_unacquired_notify
fn test_unacquired_notify<L: ConditionLock>(make: Make<L>) {
    let cond = make();
    assert_eq!(cond.notify(1).unwrap_err().call(), "Condition::notify");
    assert_eq!(cond.notify_all().unwrap_err().call(), "Condition::notify_all");
}

/// lock_tests.ConditionTests._check_notify. Phases are read under the lock,
/// which the main thread holds while it changes them, so each woken thread
/// records the phase it was notified in.
fn check_notify<L: ConditionLock + 'static>(cond: &Arc<Condition<L>>) {
    const N: usize = 5;
    let ready = Arc::new(AtomicUsize::new(0));
    let phase = Arc::new(AtomicUsize::new(0));
    let results1 = Arc::new(Mutex::new(Vec::new()));
    let results2 = Arc::new(Mutex::new(Vec::new()));
    let len = |results: &Arc<Mutex<Vec<(bool, usize)>>>| results.lock().unwrap().len();

    let (c, rd, ph, r1, r2) = (cond.clone(), ready.clone(), phase.clone(), results1.clone(), results2.clone());
    let bunch = Bunch::new(N, move |_| {
        for results in [&r1, &r2] {
            c.acquire();
            rd.fetch_add(1, Ordering::SeqCst);
            let notified = c.wait_timeout(LONG).unwrap();
            let seen = ph.load(Ordering::SeqCst);
            c.release().unwrap();
            results.lock().unwrap().push((notified, seen));
        }
    });

    // Every worker is in its first wait once it has counted itself ready
    // (under the lock) and the lock can be taken.
    wait_until("every worker is ready", || ready.load(Ordering::SeqCst) >= N);
    ready.store(0, Ordering::SeqCst);
    assert_eq!(len(&results1), 0);

    // Notify 3 threads at first.
    let count1 = 3;
    assert!(cond.acquire_timeout(LONG));
    cond.notify(count1).unwrap();
    wait_threads_blocked(count1 as u32);
    // Phase 1.
    phase.store(1, Ordering::SeqCst);
    cond.release().unwrap();
    wait_until("3 threads woke", || len(&results1) >= count1);
    assert_eq!(*results1.lock().unwrap(), [(true, 1); 3]);
    assert_eq!(len(&results2), 0);

    // Wait until the woken workers are in their second wait.
    wait_until("3 threads wait again", || ready.load(Ordering::SeqCst) >= count1);

    // Notify 5 threads: they might be in their first or second wait.
    assert!(cond.acquire_timeout(LONG));
    cond.notify(5).unwrap();
    wait_threads_blocked(N as u32);
    // Phase 2.
    phase.store(2, Ordering::SeqCst);
    cond.release().unwrap();
    wait_until("5 more wake-ups", || len(&results1) + len(&results2) >= N + count1);
    let count2 = N - count1;
    assert_eq!(*results1.lock().unwrap(), [[(true, 1); 3].as_slice(), &[(true, 2); 2]].concat());
    assert_eq!(*results2.lock().unwrap(), [(true, 2); 3]);
    assert_eq!(count2, 2);

    // Make sure every worker is in its second wait.
    wait_until("every worker waits again", || ready.load(Ordering::SeqCst) >= N);

    // Notify all threads: they are all in their second wait.
    assert!(cond.acquire_timeout(LONG));
    cond.notify_all().unwrap();
    wait_threads_blocked(N as u32);
    // Phase 3.
    phase.store(3, Ordering::SeqCst);
    cond.release().unwrap();
    wait_until("every worker woke twice", || len(&results2) >= N);
    assert_eq!(*results1.lock().unwrap(), [[(true, 1); 3].as_slice(), &[(true, 2); 2]].concat());
    assert_eq!(*results2.lock().unwrap(), [[(true, 2); 3].as_slice(), &[(true, 3); 2]].concat());
    bunch.join();
}

// lock_tests.ConditionTests.test_notify
fn test_notify<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    check_notify(&cond);
    // A second time, to check the internal state is still right.
    check_notify(&cond);
}

// lock_tests.ConditionTests.test_timeout
fn test_timeout<L: ConditionLock + 'static>(make: Make<L>) {
    const N: usize = 5;
    let timeout = Duration::from_millis(100);
    let cond = Arc::new(make());
    let c = cond.clone();
    let results = Bunch::new(N, move |_| {
        c.acquire();
        let start = Instant::now();
        let notified = c.wait_timeout(timeout).unwrap();
        let elapsed = start.elapsed();
        c.release().unwrap();
        (elapsed, notified)
    })
    .join();
    assert_eq!(results.len(), N);
    for (elapsed, notified) in results {
        assert_waited(elapsed, timeout);
        // concur's waits have no spurious wake-ups either.
        assert!(!notified);
    }
}

/// The waker of `test_waitfor` and `test_waitfor_timeout`: `times` times,
/// after a pause, adds one to `state` and notifies, holding the lock.
fn advance_state<L: ConditionLock>(cond: &Condition<L>, state: &AtomicUsize, times: usize) {
    for _ in 0..times {
        thread::sleep(Duration::from_millis(10));
        locked(cond, || {
            state.fetch_add(1, Ordering::SeqCst);
            cond.notify(1).unwrap();
        });
    }
}

// lock_tests.ConditionTests.test_waitfor
fn test_waitfor<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    let state = Arc::new(AtomicUsize::new(0));
    let (c, s) = (cond.clone(), state.clone());
    // `wait_for` without a timeout; the join's deadline bounds it.
    let waiter = spawn(move || {
        let _held = c.guard();
        // Python's `result = cond.wait_for(...)`, `assertTrue(result)`.
        let result = c.wait_for(|| s.load(Ordering::SeqCst) == 4).unwrap();
        assert!(result);
        assert_eq!(s.load(Ordering::SeqCst), 4);
    });
    advance_state(&cond, &state, 4);
    waiter.join();
}

// lock_tests.ConditionTests.test_waitfor_timeout
fn test_waitfor_timeout<L: ConditionLock + 'static>(make: Make<L>) {
    let timeout = Duration::from_millis(100);
    let cond = Arc::new(make());
    let state = Arc::new(AtomicUsize::new(0));
    let (c, s) = (cond.clone(), state.clone());
    let waiter = spawn(move || {
        let _held = c.guard();
        let start = Instant::now();
        let result = c.wait_for_timeout(|| s.load(Ordering::SeqCst) == 4, timeout).unwrap();
        let elapsed = start.elapsed();
        assert!(!result);
        assert_waited(elapsed, timeout);
    });
    // Only 3 increments, so state == 4 is never reached.
    advance_state(&cond, &state, 3);
    waiter.join();
}

// concur: the errors name the call and the condition's lock.
#[test]
fn errors_name_call_and_lock() {
    let cond = Arc::new(Condition::with_lock(RLock::new().with_name("jobs")));
    let c = cond.clone();
    assert_eq!(
        spawn(move || c.wait()).join().unwrap_err().to_string(),
        "Condition::wait: the lock of this Condition (RLock \"jobs\") is not held by the calling thread"
    );
    assert_eq!(
        cond.notify_all().unwrap_err().to_string(),
        "Condition::notify_all: the lock of this Condition (RLock \"jobs\") is not held by the calling thread"
    );
    let cond = Condition::with_lock(Lock::new().with_name("queue"));
    assert_eq!(
        cond.wait_timeout(Duration::ZERO).unwrap_err().to_string(),
        "Condition::wait_timeout: the lock of this Condition (Lock \"queue\") is not held by the calling thread"
    );
    assert_eq!(
        cond.notify(1).unwrap_err().to_string(),
        "Condition::notify: the lock of this Condition (Lock \"queue\") is not held by the calling thread"
    );
    // `release` reports the lock's own refusal.
    assert_eq!(cond.release().unwrap_err().to_string(), "Lock::release: Lock \"queue\" is not locked");
    let unnamed = Condition::new();
    let err = unnamed.notify(1).unwrap_err().to_string();
    assert!(err.starts_with("Condition::notify: the lock of this Condition (RLock #"), "{err}");
}

// concur: a refused wait leaves nothing behind; a later notify(1) goes to a
// real waiter.
fn failed_wait_leaves_no_waiter_behind<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    assert!(cond.wait_timeout(LONG).is_err());
    assert!(cond.wait_for_timeout(|| false, LONG).is_err());
    let waiter = start_waiter(&cond, |c| c.wait_timeout(LONG).unwrap());
    locked(&cond, || {
        cond.notify(1).unwrap();
    });
    assert!(waiter.join());
}

// concur: notify(1) wakes the longest-waiting thread first, as CPython's
// deque of waiters does.
fn notify_wakes_longest_waiting_first<L: ConditionLock + 'static>(make: Make<L>) {
    const N: usize = 4;
    let cond = Arc::new(make());
    let woken = Arc::new(Mutex::new(Vec::new()));
    let mut waiters = Vec::new();
    for i in 0..N {
        let order = woken.clone();
        // One at a time, so arrival order is known.
        waiters.push(start_waiter(&cond, move |c| {
            let notified = c.wait_timeout(LONG).unwrap();
            order.lock().unwrap().push(i);
            notified
        }));
    }
    for i in 0..N {
        locked(&cond, || {
            cond.notify(1).unwrap();
        });
        wait_until("the notified waiter ran", || woken.lock().unwrap().len() > i);
    }
    assert_eq!(*woken.lock().unwrap(), (0..N).collect::<Vec<_>>());
    for waiter in waiters {
        assert!(waiter.join());
    }
}

// concur: notify(0) wakes nobody; notify(n) with fewer waiters wakes those.
fn notify_zero_and_too_many<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    let waiter = start_waiter(&cond, |c| c.wait_timeout(LONG).unwrap());
    locked(&cond, || {
        cond.notify(0).unwrap();
    });
    wait_threads_blocked(1);
    assert!(!waiter.is_finished());
    locked(&cond, || {
        cond.notify(usize::MAX).unwrap();
        cond.notify(3).unwrap();
    });
    assert!(waiter.join());
}

// concur: a zero timeout gives up at once and still returns with the lock.
fn zero_timeout_returns_with_the_lock<L: ConditionLock>(make: Make<L>) {
    let cond = make();
    let _held = cond.guard();
    assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
    assert_eq!(cond.wait_for_timeout(|| false, Duration::ZERO), Ok(false));
    cond.notify(1).unwrap(); // the lock is held again
}

// concur: as in Python, a predicate already true returns without the lock.
fn wait_for_already_true_needs_no_lock<L: ConditionLock>(make: Make<L>) {
    let cond = make();
    assert_eq!(cond.wait_for(|| true), Ok(true));
    assert_eq!(cond.wait_for_timeout(|| true, Duration::ZERO), Ok(true));
}

// concur: both forms hand back the predicate's last value, as Python's do,
// and a predicate may return what it waited for (`Some`), taken under the
// lock; a timed-out wait returns the last `None`.
fn wait_for_returns_the_predicates_value<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    let mail = Arc::new(Mutex::new(None::<&'static str>));
    let m = mail.clone();
    let waiter = start_waiter(&cond, move |c| c.wait_for(|| m.lock().unwrap().take()).unwrap());
    locked(&cond, || {
        *mail.lock().unwrap() = Some("letter");
        cond.notify(1).unwrap();
    });
    assert_eq!(waiter.join(), Some("letter"));
    assert_eq!(*mail.lock().unwrap(), None, "the waiter took the letter");

    let _held = cond.guard();
    assert_eq!(cond.wait_for_timeout(|| mail.lock().unwrap().take(), Duration::from_millis(5)), Ok(None));
    *mail.lock().unwrap() = Some("second");
    assert_eq!(cond.wait_for_timeout(|| mail.lock().unwrap().take(), Duration::ZERO), Ok(Some("second")));
}

// concur: a guard dropped while its thread unwinds releases the lock.
fn guard_released_when_its_thread_panics<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    let c = cond.clone();
    let outcome = spawn(move || {
        let _held = c.guard();
        panic!("the holder panics");
    })
    .join_result();
    assert_eq!(outcome.unwrap_err().downcast_ref::<&str>(), Some(&"the holder panics"));
    assert!(cond.acquire_timeout(LONG));
    cond.release().unwrap();
}

// concur: a predicate that panics inside `wait_for` unwinds through the
// guard, which releases the lock (the lock is held again when it runs).
fn predicate_panic_releases_the_lock<L: ConditionLock + 'static>(make: Make<L>) {
    let cond = Arc::new(make());
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, n) = (cond.clone(), calls.clone());
    let waiter = spawn(move || {
        let _held = c.guard();
        c.wait_for(|| {
            // Second call: after a notification, with the lock taken back.
            assert!(n.fetch_add(1, Ordering::SeqCst) == 0, "the predicate panics");
            false
        })
    });
    wait_until("the waiter checked once", || calls.load(Ordering::SeqCst) == 1);
    // The first check ran under the guard; once the lock is free again the
    // waiter is inside wait.
    locked(&cond, || {
        cond.notify(1).unwrap();
    });
    assert!(waiter.join_result().is_err());
    assert!(cond.acquire_timeout(LONG));
    cond.release().unwrap();
}

// concur: timeouts too large for the clock wait for ever, without panicking;
// here the notification comes, so the wait ends. The waits run in a thread so
// that a bug fails the join instead of hanging.
fn huge_timeouts_do_not_panic<L: ConditionLock + 'static>(make: Make<L>) {
    for timeout in HUGE {
        let cond = Arc::new(make());
        let state = Arc::new(AtomicBool::new(false));
        let s = state.clone();
        let waiter = start_waiter(&cond, move |c| {
            let notified = c.wait_timeout(timeout).unwrap();
            let satisfied = c.wait_for_timeout(|| s.load(Ordering::SeqCst), timeout).unwrap();
            (notified, satisfied)
        });
        locked(&cond, || {
            cond.notify(1).unwrap();
        });
        thread::sleep(Duration::from_millis(10));
        locked(&cond, || {
            state.store(true, Ordering::SeqCst);
            cond.notify_all().unwrap();
        });
        assert_eq!(waiter.join(), (true, true), "{timeout:?}");
    }
}

// concur: wait releases every level of an RLock, and takes them all back.
#[test]
fn wait_releases_and_restores_rlock_depth() {
    let cond = Arc::new(Condition::new());
    cond.acquire();
    cond.acquire();
    cond.acquire();
    let c = cond.clone();
    let notifier = spawn(move || {
        // Only possible while the waiter has released all three levels.
        let _held = c.guard();
        c.notify(1).unwrap();
    });
    assert_eq!(cond.wait_timeout(LONG), Ok(true));
    notifier.join();
    assert!(cond.lock().is_owned());
    for _ in 0..3 {
        cond.release().unwrap();
    }
    assert!(!cond.lock().is_locked());
    assert!(cond.release().is_err());
}

// concur: wait over a plain Lock releases it while waiting, holds it after.
#[test]
fn wait_releases_and_restores_lock() {
    let lock = Arc::new(Lock::new());
    let cond = Arc::new(Condition::with_lock(lock.clone()));
    let _held = cond.guard();
    let (c, l) = (cond.clone(), lock.clone());
    let notifier = spawn(move || {
        assert!(l.acquire_timeout(LONG));
        c.notify_all().unwrap();
        l.release().unwrap();
    });
    assert_eq!(cond.wait_timeout(LONG), Ok(true));
    notifier.join();
    assert!(lock.is_locked());
    assert!(!lock.try_acquire());
}

// concur: producers and consumers through one condition, exact count.
#[test]
fn handoff_under_contention() {
    const PRODUCERS: usize = 2;
    const CONSUMERS: usize = 2;
    const ITEMS: usize = 500;
    let cond = Arc::new(Condition::with_lock(Lock::new()));
    let stock = Arc::new(AtomicUsize::new(0));
    let consumed = Arc::new(AtomicUsize::new(0));
    let (c, s) = (cond.clone(), stock.clone());
    let producers = Bunch::new(PRODUCERS, move |_| {
        for _ in 0..ITEMS {
            let _held = c.guard();
            s.fetch_add(1, Ordering::SeqCst);
            c.notify(1).unwrap();
        }
    });
    let (c, s, n) = (cond.clone(), stock.clone(), consumed.clone());
    let consumers = Bunch::new(CONSUMERS, move |_| {
        for _ in 0..PRODUCERS * ITEMS / CONSUMERS {
            let _held = c.guard();
            assert!(c.wait_for_timeout(|| s.load(Ordering::SeqCst) > 0, LONG).unwrap());
            s.fetch_sub(1, Ordering::SeqCst);
            n.fetch_add(1, Ordering::SeqCst);
        }
    });
    producers.join();
    consumers.join();
    assert_eq!(consumed.load(Ordering::SeqCst), PRODUCERS * ITEMS);
    assert_eq!(stock.load(Ordering::SeqCst), 0);
}
