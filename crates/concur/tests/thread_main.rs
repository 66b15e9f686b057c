//! `concur::thread` cases that need the process's real main thread:
//! `main_thread()` seen from the main thread itself, exact counts of live
//! threads, and `concur::run` waiting as Python's interpreter does at exit.
//!
//! libtest runs every test on a thread of its own, so this file has no test
//! harness (`harness = false` in `Cargo.toml`): `main` runs the cases in
//! order on the main thread and prints one line per case. A watchdog ends
//! the process if a case hangs. Each case names the CPython case of
//! `Lib/test/test_threading.py` it mirrors.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use concur::thread::{self, Builder, JoinStatus, Thread};

mod common;

use common::wait_until;

/// Far longer than anything here should take, even on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    // Before the main thread has asked concur anything, another thread asks
    // for the main thread's handle.
    let asked_first = std::thread::spawn(thread::main_thread).join().unwrap();

    // A plain std thread, which never calls concur, so it is never listed.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(180));
        eprintln!("thread_main: a case has been hanging for 180 s; giving up");
        std::process::exit(2);
    });

    let cases: [(&str, Case); 8] = [
        (
            "main_thread_asked_first_from_another_thread",
            Box::new(move || main_thread_asked_first_from_another_thread(asked_first)),
        ),
        ("test_main_thread", Box::new(test_main_thread)),
        ("enumerate_and_active_count_are_exact", Box::new(enumerate_and_active_count_are_exact)),
        ("test_daemon_param_from_main", Box::new(test_daemon_param_from_main)),
        ("test_join_nondaemon_on_shutdown", Box::new(test_join_nondaemon_on_shutdown)),
        ("run_leaves_daemon_threads_running", Box::new(run_leaves_daemon_threads_running)),
        ("run_resumes_a_panic_of_main_after_waiting", Box::new(run_resumes_a_panic_of_main_after_waiting)),
        ("run_on_another_thread_does_not_wait_for_itself", Box::new(run_on_another_thread_does_not_wait_for_itself)),
    ];
    let mut passed = 0;
    let mut failed = 0;
    for (name, case) in cases {
        match panic::catch_unwind(AssertUnwindSafe(case)) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    println!("thread_main: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The code of one case, which panics if the case fails.
type Case = Box<dyn FnOnce()>;

/// `main_thread()` names the process's first thread even when another
/// thread asks before the main thread has done anything with concur.
fn main_thread_asked_first_from_another_thread(asked_first: Thread) {
    assert_eq!(asked_first.name(), "MainThread");
    assert_eq!(asked_first, thread::current());
    assert_eq!(asked_first.ident(), thread::current().ident());
}

/// CPython `test_main_thread`.
fn test_main_thread() {
    let main = thread::main_thread();
    assert_eq!(main.name(), "MainThread");
    assert_eq!(main, thread::current());
    assert_eq!(main.ident(), thread::current().ident());
    assert!(!main.is_daemon());
    assert!(main.is_alive());

    let (main_seen, current_seen) = thread::spawn(|| (thread::main_thread(), thread::current())).join().unwrap();
    assert_eq!(main_seen, main);
    assert_ne!(main_seen.ident(), current_seen.ident());
}

/// `threading.enumerate()` and `active_count()` (as counted in CPython's
/// `test_dummy_thread_after_fork`): exactly the main thread, the live
/// spawned threads, and the dummies that called `current()`.
fn enumerate_and_active_count_are_exact() {
    let main = thread::main_thread();
    assert_eq!(thread::enumerate(), std::slice::from_ref(&main));
    assert_eq!(thread::active_count(), 1);

    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(parking_lot::Mutex::new(release_rx));
    let spawned: Vec<_> = (0..3)
        .map(|_| {
            let release_rx = Arc::clone(&release_rx);
            thread::spawn(move || {
                let _ = release_rx.lock().recv_timeout(PATIENCE);
            })
        })
        .collect();

    let (dummy_tx, dummy_rx) = mpsc::channel::<Thread>();
    let (dummy_exit_tx, dummy_exit_rx) = mpsc::channel::<()>();
    let foreign = std::thread::spawn(move || {
        dummy_tx.send(thread::current()).unwrap();
        let _ = dummy_exit_rx.recv_timeout(PATIENCE);
    });
    let dummy = dummy_rx.recv_timeout(PATIENCE).unwrap();

    let mut expected = vec![main.clone()];
    expected.extend(spawned.iter().map(|h| h.thread().clone()));
    expected.push(dummy);
    assert_eq!(thread::enumerate(), expected, "listed in the order they became known");
    assert_eq!(thread::active_count(), 5);

    drop(release_tx);
    for handle in spawned {
        handle.join().unwrap();
    }
    dummy_exit_tx.send(()).unwrap();
    foreign.join().unwrap();
    assert_eq!(thread::enumerate(), [main]);
    assert_eq!(thread::active_count(), 1);
}

/// CPython `test_daemon_param`, from the main thread as CPython runs it: a
/// thread made without a daemon flag is not a daemon.
fn test_daemon_param_from_main() {
    let default = thread::spawn(|| ());
    let not_daemon = Builder::new().daemon(false).spawn(|| ()).unwrap();
    let daemon = Builder::new().daemon(true).spawn(|| ()).unwrap();
    assert_eq!((default.is_daemon(), not_daemon.is_daemon(), daemon.is_daemon()), (false, false, true));
    for handle in [default, not_daemon, daemon] {
        handle.join().unwrap();
    }
}

/// CPython `test_join_nondaemon_on_shutdown` (and `ThreadJoinOnShutdown`):
/// when `main` is over, the non-daemon threads still run to their end,
/// including one started while `run` was already waiting.
fn test_join_nondaemon_on_shutdown() {
    let child_woke = Arc::new(AtomicBool::new(false));
    let grandchild_woke = Arc::new(AtomicBool::new(false));
    let (child_flag, grandchild_flag) = (Arc::clone(&child_woke), Arc::clone(&grandchild_woke));
    let answer = concur::run(move || {
        thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            // Spawned after `main` has returned and `run` has started waiting.
            thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                grandchild_flag.store(true, Ordering::SeqCst);
            });
            child_flag.store(true, Ordering::SeqCst);
        });
        "main is done"
    });
    assert_eq!(answer, "main is done");
    assert!(child_woke.load(Ordering::SeqCst));
    assert!(grandchild_woke.load(Ordering::SeqCst));
    assert_eq!(thread::active_count(), 1);
}

