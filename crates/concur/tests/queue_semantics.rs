//! `Queue`, `LifoQueue` and `PriorityQueue` against CPython 3.13's
//! `Lib/test/test_queue.py`: every case of `BaseQueueTestMixin`, the shutdown
//! family included, run for each kind as CPython runs it for `QueueTest`,
//! `LifoQueueTest` and `PriorityQueueTest`. (`SimpleQueueTest` is
//! `queue_simple.rs`.)
//!
//! Each case is written once, generic over [`Kind`], and [`for_each_kind!`]
//! makes it a module named after the CPython case with one test per kind:
//! `test_basic::queue`, `test_basic::lifo_queue`,
//! `test_basic::priority_queue`. Tests named `test_*` mirror the CPython case
//! named in the comment above them; the others cover what concur adds
//! (async calls on the same queue as threads, errors that hand the item
//! back, zero and huge timeouts, `Prioritized`, `drain`, `iter`, `Debug`).
//!
//! Every case runs in a thread joined with a deadline ([`run_case`]), and
//! every thread it starts is joined with one too, so a bug fails the test
//! instead of hanging it.
//!
//! Skipped or changed, because they cannot apply in Rust:
//! - `BaseQueueTestMixin.test_negative_timeout_raises_exception`: a negative
//!   timeout is a `ValueError` in Python; a `Duration` cannot be negative, so
//!   the call does not compile. What is left to test is the smallest
//!   timeout, `Duration::ZERO`, which must not wait
//!   (`zero_timeouts_do_not_wait`).
//! - `BaseQueueTestMixin.test_shrinking_queue`, its second half: Python
//!   assigns `q.maxsize = 2`; the capacity is fixed when the queue is
//!   made here, with no setter. The first half (a full queue refuses `try_put`, `len` stays 3)
//!   is mirrored.
//! - `BaseQueueTestMixin._shutdown_put`: CPython's helper ignores its
//!   `immediate` argument and always calls `q.shutdown()`; here the flag is
//!   passed on (to `shutdown` or `shutdown_immediate`), so
//!   `test_shutdown_immediate_put` tests what its name says.
//! - `unfinished_tasks`, which `_shutdown_put_join` and
//!   `test_shutdown_get_task_done_join` read, has no accessor in concur; it
//!   is read from the `Debug` output ([`unfinished`]).
//! - `FailingQueueTest` (`test_failing_queue`): it subclasses `Queue` and
//!   overrides the private `_put` / `_get` hooks to raise mid-call, then
//!   checks the queue is not damaged. concur's stores are private and a
//!   queue runs no user code in `put` / `get` except `Ord::cmp` in a
//!   `PriorityQueue`, so there is no hook to make fail. A panicking `Ord` is
//!   the nearest thing: `priority_queue_survives_a_put_whose_ord_panics` and
//!   `priority_queue_keeps_the_item_of_a_get_whose_ord_panics` mirror the
//!   failing puts and gets of `failing_queue_test` that way.
//! - The `Py*` / `C*` class pairs (pure-Python and C `_queue` modules): there
//!   is one implementation here, so each case runs once per kind.

mod common;

use std::cmp::Ordering as Order;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_waited, spawn, wait_threads_blocked, Bunch, HUGE, LONG};
use concur::queue::{GetError, Iter, LifoQueue, Prioritized, PriorityQueue, PutError, Queue, ShutDown, TaskDoneError};

/// `test_queue.QUEUE_SIZE`.
const QUEUE_SIZE: usize = 5;

// ---------------------------------------------------------------------------
// The kinds, and the calls every kind has
// ---------------------------------------------------------------------------

/// The calls `Queue`, `LifoQueue` and `PriorityQueue` share, so one case body
/// tests all three.
trait Ops<T>: fmt::Debug + Send + Sync + Sized + 'static {
    fn new(maxsize: usize) -> Self;
    fn put(&self, item: T) -> Result<(), ShutDown<T>>;
    fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>>;
    fn try_put(&self, item: T) -> Result<(), PutError<T>>;
    fn put_async(&self, item: T) -> impl Future<Output = Result<(), ShutDown<T>>> + Send + '_;
    fn get(&self) -> Result<T, ShutDown>;
    fn get_timeout(&self, timeout: Duration) -> Result<T, GetError>;
    fn try_get(&self) -> Result<T, GetError>;
    fn get_async(&self) -> impl Future<Output = Result<T, ShutDown>> + Send + '_;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn join(&self);
    fn join_timeout(&self, timeout: Duration) -> bool;
    fn join_async(&self) -> impl Future<Output = ()> + Send + '_;
    fn shutdown(&self);
    fn shutdown_immediate(&self);
    /// Python's `shutdown(immediate)`, for the cases that pass the flag on.
    fn shutdown_with(&self, immediate: bool) {
        if immediate {
            self.shutdown_immediate();
        } else {
            self.shutdown();
        }
    }
    fn is_shut_down(&self) -> bool;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn capacity(&self) -> Option<usize>;
    fn drain(&self) -> std::vec::IntoIter<T>;
    fn iter(&self) -> Iter<'_, T>;
}

macro_rules! ops_for {
    ($queue:ident) => {
        impl<T: Ord + Send + 'static> Ops<T> for $queue<T> {
            fn new(maxsize: usize) -> Self {
                $queue::with_maxsize(maxsize)
            }
            fn put(&self, item: T) -> Result<(), ShutDown<T>> {
                $queue::put(self, item)
            }
            fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                $queue::put_timeout(self, item, timeout)
            }
            fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                $queue::try_put(self, item)
            }
            fn put_async(&self, item: T) -> impl Future<Output = Result<(), ShutDown<T>>> + Send + '_ {
                $queue::put_async(self, item)
            }
            fn get(&self) -> Result<T, ShutDown> {
                $queue::get(self)
            }
            fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                $queue::get_timeout(self, timeout)
            }
            fn try_get(&self) -> Result<T, GetError> {
                $queue::try_get(self)
            }
            fn get_async(&self) -> impl Future<Output = Result<T, ShutDown>> + Send + '_ {
                $queue::get_async(self)
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $queue::task_done(self)
            }
            fn join(&self) {
                $queue::join(self)
            }
            fn join_timeout(&self, timeout: Duration) -> bool {
                $queue::join_timeout(self, timeout)
            }
            fn join_async(&self) -> impl Future<Output = ()> + Send + '_ {
                $queue::join_async(self)
            }
            fn shutdown(&self) {
                $queue::shutdown(self)
            }
            fn shutdown_immediate(&self) {
                $queue::shutdown_immediate(self)
            }
            fn is_shut_down(&self) -> bool {
                $queue::is_shut_down(self)
            }
            fn len(&self) -> usize {
                $queue::len(self)
            }
            fn is_empty(&self) -> bool {
                $queue::is_empty(self)
            }
            fn is_full(&self) -> bool {
                $queue::is_full(self)
            }
            fn capacity(&self) -> Option<usize> {
                $queue::capacity(self)
            }
            fn drain(&self) -> std::vec::IntoIter<T> {
                $queue::drain(self)
            }
            fn iter(&self) -> Iter<'_, T> {
                $queue::iter(self)
            }
        }
    };
}

ops_for!(Queue);
ops_for!(LifoQueue);
ops_for!(PriorityQueue);

/// One queue kind: the test class CPython derives from `BaseQueueTestMixin`
/// for it (`QueueTest`, `LifoQueueTest`, `PriorityQueueTest`), whose
/// `type2test` is [`Kind::Of`].
trait Kind: 'static {
    /// The Python class name, as `basic_queue_test` keys its target orders;
    /// also how the type's `Debug` output begins.
    const NAME: &'static str;
    type Of<T: Ord + Send + 'static>: Ops<T>;
    /// The order `get` hands out items put in the order of `put`.
    fn order<T: Ord + Clone>(put: &[T]) -> Vec<T>;
}

