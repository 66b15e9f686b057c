//! `aio::EventLoop` against CPython's `Lib/test/test_asyncio/test_events.py`
//! and `test_base_events.py` (with `test_runners.py` for `aio::run`):
//! `call_soon` in order and between task steps; `call_later` / `call_at` by
//! deadline, equal deadlines in the order they were set; cancelled handles
//! that never run; `run_forever` and `stop` from a callback, a task,
//! another thread, or before the loop runs; `run_until_complete`; the calls
//! a loop refuses, each with its `LoopError`; tasks left when the loop
//! closes; and debug mode, whose reports are read with a `tracing`
//! subscriber of the test's own. Each test names the CPython case it
//! mirrors in a comment above it.
//!
//! Every test runs on a thread of its own and fails if that thread has not
//! finished within [`common::LONG`], so a bug fails instead of hanging.
//!
//! Changed, because Rust differs:
//! - Python's `RuntimeError`s are `LoopError` variants; calls that return
//!   nothing in Python and have no `Result` here (`call_soon`,
//!   `create_task` on a closed loop) panic, as documented.
//! - CPython mocks the logger (`test_log_slow_callbacks`); here a
//!   [`Recorder`] subscriber collects the `tracing` events.
//! - Timings are real (CPython's test loop fakes its clock), so they are
//!   lower bounds only, and ordering uses gaps of milliseconds.
//!
//! Skipped: sockets, pipes, signals, subprocesses, executors' shutdown,
//! exception handlers (a panic in a callback is reported by Rust's panic
//! hook), and the debug-mode environment variable (setting it would change
//! every loop the other tests of this binary build meanwhile).

mod common;

use common::aio_harness::{bounded, ms};
use common::recorder::Recorder;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concur::aio::{self, Cancelled, EventLoop, LoopError, TaskState};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// A callback that appends `entry` to `log`.
fn push(log: &Log, entry: &str) -> impl FnOnce() + 'static {
    let (log, entry) = (log.clone(), entry.to_string());
    move || log.borrow_mut().push(entry)
}

fn stop_running_loop() {
    aio::running_loop().expect("called on the loop").stop();
}

// ---------------------------------------------------------------------------
// Callbacks and timers
// ---------------------------------------------------------------------------

// test_events.EventLoopTestsMixin.test_call_soon, with many callbacks: they
// run in the order they were scheduled.
#[test]
fn test_call_soon_fifo() {
    let order = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let order = log();
        for n in 0..20 {
            lp.call_soon(push(&order, &n.to_string()));
        }
        lp.call_soon(stop_running_loop);
        lp.run_forever().unwrap();
        let order = order.borrow().clone();
        order
    });
    let expected: Vec<String> = (0..20).map(|n| n.to_string()).collect();
    assert_eq!(order, expected);
}

// The ready queue of test_tasks.SleepTests.test_sleep_zero and
// test_base_events.BaseEventLoopTests.test_run_once: a task's steps and
// call_soon callbacks run in the order they became ready.
#[test]
fn call_soon_interleaves_with_task_steps() {
    let order = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let order = log();
        let steps = order.clone();
        let task = lp.create_task(async move {
            steps.borrow_mut().push("a1".into());
            aio::sleep(Duration::ZERO).await?;
            steps.borrow_mut().push("a2".into());
            aio::sleep(Duration::ZERO).await?;
            steps.borrow_mut().push("a3".into());
            Ok::<_, Cancelled>(())
        });
        lp.call_soon(push(&order, "cb1"));
        lp.call_soon(push(&order, "cb2"));
        lp.run_until_complete(task).unwrap().unwrap();
        let order = order.borrow().clone();
        order
    });
    assert_eq!(order, ["a1", "cb1", "cb2", "a2", "a3"]);
}

