//! What the `sync_*` semantics tests share: threads whose every wait has a
//! deadline, so a bug fails the test instead of hanging CI; the cases of
//! CPython's `lock_tests.BaseLockTests`, written once over [`BaseLock`] and
//! run per lock type by [`base_lock_tests!`]; and those of `RLockTests`,
//! written once over [`ReentrantLock`] and run for `RLock` and `Condition`
//! by [`rlock_tests!`]. [`aio_harness`] and [`coro`] hold what the `aio_*`
//! and `coro_*` suites share, and [`recorder`] a `tracing` subscriber for
//! the tests of what the library reports.
//!
//! Coordination here uses only `std` (channels, atomics, sleeps), never the
//! primitives under test, so a broken primitive cannot break its own harness.

// Each test file is its own crate and uses a different part of this module.
#![allow(dead_code)]

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use concur::sync::{Condition, Lock, NotOwner, RLock, ReleaseError};

/// How long any test waits for something that should happen at once: long
/// enough for a slow CI machine, short enough that a hang fails the test.
/// (CPython's `support.SHORT_TIMEOUT` plays the same part.)
pub(crate) const LONG: Duration = Duration::from_secs(10);

/// Timeouts too large to add to `Instant::now()` (or barely small enough):
/// each must wait as long as needed and never panic.
pub(crate) const HUGE: [Duration; 3] = [Duration::MAX, Duration::from_secs(u64::MAX / 4), Duration::from_secs(1 << 40)];

/// How long a stress test waits for all its threads: they move a million
/// items on a loaded 2-core machine, but a lost wake-up must still fail.
pub(crate) const STRESS_LIMIT: Duration = Duration::from_secs(120);

/// Runs `work(i)` for `i` in `0..n`, each on its own thread, and waits for
/// all of them; fails the test if any has not finished within
/// [`STRESS_LIMIT`].
pub(crate) fn run_all(n: usize, work: impl Fn(usize) + Send + Sync + 'static) {
    let work = Arc::new(work);
    let (done, finished) = mpsc::channel();
    for i in 0..n {
        let (work, done) = (work.clone(), done.clone());
        thread::spawn(move || {
            work(i);
            // The receiver is gone only if the test already failed.
            let _ = done.send(());
        });
    }
    for _ in 0..n {
        finished.recv_timeout(STRESS_LIMIT).expect("a thread did not finish in time: lost wake-up or deadlock");
    }
}

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

/// A latch calls wait on until the test opens it: the `threading.Event` that
/// CPython's `test_concurrent_futures` submits as `event.wait` to keep a
/// worker busy. Built on `std` only; every wait gives up after [`LONG`], so a
/// test that fails before opening it cannot keep a pool busy for ever.
#[derive(Clone, Default)]
pub(crate) struct Gate(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    pub(crate) fn new() -> Gate {
        Gate::default()
    }

    /// Lets every waiter through, now and later: `event.set()`.
    pub(crate) fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    /// Waits until the gate is open; `false` if it stayed shut for [`LONG`].
    pub(crate) fn wait(&self) -> bool {
        let shut = self.0 .0.lock().unwrap();
        let (open, _) = self.0 .1.wait_timeout_while(shut, LONG, |open| !*open).unwrap();
        *open
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

/// A lock as `lock_tests.BaseLockTests` uses it: the calls `Lock`, `RLock`
/// and `Condition` (over its default `RLock`) all have. CPython shares those
/// cases by inheritance (`LockTests(BaseLockTests)`,
/// `RLockTests(BaseLockTests)`, `ConditionAsRLockTests(RLockTests)`); here
/// [`base_lock`] writes each case once over this trait.
pub(crate) trait BaseLock: fmt::Debug + Default + Send + Sync + 'static {
    /// How its `Debug` output begins: the type's name.
    const REPR: &'static str;
    /// What its `Debug` output shows while the calling thread holds it.
    const HELD_REPR: &'static [&'static str];
    /// Whether the thread holding it may acquire it again (an `RLock`). The
    /// cases then take a second level, as CPython's `RLock` cases nest their
    /// `with` blocks, and release both.
    const REENTRANT: bool;

    fn new() -> Self;
    fn named(name: &str) -> Self;
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, timeout: Duration) -> bool;
    fn release(&self) -> Result<(), ReleaseError>;
    fn is_locked(&self) -> bool;
    /// Whether the calling thread holds it. A `Lock` has no owner: as in
    /// CPython's `Condition._is_owned` fallback, it counts as owned while
    /// anyone holds it.
    fn is_owned(&self) -> bool;
    /// Holds it until dropped: Python's `with lock:`.
    fn guard(&self) -> impl Sized + '_;
}

