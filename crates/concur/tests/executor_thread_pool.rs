//! `ThreadPool` against CPython's `Lib/test/test_concurrent_futures/`: the
//! cases of `executor.py` (`ExecutorTest`, as `ThreadPoolExecutorTest` runs
//! them), `test_thread_pool.py` (`ThreadPoolExecutorTest`),
//! `test_shutdown.py` (`ExecutorShutdownTest` and `ThreadPoolShutdownTest`)
//! and `test_init.py` (`InitializerMixin` and `FailingInitializerMixin` for
//! threads), each in a module named after its CPython class, under its
//! CPython name, with the case's full name in a comment above it. The
//! `concur_only` module holds what concur adds or does its own way, and the
//! cases that found bugs, since fixed.
//!
//! The executor is a `ThreadPool` of 5 workers, as `ExecutorMixin`'s. Python's
//! `executor._threads` is read through `concur::thread::enumerate()`: the
//! live threads named `{prefix}_N` ([`workers_named`]). Every blocking call
//! without a timeout (`shutdown(wait=true)`, drop, `map` results) runs in a
//! thread joined with a deadline, so a bug fails the test instead of hanging
//! it; CPython's sleeps of seconds are tens of milliseconds here.
//!
//! Changed:
//! - `ExecutorTest.test_map_exception`: each result of `map` is a `Result`,
//!   so the iteration goes on after the failed call (Python's iterator raises
//!   and ends).
//! - `ThreadPoolExecutorTest.test_map_submits_without_iteration`: dropping
//!   concur's `MapResults` cancels the calls that have not started, so the
//!   results are kept until the pool has shut down (Python's unstarted
//!   generator cancels nothing when it is collected);
//!   `concur_only::dropping_map_results_cancels_the_calls_not_started` checks
//!   concur's rule.
//! - `ThreadPoolExecutorTest.test_idle_thread_reuse`: a worker marks itself
//!   idle just after it sets the result its caller is waiting for, so the
//!   case pauses briefly after each result (CPython runs it only with the
//!   GIL, for the same race).
//! - `ExecutorShutdownTest.test_hang_gh83386` and
//!   `ThreadPoolShutdownTest.test_cancel_futures_wait_false` run a Python
//!   child to see the interpreter wait for the pool at exit. The pool's
//!   owner does that here, by dropping it: the cases run in process, the drop
//!   in place of the exit.
//! - `ThreadPoolExecutorTest.test_hang_global_shutdown_lock`: its thread part
//!   (a call that keeps submitting itself while the pool shuts down); the
//!   process pool it forks in a loop does not exist here.
//! - `ThreadPoolShutdownTest.test_thread_names_default`: the default prefix is
//!   `ThreadPool-N`, not `ThreadPoolExecutor-N`.
//! - `FailingInitializerMixin.test_initializer`: CPython checks the
//!   initializer's exception was logged; here its panic message is carried
//!   by `SubmitError::Broken` and by the failed futures, and checked there.
//!
//! Skipped:
//! - `ExecutorTest.test_submit_keyword`: Python's positional and keyword
//!   arguments, and the `TypeError` for wrong ones; a closure captures its
//!   arguments here, and wrong ones do not compile.
//! - `ExecutorTest.test_map`'s `chunksize` (ignored by thread pools in
//!   CPython too) and `test_pool.PoolExecutorTest.test_map_buffersize`
//!   (3.14's `buffersize`): `map` has neither parameter.
//! - `ExecutorShutdownTest.test_interpreter_shutdown` and
//!   `test_submit_after_interpreter_shutdown`: they test the `atexit` hook
//!   that joins every pool's threads when the interpreter exits. concur's
//!   workers are daemon threads; a pool is waited for when it is dropped,
//!   and one never dropped is not waited for at exit (see the report).
//! - `ThreadPoolExecutorTest.test_process_fork_from_a_threadpool`,
//!   `ProcessPoolShutdownTest`, `FailingInitializerResourcesTest`,
//!   `test_deadlock.py`, `test_process_pool.py`, `test_interpreter_pool.py`:
//!   process pools (which have their own suite, `executor_process.rs`) and
//!   interpreter pools (which have no counterpart).

mod common;

use std::cell::Cell;
use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::cpython_futures::{divmod, executor, mul};
use common::{assert_waited, spawn, wait_until, Gate, LONG};
use concur::executor::{BuildError, MapResults, Shutdown, SubmitError, ThreadPool};
use concur::futures::{wait, ConcurrentFuture, FutureError, ReturnWhen};

/// The live workers of the pool whose threads are named `{prefix}_N`:
/// Python's `executor._threads`.
fn workers_named(prefix: &str) -> Vec<concur::thread::Thread> {
    let start = format!("{prefix}_");
    concur::thread::enumerate().into_iter().filter(|t| t.name().starts_with(&start)).collect()
}

/// Whether `name` is `{prefix}_{n}` with `n < workers`: CPython's
/// `assertRegex(t.name, r'^prefix_[0-4]$')`.
fn is_worker_name(name: &str, prefix: &str, workers: usize) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n < workers)
}

