//! `Event` against CPython's `Lib/test/lock_tests.py` (`EventTests`), which
//! `Lib/test/test_threading.py` runs as `EventTests`.
//!
//! Tests named `test_*` mirror the CPython case named in the comment above
//! them; the others cover what concur adds (zero and huge timeouts).
//!
//! Skipped, because they cannot apply in Rust:
//! - `EventTests.test_reset_internal_locks` and `test_at_fork_reinit`:
//!   they reset the private `_cond` after a `fork`; concur has neither fork
//!   support nor a replaceable inner lock.
//!
//! `test_repr` is mirrored with `Debug`. `Event` has no error paths and no
//! guard: nothing it does can be misused.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_waited, spawn, wait_threads_blocked, Bunch, HUGE, LONG};
use concur::sync::Event;

// lock_tests.EventTests.test_is_set
#[test]
fn test_is_set() {
    let evt = Event::new();
    assert!(!evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.set();
    assert!(evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
    evt.clear();
    assert!(!evt.is_set());
    assert!(!Event::default().is_set());
}

/// lock_tests.EventTests._check_notify: all threads get notified.
fn check_notify(evt: &Arc<Event>) {
    const N: usize = 5;
    let first = Arc::new(AtomicUsize::new(0));
    let (e, f) = (evt.clone(), first.clone());
    // `wait()` (Python's `wait()` with no timeout) inside the threads is
    // bounded by the bunch's join deadline.
    let bunch = Bunch::new(N, move |_| {
        e.wait();
        f.fetch_add(1, Ordering::SeqCst);
        // Python's results2: the flag is still set, so this returns at once.
        e.wait_timeout(Duration::ZERO)
    });
    // Threads blocked on the first wait().
    wait_threads_blocked(N as u32);
    assert_eq!(first.load(Ordering::SeqCst), 0);
    // Threads unblocked.
    evt.set();
    assert_eq!(bunch.join(), [true; N]);
    assert_eq!(first.load(Ordering::SeqCst), N);
}

// lock_tests.EventTests.test_notify
#[test]
fn test_notify() {
    let evt = Arc::new(Event::new());
    check_notify(&evt);
    // Another time, after an explicit clear().
    evt.set();
    evt.clear();
    check_notify(&evt);
}

// lock_tests.EventTests.test_timeout
#[test]
fn test_timeout() {
    const N: usize = 5;
    let timeout = Duration::from_millis(100);
    let evt = Arc::new(Event::new());
    let run = |evt: &Arc<Event>| {
        let e = evt.clone();
        Bunch::new(N, move |_| {
            let at_once = e.wait_timeout(Duration::ZERO);
            let start = Instant::now();
            let waited = e.wait_timeout(timeout);
            (at_once, waited, start.elapsed())
        })
        .join()
    };
    for (at_once, waited, elapsed) in run(&evt) {
        assert!(!at_once);
        assert!(!waited);
        assert_waited(elapsed, timeout);
    }
    // The event is set.
    evt.set();
    for (at_once, waited, _) in run(&evt) {
        assert!(at_once);
        assert!(waited);
    }
}

// lock_tests.EventTests.test_set_and_clear
#[test]
fn test_set_and_clear() {
    // gh-57711: wait() returns true even when the event is cleared before
    // the waiting thread is woken up.
    const N: usize = 5;
    let evt = Arc::new(Event::new());
    let e = evt.clone();
    let bunch = Bunch::new(N, move |_| e.wait_timeout(LONG));
    // Threads blocked on wait().
    wait_threads_blocked(N as u32);
    // Threads unblocked.
    evt.set();
    evt.clear();
    assert_eq!(bunch.join(), [true; N]);
    assert!(!evt.is_set());
}

// lock_tests.EventTests.test_repr
#[test]
fn test_repr() {
    let evt = Event::new();
    let repr = format!("{evt:?}");
    assert!(repr.starts_with("Event {"), "{repr}");
    assert!(repr.contains("set: false"), "{repr}");
    evt.set();
    let repr = format!("{evt:?}");
    assert!(repr.contains("set: true"), "{repr}");
}

// concur: a waiter that arrives after a set-and-clear waits for the next set.
#[test]
fn waiter_after_clear_waits_for_next_set() {
    let evt = Arc::new(Event::new());
    evt.set();
    evt.clear();
    assert!(!evt.wait_timeout(Duration::from_millis(20)));
    let e = evt.clone();
    let waiter = spawn(move || e.wait_timeout(LONG));
    wait_threads_blocked(1);
    assert!(!waiter.is_finished());
    evt.set();
    assert!(waiter.join());
}

// concur: set, clear and wait from many threads at once lose no wake-up.
#[test]
fn repeated_set_and_clear() {
    const ROUNDS: usize = 200;
    let go = Arc::new(Event::new());
    let back = Arc::new(Event::new());
    let (g, b) = (go.clone(), back.clone());
    let partner = spawn(move || {
        for _ in 0..ROUNDS {
            assert!(g.wait_timeout(LONG));
            g.clear();
            b.set();
        }
    });
    for _ in 0..ROUNDS {
        go.set();
        assert!(back.wait_timeout(LONG));
        back.clear();
    }
    partner.join();
}

// concur: timeouts too large for the clock wait for ever, without panicking;
// here the event is set soon, so the wait ends. It runs in a thread, so a bug
// fails the join instead of hanging.
#[test]
fn huge_timeouts_do_not_panic() {
    for timeout in HUGE {
        let evt = Arc::new(Event::new());
        let e = evt.clone();
        let waiter = spawn(move || (e.wait_timeout(timeout), e.wait_timeout(timeout)));
        wait_threads_blocked(2);
        evt.set();
        // The second wait finds the flag set.
        assert_eq!(waiter.join(), (true, true), "{timeout:?}");
    }
}

// concur: several threads setting at once wake every waiter.
#[test]
fn concurrent_setters() {
    const WAITERS: usize = 4;
    let evt = Arc::new(Event::new());
    let e = evt.clone();
    let waiters = Bunch::new(WAITERS, move |_| e.wait_timeout(LONG));
    let e = evt.clone();
    Bunch::new(3, move |_| e.set()).join();
    assert_eq!(waiters.join(), [true; WAITERS]);
    assert!(evt.is_set());
}