// test_events.EventLoopTestsMixin.test_call_later
#[test]
fn test_call_later() {
    let (results, elapsed) = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let results = log();
        let record = push(&results, "hello world");
        let start = Instant::now();
        lp.call_later(ms(100), move || {
            record();
            stop_running_loop();
        });
        lp.run_forever().unwrap();
        let results = results.borrow().clone();
        (results, start.elapsed())
    });
    assert_eq!(results, ["hello world"]);
    assert!(elapsed >= ms(100), "{elapsed:?}");
}

// test_base_events.BaseEventLoopTests.test_time_and_call_at
#[test]
fn test_time_and_call_at() {
    let elapsed = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let start = lp.time();
        let timer = lp.call_at(start + ms(100), stop_running_loop);
        assert_eq!(timer.when(), start + ms(100));
        lp.run_forever().unwrap();
        lp.time() - start
    });
    assert!(elapsed >= ms(100), "{elapsed:?}");
}

// test_base_events.BaseEventLoopTests.test__run_once (timers run by
// deadline, whatever the order they were set in); concur adds that equal
// deadlines run in the order they were set.
#[test]
fn timers_run_in_deadline_order_and_equal_deadlines_in_arrival_order() {
    let order = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let order = log();
        let t0 = lp.time() + ms(20);
        lp.call_at(t0 + ms(30), push(&order, "c"));
        lp.call_at(t0 + ms(10), push(&order, "a"));
        for name in ["b1", "b2", "b3", "b4"] {
            lp.call_at(t0 + ms(20), push(&order, name));
        }
        lp.call_later(ms(10), push(&order, "first"));
        lp.call_at(t0 + ms(40), stop_running_loop);
        lp.run_forever().unwrap();
        let order = order.borrow().clone();
        order
    });
    assert_eq!(order, ["first", "a", "b1", "b2", "b3", "b4", "c"]);
}

// test_base_events.BaseEventLoopTests.test_call_later_negative_delays:
// deadlines already past run at once, earliest first.
#[test]
fn test_call_later_negative_delays() {
    let calls = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let calls = log();
        let now = lp.time();
        lp.call_at(now - ms(1), push(&calls, "a"));
        lp.call_at(now - ms(2), push(&calls, "b"));
        lp.run_until_complete(aio::sleep(ms(20))).unwrap().unwrap();
        let calls = calls.borrow().clone();
        calls
    });
    assert_eq!(calls, ["b", "a"]);
}

// test_events.HandleTests.test_handle (cancel) and
// test_base_events.BaseEventLoopTests.test__run_once_cancelled_event_cleanup:
// cancelled handles never run, whether cancelled before the loop runs or
// by an earlier callback.
#[test]
fn cancelled_handles_never_run() {
    let ran = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let ran = log();
        let soon = lp.call_soon(push(&ran, "soon"));
        let later = lp.call_later(ms(5), push(&ran, "later"));
        let threadsafe = lp.call_soon_threadsafe(|| panic!("a cancelled thread-safe callback ran")).unwrap();
        assert!(!soon.is_cancelled() && !later.is_cancelled() && !threadsafe.is_cancelled());
        soon.cancel();
        later.cancel();
        threadsafe.cancel();
        assert!(soon.is_cancelled() && later.is_cancelled() && threadsafe.is_cancelled());

        // Cancelled by a callback that runs before it is due.
        let late = lp.call_later(ms(30), push(&ran, "late"));
        let to_cancel = late.clone();
        lp.call_later(ms(10), move || to_cancel.cancel());
        lp.call_later(ms(20), push(&ran, "kept"));
        lp.call_later(ms(60), stop_running_loop);
        lp.run_forever().unwrap();
        assert!(late.is_cancelled());
        let ran = ran.borrow().clone();
        ran
    });
    assert_eq!(ran, ["kept"]);
}

// test_base_events.BaseEventLoopTests.test_default_exc_handler_callback: a
// callback that fails does not stop the loop; the next callbacks run.
#[test]
fn a_panicking_callback_does_not_stop_the_loop() {
    let ran = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let ran = log();
        lp.call_soon(|| panic!("zero division in a callback"));
        lp.call_soon(push(&ran, "next"));
        lp.run_until_complete(aio::sleep(ms(5))).unwrap().unwrap();
        let ran = ran.borrow().clone();
        ran
    });
    assert_eq!(ran, ["next"]);
}