/// Shuts `pool` down as `how` says and drops it, in a thread joined with a
/// deadline.
#[track_caller]
fn shut_down(pool: ThreadPool, how: Shutdown) {
    spawn(move || {
        pool.shutdown(how);
        drop(pool);
    })
    .join();
}

/// Drops `pool` (`shutdown(wait=True)`: leaving Python's `with` block), in a
/// thread joined with a deadline.
#[track_caller]
fn drop_pool(pool: ThreadPool) {
    spawn(move || drop(pool)).join();
}

/// Every result of `map`, collected in a thread joined with a deadline.
#[track_caller]
fn collect<T: Send + 'static>(results: MapResults<T>) -> Vec<Result<T, FutureError>> {
    spawn(move || results.collect()).join()
}

/// The object of `executor.MyObject`.
struct MyObject;

impl MyObject {
    fn my_method(&self) {}
}

/// `executor.py`: the cases every executor runs.
mod executor_test {
    use super::*;

    // test_concurrent_futures.executor.ExecutorTest.test_submit
    #[test]
    fn test_submit() {
        let executor = executor();
        let future = executor.submit(|| 2_i64.pow(8)).unwrap();
        assert_eq!(future.result_timeout(LONG), Ok(256));
    }

    // test_concurrent_futures.executor.ExecutorTest.test_map
    #[test]
    fn test_map() {
        let executor = executor();
        let pow = |(base, exp): (u64, u32)| base.pow(exp);
        let results = collect(executor.map(pow, (0..10).zip(0..10)).unwrap());
        let expected: Vec<_> = (0..10).zip(0..10).map(|item| Ok(pow(item))).collect();
        assert_eq!(results, expected);
    }

    // test_concurrent_futures.executor.ExecutorTest.test_map_exception (the
    // iteration goes on: see the header)
    #[test]
    fn test_map_exception() {
        let executor = executor();
        let i = executor.map(|(x, y)| divmod(x, y), [(1, 2), (1, 3), (1, 0), (1, 5)]).unwrap();
        assert_eq!(
            collect(i),
            [Ok((0, 1)), Ok((0, 1)), Err(FutureError::Panicked("attempt to divide by zero".into())), Ok((0, 1))]
        );
    }

    // test_concurrent_futures.executor.ExecutorTest.test_map_timeout
    #[test]
    fn test_map_timeout() {
        let executor = executor();
        let event = Gate::new();
        let blocks = event.clone();
        let timeout = Duration::from_millis(200);
        let start = Instant::now();
        let results = executor
            .map_timeout(
                move |sleeps: bool| {
                    if sleeps {
                        blocks.wait();
                    }
                },
                [false, false, true],
                timeout,
            )
            .unwrap();
        let results: Vec<_> = results.collect();
        assert_waited(start.elapsed(), timeout);
        event.open();
        assert_eq!(results, [Ok(()), Ok(()), Err(FutureError::Timeout(timeout))]);
    }

    // test_concurrent_futures.executor.ExecutorTest.test_shutdown_race_issue12456
    #[test]
    fn test_shutdown_race_issue12456() {
        let executor = executor();
        let results = executor.map(|n: i32| n.to_string(), vec![2; 5 + 1]).unwrap();
        shut_down(executor, Shutdown::wait());
        assert_eq!(collect(results), vec![Ok("2".to_string()); 6]);
    }

    // test_concurrent_futures.executor.ExecutorTest.test_no_stale_references
    #[test]
    fn test_no_stale_references() {
        let executor = executor();
        let my_object = Arc::new(MyObject);
        let my_object_collected = Arc::downgrade(&my_object);
        // Deliberately discarding the future.
        drop(executor.submit(move || my_object.my_method()).unwrap());
        wait_until("the pool let go of the call and what it holds", || my_object_collected.upgrade().is_none());
    }

    // test_concurrent_futures.executor.ExecutorTest.test_max_workers_negative
    // (0 only: a `usize` cannot be negative). Python raises `ValueError`;
    // here both ways of building refuse with an error, not a panic.
    #[test]
    fn test_max_workers_negative() {
        assert_eq!(ThreadPool::new(0).unwrap_err(), BuildError::ZeroWorkers);
        assert_eq!(ThreadPool::builder().max_workers(0).build().unwrap_err(), BuildError::ZeroWorkers);
        let message = ThreadPool::new(0).unwrap_err().to_string();
        assert!(message.contains("max_workers of at least 1"), "{message}");
    }

    // test_concurrent_futures.executor.ExecutorTest.test_free_reference
    #[test]
    fn test_free_reference() {
        let executor = executor();
        let results = executor.map(|_: i32| Arc::new(MyObject), 0..10).unwrap();
        // Issue #14406: the result iterator keeps no reference to the
        // results it gave.
        spawn(move || {
            for obj in results {
                let obj = obj.unwrap();
                let wr = Arc::downgrade(&obj);
                drop(obj);
                assert!(wr.upgrade().is_none());
            }
        })
        .join();
    }
}