/// Daemon threads are not waited for: `run` returns while one is still
/// blocked (it can only finish once this case lets it).
fn run_leaves_daemon_threads_running() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let daemon = concur::run(move || {
        Builder::new()
            .name("background")
            .daemon(true)
            .spawn(move || {
                let _ = release_rx.recv_timeout(PATIENCE);
            })
            .unwrap()
    });
    assert!(daemon.is_alive(), "run returned without waiting for the daemon");
    release_tx.send(()).unwrap();
    daemon.join().unwrap();
}

/// A panic in `main` still lets the non-daemon threads finish, then goes on
/// to the caller unchanged.
fn run_resumes_a_panic_of_main_after_waiting() {
    let finished = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&finished);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        concur::run(move || {
            thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                flag.store(true, Ordering::SeqCst);
            });
            panic!("main failed");
        })
    }));
    let payload = outcome.expect_err("the panic of main comes back out of run");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
    assert!(finished.load(Ordering::SeqCst), "run waited before resuming the panic");
}

/// `run` called on a spawned non-daemon thread waits for the others, never
/// for its own thread (which would never end).
fn run_on_another_thread_does_not_wait_for_itself() {
    let outer = Builder::new()
        .daemon(false)
        .spawn(|| {
            concur::run(|| {
                let inner = thread::spawn(|| 2);
                inner.thread().clone()
            })
        })
        .unwrap();
    assert_eq!(outer.join_timeout(PATIENCE).unwrap(), JoinStatus::Finished);
    let inner = outer.join().unwrap();
    assert!(!inner.is_alive());
    wait_until("only the main thread is left", || thread::active_count() == 1);
}
