//! `Semaphore` and `BoundedSemaphore` against CPython's
//! `Lib/test/lock_tests.py` (`BaseSemaphoreTests`, `SemaphoreTests`,
//! `BoundedSemaphoreTests`) and `Lib/test/test_threading.py`
//! (`ThreadTests.test_BoundedSemaphore_limit`).
//!
//! Every `BaseSemaphoreTests` case runs twice, as a module named after the
//! case with two tests, `semaphore` and `bounded`. Tests named `test_*`
//! mirror the CPython case in the comment above them; the others cover what
//! concur adds (error values, guards and panics, huge timeouts).
//!
//! Skipped, because they cannot apply in Rust:
//! - `BaseSemaphoreTests.test_constructor`: a negative value is a
//!   `ValueError` in Python; the value is a `usize` here, so it does not
//!   compile.
//! - `BaseSemaphoreTests.test_acquire_timeout`, its `ValueError` for
//!   `acquire(False, timeout=1.0)`: `try_acquire` has no timeout to reject.
//!   The rest of the case is mirrored.
//! - `BaseSemaphoreTests.test_default_value`'s default: `new` needs a value
//!   (there is no `Default`); the case is mirrored with an explicit 1.
//!
//! `test_repr` is mirrored with `Debug`.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_waited, spawn, wait_threads_blocked, wait_until, Bunch, HUGE, LONG};
use concur::sync::{BoundedSemaphore, ReleaseError, Semaphore, SemaphoreGuard};

/// The calls both semaphores share, so one case body tests both. A refused
/// release of a `BoundedSemaphore` fails the test here; the bounded-only
/// cases call it directly.
trait Sem: Send + Sync + 'static {
    fn make(value: usize) -> Self;
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, timeout: Duration) -> bool;
    fn release(&self);
    fn release_n(&self, n: usize);
    fn value(&self) -> usize;
    fn guard(&self) -> SemaphoreGuard<'_>;
}

impl Sem for Semaphore {
    fn make(value: usize) -> Self {
        Semaphore::new(value)
    }
    fn acquire(&self) {
        Semaphore::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Semaphore::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        Semaphore::acquire_timeout(self, timeout)
    }
    fn release(&self) {
        Semaphore::release(self)
    }
    fn release_n(&self, n: usize) {
        Semaphore::release_n(self, n)
    }
    fn value(&self) -> usize {
        Semaphore::value(self)
    }
    fn guard(&self) -> SemaphoreGuard<'_> {
        Semaphore::guard(self)
    }
}

impl Sem for BoundedSemaphore {
    fn make(value: usize) -> Self {
        BoundedSemaphore::new(value)
    }
    fn acquire(&self) {
        BoundedSemaphore::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        BoundedSemaphore::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        BoundedSemaphore::acquire_timeout(self, timeout)
    }
    fn release(&self) {
        BoundedSemaphore::release(self).unwrap()
    }
    fn release_n(&self, n: usize) {
        BoundedSemaphore::release_n(self, n).unwrap()
    }
    fn value(&self) -> usize {
        BoundedSemaphore::value(self)
    }
    fn guard(&self) -> SemaphoreGuard<'_> {
        BoundedSemaphore::guard(self)
    }
}

/// Runs a generic case once per kind: `mod case { semaphore, bounded }`.
macro_rules! for_both_kinds {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn semaphore() {
                super::$case::<concur::sync::Semaphore>();
            }

            #[test]
            fn bounded() {
                super::$case::<concur::sync::BoundedSemaphore>();
            }
        }
    )*};
}

for_both_kinds!(
    test_acquire,
    test_acquire_destroy,
    test_acquire_contended,
    test_multirelease,
    test_try_acquire,
    test_try_acquire_contended,
    test_acquire_timeout,
    test_default_value,
    test_with,
    guard_released_when_its_thread_panics,
    huge_timeouts_do_not_panic,
    release_wakes_as_many_as_released,
    limits_threads_inside,
);

// lock_tests.BaseSemaphoreTests.test_acquire
fn test_acquire<S: Sem>() {
    let sem = S::make(1);
    sem.acquire();
    sem.release();
    let sem = S::make(2);
    sem.acquire();
    sem.acquire();
    sem.release();
    sem.release();
    assert_eq!(sem.value(), 2);
}