/// `test_thread_pool.py`.
mod thread_pool_executor_test {
    use super::*;

    // test_concurrent_futures.test_thread_pool.ThreadPoolExecutorTest.test_map_submits_without_iteration
    // (the results are kept: see the header)
    #[test]
    fn test_map_submits_without_iteration() {
        let executor = executor();
        let finished = Arc::new(Mutex::new(Vec::new()));
        let record = finished.clone();
        let results = executor.map(move |n: i32| record.lock().unwrap().push(n), 0..10).unwrap();
        shut_down(executor, Shutdown::wait());
        let mut finished = finished.lock().unwrap().clone();
        finished.sort_unstable();
        assert_eq!(finished, (0..10).collect::<Vec<_>>());
        drop(results);
    }

    // test_concurrent_futures.test_thread_pool.ThreadPoolExecutorTest.test_default_workers
    #[test]
    fn test_default_workers() {
        let executor = ThreadPool::builder().build().unwrap();
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(executor.max_workers(), (cores + 4).min(32));
    }

    // test_concurrent_futures.test_thread_pool.ThreadPoolExecutorTest.test_saturation
    #[test]
    fn test_saturation() {
        let executor = ThreadPool::builder().max_workers(4).thread_name_prefix("saturation").build().unwrap();
        let sem = Gate::new();
        let futures: Vec<_> = (0..15 * executor.max_workers())
            .map(|_| {
                let sem = sem.clone();
                executor.submit(move || sem.wait()).unwrap()
            })
            .collect();
        assert_eq!(workers_named("saturation").len(), executor.max_workers());
        sem.open();
        shut_down(executor, Shutdown::wait());
        for future in futures {
            assert_eq!(future.result_timeout(Duration::ZERO), Ok(true));
        }
    }

    // test_concurrent_futures.test_thread_pool.ThreadPoolExecutorTest.test_idle_thread_reuse
    // (CPython submits three calls; here 1,000, back to back with no pause,
    // since a worker is idle before the caller sees its result)
    #[test]
    fn test_idle_thread_reuse() {
        let executor = ThreadPool::builder().thread_name_prefix("idle-reuse").build().unwrap();
        for n in 0..1_000 {
            assert_eq!(executor.submit(move || mul(n, 2)).unwrap().result_timeout(LONG), Ok(n * 2));
        }
        assert_eq!(workers_named("idle-reuse").len(), 1);
        shut_down(executor, Shutdown::wait());
    }

    /// A call that submits itself again, until the pool refuses.
    fn submit_again(pool: Arc<ThreadPool>) {
        let next = pool.clone();
        if let Ok(future) = pool.submit(move || submit_again(next)) {
            drop(future);
        }
    }

    // test_concurrent_futures.test_thread_pool.ThreadPoolExecutorTest.test_hang_global_shutdown_lock
    // (the thread part: see the header)
    #[test]
    fn test_hang_global_shutdown_lock() {
        let pool = Arc::new(ThreadPool::new(1).unwrap());
        let first = pool.clone();
        drop(pool.submit(move || submit_again(first)).unwrap());
        thread::sleep(Duration::from_millis(10));
        spawn(move || {
            pool.shutdown(Shutdown::wait());
            drop(pool);
        })
        .join();
    }

    // test_concurrent_futures.test_thread_pool.ThreadPoolExecutorTest.test_executor_map_current_future_cancel
    #[test]
    fn test_executor_map_current_future_cancel() {
        let stop_event = Gate::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log_n_wait = {
            let (log, stop_event) = (log.clone(), stop_event.clone());
            move |ident: &str| {
                log.lock().unwrap().push(format!("ident='{ident}' started"));
                stop_event.wait();
                log.lock().unwrap().push(format!("ident='{ident}' stopped"));
            }
        };
        let pool = ThreadPool::new(1).unwrap();
        // Submit work to saturate the pool.
        let fut = {
            let log_n_wait = log_n_wait.clone();
            pool.submit(move || log_n_wait("first")).unwrap()
        };
        let mut gen = pool.map_timeout(log_n_wait, ["second", "third"], Duration::ZERO).unwrap();
        assert!(matches!(gen.next(), Some(Err(FutureError::Timeout(_)))));
        drop(gen);
        stop_event.open();
        fut.result_timeout(LONG).unwrap();
        drop_pool(pool);
        // 'second' is cancelled by the timeout; 'third' because it was left
        // in the results.
        assert_eq!(*log.lock().unwrap(), ["ident='first' started", "ident='first' stopped"]);
    }
}

/// `test_shutdown.py`: `ExecutorShutdownTest` and `ThreadPoolShutdownTest`.
mod thread_pool_shutdown_test {
    use super::*;

    // test_concurrent_futures.test_shutdown.ExecutorShutdownTest.test_run_after_shutdown
    #[test]
    fn test_run_after_shutdown() {
        let executor = executor();
        executor.shutdown(Shutdown::wait());
        assert_eq!(executor.submit(|| 2_i32.pow(5)).unwrap_err(), SubmitError::ShutDown);
    }