struct Fifo;
struct Lifo;
struct Lowest;

impl Kind for Fifo {
    const NAME: &'static str = "Queue";
    type Of<T: Ord + Send + 'static> = Queue<T>;
    fn order<T: Ord + Clone>(put: &[T]) -> Vec<T> {
        put.to_vec()
    }
}

impl Kind for Lifo {
    const NAME: &'static str = "LifoQueue";
    type Of<T: Ord + Send + 'static> = LifoQueue<T>;
    fn order<T: Ord + Clone>(put: &[T]) -> Vec<T> {
        put.iter().rev().cloned().collect()
    }
}

impl Kind for Lowest {
    const NAME: &'static str = "PriorityQueue";
    type Of<T: Ord + Send + 'static> = PriorityQueue<T>;
    fn order<T: Ord + Clone>(put: &[T]) -> Vec<T> {
        let mut sorted = put.to_vec();
        sorted.sort(); // stable: equal items keep their arrival order
        sorted
    }
}

/// A fresh queue of kind `K`, shared with the threads a case starts.
fn make<K: Kind, T: Ord + Send + 'static>(maxsize: usize) -> Arc<K::Of<T>> {
    Arc::new(K::Of::<T>::new(maxsize))
}

/// Runs a case in a thread joined with a deadline, so a call that should
/// return at once but blocks fails the test instead of hanging it.
#[track_caller]
fn run_case(case: fn()) {
    spawn(case).join();
}