// test_base_events.BaseEventLoopTests.test_default_exc_handler_callback,
// for timers: a timer callback that fails does not stop the timers after
// it.
#[test]
fn a_panicking_timer_does_not_stop_later_timers() {
    let ran = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let ran = log();
        lp.call_later(ms(1), || panic!("zero division in a timer"));
        lp.call_later(ms(10), push(&ran, "later timer"));
        lp.run_until_complete(aio::sleep(ms(100))).unwrap().unwrap();
        lp.call_later(ms(1), push(&ran, "timer set afterwards"));
        lp.run_until_complete(aio::sleep(ms(100))).unwrap().unwrap();
        let ran = ran.borrow().clone();
        ran
    });
    assert_eq!(ran, ["later timer", "timer set afterwards"]);
}

// test_events.EventLoopTestsMixin.test_call_soon_threadsafe_same_thread:
// thread-safe and plain callbacks share one first-in, first-out order.
#[test]
fn test_call_soon_threadsafe_same_thread() {
    let results = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let results = Arc::new(Mutex::new(Vec::new()));
        let (hello, world) = (results.clone(), results.clone());
        lp.call_soon_threadsafe(move || hello.lock().unwrap().push("hello")).unwrap();
        lp.call_soon(move || world.lock().unwrap().push("world"));
        lp.call_soon(stop_running_loop);
        lp.run_forever().unwrap();
        let results = results.lock().unwrap().clone();
        results
    });
    assert_eq!(results, ["hello", "world"]);
}

// ---------------------------------------------------------------------------
// run_forever, stop, run_until_complete
// ---------------------------------------------------------------------------

// test_events.EventLoopTestsMixin.test_call_soon: stop from a callback.
#[test]
fn stop_from_a_callback() {
    let results = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let results = log();
        let record = push(&results, "hello world");
        lp.call_soon(move || {
            record();
            stop_running_loop();
        });
        lp.run_forever().unwrap();
        assert!(!lp.is_running());
        let results = results.borrow().clone();
        results
    });
    assert_eq!(results, ["hello world"]);
}

// test_tasks.BaseTaskTests.test_stop_while_run_in_complete's stop from a
// task, in run_forever.
#[test]
fn stop_from_a_task() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let task = lp.create_task(async {
            aio::sleep(ms(10)).await?;
            stop_running_loop();
            Ok::<_, Cancelled>("stopped it")
        });
        lp.run_forever().unwrap();
        assert_eq!(task.result(), Ok(Ok("stopped it")));
    });
}

// test_events.EventLoopTestsMixin.test_call_soon_threadsafe's other thread,
// asking the loop to stop through its handle.
#[test]
fn stop_from_another_thread() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        assert!(!handle.is_running());
        let stopper = std::thread::spawn(move || {
            let deadline = Instant::now() + common::LONG;
            while !handle.is_running() {
                assert!(Instant::now() < deadline, "the loop never ran");
                std::thread::sleep(ms(1));
            }
            std::thread::sleep(ms(20));
            handle.stop();
        });
        let start = Instant::now();
        lp.run_forever().unwrap();
        assert!(start.elapsed() >= ms(20));
        stopper.join().unwrap();
    });
}

// test_base_events.BaseEventLoopTests.test_run_forever_pre_stopped: a stop
// asked for before run_forever lets the ready work run once, then returns;
// the loop can run again afterwards.
#[test]
fn test_run_forever_pre_stopped() {
    let ran = bounded(|| {
        let lp = EventLoop::new().unwrap();
        let ran = log();
        lp.call_soon(push(&ran, "ready"));
        let record = push(&ran, "not yet due");
        lp.call_later(ms(1_000), move || {
            record();
            stop_running_loop();
        });
        lp.stop();
        let start = Instant::now();
        lp.run_forever().unwrap();
        assert!(start.elapsed() < ms(1_000), "run_forever waited for the timer");
        assert_eq!(*ran.borrow(), ["ready"]);

        // Not stuck stopped: the next run_forever runs until told.
        lp.run_forever().unwrap();
        let ran = ran.borrow().clone();
        ran
    });
    assert_eq!(ran, ["ready", "not yet due"]);
}

