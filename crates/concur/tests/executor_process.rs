//! `ProcessPool` against real worker processes.
//!
//! A plain program rather than a libtest harness: the workers are this very
//! executable started again, and must reach `Registry::serve_if_worker` at
//! the top of `main` before anything else runs. Each case prints its name
//! and the program exits non-zero if any fails. Cases mirror CPython's
//! `test_concurrent_futures` where one applies (named in each comment); the
//! kill and bad-input cases are concur's own, since Python breaks the pool
//! where this one replaces the worker.

use std::collections::{BTreeMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use concur::executor::{BuildError, Function, ProcessPool, Registry, Shutdown, SubmitError};
use concur::futures::{as_completed, FutureError};

/// Set in the environment of a pool whose workers must fail at start-up:
/// the workers inherit it and exit before serving.
const EXIT_EARLY: &str = "CONCUR_TEST_WORKER_EXITS_EARLY";

/// Set in the environment of a pool whose workers must break the protocol:
/// they answer every call with a length prefix of 4 GiB and nothing after.
const ANNOUNCE_4_GIB: &str = "CONCUR_TEST_WORKER_ANNOUNCES_4_GIB";

static WARMED: AtomicU32 = AtomicU32::new(0);

struct Functions {
    square: Function<u64, u64>,
    pid: Function<(), u32>,
    nap: Function<u64, u64>,
    marked_nap: Function<(String, u64), u64>,
    explode: Function<String, u64>,
    bad_result: Function<(), BTreeMap<(u8, u8), u8>>,
    warm_up: Function<u32, ()>,
    warmed: Function<(), u32>,
    fib: Function<u32, u64>,
}

fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

fn register(registry: &mut Registry) -> Functions {
    Functions {
        square: registry.register("square", |n: u64| n * n),
        pid: registry.register("pid", |()| std::process::id()),
        nap: registry.register("nap", |ms: u64| {
            std::thread::sleep(Duration::from_millis(ms));
            ms
        }),
        // Creates the file first, so a test can tell the call has begun.
        marked_nap: registry.register("marked_nap", |(path, ms): (String, u64)| {
            std::fs::write(&path, b"begun").expect("the marker file can be written");
            std::thread::sleep(Duration::from_millis(ms));
            ms
        }),
        explode: registry.register("explode", |why: String| -> u64 { panic!("{why}") }),
        bad_result: registry.register("bad_result", |()| BTreeMap::from([((1, 2), 3)])),
        warm_up: registry.register("warm_up", |level: u32| WARMED.store(level, Ordering::SeqCst)),
        warmed: registry.register("warmed", |()| WARMED.load(Ordering::SeqCst)),
        fib: registry.register("fib", fib),
    }
}

fn main() -> ExitCode {
    if std::env::var_os(EXIT_EARLY).is_some() && std::env::var_os(concur::executor::WORKER_ENV).is_some() {
        std::process::exit(3);
    }
    if std::env::var_os(ANNOUNCE_4_GIB).is_some() {
        if let Some(socket) = std::env::var_os(concur::executor::WORKER_ENV) {
            announce_4_gib(&socket);
        }
    }
    let mut registry = Registry::new();
    let functions = register(&mut registry);
    registry.serve_if_worker();
    // Registered after `serve_if_worker`: the parent knows it, workers do not.
    let unknown = registry.register("registered_too_late", |n: u64| n);

    let f = &functions;
    let unknown = &unknown;
    let cases: Vec<(&str, Case<'_>)> = vec![
        ("submit_and_result", Box::new(move || submit_and_result(f))),
        ("map_keeps_input_order", Box::new(move || map_keeps_input_order(f))),
        ("panicking_call_fails_only_its_future", Box::new(move || panicking_call(f))),
        ("sigkill_mid_call_fails_that_future_and_the_pool_goes_on", Box::new(move || sigkill_mid_call(f))),
        ("a_call_whose_worker_died_before_it_began_runs_on_a_fresh_one", Box::new(move || killed_before_it_began(f))),
        ("max_tasks_per_child_replaces_workers", Box::new(move || max_tasks_per_child(f))),
        ("test_max_workers_negative", Box::new(max_workers_negative)),
        ("max_tasks_per_child_zero_is_refused", Box::new(max_tasks_per_child_zero)),
        ("initializer_runs_in_every_worker", Box::new(move || initializer_runs(f))),
        ("failing_initializer_breaks_the_pool", Box::new(move || failing_initializer(f))),
        ("unknown_function_fails_the_future", Box::new(move || unknown_function(f, unknown))),
        ("unreadable_arguments_fail_the_future", Box::new(move || unreadable_arguments(f))),
        ("unwritable_result_fails_the_future", Box::new(move || unwritable_result(f))),
        ("unreadable_result_fails_the_future", Box::new(unreadable_result)),
        (
            "workers_that_exit_at_start_up_fail_each_call_and_the_pool_serves_on",
            Box::new(move || workers_exit_at_start_up(f)),
        ),
        ("a_worker_refuses_a_4_gib_length_and_exits", Box::new(worker_refuses_4_gib)),
        ("a_worker_announcing_4_gib_fails_its_call_and_is_replaced", Box::new(move || pool_refuses_4_gib(f))),
        ("shutdown_cancel_futures_and_submit_after", Box::new(move || shutdown_cancels(f))),
        ("cpu_work_spreads_over_workers", Box::new(move || cpu_work_spreads(f))),
        ("hundred_thousand_calls_across_two_pools_exact", Box::new(move || many_calls(f))),
    ];
    let mut failed = 0;
    let total = cases.len();
    for (name, case) in cases {
        let started = Instant::now();
        match panic::catch_unwind(AssertUnwindSafe(case)) {
            Ok(()) => println!("test {name} ... ok ({:.2?})", started.elapsed()),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("executor_process: {} passed, {failed} failed", total - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One case of this program, named.
type Case<'a> = Box<dyn FnOnce() + 'a>;

const LIMIT: Duration = Duration::from_secs(60);

// test_concurrent_futures.executor.ExecutorTest.test_submit
fn submit_and_result(f: &Functions) {
    let pool = ProcessPool::new(2).unwrap();
    let future = pool.submit(&f.square, 12).unwrap();
    assert_eq!(future.result_timeout(LIMIT), Ok(144));
    let pid = pool.submit(&f.pid, ()).unwrap().result_timeout(LIMIT).unwrap();
    assert_ne!(pid, std::process::id(), "the call ran in another process");
    assert!(pool.pids().contains(&pid));
}

// test_concurrent_futures.executor.ExecutorTest.test_map
fn map_keeps_input_order(f: &Functions) {
    let pool = ProcessPool::new(3).unwrap();
    let squares: Vec<u64> = pool.map(&f.square, 0..20).unwrap().map(Result::unwrap).collect();
    assert_eq!(squares, (0..20).map(|n| n * n).collect::<Vec<_>>());
}

// test_concurrent_futures.executor.ExecutorTest.test_map_exception
fn panicking_call(f: &Functions) {
    let pool = ProcessPool::new(1).unwrap();
    let bad = pool.submit(&f.explode, "bad input".to_string()).unwrap();
    let good = pool.submit(&f.square, 3).unwrap();
    assert_eq!(bad.result_timeout(LIMIT), Err(FutureError::Panicked("bad input".into())));
    assert_eq!(good.result_timeout(LIMIT), Ok(9), "the worker survives a panicking call");
}

fn sigkill_mid_call(f: &Functions) {
    let pool = ProcessPool::new(2).unwrap();
    let marker = std::env::temp_dir().join(format!("concur-test-begun-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let doomed = pool.submit(&f.marked_nap, (marker.display().to_string(), 30_000)).unwrap();
    let others: Vec<_> = (0..6).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    // Wait until the long call has begun in its worker: killed before that,
    // the pool would rightly run it again on a fresh worker.
    let deadline = Instant::now() + LIMIT;
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the long call never began");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::fs::remove_file(&marker);
    for other in &others {
        assert!(other.result_timeout(LIMIT).is_ok());
    }
    // The other calls are done; the long one still holds its worker, so
    // killing every worker pid that is still up hits it (and maybe the idle
    // one, which is replaced too).
    for pid in pool.pids() {
        send_signal("KILL", pid);
    }
    let err = doomed.result_timeout(LIMIT).unwrap_err();
    let FutureError::Failed(message) = &err else { panic!("unexpected {err:?}") };
    assert!(message.contains("was killed by signal 9 (SIGKILL)"), "{message}");
    assert!(message.contains("died while running \"marked_nap\""), "{message}");
    // The pool goes on with new workers. (A signal lands when its target
    // next runs, so the killed idle worker may still look alive when the
    // first of these calls is handed to it: the pool then resends the call,
    // which that worker had not begun, to a fresh one.)
    let after: Vec<u64> = pool.map(&f.square, 0..4).unwrap().map(Result::unwrap).collect();
    assert_eq!(after, [0, 1, 4, 9]);
}

/// A worker killed after the pool handed it a call but before it read it:
/// the call had not begun, so the pool resends it to a fresh worker and it
/// succeeds. (The worker is stopped first, so it cannot read the call.)
fn killed_before_it_began(f: &Functions) {
    let pool = ProcessPool::new(1).unwrap();
    assert_eq!(pool.submit(&f.square, 2).unwrap().result_timeout(LIMIT), Ok(4));
    let [pid] = pool.pids()[..] else { panic!("one worker: {:?}", pool.pids()) };
    send_signal("STOP", pid);
    let call = pool.submit(&f.square, 3).unwrap();
    let deadline = Instant::now() + LIMIT;
    while !call.is_running() {
        assert!(Instant::now() < deadline, "the call was never handed to the worker");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The pool writes the call right after it marks it running.
    std::thread::sleep(Duration::from_millis(100));
    send_signal("KILL", pid);
    assert_eq!(call.result_timeout(LIMIT), Ok(9), "the call ran on a fresh worker");
    assert!(pool.pids().iter().all(|&new| new != pid), "the stopped worker was replaced");
}

/// Sends a signal through the `kill` command, so this test needs no unsafe.
fn send_signal(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}

// test_concurrent_futures.test_process_pool.ProcessPoolExecutorTest.test_max_tasks_per_child
fn max_tasks_per_child(f: &Functions) {
    let pool = ProcessPool::builder().max_workers(1).max_tasks_per_child(1).build().unwrap();
    let pids: HashSet<u32> = (0..3).map(|_| pool.submit(&f.pid, ()).unwrap().result_timeout(LIMIT).unwrap()).collect();
    assert_eq!(pids.len(), 3, "each call ran in a fresh worker");
    let pool = ProcessPool::builder().max_workers(1).max_tasks_per_child(2).build().unwrap();
    let pids: Vec<u32> = (0..4).map(|_| pool.submit(&f.pid, ()).unwrap().result_timeout(LIMIT).unwrap()).collect();
    assert_eq!(pids[0], pids[1]);
    assert_eq!(pids[2], pids[3]);
    assert_ne!(pids[1], pids[2]);
}

// test_concurrent_futures.test_init.InitializerMixin.test_initializer
// test_concurrent_futures.executor.ExecutorTest.test_max_workers_negative
// (0 only: a `usize` cannot be negative). Python raises `ValueError`; here
// both ways of building refuse with an error, not a panic, and start no
// process.
fn max_workers_negative() {
    assert_eq!(ProcessPool::new(0).unwrap_err(), BuildError::ZeroWorkers);
    assert_eq!(ProcessPool::builder().max_workers(0).build().unwrap_err(), BuildError::ZeroWorkers);
    let message = ProcessPool::new(0).unwrap_err().to_string();
    assert!(message.contains("max_workers of at least 1"), "{message}");
}

// CPython's `ProcessPoolExecutor(max_tasks_per_child=0)` raises
// `ValueError: max_tasks_per_child must be >= 1`, whatever `max_workers` is;
// here it is an error, not a panic, and no process starts.
fn max_tasks_per_child_zero() {
    assert_eq!(ProcessPool::builder().max_tasks_per_child(0).build().unwrap_err(), BuildError::ZeroTasksPerChild);
    assert_eq!(
        ProcessPool::builder().max_workers(2).max_tasks_per_child(0).build().unwrap_err(),
        BuildError::ZeroTasksPerChild
    );
    let message = ProcessPool::builder().max_tasks_per_child(0).build().unwrap_err().to_string();
    assert!(message.contains("max_tasks_per_child of at least 1"), "{message}");
}

fn initializer_runs(f: &Functions) {
    let pool = ProcessPool::builder().max_workers(2).initializer(&f.warm_up, 7).build().unwrap();
    let seen: Vec<u32> = (0..4).map(|_| pool.submit(&f.warmed, ()).unwrap().result_timeout(LIMIT).unwrap()).collect();
    assert_eq!(seen, [7, 7, 7, 7]);
}

// test_concurrent_futures.test_init.FailingInitializerMixin.test_initializer
fn failing_initializer(f: &Functions) {
    let mut other = Registry::new();
    // A handle whose name the workers run as `explode`, which panics.
    let failing: Function<String, ()> = other.register("explode", |_: String| ());
    let pool = ProcessPool::builder().max_workers(1).initializer(&failing, "no config".to_string()).build().unwrap();
    let first = pool.submit(&f.square, 2).unwrap();
    let err = first.result_timeout(LIMIT).unwrap_err();
    assert!(matches!(&err, FutureError::Failed(m) if m.contains("initializer \"explode\" failed")), "{err:?}");
    let deadline = Instant::now() + LIMIT;
    loop {
        match pool.submit(&f.square, 3) {
            Err(SubmitError::Broken(reason)) => {
                assert!(reason.contains("no config"), "{reason}");
                break;
            }
            Ok(future) => {
                // Submitted before the pool learnt it was broken: it fails.
                assert!(future.result_timeout(LIMIT).is_err());
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert!(Instant::now() < deadline);
    }
}

fn unknown_function(f: &Functions, unknown: &Function<u64, u64>) {
    let pool = ProcessPool::new(1).unwrap();
    let err = pool.submit(unknown, 1).unwrap().result_timeout(LIMIT).unwrap_err();
    assert!(
        matches!(&err, FutureError::Failed(m) if m.contains("no function named \"registered_too_late\"")),
        "{err:?}"
    );
    assert_eq!(pool.submit(&f.square, 4).unwrap().result_timeout(LIMIT), Ok(16), "the pool keeps serving");
}

fn unreadable_arguments(f: &Functions) {
    let mut other = Registry::new();
    // The workers' `square` takes a number, not text.
    let wrong: Function<String, u64> = other.register("square", |_: String| 0);
    let pool = ProcessPool::new(1).unwrap();
    let err = pool.submit(&wrong, "twelve".into()).unwrap().result_timeout(LIMIT).unwrap_err();
    assert!(
        matches!(&err, FutureError::Failed(m) if m.contains("could not read the arguments of \"square\"")),
        "{err:?}"
    );
    assert_eq!(pool.submit(&f.square, 5).unwrap().result_timeout(LIMIT), Ok(25));
}

fn unwritable_result(f: &Functions) {
    let pool = ProcessPool::new(1).unwrap();
    // A map with tuple keys has no JSON form.
    let err = pool.submit(&f.bad_result, ()).unwrap().result_timeout(LIMIT).unwrap_err();
    assert!(
        matches!(&err, FutureError::Failed(m) if m.contains("could not send back the result of \"bad_result\"")),
        "{err:?}"
    );
    assert_eq!(pool.submit(&f.square, 6).unwrap().result_timeout(LIMIT), Ok(36));
}

fn unreadable_result() {
    let mut other = Registry::new();
    // The workers' `pid` returns a number; this side expects text.
    let wrong: Function<(), String> = other.register("pid", |()| String::new());
    let pool = ProcessPool::new(1).unwrap();
    let err = pool.submit(&wrong, ()).unwrap().result_timeout(LIMIT).unwrap_err();
    assert!(matches!(&err, FutureError::Failed(m) if m.contains("the result of \"pid\" could not be read")), "{err:?}");
}

fn workers_exit_at_start_up(f: &Functions) {
    std::env::set_var(EXIT_EARLY, "1");
    let pool = ProcessPool::new(1).unwrap();
    let futures: Vec<_> = (0..3).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    for future in &futures {
        let err = future.result_timeout(LIMIT).unwrap_err();
        assert!(
            matches!(&err, FutureError::Failed(m) if m.contains("exited with code 3 before connecting")),
            "{err:?}"
        );
    }
    // Once workers can start again, the same pool serves.
    std::env::remove_var(EXIT_EARLY);
    assert_eq!(pool.submit(&f.square, 9).unwrap().result_timeout(LIMIT), Ok(81));
}

/// A worker that breaks the protocol: reads each request, answers with a
/// length prefix of 4 GiB and no bytes, and waits to be killed.
fn announce_4_gib(socket: &std::ffi::OsStr) -> ! {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("the pool's socket");
    loop {
        let mut len = [0; 4];
        if stream.read_exact(&mut len).is_err() {
            std::process::exit(0);
        }
        let mut request = vec![0; u32::from_be_bytes(len) as usize];
        stream.read_exact(&mut request).expect("the request's bytes");
        stream.write_all(&u32::MAX.to_be_bytes()).expect("the pool reads");
        std::thread::sleep(LIMIT);
    }
}

/// This program as a pool: a worker told of a 4 GiB request refuses it at
/// once and exits, instead of allocating for it or waiting for the bytes.
fn worker_refuses_4_gib() {
    use std::io::Write;
    let socket = std::env::temp_dir().join(format!("concur-test-4gib-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let mut worker = std::process::Command::new(std::env::current_exe().unwrap())
        .env(concur::executor::WORKER_ENV, &socket)
        .spawn()
        .unwrap();
    let (mut stream, _) = listener.accept().unwrap();
    std::fs::remove_file(&socket).unwrap();
    stream.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = worker.kill();
            panic!("the worker still waits for 4 GiB after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(1), "the worker reports the broken connection: {status}");
}

/// The pool told of a 4 GiB answer fails that call with the reason, kills
/// the worker, and serves the next call on a new one.
fn pool_refuses_4_gib(f: &Functions) {
    std::env::set_var(ANNOUNCE_4_GIB, "1");
    let pool = ProcessPool::new(1).unwrap();
    let broken = pool.submit(&f.square, 3).unwrap();
    let err = broken.result_timeout(LIMIT).unwrap_err();
    std::env::remove_var(ANNOUNCE_4_GIB);
    let FutureError::Failed(message) = &err else { panic!("unexpected {err:?}") };
    assert!(message.contains("a message of 4294967295 bytes is over the limit"), "{message}");
    assert!(message.contains("it was stopped"), "{message}");
    assert_eq!(pool.submit(&f.square, 4).unwrap().result_timeout(LIMIT), Ok(16), "a new worker serves");
}

// test_concurrent_futures.test_shutdown.ProcessPoolShutdownTest.test_cancel_futures
fn shutdown_cancels(f: &Functions) {
    let pool = ProcessPool::new(1).unwrap();
    let busy = pool.submit(&f.nap, 300).unwrap();
    let queued: Vec<_> = (0..5).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    while !busy.is_running() {
        std::thread::sleep(Duration::from_millis(5));
    }
    pool.shutdown(Shutdown::wait().cancel_futures());
    assert_eq!(busy.result_timeout(LIMIT), Ok(300), "a running call finishes");
    assert!(queued.iter().all(|q| q.is_cancelled()), "queued calls were cancelled");
    assert_eq!(pool.submit(&f.square, 1).unwrap_err(), SubmitError::ShutDown);
}

fn cpu_work_spreads(f: &Functions) {
    let pool = ProcessPool::new(2).unwrap();
    let futures: Vec<_> = (0..4).map(|_| pool.submit(&f.fib, 24).unwrap()).collect();
    let mut done = 0;
    for finished in as_completed(&futures, Some(LIMIT)) {
        assert_eq!(finished.unwrap().result(), Ok(46_368));
        done += 1;
    }
    assert_eq!(done, 4);
    assert!(pool.pids().len() <= 2);
}

fn many_calls(f: &Functions) {
    const CALLS: u64 = 100_000;
    let pools = [ProcessPool::new(2).unwrap(), ProcessPool::new(1).unwrap()];
    let futures: Vec<_> = (0..CALLS).map(|n| pools[(n % 2) as usize].submit(&f.square, n).unwrap()).collect();
    for (n, future) in (0..CALLS).zip(futures) {
        assert_eq!(future.result_timeout(LIMIT), Ok(n * n), "call {n}");
    }
}
