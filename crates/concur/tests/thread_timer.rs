//! `concur::thread::Timer` against CPython's `Lib/test/test_threading.py`
//! (`TimerTests`), plus what Python's `Timer` leaves unsaid: when it fires,
//! what `cancel` answers, and what dropping one does. Every wait is bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use concur::thread::{self, Builder, JoinStatus, Timer};

const PATIENCE: Duration = Duration::from_secs(30);

/// Joins `timer` with a deadline; its function's value, or `None` if it was
/// cancelled.
fn join<T>(timer: Timer<T>) -> Option<T> {
    assert_eq!(timer.join_timeout(PATIENCE).unwrap(), JoinStatus::Finished, "the timer's thread did not end");
    timer.join().unwrap()
}

/// CPython `TimerTests.test_init_immutable_default_args` (issue 17435): two
/// timers, each with arguments of its own; what one call records does not
/// reach the other. Here the arguments are each closure's captures.
#[test]
fn test_init_immutable_default_args() {
    let callback_args = Arc::new(Mutex::new(Vec::new()));
    let spy = |args: Vec<&'static str>| {
        let seen = Arc::clone(&callback_args);
        move || seen.lock().unwrap().push(args)
    };
    let timer1 = Timer::start(Duration::from_millis(10), spy(Vec::new()));
    join(timer1);
    let timer2 = Timer::start(Duration::from_millis(10), spy(Vec::new()));
    join(timer2);
    assert_eq!(*callback_args.lock().unwrap(), [Vec::<&str>::new(), Vec::new()]);
}

/// The function runs once the interval has passed, not before, on the
/// timer's own thread, and its value comes back from `join`.
#[test]
fn fires_after_the_interval_on_its_own_thread() {
    let interval = Duration::from_millis(50);
    let started = Instant::now();
    let me = thread::current().ident();
    let timer = Builder::new()
        .name("alarm")
        .spawn_timer(interval, move || {
            (started.elapsed(), thread::current().name().to_owned(), thread::current().ident())
        })
        .unwrap();
    assert_eq!(timer.thread().name(), "alarm");
    let (waited, name, ident) = join(timer).expect("not cancelled");
    assert!(waited >= interval, "fired after {waited:?}");
    assert_eq!(name, "alarm");
    assert_ne!(ident, me);
}

/// CPython's `Timer.cancel`: a timer cancelled while it waits never calls
/// its function, and its thread ends at once rather than at the interval.
#[test]
fn cancel_before_it_fires_stops_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let timer = Timer::start(Duration::from_secs(3600), move || c.fetch_add(1, Ordering::SeqCst));
    assert!(timer.thread().is_alive());
    assert!(timer.cancel());
    assert!(timer.cancel(), "cancelling again still answers that it will not run");
    assert_eq!(join(timer), None);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

/// A cancel that comes after the function started changes nothing, and
/// says so.
#[test]
fn cancel_after_it_fired_is_too_late() {
    let (ran_tx, ran_rx) = mpsc::channel();
    let timer = Timer::start(Duration::ZERO, move || ran_tx.send(()).unwrap());
    ran_rx.recv_timeout(PATIENCE).unwrap();
    assert!(!timer.cancel());
    assert_eq!(join(timer), Some(()));
}

/// Dropping the `Timer` does not cancel it: it fires at its time, as a
/// Python `Timer` nobody holds does.
#[test]
fn dropping_the_timer_does_not_cancel_it() {
    let (ran_tx, ran_rx) = mpsc::channel();
    drop(Timer::start(Duration::from_millis(10), move || ran_tx.send("fired").unwrap()));
    assert_eq!(ran_rx.recv_timeout(PATIENCE), Ok("fired"));
}

/// The daemon rule, as for any thread: `concur::run` waits for a
/// non-daemon timer to fire, even one whose handle was dropped, and leaves a
/// daemon timer behind.
#[test]
fn run_waits_for_a_non_daemon_timer_and_not_for_a_daemon_one() {
    let outcome = std::thread::spawn(|| {
        let fired = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&fired);
        let daemon = concur::run(|| {
            drop(
                Builder::new()
                    .daemon(false)
                    .spawn_timer(Duration::from_millis(50), move || f.fetch_add(1, Ordering::SeqCst))
                    .unwrap(),
            );
            Builder::new().daemon(true).spawn_timer(Duration::from_secs(3600), || ()).unwrap()
        });
        // `run` returned: the non-daemon timer had fired, the daemon one not.
        let non_daemon_fired = fired.load(Ordering::SeqCst);
        let daemon_waiting = daemon.thread().is_alive();
        assert!(daemon.cancel());
        (non_daemon_fired, daemon_waiting)
    });
    let deadline = Instant::now() + PATIENCE;
    while !outcome.is_finished() {
        assert!(Instant::now() < deadline, "concur::run did not return");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(outcome.join().unwrap(), (1, true));
}

/// A panic in the function is the timer thread's panic, reported by `join`.
#[test]
fn a_panicking_function_is_reported_by_join() {
    let timer = Timer::start(Duration::ZERO, || -> u8 { panic!("the alarm broke") });
    assert_eq!(timer.join_timeout(PATIENCE).unwrap(), JoinStatus::Finished);
    let error = timer.join().unwrap_err();
    assert!(error.to_string().contains("the alarm broke"), "{error}");
}

/// `Debug` names the thread and the phase.
#[test]
fn debug_shows_the_phase() {
    let timer = Builder::new().name("debugged").spawn_timer(Duration::from_secs(3600), || ()).unwrap();
    let shown = format!("{timer:?}");
    assert!(shown.contains("debugged") && shown.contains("Waiting"), "{shown}");
    timer.cancel();
    assert!(format!("{timer:?}").contains("Cancelled"));
    join(timer);
}