// test_base_events.BaseEventLoopTests.test_run_forever_pre_stopped, through
// a handle: `loop.call_soon_threadsafe(loop.stop)` before the loop runs.
#[test]
fn stop_through_a_handle_before_the_loop_runs() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        lp.handle().stop();
        let start = Instant::now();
        lp.run_forever().unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

// test_events.EventLoopTestsMixin.test_run_until_complete
#[test]
fn test_run_until_complete() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let t0 = lp.time();
        let value = lp.run_until_complete(async {
            aio::sleep(ms(100)).await.unwrap();
            42
        });
        assert_eq!(value, Ok(42));
        assert!(lp.time() - t0 >= ms(100));
        let task = lp.create_task(async { "a task's value" });
        assert_eq!(lp.run_until_complete(task), Ok("a task's value"));
        lp.close().unwrap();
    });
}

// test_base_events.BaseEventLoopTests.test_run_until_complete_loop (a loop
// runs several times): tasks not finished stay for the next run.
#[test]
fn unfinished_tasks_stay_for_the_next_run() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let task = lp.create_task(async {
            aio::sleep(ms(50)).await?;
            Ok::<_, Cancelled>(7)
        });
        lp.run_until_complete(aio::sleep(ms(1))).unwrap().unwrap();
        assert_eq!(task.state(), TaskState::Running);
        assert_eq!(lp.run_until_complete(task), Ok(Ok(7)));
    });
}

// ---------------------------------------------------------------------------
// What a loop refuses
// ---------------------------------------------------------------------------

// test_base_events.BaseEventLoopTests.test_close and
// test_events.EventLoopTestsMixin.test_close: a closed loop refuses to run
// and to take work; closing twice is fine.
#[test]
fn test_close() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let handle = lp.handle();
        assert!(!lp.is_closed());
        lp.close().unwrap();
        assert!(lp.is_closed());
        // It should be possible to call close() more than once.
        lp.close().unwrap();
        lp.close().unwrap();

        assert_eq!(lp.run_until_complete(async {}), Err(LoopError::Closed));
        assert_eq!(lp.run_forever(), Err(LoopError::Closed));
        assert_eq!(LoopError::Closed.to_string(), "the event loop is closed: create a new EventLoop");
        assert!(matches!(lp.call_soon_threadsafe(|| {}), Err(LoopError::Closed)));
        assert!(matches!(handle.call_soon_threadsafe(|| {}), Err(LoopError::Closed)));
        assert!(matches!(handle.run_coroutine_threadsafe(async {}), Err(LoopError::Closed)));
        assert!(handle.is_closed());
        handle.stop(); // ignored

        for (what, call) in [
            ("call_soon", Box::new(|| drop(lp.call_soon(|| {}))) as Box<dyn Fn()>),
            ("call_at", Box::new(|| drop(lp.call_later(ms(1), || {})))),
            ("create_task", Box::new(|| drop(lp.create_task(async {})))),
        ] {
            let panic =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).expect_err("using a closed loop panics");
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(message.contains(what), "{message}");
            assert!(message.contains("closed event loop"), "{message}");
        }
    });
}

// test_events.EventLoopTestsMixin.test_run_until_complete_nesting: the
// running loop refuses to run again from inside.
#[test]
fn test_run_until_complete_nesting() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let inner = lp.run_until_complete(async {
            assert!(lp.is_running());
            let nested = lp.run_until_complete(async { "never runs" });
            let forever = lp.run_forever();
            aio::sleep(ms(1)).await.unwrap(); // the loop goes on
            (nested, forever)
        });
        assert_eq!(inner, Ok((Err(LoopError::AlreadyRunning), Err(LoopError::AlreadyRunning))));
        assert!(!lp.is_running());
        assert_eq!(lp.run_until_complete(async { 1 }), Ok(1), "usable once it returned");
    });
}