/// Runs each named case (a function generic over [`Kind`]) for every kind,
/// as tests named `$case::queue`, `$case::lifo_queue` and
/// `$case::priority_queue`. A case written `$case = $run($arg)` calls the
/// function `$run` with `$arg`, as CPython's `test_shutdown_get` calls
/// `_shutdown_get(False)`.
macro_rules! for_each_kind {
    (@call $case:ident, $kind:ident) => {
        super::$case::<super::$kind>
    };
    (@call $case:ident = $run:ident($arg:expr), $kind:ident) => {
        || super::$run::<super::$kind>($arg)
    };
    ($($(#[$attr:meta])* $case:ident $(= $run:ident($arg:expr))?),* $(,)?) => {$(
        mod $case {
            #[test]
            $(#[$attr])*
            fn queue() {
                super::run_case(for_each_kind!(@call $case $(= $run($arg))?, Fifo));
            }

            #[test]
            $(#[$attr])*
            fn lifo_queue() {
                super::run_case(for_each_kind!(@call $case $(= $run($arg))?, Lifo));
            }

            #[test]
            $(#[$attr])*
            fn priority_queue() {
                super::run_case(for_each_kind!(@call $case $(= $run($arg))?, Lowest));
            }
        }
    )*};
}

// ---------------------------------------------------------------------------
// What the cases share
// ---------------------------------------------------------------------------

/// Python's `threading.Event`, from `std` only (never the queue under test),
/// with a bounded wait.
#[derive(Default)]
struct Go {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Go {
    fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.changed.notify_all();
    }

    #[track_caller]
    fn wait(&self) {
        let set = self.set.lock().unwrap();
        let (_set, waited) = self.changed.wait_timeout_while(set, LONG, |set| !*set).unwrap();
        assert!(!waited.timed_out(), "the event was not set within {LONG:?}");
    }
}

/// What CPython's shutdown cases hand their helper threads, as
/// `args=(q, go, results)`: the queue, the event the threads start on, and
/// the list they append to.
struct Shared<Q> {
    q: Q,
    go: Go,
    results: Mutex<Vec<bool>>,
}

impl<Q: Send + Sync + 'static> Shared<Q> {
    /// Starts `n` helper threads, each running `f` on this and given its
    /// number: CPython's `threading.Thread(target=f, args=(q, go, results))`,
    /// `n` times.
    #[track_caller]
    fn start<T: Send + 'static>(
        self: &Arc<Self>,
        n: usize,
        f: impl Fn(&Shared<Q>, usize) -> T + Send + Sync + 'static,
    ) -> Bunch<T> {
        let shared = self.clone();
        Bunch::new(n, move |i| f(&shared, i))
    }

    /// What the threads appended to `results`, in order.
    fn results(&self) -> Vec<bool> {
        self.results.lock().unwrap().clone()
    }
}

/// A [`Shared`] over a new queue of kind `K` with room for `maxsize`, which
/// holds `items`.
fn shared<K: Kind>(maxsize: usize, items: &[&'static str]) -> Arc<Shared<K::Of<&'static str>>> {
    let s = Arc::new(Shared { q: K::Of::new(maxsize), go: Go::default(), results: Mutex::default() });
    for &item in items {
        s.q.put(item).unwrap();
    }
    s
}

/// `q.unfinished_tasks`. concur has no accessor for it, so it is read from
/// the `Debug` output (`unfinished: N`).
#[track_caller]
fn unfinished(q: &impl fmt::Debug) -> usize {
    let repr = format!("{q:?}");
    let after = repr.split("unfinished: ").nth(1).unwrap_or_else(|| panic!("no task count in {repr}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no task count in {repr}"))
}

/// CPython's `BlockingTestMixin.do_blocking_test`: `block` runs here and must
/// block until `trigger`, run in another thread after a pause, releases it.
/// Returns what `block` returned.
#[track_caller]
fn do_blocking_test<Q, R>(q: &Arc<Q>, block: impl FnOnce(&Q) -> R, trigger: impl FnOnce(&Q) + Send + 'static) -> R
where
    Q: Send + Sync + 'static,
{
    let started = Arc::new(AtomicBool::new(false));
    let thread = {
        let (q, started) = (q.clone(), started.clone());
        spawn(move || {
            // Gives `block` a chance to actually block before it is
            // released; only whether it waited is checked, never how long.
            thread::sleep(Duration::from_millis(100));
            started.store(true, Ordering::SeqCst);
            trigger(&q);
        })
    };
    let result = block(q);
    // If `block` returned before the trigger was pulled, it did not block.
    assert!(started.load(Ordering::SeqCst), "the blocking function appeared not to block");
    thread.join();
    result
}

/// CPython's `BlockingTestMixin.do_exceptional_blocking_test`: as
/// [`do_blocking_test`], for a `block` that must fail once released (here:
/// a call woken by a shutdown). Returns the error.
#[track_caller]
fn do_exceptional_blocking_test<Q, R, E>(
    q: &Arc<Q>,
    block: impl FnOnce(&Q) -> Result<R, E>,
    trigger: impl FnOnce(&Q) + Send + 'static,
) -> E
where
    Q: Send + Sync + 'static,
{
    match do_blocking_test(q, block, trigger) {
        Ok(_) => panic!("expected the blocking function to fail"),
        Err(error) => error,
    }
}

/// The async form of [`do_blocking_test`]: `block` runs as a tokio task and
/// must still be pending after a pause (else it fails with `pending`);
/// `trigger`, run in a thread, must then release it. Returns what each
/// returned.
async fn do_async_blocking_test<Q, F, T>(
    q: &Arc<Q>,
    block: impl FnOnce(Arc<Q>) -> F,
    pending: &str,
    trigger: impl FnOnce(&Q) -> T + Send + 'static,
) -> (F::Output, T)
where
    Q: Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: Send,
    T: Send + 'static,
{
    let task = tokio::spawn(block(q.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!task.is_finished(), "{pending}");
    let thread = {
        let q = q.clone();
        spawn(move || trigger(&q))
    };
    let blocked = task.await.unwrap();
    (blocked, thread.join())
}

/// Runs an async test on a two-thread tokio runtime, failing it if it has
/// not finished within [`LONG`].
#[track_caller]
fn block_on<F: Future>(test: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
    runtime
        .block_on(async { tokio::time::timeout(LONG, test).await })
        .unwrap_or_else(|_| panic!("the async test did not finish within {LONG:?}"))
}

/// `Eq` and `Ord` for a test item by `$key` alone (computed from `$item`),
/// so that items can compare equal and still be told apart.
macro_rules! ord_by_key {
    ($type:ty, |$item:ident| $key:expr) => {
        impl PartialEq for $type {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Order::Equal
            }
        }

        impl Eq for $type {}

        impl PartialOrd for $type {
            fn partial_cmp(&self, other: &Self) -> Option<Order> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $type {
            fn cmp(&self, other: &Self) -> Order {
                let key = |$item: &Self| $key;
                key(self).cmp(&key(other))
            }
        }
    };
}

// ---------------------------------------------------------------------------
// BaseQueueTestMixin: basics, task_done and join
// ---------------------------------------------------------------------------

for_each_kind!(test_basic, test_queue_task_done, test_queue_join, test_nowait, test_shrinking_queue);

// test_queue.BaseQueueTestMixin.basic_queue_test
fn basic_queue_test<K: Kind>(q: &Arc<K::Of<i32>>) {
    assert_eq!(q.len(), 0, "call this function with an empty queue");
    assert!(q.is_empty());
    assert!(!q.is_full());
    // I guess we better check things actually queue correctly a little :)
    q.put(111).unwrap();
    q.put(333).unwrap();
    q.put(222).unwrap();
    let actual_order = [q.get().unwrap(), q.get().unwrap(), q.get().unwrap()];
    assert_eq!(actual_order.to_vec(), K::order(&[111, 333, 222]), "didn't seem to queue the correct data");
    for i in 0..QUEUE_SIZE as i32 - 1 {
        q.put(i).unwrap();
        assert!(q.len() > 0, "queue should not be empty");
    }
    assert!(!q.is_full(), "queue should not be full");
    let last = 2 * QUEUE_SIZE as i32;
    let full = 3 * 2 * QUEUE_SIZE as i32;
    q.put(last).unwrap();
    assert!(q.is_full(), "queue should be full");
    assert!(!q.is_empty());
    assert_eq!(q.try_put(full), Err(PutError::Full(full)), "didn't appear to block with a full queue");
    assert_eq!(
        q.put_timeout(full, Duration::from_millis(10)),
        Err(PutError::Full(full)),
        "didn't appear to time out with a full queue"
    );
    // Test a blocking put.
    let got = |q: &K::Of<i32>| {
        q.get().unwrap();
    };
    do_blocking_test(q, |q| q.put(full), got).unwrap();
    do_blocking_test(q, |q| q.put_timeout(full, Duration::from_secs(10)), got).unwrap();
    // Empty it.
    for _ in 0..QUEUE_SIZE {
        q.get().unwrap();
    }
    assert_eq!(q.len(), 0, "queue should be empty");
    assert_eq!(q.try_get(), Err(GetError::Empty), "didn't appear to block with an empty queue");
    assert_eq!(q.get_timeout(Duration::from_millis(10)), Err(GetError::Empty), "didn't appear to time out");
    // Test a blocking get. (Python puts the string 'empty'.)
    const EMPTY: i32 = -1;
    let put_empty = |q: &K::Of<i32>| q.put(EMPTY).unwrap();
    assert_eq!(do_blocking_test(q, |q| q.get(), put_empty), Ok(EMPTY));
    assert_eq!(do_blocking_test(q, |q| q.get_timeout(Duration::from_secs(10)), put_empty), Ok(EMPTY));
}

// test_queue.BaseQueueTestMixin.worker
fn worker<Q: Ops<i32>>(q: &Q, cum: &Mutex<i32>) {
    loop {
        let x = q.get().unwrap();
        if x < 0 {
            q.task_done().unwrap();
            return;
        }
        *cum.lock().unwrap() += x;
        q.task_done().unwrap();
    }
}

// test_queue.BaseQueueTestMixin.queue_join_test
fn queue_join_test<K: Kind>(q: &Arc<K::Of<i32>>) {
    let cum = Arc::new(Mutex::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (q, cum) = (q.clone(), cum.clone());
            spawn(move || worker(&*q, &cum))
        })
        .collect();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    q.join();
    assert_eq!(*cum.lock().unwrap(), (0..100).sum::<i32>(), "join() did not block until all tasks were done");
    for _ in 0..2 {
        q.put(-1).unwrap(); // instruct the threads to close
    }
    q.join(); // verify that you can join twice
    for thread in threads {
        thread.join();
    }
}

// test_queue.BaseQueueTestMixin.test_queue_task_done
fn test_queue_task_done<K: Kind>() {
    let q = make::<K, i32>(0);
    assert_eq!(q.task_done(), Err(TaskDoneError), "did not detect task count going negative");
    // concur: the refused call changed nothing.
    assert!(q.join_timeout(Duration::ZERO));
    q.put(1).unwrap();
    assert_eq!(q.get(), Ok(1));
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert!(q.join_timeout(Duration::ZERO));
}

// test_queue.BaseQueueTestMixin.test_queue_join
fn test_queue_join<K: Kind>() {
    // Done twice for insurance.
    let q = make::<K, i32>(0);
    queue_join_test::<K>(&q);
    queue_join_test::<K>(&q);
    assert_eq!(q.task_done(), Err(TaskDoneError), "did not detect task count going negative");
}

// test_queue.BaseQueueTestMixin.test_basic
fn test_basic<K: Kind>() {
    // Done twice to make sure it works with the same instance reused.
    let q = make::<K, i32>(QUEUE_SIZE);
    basic_queue_test::<K>(&q);
    basic_queue_test::<K>(&q);
}

// test_queue.BaseQueueTestMixin.test_nowait
fn test_nowait<K: Kind>() {
    let q = make::<K, i32>(QUEUE_SIZE);
    for _ in 0..QUEUE_SIZE {
        q.try_put(1).unwrap();
    }
    assert_eq!(q.try_put(1), Err(PutError::Full(1)));
    for _ in 0..QUEUE_SIZE {
        q.try_get().unwrap();
    }
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

// test_queue.BaseQueueTestMixin.test_shrinking_queue (issue 10110; the
// part that applies: `maxsize` cannot be changed, see the header)
fn test_shrinking_queue<K: Kind>() {
    let q = make::<K, i32>(3);
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.put(3).unwrap();
    assert_eq!(q.try_put(4), Err(PutError::Full(4)));
    assert_eq!(q.len(), 3);
    assert_eq!(q.capacity(), Some(3));
}

// ---------------------------------------------------------------------------
// BaseQueueTestMixin: the shutdown family (Python 3.13)
// ---------------------------------------------------------------------------

for_each_kind!(
    test_shutdown_empty,
    test_shutdown_nonempty,
    test_shutdown_immediate,
    test_shutdown_allowed_transitions,
    // test_queue.BaseQueueTestMixin.test_shutdown_all_methods_in_one_thread
    test_shutdown_all_methods_in_one_thread = shutdown_all_methods_in_one_thread(false),
    // test_queue.BaseQueueTestMixin.test_shutdown_immediate_all_methods_in_one_thread
    test_shutdown_immediate_all_methods_in_one_thread = shutdown_all_methods_in_one_thread(true),
    // test_queue.BaseQueueTestMixin.test_shutdown_all_methods_in_many_threads
    test_shutdown_all_methods_in_many_threads = shutdown_all_methods_in_many_threads(false),
    // test_queue.BaseQueueTestMixin.test_shutdown_immediate_all_methods_in_many_threads
    test_shutdown_immediate_all_methods_in_many_threads = shutdown_all_methods_in_many_threads(true),
    // test_queue.BaseQueueTestMixin.test_shutdown_get
    test_shutdown_get = shutdown_get(false),
    // test_queue.BaseQueueTestMixin.test_shutdown_immediate_get
    test_shutdown_immediate_get = shutdown_get(true),
    // test_queue.BaseQueueTestMixin.test_shutdown_put
    test_shutdown_put = shutdown_put(false),
    // test_queue.BaseQueueTestMixin.test_shutdown_immediate_put
    test_shutdown_immediate_put = shutdown_put(true),
    // test_queue.BaseQueueTestMixin.test_shutdown_join
    test_shutdown_join = shutdown_join(false),
    // test_queue.BaseQueueTestMixin.test_shutdown_immediate_join
    test_shutdown_immediate_join = shutdown_join(true),
    // test_queue.BaseQueueTestMixin.test_shutdown_put_join
    test_shutdown_put_join = shutdown_put_join(false),
    // test_queue.BaseQueueTestMixin.test_shutdown_immediate_put_join
    test_shutdown_immediate_put_join = shutdown_put_join(true),
    test_shutdown_get_task_done_join,
    test_shutdown_pending_get,
);

// test_queue.BaseQueueTestMixin.test_shutdown_empty
fn test_shutdown_empty<K: Kind>() {
    let q = make::<K, &str>(0);
    q.shutdown();
    assert_eq!(q.put("data"), Err(ShutDown("data")));
    assert_eq!(q.get(), Err(ShutDown(())));
}

// test_queue.BaseQueueTestMixin.test_shutdown_nonempty
fn test_shutdown_nonempty<K: Kind>() {
    let q = make::<K, &str>(0);
    q.put("data").unwrap();
    q.shutdown();
    assert_eq!(q.get(), Ok("data"));
    assert_eq!(q.get(), Err(ShutDown(())));
}

// test_queue.BaseQueueTestMixin.test_shutdown_immediate
fn test_shutdown_immediate<K: Kind>() {
    let q = make::<K, &str>(0);
    q.put("data").unwrap();
    q.shutdown_immediate();
    assert_eq!(q.get(), Err(ShutDown(())));
}

// test_queue.BaseQueueTestMixin.test_shutdown_allowed_transitions
fn test_shutdown_allowed_transitions<K: Kind>() {
    // Allowed transitions are from alive, via shutdown, to immediate.
    let q = make::<K, &str>(0);
    assert!(!q.is_shut_down());

    // concur: an item left by the first shutdown is still there...
    q.put("left").unwrap();
    q.shutdown();
    assert!(q.is_shut_down());
    assert_eq!(q.len(), 1);

    // ...until the queue goes on to an immediate shutdown, which discards it
    // and marks it done.
    q.shutdown_immediate();
    assert!(q.is_shut_down());
    assert_eq!(q.len(), 0);
    assert!(q.join_timeout(Duration::ZERO));

    // No way back.
    q.shutdown();
    assert!(q.is_shut_down());
    assert_eq!(q.put("again"), Err(ShutDown("again")));
}

// test_queue.BaseQueueTestMixin._shutdown_all_methods_in_one_thread
fn shutdown_all_methods_in_one_thread<K: Kind>(immediate: bool) {
    let q = make::<K, &str>(2);
    q.put("L").unwrap();
    q.try_put("O").unwrap();
    q.shutdown_with(immediate);

    assert_eq!(q.put("E"), Err(ShutDown("E")));
    assert_eq!(q.try_put("W"), Err(PutError::ShutDown("W")));
    // concur: and the other ways to put.
    assert_eq!(q.put_timeout("T", LONG), Err(PutError::ShutDown("T")));
    if immediate {
        assert_eq!(q.get(), Err(ShutDown(())));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        // The items thrown away were marked done.
        assert_eq!(q.task_done(), Err(TaskDoneError));
        q.join();
    } else {
        assert!(["L", "O"].contains(&q.get().unwrap()));
        q.task_done().unwrap();
        assert!(["L", "O"].contains(&q.get().unwrap()));
        q.task_done().unwrap();
        q.join();
        // After shutdown(immediate=False), once the queue is empty, every
        // get fails.
        assert_eq!(q.get(), Err(ShutDown(())));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(q.get_timeout(Duration::from_secs(1)), Err(GetError::ShutDown));
    }
}

/// What the threads of [`shutdown_all_methods_in_many_threads`] share.
struct ManyThreads<Q> {
    q: Q,
    barrier_start: Barrier,
    event_shutdown: Go,
    shutdown_claimed: AtomicBool,
    res_puts: Mutex<Vec<bool>>,
    res_gets: Mutex<Vec<bool>>,
    res_shutdown: Mutex<Vec<bool>>,
    // concur: exact counts, so nothing is lost or handed out twice.
    put: AtomicUsize,
    got: AtomicUsize,
}

// test_queue.BaseQueueTestMixin._write_msg_thread
fn write_msg_thread<Q: Ops<(usize, &'static str)>>(s: &ManyThreads<Q>, n: usize, i_when_exec_shutdown: usize) {
    // Every writer puts several items into the queue...
    for i in 0..i_when_exec_shutdown / 2 {
        s.q.put((i, "LOYD")).unwrap();
        s.put.fetch_add(1, Ordering::SeqCst);
    }
    // ...then waits for the barrier to be complete.
    s.barrier_start.wait();

    for i in i_when_exec_shutdown / 2..n {
        if s.q.put((i, "YDLO")).is_err() {
            s.res_puts.lock().unwrap().push(false);
            break;
        }
        s.put.fetch_add(1, Ordering::SeqCst);
        // Trigger the queue's shutdown; only one thread should.
        if i == i_when_exec_shutdown && !s.shutdown_claimed.swap(true, Ordering::SeqCst) {
            s.event_shutdown.set();
            s.res_puts.lock().unwrap().push(true);
        }
    }
}

// test_queue.BaseQueueTestMixin._read_msg_thread
fn read_msg_thread<Q: Ops<(usize, &'static str)>>(s: &ManyThreads<Q>) {
    // Get at least one item.
    s.q.get().unwrap();
    s.got.fetch_add(1, Ordering::SeqCst);
    s.q.task_done().unwrap();
    // Wait for the barrier to be complete.
    s.barrier_start.wait();
    loop {
        match s.q.try_get() {
            Ok(_) => {
                s.got.fetch_add(1, Ordering::SeqCst);
                s.q.task_done().unwrap();
            }
            Err(GetError::ShutDown) => {
                s.res_gets.lock().unwrap().push(true);
                break;
            }
            // Python spins here; two slow cores are better shared.
            Err(GetError::Empty) => thread::yield_now(),
        }
    }
}

// test_queue.BaseQueueTestMixin._shutdown_thread
fn shutdown_thread<Q: Ops<(usize, &'static str)>>(s: &ManyThreads<Q>, immediate: bool) {
    s.event_shutdown.wait();
    s.q.shutdown_with(immediate);
    s.res_shutdown.lock().unwrap().push(s.q.len() == 0);
}

// test_queue.BaseQueueTestMixin._join_thread
fn join_thread<Q: Ops<(usize, &'static str)>>(s: &ManyThreads<Q>) {
    s.barrier_start.wait();
    s.q.join();
}

// test_queue.BaseQueueTestMixin._shutdown_all_methods_in_many_threads
fn shutdown_all_methods_in_many_threads<K: Kind>(immediate: bool) {
    // A many-producers, many-consumers queue with enough items in it; when
    // it is shut down, every running thread must end.
    let write_threads = 4;
    let read_threads = 6;
    let join_threads = 2;
    let nb_msgs = 1024 * 64;
    let nb_msgs_w = nb_msgs / write_threads;
    let when_exec_shutdown = nb_msgs_w / 2;
    // The barrier makes sure that every writer has put its first items, and
    // every reader has got at least one and keeps running until the
    // shutdown. The joiners run only for an immediate shutdown.
    let nparties = write_threads + read_threads + if immediate { join_threads } else { 0 };
    let s = Arc::new(ManyThreads {
        q: K::Of::<(usize, &'static str)>::new(0),
        barrier_start: Barrier::new(nparties),
        event_shutdown: Go::default(),
        shutdown_claimed: AtomicBool::new(false),
        res_puts: Mutex::default(),
        res_gets: Mutex::default(),
        res_shutdown: Mutex::default(),
        put: AtomicUsize::new(0),
        got: AtomicUsize::new(0),
    });
    let mut threads = Vec::new();
    for _ in 0..write_threads {
        let s = s.clone();
        threads.push(spawn(move || write_msg_thread(&s, nb_msgs_w, when_exec_shutdown)));
    }
    for _ in 0..read_threads {
        let s = s.clone();
        threads.push(spawn(move || read_msg_thread(&s)));
    }
    {
        let s = s.clone();
        threads.push(spawn(move || shutdown_thread(&s, immediate)));
    }
    if immediate {
        for _ in 0..join_threads {
            let s = s.clone();
            threads.push(spawn(move || join_thread(&s)));
        }
    }
    for thread in threads {
        thread.join();
    }

    assert!(s.res_puts.lock().unwrap().contains(&true));
    assert_eq!(s.res_gets.lock().unwrap().iter().filter(|&&r| r).count(), read_threads);
    let (put, got) = (s.put.load(Ordering::SeqCst), s.got.load(Ordering::SeqCst));
    if immediate {
        assert_eq!(*s.res_shutdown.lock().unwrap(), [true]);
        assert!(s.q.is_empty());
        assert!(got <= put, "{got} items got, {put} put");
    } else {
        // concur: every item put was got, once.
        assert_eq!(got, put);
    }
    // concur: every task is done (or was thrown away and marked done).
    assert_eq!(unfinished(&s.q), 0);
    assert!(s.q.join_timeout(Duration::ZERO));
}

// test_queue.BaseQueueTestMixin._get and _get_shutdown: records whether the
// `get` went as expected (an item, or a shutdown when `shutdown`).
fn get_thread<Q: Ops<&'static str>>(q: &Q, go: &Go, results: &Mutex<Vec<bool>>, shutdown: bool) -> bool {
    go.wait();
    let ok = match q.get() {
        Ok(_) => !shutdown,
        Err(ShutDown(())) => shutdown,
    };
    results.lock().unwrap().push(ok);
    ok
}

// test_queue.BaseQueueTestMixin._get_task_done: records whether it got an
// item (and marked it done).
fn get_task_done_thread<Q: Ops<&'static str>>(q: &Q, go: &Go, results: &Mutex<Vec<bool>>) -> Option<&'static str> {
    go.wait();
    match q.get() {
        Ok(msg) => {
            q.task_done().unwrap();
            results.lock().unwrap().push(true);
            Some(msg)
        }
        Err(ShutDown(())) => {
            results.lock().unwrap().push(false);
            None
        }
    }
}

// test_queue.BaseQueueTestMixin._put_shutdown: records whether the `put`
// failed with the shutdown, handing `msg` back.
fn put_shutdown_thread<Q: Ops<&'static str>>(q: &Q, msg: &'static str, go: &Go, results: &Mutex<Vec<bool>>) -> bool {
    go.wait();
    let ok = q.put(msg) == Err(ShutDown(msg));
    results.lock().unwrap().push(ok);
    ok
}

// test_queue.BaseQueueTestMixin._join: records that `join` returned (it
// cannot fail here).
fn join_thread_results<Q: Ops<&'static str>>(q: &Q, results: &Mutex<Vec<bool>>) {
    q.join();
    results.lock().unwrap().push(true);
}

// test_queue.BaseQueueTestMixin._shutdown_get
fn shutdown_get<K: Kind>(immediate: bool) {
    let s = shared::<K>(2, &["Y", "D"]);
    // The queue is full. After shutdown(immediate=False) two getters get the
    // items and a third fails; after an immediate one, both fail.
    let getters = s.start(if immediate { 2 } else { 3 }, move |s, _| get_thread(&s.q, &s.go, &s.results, immediate));
    s.q.shutdown_with(immediate);
    s.go.set();
    getters.join();
    let mut results = s.results();
    if immediate {
        assert_eq!(results, [true, true]);
    } else {
        results.sort();
        assert_eq!(results, [false, true, true]);
    }
}

// test_queue.BaseQueueTestMixin._shutdown_put (with `immediate` passed on;
// see the header)
fn shutdown_put<K: Kind>(immediate: bool) {
    let s = shared::<K>(2, &["Y", "D"]);
    // The queue is full.
    let putters = s.start(2, |s, i| put_shutdown_thread(&s.q, ["E", "W"][i], &s.go, &s.results));
    s.q.shutdown_with(immediate);
    s.go.set();
    putters.join();
    assert_eq!(s.results(), [true, true]);
}

// test_queue.BaseQueueTestMixin._shutdown_join
fn shutdown_join<K: Kind>(immediate: bool) {
    let s = shared::<K>(0, &["Y"]);
    let nb = s.q.len();

    let joiners = s.start(2, |s, _| join_thread_results(&s.q, &s.results));
    // The getters append to a list of their own, which CPython does not read.
    let got = Arc::new(Mutex::new(Vec::new()));
    let getters = s.start(if immediate { 0 } else { nb }, move |s, _| get_task_done_thread(&s.q, &s.go, &got));
    s.q.shutdown_with(immediate);
    s.go.set();
    joiners.join();
    for got in getters.join() {
        assert_eq!(got, Some("Y"));
    }
    assert_eq!(s.results(), [true, true]);
}

// test_queue.BaseQueueTestMixin._shutdown_put_join
fn shutdown_put_join<K: Kind>(immediate: bool) {
    let s = shared::<K>(2, &["Y"]);
    // The queue is not full.
    let putter = s.start(1, |s, _| put_shutdown_thread(&s.q, "E", &s.go, &s.results));
    let joiner = s.start(1, |s, _| join_thread_results(&s.q, &s.results));
    assert_eq!(unfinished(&s.q), 1);

    s.q.shutdown_with(immediate);
    s.go.set();

    if immediate {
        assert_eq!(s.q.try_get(), Err(GetError::ShutDown));
    } else {
        assert_eq!(s.q.get(), Ok("Y"));
        s.q.task_done().unwrap();
    }

    putter.join();
    joiner.join();
    assert_eq!(s.results(), [true, true]);
}

// test_queue.BaseQueueTestMixin.test_shutdown_get_task_done_join
fn test_shutdown_get_task_done_join<K: Kind>() {
    let s = shared::<K>(2, &["Y", "D"]);
    assert_eq!(unfinished(&s.q), s.q.len());

    let getters = s.start(2, |s, _| get_task_done_thread(&s.q, &s.go, &s.results));
    let joiners = s.start(2, |s, _| join_thread_results(&s.q, &s.results));
    s.go.set();
    s.q.shutdown();
    let mut got: Vec<_> = getters.join().into_iter().map(Option::unwrap).collect();
    joiners.join();
    assert_eq!(s.results(), [true; 4]);
    got.sort();
    assert_eq!(got, ["D", "Y"]);
}

// test_queue.BaseQueueTestMixin.test_shutdown_pending_get
fn test_shutdown_pending_get<K: Kind>() {
    let q = make::<K, &str>(0);
    let getter = {
        let q = q.clone();
        spawn(move || q.get())
    };
    // concur: make sure the get is pending, which Python leaves to chance.
    wait_threads_blocked(1);
    assert!(!getter.is_finished());
    q.shutdown();
    assert_eq!(getter.join(), Err(ShutDown(())));
}

// ---------------------------------------------------------------------------
// concur: blocked calls released by a shutdown
// ---------------------------------------------------------------------------

for_each_kind!(
    shutdown_releases_blocked_put,
    shutdown_releases_blocked_get_timeout,
    immediate_shutdown_releases_join,
    immediate_shutdown_drops_the_items_left,
    item_drop_may_use_the_queue,
);

// Every blocked putter wakes with its item handed back.
fn shutdown_releases_blocked_put<K: Kind>() {
    for immediate in [false, true] {
        let q = make::<K, &str>(1);
        q.put("in").unwrap();
        let other = q.clone();
        let waiting = spawn(move || other.put("waiting"));
        let error = do_exceptional_blocking_test(&q, |q| q.put("blocked"), move |q| q.shutdown_with(immediate));
        assert_eq!(error, ShutDown("blocked"));
        assert_eq!(waiting.join(), Err(ShutDown("waiting")));
        assert_eq!(q.len(), usize::from(!immediate));
    }
}

// A getter waiting with a long timeout fails at the shutdown, not at the
// timeout.
fn shutdown_releases_blocked_get_timeout<K: Kind>() {
    let q = make::<K, &str>(0);
    let error = do_exceptional_blocking_test(&q, |q| q.get_timeout(LONG * 2), |q| q.shutdown());
    assert_eq!(error, GetError::ShutDown);
}

// `shutdown(true)` marks the items it throws away done, which releases a
// blocked `join`; the item a consumer still holds keeps it waiting.
fn immediate_shutdown_releases_join<K: Kind>() {
    let q = make::<K, u32>(0);
    for n in 0..3 {
        q.put(n).unwrap();
    }
    let held = q.get().unwrap();
    let joiner = {
        let q = q.clone();
        spawn(move || q.join())
    };
    wait_threads_blocked(1);
    q.shutdown_immediate();
    wait_threads_blocked(1);
    assert!(!joiner.is_finished(), "join returned while an item taken before the shutdown was not done");
    assert_eq!(unfinished(&*q), 1);
    assert!(held < 3);
    q.task_done().unwrap();
    joiner.join();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

// The items an immediate shutdown throws away are dropped, not kept.
fn immediate_shutdown_drops_the_items_left<K: Kind>() {
    let q = make::<K, Arc<u32>>(0);
    let weak: Vec<Weak<u32>> = (0..4)
        .map(|n| {
            let item = Arc::new(n);
            let weak = Arc::downgrade(&item);
            q.put(item).unwrap();
            weak
        })
        .collect();
    q.shutdown_immediate();
    assert!(weak.iter().all(|w| w.upgrade().is_none()));
}

/// An item that runs `action` when dropped; ordered by `n` alone.
struct OnDrop {
    n: u32,
    action: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(action) = self.action.take() {
            action();
        }
    }
}

ord_by_key!(OnDrop, |item| item.n);

// The closest thing to SimpleQueueTest.test_reentrancy for these kinds: the
// items `shutdown(true)` throws away are dropped outside the queue's lock,
// so their `Drop` may use the queue (here: put into it, and be refused).
fn item_drop_may_use_the_queue<K: Kind>() {
    let q = make::<K, OnDrop>(0);
    let refused = Arc::new(AtomicUsize::new(0));
    for n in 0..3 {
        let (weak, refused) = (Arc::downgrade(&q), refused.clone());
        let action = Box::new(move || {
            let q = weak.upgrade().unwrap();
            let back = q.try_put(OnDrop { n: n + 10, action: None }).unwrap_err();
            assert!(matches!(back, PutError::ShutDown(OnDrop { n: m, .. }) if m == n + 10));
            assert!(q.is_shut_down());
            refused.fetch_add(1, Ordering::SeqCst);
        });
        q.put(OnDrop { n, action: Some(action) }).unwrap();
    }
    q.shutdown_immediate();
    assert_eq!(refused.load(Ordering::SeqCst), 3);
    assert!(q.is_empty());
    assert!(q.join_timeout(Duration::ZERO));
}

// ---------------------------------------------------------------------------
// concur: async tasks and threads on one queue
// ---------------------------------------------------------------------------

for_each_kind!(
    get_async_woken_by_a_thread_put,
    put_async_woken_by_a_thread_get,
    join_async_waits_for_task_done,
    get_async_pending_at_shutdown_fails,
    put_async_pending_at_shutdown_hands_item_back,
    cancelled_get_async_loses_nothing,
);

// A task blocked in `get_async` is woken by a plain thread's `put`.
fn get_async_woken_by_a_thread_put<K: Kind>() {
    let q = make::<K, u32>(0);
    block_on(async {
        let (got, ()) = do_async_blocking_test(
            &q,
            |q| async move { q.get_async().await },
            "get_async returned from an empty queue",
            |q| q.put(7).unwrap(),
        )
        .await;
        assert_eq!(got, Ok(7));
    });
    assert!(q.is_empty());
}

// A task blocked in `put_async` on a full queue is woken by a thread's `get`.
fn put_async_woken_by_a_thread_get<K: Kind>() {
    let q = make::<K, u32>(1);
    q.put(1).unwrap();
    block_on(async {
        let (put, got) = do_async_blocking_test(
            &q,
            |q| async move { q.put_async(2).await },
            "put_async returned on a full queue",
            |q| q.get(),
        )
        .await;
        assert_eq!(put, Ok(()));
        assert_eq!(got, Ok(1));
    });
    assert_eq!(q.try_get(), Ok(2));
}

// `join_async` waits until a thread has marked every item done.
fn join_async_waits_for_task_done<K: Kind>() {
    let q = make::<K, u32>(0);
    for n in 0..3 {
        q.put(n).unwrap();
    }
    block_on(async {
        do_async_blocking_test(
            &q,
            |q| async move { q.join_async().await },
            "join_async returned with 3 tasks unfinished",
            |q| {
                for _ in 0..3 {
                    q.get().unwrap();
                    thread::sleep(Duration::from_millis(5));
                    q.task_done().unwrap();
                }
            },
        )
        .await;
        // With nothing unfinished it returns at once.
        q.join_async().await;
    });
}

// A `get_async` pending when the queue is shut down returns `ShutDown(())`.
fn get_async_pending_at_shutdown_fails<K: Kind>() {
    for immediate in [false, true] {
        let q = make::<K, u32>(0);
        block_on(async {
            let (got, ()) = do_async_blocking_test(
                &q,
                |q| async move { q.get_async().await },
                "get_async returned from an empty queue",
                move |q| q.shutdown_with(immediate),
            )
            .await;
            assert_eq!(got, Err(ShutDown(())));
            // And put_async, after it, hands its item back.
            assert_eq!(q.put_async(9).await, Err(ShutDown(9)));
        });
    }
}

// A `put_async` pending on a full queue when it is shut down gets its item
// back, and a pending `join_async` is released by the immediate shutdown.
fn put_async_pending_at_shutdown_hands_item_back<K: Kind>() {
    let q = make::<K, u32>(1);
    q.put(1).unwrap();
    block_on(async {
        let putter = {
            let q = q.clone();
            tokio::spawn(async move { q.put_async(2).await })
        };
        let joiner = {
            let q = q.clone();
            tokio::spawn(async move { q.join_async().await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!putter.is_finished());
        assert!(!joiner.is_finished());
        let closer = {
            let q = q.clone();
            spawn(move || q.shutdown_immediate())
        };
        assert_eq!(putter.await.unwrap(), Err(ShutDown(2)));
        joiner.await.unwrap();
        closer.join();
    });
    assert!(q.is_empty());
}

// A `get_async` dropped while it waits takes nothing with it: the next item
// goes to the next getter.
fn cancelled_get_async_loses_nothing<K: Kind>() {
    let q = make::<K, u32>(0);
    block_on(async {
        let gave_up = tokio::time::timeout(Duration::from_millis(20), q.get_async()).await;
        assert!(gave_up.is_err());
        let getter = {
            let q = q.clone();
            spawn(move || q.get())
        };
        q.put_async(5).await.unwrap();
        assert_eq!(getter.join(), Ok(5));
    });
}

// ---------------------------------------------------------------------------
// concur: errors carry the item back; zero and huge timeouts
// ---------------------------------------------------------------------------

for_each_kind!(errors_hand_items_back, zero_timeouts_do_not_wait, huge_timeouts_wait_until_released);

fn errors_hand_items_back<K: Kind>() {
    let q = make::<K, String>(1);
    q.put("kept".to_owned()).unwrap();

    let full = q.try_put("try".to_owned()).unwrap_err();
    assert!(matches!(&full, PutError::Full(item) if item == "try"));
    assert_eq!(full.into_inner(), "try");
    let late = q.put_timeout("late".to_owned(), Duration::from_millis(5)).unwrap_err();
    assert_eq!(late, PutError::Full("late".to_owned()));
    assert_eq!(late.into_inner(), "late");

    q.shutdown();
    assert_eq!(q.put("put".to_owned()), Err(ShutDown("put".to_owned())));
    assert_eq!(q.put("put".to_owned()).unwrap_err().0, "put");
    let refused = q.try_put("try".to_owned()).unwrap_err();
    assert_eq!(refused, PutError::ShutDown("try".to_owned()));
    assert_eq!(refused.into_inner(), "try");
    assert_eq!(q.put_timeout("timed".to_owned(), LONG).unwrap_err().into_inner(), "timed");
    block_on(async {
        assert_eq!(q.put_async("async".to_owned()).await, Err(ShutDown("async".to_owned())));
    });
    // Nothing refused took the place of what was kept.
    assert_eq!(q.get().as_deref(), Ok("kept"));

    // The messages are sentences; the item need not be `Debug` or shown.
    assert_eq!(PutError::Full(()).to_string(), "cannot put: the queue is full");
    assert_eq!(PutError::ShutDown(()).to_string(), "cannot put: the queue is shut down");
    assert_eq!(format!("{:?}", PutError::Full(1)), "Full(..)");
    assert_eq!(format!("{:?}", ShutDown(1)), "ShutDown(..)");
    assert_eq!(GetError::Empty.to_string(), "cannot get: the queue is empty");
    assert_eq!(ShutDown(()).to_string(), "the queue is shut down");
}

// `Duration::ZERO` is the smallest timeout Rust can express: a single try,
// as `put_nowait` / `get_nowait` (what is left of
// test_negative_timeout_raises_exception).
fn zero_timeouts_do_not_wait<K: Kind>() {
    let q = make::<K, u32>(1);
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
    assert!(q.join_timeout(Duration::ZERO));
    assert_eq!(q.put_timeout(1, Duration::ZERO), Ok(()));
    assert_eq!(q.put_timeout(2, Duration::ZERO), Err(PutError::Full(2)));
    assert!(!q.join_timeout(Duration::ZERO));
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(1));
    assert!(!q.join_timeout(Duration::ZERO));
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::ZERO));
    q.shutdown();
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::ShutDown));
    assert_eq!(q.put_timeout(3, Duration::ZERO), Err(PutError::ShutDown(3)));
}

// Timeouts too large for the clock (`Duration::MAX` among them) wait as long
// as needed and never panic; each wait here ends, released by a thread.
fn huge_timeouts_wait_until_released<K: Kind>() {
    let q = make::<K, u32>(1);
    for timeout in HUGE {
        // Ready at once.
        q.put_timeout(1, timeout).unwrap();
        assert_eq!(q.get_timeout(timeout), Ok(1));
        q.task_done().unwrap();
        assert!(q.join_timeout(timeout));

        // Released by another thread.
        let got = do_blocking_test(&q, |q| q.get_timeout(timeout), |q| q.put(2).unwrap());
        assert_eq!(got, Ok(2), "{timeout:?}");
        q.put(3).unwrap();
        let put = do_blocking_test(&q, |q| q.put_timeout(4, timeout), |q| assert_eq!(q.get(), Ok(3)));
        assert_eq!(put, Ok(()), "{timeout:?}");
        assert_eq!(q.get(), Ok(4));
        let done = do_blocking_test(
            &q,
            |q| q.join_timeout(timeout),
            |q| {
                for _ in 0..3 {
                    q.task_done().unwrap();
                }
            },
        );
        assert!(done, "{timeout:?}");
    }
}

// A timed wait that runs out waited at least its timeout.
for_each_kind!(timeouts_wait_at_least_their_length);

fn timeouts_wait_at_least_their_length<K: Kind>() {
    let timeout = Duration::from_millis(30);
    let q = make::<K, u32>(1);
    let start = Instant::now();
    assert_eq!(q.get_timeout(timeout), Err(GetError::Empty));
    assert_waited(start.elapsed(), timeout);
    q.put(1).unwrap();
    let start = Instant::now();
    assert_eq!(q.put_timeout(2, timeout), Err(PutError::Full(2)));
    assert_waited(start.elapsed(), timeout);
    let start = Instant::now();
    assert!(!q.join_timeout(timeout));
    assert_waited(start.elapsed(), timeout);
}

// ---------------------------------------------------------------------------
// concur: drain, iter, Debug
// ---------------------------------------------------------------------------

for_each_kind!(drain_takes_all_in_get_order, iter_ends_at_shutdown, debug_shows_the_state,);

// `drain` takes everything now, in the order `get` would; each item still
// counts for `task_done`; and it makes room for a blocked putter.
fn drain_takes_all_in_get_order<K: Kind>() {
    let q = make::<K, i32>(4);
    let put = [3, 1, 4, 1];
    for n in put {
        q.put(n).unwrap();
    }
    let blocked = {
        let q = q.clone();
        spawn(move || q.put(5))
    };
    wait_threads_blocked(1);
    assert!(!blocked.is_finished());
    assert_eq!(q.drain().collect::<Vec<_>>(), K::order(&put));
    assert_eq!(blocked.join(), Ok(()));
    assert_eq!(q.drain().collect::<Vec<_>>(), [5]);
    assert_eq!(q.drain().count(), 0);
    assert_eq!(unfinished(&*q), 5);
    assert!(!q.join_timeout(Duration::ZERO));
    for _ in 0..5 {
        q.task_done().unwrap();
    }
    assert!(q.join_timeout(Duration::ZERO));
}

// `iter` (and `for item in &q`) gets until the queue is shut down and empty:
// the items left by a shutdown still come out, then the loop ends.
fn iter_ends_at_shutdown<K: Kind>() {
    let q = make::<K, i32>(0);
    let consumer = {
        let q = q.clone();
        spawn(move || {
            let mut seen = Vec::new();
            for n in q.iter() {
                seen.push(n);
                q.task_done().unwrap();
            }
            seen
        })
    };
    q.put(1).unwrap();
    q.join();
    // The consumer is blocked on an empty queue now: put the rest, then shut
    // down at once; the rest still comes out.
    for n in [7, 3, 5] {
        q.put(n).unwrap();
    }
    q.shutdown();
    let mut seen = consumer.join();
    assert_eq!(seen[0], 1);
    // How many of the rest the consumer took before the shutdown depends on
    // timing, and so (for LIFO and priority order) their order does; every
    // item comes out once.
    seen.sort();
    assert_eq!(seen, [1, 3, 5, 7]);
    assert!(q.join_timeout(Duration::ZERO));
    // After an immediate shutdown the iterator ends at once.
    let q = make::<K, i32>(0);
    q.put(1).unwrap();
    q.shutdown_immediate();
    assert_eq!(q.iter().next(), None);
    assert!(format!("{:?}", q.iter()).starts_with("Iter"));
}

// `for item in &q` is `q.iter()`, for each kind.
#[test]
fn for_loop_over_a_reference_is_iter() {
    run_case(|| {
        let (fifo, lifo, lowest) = (Queue::unbounded(), LifoQueue::unbounded(), PriorityQueue::unbounded());
        for n in [2, 1, 3] {
            fifo.put(n).unwrap();
            lifo.put(n).unwrap();
            lowest.put(n).unwrap();
        }
        fifo.shutdown();
        lifo.shutdown();
        lowest.shutdown();
        let mut seen = [Vec::new(), Vec::new(), Vec::new()];
        for n in &fifo {
            seen[0].push(n);
        }
        for n in &lifo {
            seen[1].push(n);
        }
        for n in &lowest {
            seen[2].push(n);
        }
        assert_eq!(seen, [[2, 1, 3], [3, 1, 2], [1, 2, 3]]);
    });
}

// `Debug` shows the type's name and its state.
fn debug_shows_the_state<K: Kind>() {
    let q = make::<K, i32>(2);
    assert_eq!(format!("{q:?}"), format!("{} {{ len: 0, maxsize: 2, unfinished: 0, shut_down: false }}", K::NAME));
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.get().unwrap();
    q.shutdown();
    assert_eq!(format!("{q:?}"), format!("{} {{ len: 1, maxsize: 2, unfinished: 2, shut_down: true }}", K::NAME));
}

// ---------------------------------------------------------------------------
// concur: PriorityQueue's order
// ---------------------------------------------------------------------------

// Lower priorities leave first; equal priorities in the order they came,
// even across interleaved gets.
#[test]
fn prioritized_ties_leave_in_arrival_order() {
    run_case(|| {
        let q = PriorityQueue::unbounded();
        for (item, priority) in [("c1", 3), ("a1", 1), ("b1", 2), ("a2", 1), ("c2", 3), ("a3", 1)] {
            q.put_with_priority(item, priority).unwrap();
        }
        assert_eq!(q.get().unwrap().item, "a1");
        q.put_with_priority("a4", 1).unwrap();
        q.put_with_priority("z", 0).unwrap();
        let order: Vec<_> = q.drain().map(|p| (p.priority, p.item)).collect();
        assert_eq!(order, [(0, "z"), (1, "a2"), (1, "a3"), (1, "a4"), (2, "b1"), (3, "c1"), (3, "c2")]);

        // `Prioritized` compares by priority alone.
        let a = Prioritized { priority: 1, item: "x" };
        let b = Prioritized { priority: 1, item: "y" };
        assert_eq!(a, b);
        assert!(Prioritized { priority: 0, item: "z" } < a);

        // The rejected item comes back whole.
        q.shutdown();
        let ShutDown(back) = q.put_with_priority("late", 5).unwrap_err();
        assert_eq!((back.priority, back.item), (5, "late"));
    });
}

// A FIFO queue with a limit too large for a ring allocated up front (above
// 65,536, or `usize::MAX`) behaves like any other: full at its limit, a
// blocked put released by a get, the same shutdown.
#[test]
fn large_limits_behave_the_same() {
    run_case(|| {
        let limit = (1 << 16) + 1;
        let q = Arc::new(Queue::bounded(limit).unwrap());
        for n in 0..limit {
            q.try_put(n).unwrap();
        }
        assert!(q.is_full());
        assert_eq!(q.try_put(limit), Err(PutError::Full(limit)));
        assert_eq!(do_blocking_test(&q, |q| q.put(limit), |q| assert_eq!(q.get(), Ok(0))), Ok(()));
        assert_eq!(q.drain().collect::<Vec<_>>(), (1..=limit).collect::<Vec<_>>());
        q.put(7).unwrap();
        q.shutdown();
        assert_eq!(q.put(8), Err(ShutDown(8)));
        assert_eq!(q.get(), Ok(7));
        assert_eq!(q.get(), Err(ShutDown(())));

        let q = Arc::new(Queue::bounded(usize::MAX).unwrap());
        assert_eq!(q.capacity(), Some(usize::MAX));
        assert!(!q.is_full());
        assert_eq!(do_blocking_test(&q, |q| q.get(), |q| q.put("x").unwrap()), Ok("x"));
        q.task_done().unwrap();
        q.put("left").unwrap();
        q.shutdown_immediate();
        assert!(q.is_empty());
        assert!(q.join_timeout(Duration::ZERO));
    });
}

/// Ordered by `key` alone, so that items can be equal and still told apart.
#[derive(Debug, Clone)]
struct Keyed {
    key: u8,
    tag: u32,
}

ord_by_key!(Keyed, |item| item.key);

// Plain `Ord` items that compare equal also keep their arrival order (where
// Python's heap leaves them in no particular order), with many of them.
#[test]
fn equal_items_leave_in_arrival_order() {
    run_case(|| {
        let q = PriorityQueue::unbounded();
        let mut put = Vec::new();
        let mut seed = 42u32;
        for tag in 0..2000 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let item = Keyed { key: (seed >> 24) as u8 % 8, tag };
            put.push(item.clone());
            q.put(item).unwrap();
        }
        let got: Vec<_> = q.drain().map(|k| (k.key, k.tag)).collect();
        put.sort(); // stable
        assert_eq!(got, put.iter().map(|k| (k.key, k.tag)).collect::<Vec<_>>());
    });
}