impl BaseLock for Lock {
    const REPR: &'static str = "Lock";
    const HELD_REPR: &'static [&'static str] = &["locked: true"];
    const REENTRANT: bool = false;

    fn new() -> Lock {
        Lock::new()
    }
    fn named(name: &str) -> Lock {
        Lock::new().with_name(name)
    }
    fn acquire(&self) {
        Lock::acquire(self);
    }
    fn try_acquire(&self) -> bool {
        Lock::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        Lock::acquire_timeout(self, timeout)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        Lock::release(self)
    }
    fn is_locked(&self) -> bool {
        Lock::is_locked(self)
    }
    fn is_owned(&self) -> bool {
        Lock::is_locked(self)
    }
    fn guard(&self) -> impl Sized + '_ {
        Lock::guard(self)
    }
}

impl BaseLock for RLock {
    const REPR: &'static str = "RLock";
    const HELD_REPR: &'static [&'static str] = &["locked: true", "owned: true"];
    const REENTRANT: bool = true;

    fn new() -> RLock {
        RLock::new()
    }
    fn named(name: &str) -> RLock {
        RLock::new().with_name(name)
    }
    fn acquire(&self) {
        RLock::acquire(self);
    }
    fn try_acquire(&self) -> bool {
        RLock::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        RLock::acquire_timeout(self, timeout)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        RLock::release(self)
    }
    fn is_locked(&self) -> bool {
        RLock::is_locked(self)
    }
    fn is_owned(&self) -> bool {
        RLock::is_owned(self)
    }
    fn guard(&self) -> impl Sized + '_ {
        RLock::guard(self)
    }
}

/// `test_threading.ConditionAsRLockTests`: a `Condition` exports its
/// `RLock`'s API.
impl BaseLock for Condition {
    const REPR: &'static str = "Condition";
    const HELD_REPR: &'static [&'static str] = <RLock as BaseLock>::HELD_REPR;
    const REENTRANT: bool = true;

    fn new() -> Condition {
        Condition::new()
    }
    fn named(name: &str) -> Condition {
        Condition::with_lock(RLock::new().with_name(name))
    }
    fn acquire(&self) {
        Condition::acquire(self);
    }
    fn try_acquire(&self) -> bool {
        Condition::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        Condition::acquire_timeout(self, timeout)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        Condition::release(self)
    }
    fn is_locked(&self) -> bool {
        self.lock().is_locked()
    }
    fn is_owned(&self) -> bool {
        self.lock().is_owned()
    }
    fn guard(&self) -> impl Sized + '_ {
        Condition::guard(self)
    }
}

/// A lock as `lock_tests.RLockTests` uses it: a [`BaseLock`] with an owner,
/// which the owner may take again. CPython runs those cases for `RLock` and,
/// as `test_threading.ConditionAsRLockTests`, for a `Condition` over its
/// default `RLock`; here [`reentrant_lock`] writes each case once over this
/// trait.
pub(crate) trait ReentrantLock: BaseLock {
    /// `Condition::wait_timeout` on it (on a new `Condition` over it, for an
    /// `RLock`): the public call that makes CPython's `_release_save`, which
    /// refuses a thread that does not hold the lock.
    fn wait_timeout(lock: &Arc<Self>, timeout: Duration) -> Result<bool, NotOwner>;
    /// `Condition::notify` on it, likewise.
    fn notify(lock: &Arc<Self>, n: usize) -> Result<(), NotOwner>;
}