// test_runners.RunTests.test_asyncio_run_from_running_loop and
// test_base_events.RunningLoopTests.test_running_loop_within_a_loop: no
// second loop on a thread whose loop runs.
#[test]
fn test_running_loop_within_a_loop() {
    bounded(|| {
        let outer = EventLoop::new().unwrap();
        let other = EventLoop::new().unwrap();
        let refusals = outer.run_until_complete(async {
            (aio::run(async { "never runs" }), other.run_until_complete(async {}), other.run_forever())
        });
        assert_eq!(
            refusals,
            Ok((Err(LoopError::OtherLoopRunning), Err(LoopError::OtherLoopRunning), Err(LoopError::OtherLoopRunning)))
        );
        // The other loop itself was not harmed.
        assert_eq!(other.run_until_complete(async { 2 }), Ok(2));
    });
}

// test_events.EventLoopTestsMixin.test_close_running_event_loop
#[test]
fn test_close_running_event_loop() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let refused = lp.run_until_complete(async {
            let refused = lp.close();
            aio::sleep(ms(1)).await.unwrap(); // still running
            refused
        });
        assert_eq!(refused, Ok(Err(LoopError::CloseWhileRunning)));
        assert!(!lp.is_closed());
        lp.close().unwrap();
    });
}

// test_events.TestAbstractEventLoop / test_get_event_loop_returns_running_loop
// ("no running event loop"): running_loop outside a loop is an error.
#[test]
fn running_loop_outside_a_loop() {
    bounded(|| {
        assert_eq!(aio::running_loop().unwrap_err(), LoopError::NoRunningLoop);
        let lp = EventLoop::new().unwrap();
        assert_eq!(aio::running_loop().unwrap_err(), LoopError::NoRunningLoop, "built is not running");
        assert_eq!(lp.run_until_complete(async { aio::running_loop().map(|lp| lp.is_running()) }), Ok(Ok(true)));
        assert_eq!(aio::running_loop().unwrap_err(), LoopError::NoRunningLoop, "no longer running");
    });
}

// test_runners.RunTests.test_asyncio_run_cancels_hanging_tasks, and
// EventLoop::close for the loop's own tasks: the tasks left when the loop
// closes end cancelled; their futures are dropped.
#[test]
fn tasks_left_pending_at_close_end_cancelled() {
    struct DropFlag(Rc<Cell<bool>>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let dropped = Rc::new(Cell::new(false));
        let guard = DropFlag(dropped.clone());
        let started = lp.create_task(async move {
            let _guard = guard;
            aio::sleep(Duration::from_secs(100)).await
        });
        lp.run_until_complete(aio::sleep(ms(1))).unwrap().unwrap();
        let never_started = lp.create_task(async { "never" });
        assert_eq!(started.state(), TaskState::Running);
        assert_eq!(never_started.state(), TaskState::Pending);
        lp.close().unwrap();
        assert!(started.is_cancelled() && started.is_done());
        assert!(never_started.is_cancelled());
        assert!(started.result().unwrap_err().is_cancelled());
        assert!(dropped.get(), "the task's future was dropped");

        // aio::run closes its loop the same way.
        let left = aio::run(async { aio::create_task(aio::sleep(Duration::from_secs(100))).task_ref() }).unwrap();
        assert_eq!(left.state(), TaskState::Cancelled);
    });
}