// lock_tests.BaseSemaphoreTests.test_acquire_destroy
fn test_acquire_destroy<S: Sem>() {
    let sem = S::make(1);
    sem.acquire();
    drop(sem);
}

/// The body of `test_acquire_contended` and `test_multirelease`, which
/// differ only in releasing one at a time or `n` at once.
fn check_contended<S: Sem>(release: fn(&S, usize)) {
    const SEM_VALUE: usize = 7;
    const N: usize = 10;
    let sem = Arc::new(S::make(SEM_VALUE));
    sem.acquire();

    let phase = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let count = |results: &Arc<Mutex<Vec<usize>>>| results.lock().unwrap().len();
    let (s, p, r) = (sem.clone(), phase.clone(), results.clone());
    let bunch = Bunch::new(N, move |_| {
        for _ in 0..2 {
            s.acquire();
            r.lock().unwrap().push(p.load(Ordering::SeqCst));
        }
    });

    // Phase 0.
    let count1 = SEM_VALUE - 1;
    wait_until("6 acquisitions", || count(&results) >= count1);
    // None got past the permits there were.
    wait_threads_blocked(2);
    assert_eq!(*results.lock().unwrap(), [0; 6]);

    // Phase 1.
    phase.store(1, Ordering::SeqCst);
    let count2 = SEM_VALUE;
    release(&sem, count2);
    wait_until("7 more acquisitions", || count(&results) >= count1 + count2);

    // Phase 2.
    phase.store(2, Ordering::SeqCst);
    let count3 = SEM_VALUE - 1;
    release(&sem, count3);
    wait_until("6 more acquisitions", || count(&results) >= count1 + count2 + count3);
    let mut seen = results.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [vec![0; count1], vec![1; count2], vec![2; count3]].concat());
    // The semaphore is still locked.
    assert!(!sem.try_acquire());

    // Final release, to let the last thread finish.
    release(&sem, 1);
    bunch.join();
    assert_eq!(count(&results), 2 * N);
    assert_eq!(sem.value(), 0);
}

// lock_tests.BaseSemaphoreTests.test_acquire_contended
fn test_acquire_contended<S: Sem>() {
    check_contended::<S>(|sem, n| (0..n).for_each(|_| sem.release()));
}

// lock_tests.BaseSemaphoreTests.test_multirelease
fn test_multirelease<S: Sem>() {
    check_contended::<S>(S::release_n);
}

// lock_tests.BaseSemaphoreTests.test_try_acquire
fn test_try_acquire<S: Sem>() {
    let sem = S::make(2);
    assert!(sem.try_acquire());
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
    sem.release();
    assert!(sem.try_acquire());
}

// lock_tests.BaseSemaphoreTests.test_try_acquire_contended
fn test_try_acquire_contended<S: Sem>() {
    let sem = Arc::new(S::make(4));
    sem.acquire();
    let s = sem.clone();
    let mut results: Vec<bool> = Bunch::new(5, move |_| [s.try_acquire(), s.try_acquire()]).join().concat();
    results.sort();
    assert_eq!(results, [[false; 7].as_slice(), &[true; 3]].concat());
}

// lock_tests.BaseSemaphoreTests.test_acquire_timeout (the part that applies)
fn test_acquire_timeout<S: Sem>() {
    let sem = S::make(2);
    let short = Duration::from_millis(5);
    assert!(sem.acquire_timeout(short));
    assert!(sem.acquire_timeout(short));
    assert!(!sem.acquire_timeout(short));
    sem.release();
    assert!(sem.acquire_timeout(short));
    let timeout = Duration::from_millis(100);
    let start = Instant::now();
    assert!(!sem.acquire_timeout(timeout));
    assert_waited(start.elapsed(), timeout);
}

// lock_tests.BaseSemaphoreTests.test_default_value (with the value given)
fn test_default_value<S: Sem>() {
    let sem = Arc::new(S::make(1));
    sem.acquire();
    let s = sem.clone();
    let bunch = Bunch::new(1, move |_| {
        s.acquire();
        s.release();
    });
    // Thread blocked on acquire().
    wait_threads_blocked(1);
    assert_eq!(bunch.finished(), 0);
    // Thread unblocked.
    sem.release();
    bunch.join();
    assert_eq!(sem.value(), 1);
}