    // test_concurrent_futures.test_shutdown.ExecutorShutdownTest.test_hang_issue12364
    #[test]
    fn test_hang_issue12364() {
        let executor = executor();
        let fs: Vec<_> =
            (0..50).map(|_| executor.submit(|| thread::sleep(Duration::from_millis(10))).unwrap()).collect();
        shut_down(executor, Shutdown::wait());
        for f in fs {
            assert_eq!(f.result_timeout(Duration::ZERO), Ok(()));
        }
    }

    // test_concurrent_futures.test_shutdown.ExecutorShutdownTest.test_cancel_futures
    #[test]
    fn test_cancel_futures() {
        let executor = executor();
        let started = Arc::new(AtomicUsize::new(0));
        let fs: Vec<_> = (0..50)
            .map(|_| {
                let started = started.clone();
                executor
                    .submit(move || {
                        started.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(50));
                    })
                    .unwrap()
            })
            .collect();
        // Right after the burst, as CPython does: a worker started for a
        // call holds it from the moment `submit` returns, so the shutdown
        // cannot cancel every call.
        shut_down(executor, Shutdown::wait().cancel_futures());
        // Not the exact number, but with few workers, many were cancelled.
        let cancelled = fs.iter().filter(|f| f.is_cancelled()).count();
        assert!(cancelled > 20, "only {cancelled} cancelled");
        // The others finished, without error.
        let others: Vec<_> = fs.iter().filter(|f| !f.is_cancelled()).collect();
        for fut in &others {
            assert!(fut.is_done(), "{fut:?}");
            assert_eq!(fut.exception_timeout(Duration::ZERO), None);
        }
        assert!(!others.is_empty());
        // Exactly the calls not cancelled ran.
        assert_eq!(started.load(Ordering::SeqCst), others.len());
    }

    // test_concurrent_futures.test_shutdown.ExecutorShutdownTest.test_hang_gh83386
    // (in process: see the header)
    #[test]
    fn test_hang_gh83386() {
        let t = ThreadPool::new(3).unwrap();
        let printed = Arc::new(Mutex::new(String::new()));
        let out = printed.clone();
        let future = t
            .submit(move || {
                thread::sleep(Duration::from_millis(50));
                out.lock().unwrap().push_str("apple");
            })
            .unwrap();
        let start = Instant::now();
        t.shutdown(Shutdown::no_wait());
        assert!(start.elapsed() < LONG, "shutdown(wait=false) waited");
        drop_pool(t);
        assert_eq!(*printed.lock().unwrap(), "apple");
        assert_eq!(future.result_timeout(Duration::ZERO), Ok(()));
    }

    // test_concurrent_futures.test_shutdown.ExecutorShutdownTest.test_hang_gh94440
    #[test]
    fn test_hang_gh94440() {
        let executor = ThreadPool::new(1).unwrap();
        executor.submit(|| 0).unwrap().result_timeout(LONG).unwrap();
        executor.submit(|| 0).unwrap().cancel();
        shut_down(executor, Shutdown::wait());
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_threads_terminate
    #[test]
    fn test_threads_terminate() {
        let executor = ThreadPool::builder().max_workers(5).thread_name_prefix("terminate").build().unwrap();
        let sem = Gate::new();
        for _ in 0..3 {
            let sem = sem.clone();
            drop(executor.submit(move || sem.wait()).unwrap());
        }
        let threads = workers_named("terminate");
        assert_eq!(threads.len(), 3);
        sem.open();
        shut_down(executor, Shutdown::wait());
        for t in threads {
            assert!(!t.is_alive(), "{t:?}");
        }
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_context_manager_shutdown
    #[test]
    fn test_context_manager_shutdown() {
        let threads = spawn(|| {
            let e = ThreadPool::builder().max_workers(5).thread_name_prefix("with-block").build().unwrap();
            let results: Vec<_> = e.map(|n: i32| n.abs(), -5..5).unwrap().collect();
            assert_eq!(results, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4].map(Ok));
            workers_named("with-block")
            // `e` is dropped here: the end of the `with` block.
        })
        .join();
        assert!(!threads.is_empty());
        for t in threads {
            assert!(!t.is_alive(), "{t:?}");
        }
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_del_shutdown
    #[test]
    fn test_del_shutdown() {
        let executor = ThreadPool::builder().max_workers(5).thread_name_prefix("del").build().unwrap();
        let res = executor.map(|n: i32| n.abs(), -5..5).unwrap();
        let threads = workers_named("del");
        drop_pool(executor);
        for t in threads {
            assert!(!t.is_alive(), "{t:?}");
        }
        // The results were all computed before the pool shut down.
        let res: Vec<_> = res.collect();
        assert_eq!(res, (-5..5).map(|v: i32| Ok(v.abs())).collect::<Vec<_>>());
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_shutdown_no_wait
    #[test]
    fn test_shutdown_no_wait() {
        let executor = ThreadPool::builder().max_workers(5).thread_name_prefix("no-wait").build().unwrap();
        let res = executor.map(|n: i32| n.abs(), -5..5).unwrap();
        let threads = workers_named("no-wait");
        executor.shutdown(Shutdown::no_wait());
        for t in &threads {
            wait_until("a worker ended", || !t.is_alive());
        }
        let res: Vec<_> = res.collect();
        assert_eq!(res, (-5..5).map(|v: i32| Ok(v.abs())).collect::<Vec<_>>());
        drop_pool(executor);
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_thread_names_assigned
    #[test]
    fn test_thread_names_assigned() {
        let executor = ThreadPool::builder().max_workers(5).thread_name_prefix("SpecialPool").build().unwrap();
        let results = executor.map(|n: i32| n.abs(), -5..5).unwrap();
        let threads = workers_named("SpecialPool");
        drop_pool(executor);
        assert!(!threads.is_empty());
        for t in threads {
            assert!(is_worker_name(t.name(), "SpecialPool", 5), "{}", t.name());
            assert!(!t.is_alive());
        }
        drop(results);
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_thread_names_default
    #[test]
    fn test_thread_names_default() {
        let executor = ThreadPool::builder().max_workers(5).build().unwrap();
        let names: Vec<String> =
            collect(executor.map(|_: i32| concur::thread::current().name().to_string(), -5..5).unwrap())
                .into_iter()
                .map(Result::unwrap)
                .collect();
        let prefix = names[0].rsplit_once('_').expect("a worker name has a `_`").0.to_string();
        let pool_number = prefix.strip_prefix("ThreadPool-").expect("the default prefix");
        assert!(pool_number.parse::<usize>().is_ok(), "{prefix}");
        for name in &names {
            assert!(is_worker_name(name, &prefix, 5), "{name}");
        }
        let threads = workers_named(&prefix);
        // Reasonably sane and unique: another pool gets another prefix.
        let other = ThreadPool::new(1).unwrap();
        let other_name =
            other.submit(|| concur::thread::current().name().to_string()).unwrap().result_timeout(LONG).unwrap();
        assert!(other_name.starts_with("ThreadPool-") && !is_worker_name(&other_name, &prefix, 5), "{other_name}");
        drop_pool(executor);
        for t in threads {
            assert!(!t.is_alive());
        }
        drop_pool(other);
    }

    // test_concurrent_futures.test_shutdown.ThreadPoolShutdownTest.test_cancel_futures_wait_false
    // (in process: see the header)
    #[test]
    fn test_cancel_futures_wait_false() {
        let t = ThreadPool::builder().build().unwrap();
        let printed = Arc::new(AtomicBool::new(false));
        let out = printed.clone();
        let future = t
            .submit(move || {
                thread::sleep(Duration::from_millis(10));
                out.store(true, Ordering::SeqCst);
            })
            .unwrap();
        t.shutdown(Shutdown::no_wait().cancel_futures());
        drop_pool(t);
        // gh-116682: the call may have been cancelled before it started.
        if future.is_cancelled() {
            assert!(!printed.load(Ordering::SeqCst));
        } else {
            assert_eq!(future.result_timeout(Duration::ZERO), Ok(()));
            assert!(printed.load(Ordering::SeqCst));
        }
    }
}

thread_local! {
    /// `test_init.INITIALIZER_STATUS`, per thread: the initializer must run on
    /// the worker that runs the calls.
    static INITIALIZER_STATUS: Cell<&'static str> = const { Cell::new("uninitialized") };
}

fn get_init_status() -> &'static str {
    INITIALIZER_STATUS.with(Cell::get)
}

/// `test_init.py`: `InitializerMixin` for threads.
mod thread_pool_initializer_test {
    use super::*;

    // test_concurrent_futures.test_init.InitializerMixin.test_initializer
    #[test]
    fn test_initializer() {
        let worker_count = 2;
        let executor = ThreadPool::builder()
            .max_workers(worker_count)
            .initializer(|| INITIALIZER_STATUS.with(|status| status.set("initialized")))
            .build()
            .unwrap();
        let futures: Vec<_> = (0..worker_count).map(|_| executor.submit(get_init_status).unwrap()).collect();
        for f in futures {
            assert_eq!(f.result_timeout(LONG), Ok("initialized"));
        }
        // It ran on the workers only.
        assert_eq!(get_init_status(), "uninitialized");
    }
}

/// `init_fail` of `test_init.py`.
fn init_fail() {
    thread::sleep(Duration::from_millis(100)); // let some futures be scheduled
    panic!("error in initializer");
}

/// `test_init.py`: `FailingInitializerMixin` for threads.
mod thread_pool_failing_initializer_test {
    use super::*;

    // test_concurrent_futures.test_init.FailingInitializerMixin.test_initializer
    #[test]
    fn test_initializer() {
        let executor = ThreadPool::builder().max_workers(2).initializer(init_fail).build().unwrap();
        match executor.submit(get_init_status) {
            // Perhaps the executor is already broken.
            Err(SubmitError::Broken(_)) => {}
            Ok(future) => match future.result_timeout(LONG) {
                Err(FutureError::Failed(why)) => assert!(why.contains("error in initializer"), "{why}"),
                other => panic!("expected the broken pool to fail the call, got {other:?}"),
            },
            Err(other) => panic!("{other}"),
        }
        // At some point, the executor should break...
        wait_until("the pool is broken", || format!("{executor:?}").contains("broken: Some"));
        // ... and from this point submit() is guaranteed to fail.
        match executor.submit(get_init_status) {
            Err(SubmitError::Broken(why)) => assert!(why.contains("error in initializer"), "{why}"),
            other => panic!("expected SubmitError::Broken, got {other:?}"),
        }
        drop_pool(executor);
    }
}

/// What concur adds, or does its own way; and the cases that found bugs.
mod concur_only {
    use super::*;
    use static_assertions::assert_impl_all;

    assert_impl_all!(ThreadPool: Send, Sync, std::fmt::Debug);

    // concur: a worker started for a call has that call from the moment
    // `submit` returns, so a shutdown that cancels right after cannot take
    // it: the worker is running by then, as Python's `Thread.start()`
    // promises. The call behind it is cancelled unless the worker had
    // already taken it too.
    #[test]
    fn the_call_that_started_a_worker_is_never_cancelled() {
        for _ in 0..100 {
            let pool = ThreadPool::new(1).unwrap();
            let first = pool.submit(|| 1).unwrap();
            let second = pool.submit(|| 2).unwrap();
            shut_down(pool, Shutdown::wait().cancel_futures());
            assert_eq!(first.result_timeout(Duration::ZERO), Ok(1));
            assert!(second.is_cancelled() || second.result_timeout(Duration::ZERO) == Ok(2), "{second:?}");
        }
    }
    assert_impl_all!(MapResults<String>: Send, ExactSizeIterator, std::fmt::Debug);
    assert_impl_all!(SubmitError: Send, Sync, Clone, std::error::Error);
    assert_impl_all!(concur::executor::ThreadPoolBuilder: Send, Sync, Clone, std::fmt::Debug);

    #[test]
    fn errors_say_what_happened() {
        assert_eq!(SubmitError::ShutDown.to_string(), "cannot submit: the pool is shut down");
        assert_eq!(
            SubmitError::Broken("an initializer panicked: oops".into()).to_string(),
            "cannot submit: the pool is broken: an initializer panicked: oops"
        );
    }

    #[test]
    fn no_thread_starts_before_the_first_submit() {
        let pool = ThreadPool::builder().max_workers(4).thread_name_prefix("lazy").build().unwrap();
        thread::sleep(Duration::from_millis(10));
        assert!(workers_named("lazy").is_empty());
        assert!(format!("{pool:?}").contains("workers: 0"), "{pool:?}");
        pool.submit(|| ()).unwrap().result_timeout(LONG).unwrap();
        assert_eq!(workers_named("lazy").len(), 1);
        drop_pool(pool);
        assert!(workers_named("lazy").is_empty());
    }

    #[test]
    fn drop_waits_for_every_queued_call() {
        let pool = ThreadPool::new(2).unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let futures: Vec<_> = (0..20)
            .map(|_| {
                let ran = ran.clone();
                pool.submit(move || {
                    thread::sleep(Duration::from_millis(2));
                    ran.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
            })
            .collect();
        drop_pool(pool);
        assert_eq!(ran.load(Ordering::SeqCst), 20);
        assert!(futures.iter().all(|f| f.result_timeout(Duration::ZERO) == Ok(())));
    }

    #[test]
    fn map_yields_in_the_order_of_the_items_not_of_finishing() {
        let pool = ThreadPool::new(4).unwrap();
        // Later items finish first.
        let results = pool
            .map(
                |i: u64| {
                    thread::sleep(Duration::from_millis(5 * (8 - i)));
                    i * 10
                },
                0..8,
            )
            .unwrap();
        assert_eq!(results.len(), 8);
        assert_eq!(collect(results), (0..8).map(|i| Ok(i * 10)).collect::<Vec<_>>());
    }

    #[test]
    fn map_on_a_shut_down_pool_is_refused() {
        let pool = ThreadPool::new(1).unwrap();
        pool.shutdown(Shutdown::wait());
        assert_eq!(pool.map(|n: i32| n, 0..3).unwrap_err(), SubmitError::ShutDown);
        assert_eq!(pool.map_timeout(|n: i32| n, 0..3, LONG).unwrap_err(), SubmitError::ShutDown);
    }

    #[test]
    fn dropping_map_results_cancels_the_calls_not_started() {
        let pool = ThreadPool::new(1).unwrap();
        let event = Gate::new();
        let blocker = {
            let event = event.clone();
            pool.submit(move || event.wait()).unwrap()
        };
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let results = pool.map(move |_: i32| counter.fetch_add(1, Ordering::SeqCst), 0..5).unwrap();
        drop(results);
        event.open();
        assert_eq!(blocker.result_timeout(LONG), Ok(true));
        drop_pool(pool);
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_panicking_call_fails_its_future_and_the_worker_goes_on() {
        let pool = ThreadPool::builder().max_workers(1).thread_name_prefix("survivor").build().unwrap();
        let failed = pool.submit(|| -> u8 { panic!("out of paper") }).unwrap();
        assert_eq!(failed.result_timeout(LONG), Err(FutureError::Panicked("out of paper".into())));
        let message = String::from("formatted: 42");
        let failed = pool.submit(move || -> u8 { panic!("{message}") }).unwrap();
        assert_eq!(failed.result_timeout(LONG), Err(FutureError::Panicked("formatted: 42".into())));
        let name = pool.submit(|| concur::thread::current().name().to_string()).unwrap();
        assert_eq!(name.result_timeout(LONG), Ok("survivor_0".to_string()));
        assert_eq!(workers_named("survivor").len(), 1);
        drop_pool(pool);
    }

    #[test]
    fn a_future_is_running_while_its_call_runs() {
        let pool = ThreadPool::new(1).unwrap();
        let event = Gate::new();
        let first = {
            let event = event.clone();
            pool.submit(move || event.wait()).unwrap()
        };
        let queued = pool.submit(|| true).unwrap();
        wait_until("the first call runs", || first.is_running());
        assert!(!queued.is_running() && !queued.is_done());
        assert!(!first.cancel(), "a running call cannot be cancelled");
        assert!(queued.cancel(), "a queued call can");
        event.open();
        assert_eq!(first.result_timeout(LONG), Ok(true));
        assert_eq!(queued.result_timeout(LONG), Err(FutureError::Cancelled));
        // The pool goes on after the cancelled call.
        assert_eq!(pool.submit(|| 5).unwrap().result_timeout(LONG), Ok(5));
    }

    #[test]
    fn a_call_may_submit_to_its_own_pool() {
        let pool = Arc::new(ThreadPool::new(1).unwrap());
        let inner = pool.clone();
        let outer = pool
            .submit(move || {
                // With one worker, the inner call can only run after this one.
                inner.submit(|| 21).unwrap()
            })
            .unwrap();
        let (done, _) = wait([&outer], ReturnWhen::AllCompleted, Some(LONG));
        assert_eq!(done.len(), 1);
        let inner_future = outer.into_result().unwrap();
        assert_eq!(inner_future.result_timeout(LONG).map(|n| n * 2), Ok(42));
        spawn(move || pool.shutdown(Shutdown::wait())).join();
    }

    #[test]
    fn shutdown_twice_does_no_harm() {
        let pool = ThreadPool::new(2).unwrap();
        let f = pool.submit(|| 1).unwrap();
        pool.shutdown(Shutdown::no_wait());
        let pool = spawn(move || {
            pool.shutdown(Shutdown::wait());
            // Nothing is left to cancel.
            pool.shutdown(Shutdown::wait().cancel_futures());
            pool
        })
        .join();
        assert_eq!(f.result_timeout(LONG), Ok(1));
        assert_eq!(pool.submit(|| 2).unwrap_err(), SubmitError::ShutDown);
        assert!(format!("{pool:?}").contains("shut_down: true"), "{pool:?}");
        drop_pool(pool);
    }

    #[test]
    fn shutdown_without_wait_returns_while_a_call_runs() {
        let pool = ThreadPool::new(1).unwrap();
        let event = Gate::new();
        let running = {
            let event = event.clone();
            pool.submit(move || event.wait()).unwrap()
        };
        wait_until("the call runs", || running.is_running());
        pool.shutdown(Shutdown::no_wait());
        assert!(running.is_running(), "shutdown(wait=false) returned at once");
        assert_eq!(pool.submit(|| true).unwrap_err(), SubmitError::ShutDown);
        event.open();
        assert_eq!(running.result_timeout(LONG), Ok(true));
        drop_pool(pool);
    }

    #[test]
    fn a_failing_initializer_fails_every_queued_call_without_running_it() {
        let pool = ThreadPool::builder().max_workers(2).initializer(init_fail).build().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let mut accepted = Vec::new();
        for _ in 0..5 {
            let ran = ran.clone();
            match pool.submit(move || ran.store(true, Ordering::SeqCst)) {
                Ok(future) => accepted.push(future),
                Err(SubmitError::Broken(_)) => {}
                Err(other) => panic!("{other}"),
            }
        }
        for future in &accepted {
            match future.result_timeout(LONG) {
                Err(FutureError::Failed(why)) => assert!(why.contains("error in initializer"), "{why}"),
                other => panic!("expected a failure, got {other:?}"),
            }
        }
        assert!(!ran.load(Ordering::SeqCst));
        // Once the break is visible, no call is accepted (see
        // `a_call_submitted_after_the_queued_calls_failed_is_refused` for
        // the moment before).
        wait_until("the pool is broken", || format!("{pool:?}").contains("broken: Some"));
        assert!(matches!(pool.submit(|| ()), Err(SubmitError::Broken(_))));
        assert!(matches!(pool.map(|n: u8| n, 0..2), Err(SubmitError::Broken(_))));
        // Shutting a broken pool down still works, and says it is shut down.
        shut_down(pool, Shutdown::wait());
    }

    #[test]
    fn a_call_submitted_after_the_queued_calls_failed_is_refused() {
        const POOLS: usize = 100;
        let mut accepted = 0;
        let mut stranded = 0;
        for _ in 0..POOLS {
            let pool = ThreadPool::builder()
                .max_workers(1)
                // A panic without the panic hook's report, which would only
                // add noise 100 times.
                .initializer(|| panic::resume_unwind(Box::new("error in initializer")))
                .build()
                .unwrap();
            let queued = pool.submit(|| ()).unwrap();
            assert!(matches!(queued.result_timeout(LONG), Err(FutureError::Failed(_))));
            if let Ok(late) = pool.submit(|| ()) {
                accepted += 1;
                if late.result_timeout(Duration::from_millis(20)).is_err_and(|e| matches!(e, FutureError::Timeout(_))) {
                    stranded += 1;
                }
            }
        }
        assert_eq!(accepted, 0, "{accepted} of {POOLS} broken pools accepted a call; {stranded} of those never ran it");
    }

    #[test]
    fn broken_pool_never_strands_an_accepted_call() {
        // The initializer fails once 1,000 calls are queued, so that failing
        // them takes a while; the submitter goes on meanwhile.
        const QUEUED: usize = 1_000;
        let gate = Gate::new();
        let pool = {
            let gate = gate.clone();
            Arc::new(
                ThreadPool::builder()
                    .max_workers(1)
                    .initializer(move || {
                        gate.wait();
                        // A panic without the panic hook's report, which
                        // would only slow the break down.
                        panic::resume_unwind(Box::new("error in initializer"));
                    })
                    .build()
                    .unwrap(),
            )
        };
        let finished = Arc::new(AtomicUsize::new(0));
        let submitter = {
            let (pool, finished) = (pool.clone(), finished.clone());
            spawn(move || {
                let mut accepted = 0;
                loop {
                    match pool.submit(|| ()) {
                        Ok(future) => {
                            accepted += 1;
                            let finished = finished.clone();
                            future.add_done_callback(move |_| {
                                finished.fetch_add(1, Ordering::SeqCst);
                            });
                            if accepted == QUEUED {
                                gate.open();
                            }
                        }
                        Err(SubmitError::Broken(_)) => return accepted,
                        Err(other) => panic!("{other}"),
                    }
                }
            })
        };
        let accepted = submitter.join();
        let deadline = Instant::now() + LONG;
        while finished.load(Ordering::SeqCst) < accepted && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        let finished = finished.load(Ordering::SeqCst);
        assert_eq!(finished, accepted, "{} of {accepted} accepted calls never finished: {pool:?}", accepted - finished);
    }

    #[test]
    fn shutdown_with_wait_waits_in_every_caller() {
        let pool = Arc::new(ThreadPool::new(1).unwrap());
        let event = Gate::new();
        let blocker = {
            let event = event.clone();
            pool.submit(move || event.wait()).unwrap()
        };
        wait_until("the call runs", || blocker.is_running());
        let first = {
            let pool = pool.clone();
            spawn(move || pool.shutdown(Shutdown::wait()))
        };
        wait_until("the first shutdown has begun", || format!("{pool:?}").contains("shut_down: true"));
        let opener = {
            let event = event.clone();
            spawn(move || {
                thread::sleep(Duration::from_millis(100));
                event.open();
            })
        };
        let second = pool.clone();
        spawn(move || second.shutdown(Shutdown::wait())).join();
        let done_when_second_returned = blocker.is_done();
        opener.join();
        first.join();
        assert!(done_when_second_returned, "shutdown(wait=true) returned while a call still ran");
    }

    #[test]
    fn callbacks_of_cancelled_calls_may_use_the_pool() {
        let pool = Arc::new(ThreadPool::new(1).unwrap());
        let event = Gate::new();
        let blocker = {
            let event = event.clone();
            pool.submit(move || event.wait()).unwrap()
        };
        wait_until("the call runs", || blocker.is_running());
        let queued: ConcurrentFuture<()> = pool.submit(|| ()).unwrap();
        let (report, reported) = mpsc::channel();
        let in_callback = pool.clone();
        queued.add_done_callback(move |_| {
            let debug = format!("{in_callback:?}");
            let submitted = in_callback.submit(|| ()).map(drop);
            let _ = report.send((debug, submitted));
        });
        let shutter = {
            let pool = pool.clone();
            thread::spawn(move || pool.shutdown(Shutdown::no_wait().cancel_futures()))
        };
        let outcome = reported.recv_timeout(Duration::from_secs(2));
        event.open();
        let (debug, submitted) = outcome.expect("the callback deadlocked inside shutdown");
        assert!(debug.starts_with("ThreadPool"), "{debug}");
        assert_eq!(submitted, Err(SubmitError::ShutDown));
        assert!(queued.is_cancelled());
        shutter.join().unwrap();
        let (done, _) = wait([&blocker], ReturnWhen::AllCompleted, Some(LONG));
        assert_eq!(done.len(), 1);
    }
}