// test_runners.RunTests.test_asyncio_run_cancels_hanging_tasks, with
// cleanup that awaits: the leftover tasks are cancelled, and aio::run waits
// until each has ended before it closes the loop, however long that takes.
#[test]
fn run_waits_for_the_awaiting_cleanup_of_cancelled_leftovers() {
    bounded(|| {
        let cleaned = Rc::new(RefCell::new(Vec::new()));
        let seen = cleaned.clone();
        let started = Instant::now();
        let tasks = aio::run(async move {
            (1..=3u64)
                .map(|n| {
                    let cleaned = seen.clone();
                    aio::create_task(async move {
                        let cancelled = aio::sleep(Duration::from_secs(100)).await.unwrap_err();
                        // Cleanup of different lengths, each awaiting.
                        aio::sleep(ms(10 * n)).await.unwrap();
                        cleaned.borrow_mut().push(n);
                        Err::<(), Cancelled>(cancelled)
                    })
                    .task_ref()
                })
                .collect::<Vec<_>>()
        })
        .unwrap();
        assert_eq!(*cleaned.borrow(), [1, 2, 3]);
        assert!(tasks.iter().all(|task| task.state() == TaskState::Cancelled));
        assert!(started.elapsed() < Duration::from_secs(50), "the sleeps were cancelled, not waited out");
    });
}

// ---------------------------------------------------------------------------
// Debug mode
// ---------------------------------------------------------------------------

// test_base_events.BaseEventLoopTests.test_set_debug
#[test]
fn test_set_debug() {
    bounded(|| {
        assert!(EventLoop::builder().debug(true).build().unwrap().debug());
        assert!(!EventLoop::builder().debug(false).build().unwrap().debug());
    });
}

// test_base_events.BaseEventLoopTests.test_log_slow_callbacks: in debug
// mode, a callback and a task step that hold the loop longer than the
// threshold are reported, the task by name.
#[test]
fn test_log_slow_callbacks() {
    let events = bounded(|| {
        let ((), events) = Recorder::capture(|| {
            let lp = EventLoop::builder().debug(true).slow_callback_duration(ms(50)).build().unwrap();
            lp.call_soon(|| std::thread::sleep(ms(120)));
            let task = lp
                .create_task(async {
                    std::thread::sleep(ms(120));
                    aio::sleep(Duration::ZERO).await?;
                    Ok::<_, Cancelled>(())
                })
                .with_name("stop_loop_coro");
            // A quick task and callback are not reported.
            lp.call_soon(|| {});
            let quick = lp.create_task(async {}).with_name("quick");
            lp.run_until_complete(async move {
                task.await.unwrap().unwrap();
                quick.await.unwrap();
            })
            .unwrap();
        });
        events
    });
    let warnings: Vec<_> = events.iter().filter(|event| event.level == tracing::Level::WARN).collect();
    let callback = warnings
        .iter()
        .find(|event| event.message() == "a callback blocked the event loop")
        .unwrap_or_else(|| panic!("no slow-callback report in {events:?}"));
    let took: u64 = callback.field("took_ms").unwrap().parse().unwrap();
    assert!(took >= 120, "{callback:?}");
    assert_eq!(callback.field("threshold_ms"), Some("50"));
    assert_eq!(callback.span().map(|span| span.name), Some("callback"), "{callback:?}");
    let steps: Vec<_> =
        warnings.iter().filter(|event| event.message() == "a task step blocked the event loop").collect();
    assert_eq!(steps.len(), 1, "only the slow task is reported: {steps:?}");
    // The task is named by the span the warning sits in.
    let span = steps[0].span().unwrap_or_else(|| panic!("no span around {:?}", steps[0]));
    assert_eq!(span.name, "task");
    assert_eq!(span.fields.get("name").map(String::as_str), Some("stop_loop_coro"));
    let took: u64 = steps[0].field("took_ms").unwrap().parse().unwrap();
    assert!(took >= 120, "{:?}", steps[0]);
    // `RUST_LOG=concur::aio=warn` selects them by target.
    assert!(warnings.iter().all(|event| event.target.starts_with("concur::aio")), "{warnings:?}");
}