// lock_tests.BaseSemaphoreTests.test_with
fn test_with<S: Sem>() {
    let sem = S::make(2);
    let with = |raise: bool| {
        let _outer = sem.guard();
        assert!(sem.try_acquire());
        sem.release();
        let _inner = sem.guard();
        assert!(!sem.try_acquire());
        if raise {
            panic!("raised inside the guarded block");
        }
    };
    with(false);
    assert!(sem.try_acquire());
    sem.release();
    assert!(panic::catch_unwind(AssertUnwindSafe(|| with(true))).is_err());
    assert!(sem.try_acquire());
    sem.release();
    assert_eq!(sem.value(), 2);
}

// lock_tests.SemaphoreTests.test_release_unacquired
#[test]
fn test_release_unacquired_semaphore() {
    // Unbounded releases are allowed and increase the value.
    let sem = Semaphore::new(1);
    sem.release();
    assert_eq!(sem.value(), 2);
    sem.acquire();
    sem.acquire();
    sem.release();
    assert_eq!(sem.value(), 1);
}

// lock_tests.SemaphoreTests.test_repr
#[test]
fn test_repr_semaphore() {
    let sem = Semaphore::new(3);
    assert!(format!("{sem:?}").contains("value: 3"), "{sem:?}");
    sem.acquire();
    assert!(format!("{sem:?}").contains("value: 2"), "{sem:?}");
    sem.release();
    sem.release();
    assert!(format!("{sem:?}").contains("value: 4"), "{sem:?}");
}

// lock_tests.BoundedSemaphoreTests.test_release_unacquired
#[test]
fn test_release_unacquired_bounded() {
    // Cannot go past the initial value.
    let sem = BoundedSemaphore::new(1);
    assert!(matches!(sem.release(), Err(ReleaseError::OverRelease { initial: 1, .. })));
    sem.acquire();
    sem.release().unwrap();
    assert!(matches!(sem.release(), Err(ReleaseError::OverRelease { initial: 1, .. })));
    assert_eq!(sem.value(), 1);
}

// lock_tests.BoundedSemaphoreTests.test_repr
#[test]
fn test_repr_bounded() {
    let sem = BoundedSemaphore::new(3);
    let repr = format!("{sem:?}");
    assert!(repr.contains("value: 3") && repr.contains("initial: 3"), "{repr}");
    sem.acquire();
    let repr = format!("{sem:?}");
    assert!(repr.contains("value: 2") && repr.contains("initial: 3"), "{repr}");
}

// test_threading.ThreadTests.test_BoundedSemaphore_limit
#[test]
fn test_bounded_semaphore_limit() {
    // A BoundedSemaphore refuses to be released too often, whichever
    // threads acquired and released it.
    for limit in 1..10 {
        let bs = Arc::new(BoundedSemaphore::new(limit));
        let b = bs.clone();
        Bunch::new(limit, move |_| b.acquire()).join();
        let b = bs.clone();
        for released in Bunch::new(limit, move |_| b.release()).join() {
            released.unwrap();
        }
        assert!(matches!(bs.release(), Err(ReleaseError::OverRelease { .. })), "limit {limit}");
    }
}

// concur: the error names the call, the semaphore and its initial value.
#[test]
fn over_release_error_names_call_and_semaphore() {
    let sem = BoundedSemaphore::new(2).with_name("pool");
    assert_eq!(
        sem.release().unwrap_err().to_string(),
        "BoundedSemaphore::release: BoundedSemaphore \"pool\" was released more times than it was acquired \
         (its initial value is 2)"
    );
    let err = sem.release_n(1).unwrap_err();
    assert_eq!(
        err,
        ReleaseError::OverRelease {
            call: "BoundedSemaphore::release_n",
            object: "BoundedSemaphore \"pool\"".into(),
            initial: 2
        }
    );
    let unnamed = BoundedSemaphore::new(0);
    let err = unnamed.release().unwrap_err().to_string();
    assert!(err.starts_with("BoundedSemaphore::release: BoundedSemaphore #"), "{err}");
}

// concur: release_n is all or none; a refused one changes nothing.
#[test]
fn refused_release_n_changes_nothing() {
    let sem = BoundedSemaphore::new(3);
    sem.acquire();
    sem.acquire();
    assert!(sem.release_n(3).is_err());
    assert_eq!(sem.value(), 1);
    sem.release_n(2).unwrap();
    assert_eq!(sem.value(), 3);
    assert!(sem.release_n(usize::MAX).is_err());
    assert_eq!(sem.value(), 3);
}