impl ReentrantLock for RLock {
    fn wait_timeout(lock: &Arc<RLock>, timeout: Duration) -> Result<bool, NotOwner> {
        Condition::with_lock(lock.clone()).wait_timeout(timeout)
    }
    fn notify(lock: &Arc<RLock>, n: usize) -> Result<(), NotOwner> {
        Condition::with_lock(lock.clone()).notify(n)
    }
}

impl ReentrantLock for Condition {
    fn wait_timeout(lock: &Arc<Condition>, timeout: Duration) -> Result<bool, NotOwner> {
        Condition::wait_timeout(lock, timeout)
    }
    fn notify(lock: &Arc<Condition>, n: usize) -> Result<(), NotOwner> {
        Condition::notify(lock, n)
    }
}

/// Runs every case of [`base_lock`] over one [`BaseLock`] type, as tests
/// named `base::$name::$case` (`base::lock::test_with`): the test class
/// CPython derives from `BaseLockTests` for that type.
#[allow(unused_macros)] // as `dead_code` above: only the lock test files use it
macro_rules! base_lock_tests {
    ($name:ident: $lock:ty) => {
        $crate::common::base_lock_tests!(
            $name: $lock;
            test_constructor,
            test_repr,
            test_locked_repr,
            test_acquire_destroy,
            test_acquire_release,
            test_try_acquire,
            test_try_acquire_contended,
            test_acquire_contended,
            test_with,
            test_thread_leak,
            test_timeout,
            guard_released_when_its_thread_panics,
            huge_timeouts_do_not_panic,
        );
    };
    ($name:ident: $lock:ty; $($case:ident),* $(,)?) => {
        mod base {
            mod $name {
                $(
                    #[test]
                    fn $case() {
                        $crate::common::base_lock::$case::<$lock>();
                    }
                )*
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use base_lock_tests;

/// The cases of `lock_tests.BaseLockTests`, and what concur adds for every
/// lock, each generic over [`BaseLock`].
pub(crate) mod base_lock {
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::{assert_waited, spawn, wait_threads_blocked, BaseLock, Bunch, HUGE, LONG};

    /// How many levels a thread holding `L` takes: two where it may acquire
    /// again, one otherwise.
    fn levels<L: BaseLock>() -> usize {
        if L::REENTRANT {
            2
        } else {
            1
        }
    }

    /// Releases the levels the holding thread took.
    #[track_caller]
    fn release_levels<L: BaseLock>(lock: &L) {
        for _ in 0..levels::<L>() {
            lock.release().unwrap();
        }
    }

    // lock_tests.BaseLockTests.test_constructor
    pub(crate) fn test_constructor<L: BaseLock>() {
        let lock = L::new();
        assert!(!lock.is_locked());
        assert!(!lock.is_owned());
        drop(lock);
        assert!(!L::default().is_locked());
    }

    // lock_tests.BaseLockTests.test_repr
    pub(crate) fn test_repr<L: BaseLock>() {
        let lock = L::new();
        let repr = format!("{lock:?}");
        assert!(repr.starts_with(&format!("{} {{", L::REPR)), "{repr}");
        assert!(repr.contains("locked: false"), "{repr}");
    }

    // lock_tests.BaseLockTests.test_locked_repr
    pub(crate) fn test_locked_repr<L: BaseLock>() {
        let lock = L::named("repr");
        lock.acquire();
        let repr = format!("{lock:?}");
        for field in L::HELD_REPR {
            assert!(repr.contains(field), "{repr}");
        }
        assert!(repr.contains("\"repr\""), "{repr}");
    }

    // lock_tests.BaseLockTests.test_acquire_destroy
    pub(crate) fn test_acquire_destroy<L: BaseLock>() {
        let lock = L::new();
        lock.acquire();
        drop(lock);
    }

    // lock_tests.BaseLockTests.test_acquire_release
    pub(crate) fn test_acquire_release<L: BaseLock>() {
        let lock = L::new();
        lock.acquire();
        lock.release().unwrap();
        assert!(!lock.is_locked());
    }

    // lock_tests.BaseLockTests.test_try_acquire
    pub(crate) fn test_try_acquire<L: BaseLock>() {
        let lock = L::new();
        assert!(lock.try_acquire());
        lock.release().unwrap();
    }

    // lock_tests.BaseLockTests.test_try_acquire_contended
    pub(crate) fn test_try_acquire_contended<L: BaseLock>() {
        let lock = Arc::new(L::new());
        lock.acquire();
        if L::REENTRANT {
            assert!(lock.try_acquire()); // re-entry
        }
        let other = lock.clone();
        assert!(!spawn(move || other.try_acquire()).join());
        release_levels(&*lock);
    }

    // lock_tests.BaseLockTests.test_acquire_contended
    pub(crate) fn test_acquire_contended<L: BaseLock>() {
        const N: usize = 5;
        let lock = Arc::new(L::new());
        lock.acquire();
        let other = lock.clone();
        let bunch = Bunch::new(N, move |_| {
            other.acquire();
            other.release().unwrap();
        });
        // Threads blocked on acquire().
        wait_threads_blocked(N as u32);
        assert_eq!(bunch.finished(), 0);
        // Threads unblocked.
        lock.release().unwrap();
        bunch.join();
        assert!(!lock.is_locked());
    }

    // lock_tests.BaseLockTests.test_with
    pub(crate) fn test_with<L: BaseLock>() {
        let lock = Arc::new(L::new());
        let check_unacquired = || {
            let other = lock.clone();
            spawn(move || {
                other.acquire();
                other.release().unwrap();
            })
            .join();
        };

        // Take the lock, do nothing; the guard releases it.
        {
            let _held = lock.guard();
            assert!(lock.is_locked());
            assert!(lock.is_owned());
        }
        check_unacquired();

        // Take the lock and panic (Python: raise TypeError), inside nested
        // `with` blocks where the type allows; the guards still release
        // every level.
        let unwound = panic::catch_unwind(AssertUnwindSafe(|| {
            let _outer = lock.guard();
            let _inner = L::REENTRANT.then(|| lock.guard());
            panic!("raised inside the guarded block");
        }));
        assert!(unwound.is_err());
        assert!(!lock.is_locked());
        check_unacquired();
    }

    // lock_tests.BaseLockTests.test_thread_leak (the threads; each test file's
    // header says why)
    pub(crate) fn test_thread_leak<L: BaseLock>() {
        let lock = Arc::new(L::new());
        let other = lock.clone();
        Bunch::new(15, move |_| {
            for _ in 0..levels::<L>() {
                other.acquire();
            }
            release_levels(&*other);
        })
        .join();
        assert!(!lock.is_locked());
    }

    // lock_tests.BaseLockTests.test_timeout (the part that applies; each test
    // file's header says why)
    pub(crate) fn test_timeout<L: BaseLock>() {
        let timeout = Duration::from_millis(100);
        let lock = Arc::new(L::new());
        // TIMEOUT_MAX is ok.
        assert!(lock.acquire_timeout(Duration::MAX));
        lock.release().unwrap();
        // A free lock is taken at once, whatever the timeout.
        assert!(lock.acquire_timeout(Duration::from_secs(5)));
        if L::REENTRANT {
            assert!(lock.acquire_timeout(timeout)); // re-entry
        }

        let other = lock.clone();
        let (taken, elapsed) = spawn(move || {
            let start = Instant::now();
            (other.acquire_timeout(timeout), start.elapsed())
        })
        .join();
        assert!(!taken);
        assert_waited(elapsed, timeout);
        release_levels(&*lock);
    }

    // concur: guards dropped while their thread unwinds release the lock,
    // every level of it.
    pub(crate) fn guard_released_when_its_thread_panics<L: BaseLock>() {
        let lock = Arc::new(L::new());
        let other = lock.clone();
        let outcome = spawn(move || {
            let _outer = other.guard();
            let _inner = L::REENTRANT.then(|| other.guard());
            panic!("the holder panics");
        })
        .join_result();
        let payload = outcome.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the holder panics"));
        assert!(!lock.is_locked());
        assert!(lock.acquire_timeout(LONG));
        lock.release().unwrap();
    }

    // concur: timeouts too large for the clock wait for ever, without
    // panicking; here the lock is free, or freed soon, so the wait ends. The
    // contended wait runs in a thread, so a bug fails the join instead of
    // hanging.
    pub(crate) fn huge_timeouts_do_not_panic<L: BaseLock>() {
        let lock = Arc::new(L::new());
        for timeout in HUGE {
            assert!(lock.acquire_timeout(timeout), "{timeout:?}");
            if L::REENTRANT {
                assert!(lock.acquire_timeout(timeout), "{timeout:?} (re-entry)");
            }
            let other = lock.clone();
            let waiter = spawn(move || {
                let taken = other.acquire_timeout(timeout);
                if taken {
                    other.release().unwrap();
                }
                taken
            });
            wait_threads_blocked(2);
            release_levels(&*lock);
            assert!(waiter.join(), "{timeout:?} (contended)");
        }
    }
}

/// Runs every case of [`reentrant_lock`] over one [`ReentrantLock`] type, as
/// tests named `rlock::$name::$case` (`rlock::condition::test_reacquire`):
/// the test class CPython derives from `RLockTests` for that type.
#[allow(unused_macros)] // as `dead_code` above: only the RLock and Condition files use it
macro_rules! rlock_tests {
    ($name:ident: $lock:ty) => {
        $crate::common::rlock_tests!(
            $name: $lock;
            test_reacquire,
            test_release_unacquired,
            test_locked,
            test_locked_with_2threads,
            test_release_save_unacquired,
            test_recursion_count,
            test_different_thread,
            test_is_owned,
        );
    };
    ($name:ident: $lock:ty; $($case:ident),* $(,)?) => {
        mod rlock {
            mod $name {
                $(
                    #[test]
                    fn $case() {
                        $crate::common::reentrant_lock::$case::<$lock>();
                    }
                )*
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use rlock_tests;

/// The cases of `lock_tests.RLockTests`, each generic over
/// [`ReentrantLock`].
pub(crate) mod reentrant_lock {
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    use concur::sync::ReleaseError;

    use super::{spawn, ReentrantLock, LONG};

    /// The nesting `test_reacquire` walks, and `test_release_unacquired` and
    /// `test_release_save_unacquired` walk again between their refusals: two
    /// levels, one given back and taken again, then both given back.
    #[track_caller]
    fn reacquire<L: ReentrantLock>(lock: &L) {
        lock.acquire();
        lock.acquire();
        lock.release().unwrap();
        lock.acquire();
        lock.release().unwrap();
        lock.release().unwrap();
    }

    /// Runs `check` while another thread holds `lock`: CPython's
    /// `Bunch(f, 1, wait_before_exit=True)` over an `f` that acquires it.
    /// The thread then releases it and ends.
    #[track_caller]
    fn while_held_elsewhere<L: ReentrantLock>(lock: &Arc<L>, check: impl FnOnce()) {
        let (holding_tx, holding) = mpsc::channel();
        let (finish_tx, finish) = mpsc::channel::<()>();
        let other = lock.clone();
        let holder = spawn(move || {
            other.acquire();
            holding_tx.send(()).unwrap();
            // Returns at once too if `check` failed and dropped the sender.
            let _ = finish.recv_timeout(LONG);
            other.release().unwrap();
        });
        holding.recv_timeout(LONG).unwrap();
        check();
        finish_tx.send(()).unwrap();
        holder.join();
    }

    // lock_tests.RLockTests.test_reacquire
    pub(crate) fn test_reacquire<L: ReentrantLock>() {
        let lock = L::new();
        reacquire(&lock);
        assert!(!lock.is_locked());
    }

    // lock_tests.RLockTests.test_release_unacquired
    pub(crate) fn test_release_unacquired<L: ReentrantLock>() {
        // Cannot release an unacquired lock.
        let lock = L::new();
        assert!(matches!(lock.release(), Err(ReleaseError::NotOwner(_))));
        reacquire(&lock);
        assert!(matches!(lock.release(), Err(ReleaseError::NotOwner(_))));
    }

    // lock_tests.RLockTests.test_locked
    pub(crate) fn test_locked<L: ReentrantLock>() {
        let lock = L::new();
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
    pub(crate) fn test_locked_with_2threads<L: ReentrantLock>() {
        // gh-134323: a lock held by another thread is locked here too.
        let lock = Arc::new(L::new());
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

    // lock_tests.RLockTests.test_release_save_unacquired (through
    // `Condition::wait_timeout`, the public call that uses `_release_save`)
    pub(crate) fn test_release_save_unacquired<L: ReentrantLock>() {
        // Cannot _release_save an unacquired lock.
        let lock = Arc::new(L::new());
        assert!(L::wait_timeout(&lock, Duration::ZERO).is_err());
        reacquire(&*lock);
        assert!(L::wait_timeout(&lock, Duration::ZERO).is_err());
        assert!(!lock.is_locked());
    }

    // lock_tests.RLockTests.test_recursion_count (by behaviour: the depth is
    // private, as `_recursion_count()` is in Python)
    pub(crate) fn test_recursion_count<L: ReentrantLock>() {
        let lock = Arc::new(L::new());
        let try_elsewhere = |lock: &Arc<L>| {
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
        while_held_elsewhere(&lock, || {
            assert!(!lock.is_owned());
            assert!(lock.release().is_err());
        });
        assert!(!lock.is_owned());
        assert!(!lock.is_locked());
    }

    // lock_tests.RLockTests.test_different_thread
    pub(crate) fn test_different_thread<L: ReentrantLock>() {
        // Cannot release from a different thread.
        let lock = Arc::new(L::named("tree"));
        while_held_elsewhere(&lock, || {
            let err = lock.release().unwrap_err();
            let ReleaseError::NotOwner(not_owner) = &err else { panic!("expected NotOwner, got {err:?}") };
            assert_eq!(not_owner.call(), "RLock::release");
            assert_eq!(err.to_string(), "RLock::release: RLock \"tree\" is not held by the calling thread");
            // Nothing changed: the other thread still holds it.
            assert!(lock.is_locked());
            // concur: nor may this thread wait or notify on it.
            assert!(L::notify(&lock, 1).is_err());
            assert!(L::wait_timeout(&lock, Duration::ZERO).is_err());
        });
    }

    // lock_tests.RLockTests.test__is_owned
    pub(crate) fn test_is_owned<L: ReentrantLock>() {
        let lock = Arc::new(L::new());
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
}

/// The helpers of CPython's `test_concurrent_futures` that both the futures
/// and the thread pool suites use.
pub(crate) mod cpython_futures {
    use concur::executor::ThreadPool;

    pub(crate) fn mul(x: i32, y: i32) -> i32 {
        x * y
    }

    /// Python's `divmod`; panics on a zero divisor, as Python raises
    /// `ZeroDivisionError`.
    pub(crate) fn divmod(x: i32, y: i32) -> (i32, i32) {
        (x / y, x % y)
    }

    /// The executor of `ExecutorMixin`: `worker_count = 5`.
    pub(crate) fn executor() -> ThreadPool {
        ThreadPool::new(5).unwrap()
    }
}

#[cfg(feature = "aio")]
pub(crate) mod aio_harness;
pub(crate) mod coro;
pub(crate) mod recorder;