// An event a slow task logs itself sits in the same span as the loop's
// warning about it, so a reader sees which task said what.
#[test]
fn events_a_task_logs_in_debug_mode_sit_in_its_span() {
    let events = bounded(|| {
        let ((), events) = Recorder::capture(|| {
            let lp = EventLoop::builder().debug(true).build().unwrap();
            let task = lp.create_task(async { tracing::info!("fetching") }).with_name("fetcher");
            lp.run_until_complete(task).unwrap();
        });
        events
    });
    let fetching = events.iter().find(|event| event.message() == "fetching").expect("the task's own event");
    let span = fetching.span().expect("a span around the task's step");
    assert_eq!((span.name, span.fields.get("name").map(String::as_str)), ("task", Some("fetcher")));
}

// test_base_events.BaseEventLoopTests.test_log_slow_callbacks, with debug
// mode off: nothing is reported.
#[test]
fn slow_steps_are_not_reported_outside_debug_mode() {
    let events = bounded(|| {
        let ((), events) = Recorder::capture(|| {
            let lp = EventLoop::builder().debug(false).slow_callback_duration(ms(1)).build().unwrap();
            lp.call_soon(|| std::thread::sleep(ms(20)));
            let task = lp.create_task(async { std::thread::sleep(ms(20)) });
            lp.run_until_complete(task).unwrap();
            drop(lp.create_task(async {}));
            lp.run_until_complete(aio::sleep(ms(1))).unwrap().unwrap();
        });
        events
    });
    assert!(events.is_empty(), "{events:?}");
}

// test_tasks.BaseTaskTests.test_log_destroyed_pending_task (debug mode
// reports a task nobody kept): a task dropped without being awaited or
// read is reported by name in debug mode.
#[test]
fn debug_mode_reports_a_task_dropped_unawaited() {
    let events = bounded(|| {
        let ((), events) = Recorder::capture(|| {
            let lp = EventLoop::builder().debug(true).build().unwrap();
            drop(lp.create_task(async {}).with_name("kill_me"));
            let awaited = lp.create_task(async { 1 }).with_name("awaited");
            lp.run_until_complete(awaited).unwrap();
            let read = lp.create_task(async { 2 }).with_name("read");
            lp.run_until_complete(aio::sleep(ms(1))).unwrap().unwrap();
            assert_eq!(read.result(), Ok(2));
        });
        events
    });
    let dropped: Vec<_> = events
        .iter()
        .filter(|event| event.message() == "a task was dropped without being awaited or its result read")
        .collect();
    assert_eq!(dropped.len(), 1, "{events:?}");
    assert_eq!(dropped[0].field("task"), Some("kill_me"));
    assert_eq!(dropped[0].level, tracing::Level::WARN);
}

// test_futures.BaseFutureTests.test_tb_logger_exception_unretrieved: a
// panic nobody read is logged at error level, in any mode; one that was
// read is not.
#[test]
fn a_panic_nobody_read_is_logged() {
    let events = bounded(|| {
        let ((), events) = Recorder::capture(|| {
            let lp = EventLoop::builder().debug(false).build().unwrap();
            // The default exception handler's call site is shared with the
            // panics of the tests running beside this one. tracing caches
            // a call site's interest from the thread that hits it first,
            // which may have no subscriber: register it here, then have its
            // interest computed again with this thread's subscriber.
            aio::default_exception_handler(&aio::ExceptionContext::new("warm-up"));
            tracing::callsite::rebuild_interest_cache();
            drop(lp.create_task(async { panic!("unretrieved") }).with_name("lost"));
            let read = lp.create_task(async { panic!("retrieved") });
            lp.run_until_complete(aio::sleep(ms(1))).unwrap().unwrap();
            assert!(read.exception().unwrap().is_some());
            drop(read);
            lp.close().unwrap();
        });
        events
    });
    let errors: Vec<_> =
        events.iter().filter(|event| event.level == tracing::Level::ERROR && event.message() != "warm-up").collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_eq!(errors[0].message(), "Task exception was never retrieved");
    assert_eq!(errors[0].field("task"), Some("lost"));
    assert_eq!(errors[0].field("error"), Some("the task panicked: unretrieved"));
}