// concur: releasing zero permits changes nothing (Python refuses release(0)).
#[test]
fn release_zero_changes_nothing() {
    let sem = Semaphore::new(0);
    sem.release_n(0);
    assert_eq!(sem.value(), 0);
    let bounded = BoundedSemaphore::new(1);
    bounded.release_n(0).unwrap();
    assert_eq!(bounded.value(), 1);
}

// concur: a bounded guard dropped after a hand release by someone else
// gives back nothing more than the bound allows, and does not panic.
#[test]
fn bounded_guard_after_hand_release() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.guard();
    sem.release().unwrap();
    assert_eq!(sem.value(), 1);
    drop(permit);
    assert_eq!(sem.value(), 1);
}

// concur: a permit held by a thread that panics is given back.
fn guard_released_when_its_thread_panics<S: Sem>() {
    let sem = Arc::new(S::make(1));
    let s = sem.clone();
    let outcome = spawn(move || {
        let _permit = s.guard();
        panic!("the holder panics");
    })
    .join_result();
    assert_eq!(outcome.unwrap_err().downcast_ref::<&str>(), Some(&"the holder panics"));
    assert_eq!(sem.value(), 1);
    assert!(sem.acquire_timeout(LONG));
}

// concur: timeouts too large for the clock wait for ever, without panicking;
// here a permit is free, or freed soon, so the wait ends. The contended wait
// runs in a thread, so a bug fails the join instead of hanging.
fn huge_timeouts_do_not_panic<S: Sem>() {
    for timeout in HUGE {
        let sem = Arc::new(S::make(1));
        assert!(sem.acquire_timeout(timeout), "{timeout:?}");
        let s = sem.clone();
        let waiter = spawn(move || s.acquire_timeout(timeout));
        wait_threads_blocked(2);
        sem.release();
        assert!(waiter.join(), "{timeout:?} (contended)");
        assert_eq!(sem.value(), 0);
    }
}

// concur: release_n(k) lets exactly k of the waiting threads in.
fn release_wakes_as_many_as_released<S: Sem>() {
    const WAITERS: usize = 4;
    let sem = Arc::new(S::make(WAITERS));
    for _ in 0..WAITERS {
        sem.acquire();
    }
    let passed = Arc::new(AtomicUsize::new(0));
    let (s, p) = (sem.clone(), passed.clone());
    let bunch = Bunch::new(WAITERS, move |_| {
        let taken = s.acquire_timeout(LONG);
        p.fetch_add(1, Ordering::SeqCst);
        taken
    });
    wait_threads_blocked(WAITERS as u32);
    sem.release_n(3);
    wait_until("3 threads got in", || passed.load(Ordering::SeqCst) >= 3);
    wait_threads_blocked(1);
    assert_eq!(passed.load(Ordering::SeqCst), 3);
    assert_eq!(sem.value(), 0);
    sem.release();
    assert_eq!(bunch.join(), [true; WAITERS]);
    assert_eq!(sem.value(), 0);
}

// concur: never more than `value` threads inside at once.
fn limits_threads_inside<S: Sem>() {
    const LIMIT: usize = 2;
    let sem = Arc::new(S::make(LIMIT));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (s, i, m) = (sem.clone(), inside.clone(), most.clone());
    Bunch::new(6, move |_| {
        for _ in 0..50 {
            let _permit = s.guard();
            let now = i.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            thread::yield_now();
            i.fetch_sub(1, Ordering::SeqCst);
        }
    })
    .join();
    assert!(most.load(Ordering::SeqCst) <= LIMIT);
    assert_eq!(sem.value(), LIMIT);
}

// concur: Python counts permits without bound; here the count saturates at
// usize::MAX instead of overflowing, and nothing panics.
#[test]
fn unbounded_release_saturates() {
    let sem = Semaphore::new(usize::MAX - 1);
    sem.release_n(5);
    assert_eq!(sem.value(), usize::MAX);
    sem.release();
    assert_eq!(sem.value(), usize::MAX);
    assert!(sem.try_acquire());
    assert_eq!(sem.value(), usize::MAX - 1);
}

// lock_tests.BaseSemaphoreTests.test_default_value: Semaphore() holds one permit.
#[test]
fn default_holds_one_permit() {
    let sem = Semaphore::default();
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
}