/// Ordered by its number; its comparison panics while its flag is set.
/// Each test has a flag of its own, so tests running at once cannot trip
/// each other.
#[derive(Debug)]
struct Touchy(u32, &'static AtomicBool);

ord_by_key!(Touchy, |item| {
    assert!(!item.1.load(Ordering::SeqCst), "comparison refused");
    item.0
});

/// A `PriorityQueue` of 4, 2 and 6, after `call` on it panicked in a
/// comparison: every comparison under `refuse` panics while `call` runs.
#[track_caller]
fn after_an_ord_panic<R>(
    refuse: &'static AtomicBool,
    call: impl FnOnce(&PriorityQueue<Touchy>) -> R,
) -> PriorityQueue<Touchy> {
    let q = PriorityQueue::bounded(QUEUE_SIZE).unwrap();
    for n in [4, 2, 6] {
        q.put(Touchy(n, refuse)).unwrap();
    }
    refuse.store(true, Ordering::SeqCst);
    let failed = panic::catch_unwind(AssertUnwindSafe(|| call(&q)));
    refuse.store(false, Ordering::SeqCst);
    assert!(failed.is_err(), "the comparison did not panic");
    q
}

// test_queue.FailingQueueTest.failing_queue_test, its failing puts, as
// near as Rust comes (see the header): a `put` whose `Ord` panics mid-call
// leaves the queue usable — no lock left held, no poisoning, every task
// accounted for.
#[test]
fn priority_queue_survives_a_put_whose_ord_panics() {
    static REFUSE: AtomicBool = AtomicBool::new(false);
    run_case(|| {
        let q = after_an_ord_panic(&REFUSE, |q| q.put(Touchy(1, &REFUSE)));
        // The queue is not damaged: the lock is free and calls go on.
        assert_eq!(q.len(), 3, "the failed put is undone: its item is not in");
        q.try_put(Touchy(3, &REFUSE)).unwrap();
        let mut got = Vec::new();
        while let Ok(Touchy(n, _)) = q.try_get() {
            got.push(n);
            q.task_done().unwrap();
        }
        // Every other item comes out, still in order: the heap was left as
        // it was before the put, not half sifted.
        assert_eq!(got, [2, 3, 4, 6]);
        assert!(q.join_timeout(Duration::ZERO), "{q:?}");
        assert_eq!(q.put_timeout(Touchy(0, &REFUSE), Duration::ZERO), Ok(()));
        assert_eq!(q.get_timeout(Duration::ZERO), Ok(Touchy(0, &REFUSE)));
    });
}

// test_queue.FailingQueueTest.failing_queue_test, its failing gets: "put
// succeeded, but get failed" must leave the item in the queue. Here the get
// fails through a panicking `Ord`.
#[test]
fn priority_queue_keeps_the_item_of_a_get_whose_ord_panics() {
    static REFUSE: AtomicBool = AtomicBool::new(false);
    run_case(|| {
        let q = after_an_ord_panic(&REFUSE, |q| q.try_get());
        assert_eq!(q.len(), 3, "queue should not have lost an item");
        // Nor its order: the failed get is undone, the lowest still first.
        for n in [2, 4, 6] {
            assert_eq!(q.try_get().map(|t| t.0), Ok(n));
            q.task_done().unwrap();
        }
        assert!(q.join_timeout(Duration::ZERO), "{q:?}");
    });
}
