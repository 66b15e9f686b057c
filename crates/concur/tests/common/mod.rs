//! What the `sync_*` semantics tests share: threads whose every wait has a
//! deadline, so a bug fails the test instead of hanging CI.
//!
//! Coordination here uses only `std` (channels, atomics, sleeps), never the
//! primitives under test, so a broken primitive cannot break its own harness.

// Each test file is its own crate and uses a different part of this module.
#![allow(dead_code)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long any test waits for something that should happen at once: long
/// enough for a slow CI machine, short enough that a hang fails the test.
/// (CPython's `support.SHORT_TIMEOUT` plays the same part.)
pub(crate) const LONG: Duration = Duration::from_secs(10);

/// Timeouts too large to add to `Instant::now()` (or barely small enough):
/// each must wait as long as needed and never panic.
pub(crate) const HUGE: [Duration; 3] = [Duration::MAX, Duration::from_secs(u64::MAX / 4), Duration::from_secs(1 << 40)];

/// A thread whose result is awaited with a deadline.
pub(crate) struct Joiner<T> {
    result: Receiver<thread::Result<T>>,
    handle: JoinHandle<()>,
}

/// Spawns `f` on a new `std` thread. A panic in `f` is caught and handed to
/// [`Joiner::join`], which resumes it, so an assertion that fails in the
/// thread fails the test.
pub(crate) fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Joiner<T> {
    let (tx, result) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    Joiner { result, handle }
}

impl<T> Joiner<T> {
    /// The thread's value; its panic, resumed here; or a panic if it has not
    /// finished within [`LONG`].
    #[track_caller]
    pub(crate) fn join(self) -> T {
        self.join_result().unwrap_or_else(|payload| panic::resume_unwind(payload))
    }

    /// The thread's value or its panic payload; panics if it has not finished
    /// within [`LONG`].
    #[track_caller]
    pub(crate) fn join_result(self) -> thread::Result<T> {
        match self.result.recv_timeout(LONG) {
            Ok(outcome) => {
                // It has sent its last word: only the thread's exit is left.
                let _ = self.handle.join();
                outcome
            }
            Err(RecvTimeoutError::Timeout) => panic!("a test thread did not finish within {LONG:?}"),
            Err(RecvTimeoutError::Disconnected) => unreachable!("the thread always sends before it ends"),
        }
    }

    /// Whether the thread has finished.
    pub(crate) fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// CPython's `lock_tests.Bunch`: `n` threads running the same function, each
/// given its number. `new` returns once every thread has started.
pub(crate) struct Bunch<T> {
    threads: Vec<Joiner<T>>,
    finished: Arc<AtomicUsize>,
}

impl<T: Send + 'static> Bunch<T> {
    #[track_caller]
    pub(crate) fn new(n: usize, f: impl Fn(usize) -> T + Send + Sync + 'static) -> Bunch<T> {
        let f = Arc::new(f);
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let threads = (0..n)
            .map(|i| {
                let (f, started, finished) = (f.clone(), started.clone(), finished.clone());
                spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let value = f(i);
                    finished.fetch_add(1, Ordering::SeqCst);
                    value
                })
            })
            .collect();
        wait_until("every thread of the bunch started", || started.load(Ordering::SeqCst) == n);
        Bunch { threads, finished }
    }

    /// How many threads have returned from the function.
    pub(crate) fn finished(&self) -> usize {
        self.finished.load(Ordering::SeqCst)
    }

    /// Every thread's value, in thread order; resumes the first panic.
    #[track_caller]
    pub(crate) fn join(self) -> Vec<T> {
        self.threads.into_iter().map(Joiner::join).collect()
    }
}

/// Polls `condition` until it holds; panics after [`LONG`]. CPython's
/// `support.sleeping_retry` loop.
#[track_caller]
pub(crate) fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up after {LONG:?} waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// CPython's `wait_threads_blocked`: a pause long enough for `n` threads to
/// reach the call they block in. Assertions after it never depend on it
/// being long enough, only on the primitive being right.
pub(crate) fn wait_threads_blocked(n: u32) {
    thread::sleep(Duration::from_millis(10) * n);
}

/// A timed wait lasted at least its timeout (CPython's `assertTimeout`, lower
/// bound only: a slow machine may take any time longer).
#[track_caller]
pub(crate) fn assert_waited(elapsed: Duration, timeout: Duration) {
    let epsilon = Duration::from_millis(1);
    assert!(elapsed + epsilon >= timeout, "gave up after {elapsed:?}, before its timeout of {timeout:?}");
}
