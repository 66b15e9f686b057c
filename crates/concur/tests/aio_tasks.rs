//! `aio` tasks against CPython's `Lib/test/test_asyncio/test_tasks.py`:
//! states, results, cancellation (before start, at an await, handled or
//! let out, with a message, counted by `cancelling`, withdrawn by
//! `uncancel`, passed on to an awaited task), `shield`, `gather`, `wait`,
//! `as_completed`, `current_task`, names and done callbacks; with the cases
//! of `test_futures.py` for done callbacks, `test_threads.py` for
//! `to_thread` and `test_events.py` for `run_in_executor`. Each test names
//! the CPython case it mirrors in a comment above it.
//!
//! Every test runs its loop on a thread of its own and fails if that thread
//! has not finished within [`LONG`], so a bug fails instead of hanging.
//!
//! Changed, because Rust differs:
//! - Python's "futures" the tests set by hand (`loop.create_future()`) are
//!   tasks or `aio::cancellable(std::future::pending())` here: a wait that
//!   only a cancellation ends.
//! - An exception is a panic (`Error::Panicked`); an error a body returns is
//!   part of its value, so `wait(FirstException)` stops at panics only.
//! - Awaiting a task moves its value out, so a test that reads the task
//!   after awaiting it keeps a `TaskRef` (`task.as_ref()`) or gets the task
//!   back from `aio::wait`.
//! - Timings use gaps of tens of milliseconds where CPython's test loop
//!   fakes its clock, and only lower bounds or generous upper bounds.
//!
//! Skipped: the `repr` cases (the `Debug` output is not a contract),
//! `ensure_future` and awaitable adapters (a Rust future is already one),
//! context variables (Rust has none), `eager_start`, the introspection
//! helpers (`_enter_task` …), `get_stack` and tracebacks, and the C/Python
//! implementation variants.

mod common;

use common::aio_harness::{eventually, finished, nap, run, yield_now};

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concur::aio::{self, Cancelled, Error, ReturnWhen, Task, TaskState};
use concur::executor::ThreadPool;

/// A task that sleeps for `ms` and then returns `value`; a cancellation
/// at the sleep ends it cancelled.
fn sleeper<T: 'static>(ms: u64, value: T) -> Task<Result<T, Cancelled>> {
    aio::create_task(async move {
        aio::sleep(Duration::from_millis(ms)).await?;
        Ok(value)
    })
}

/// A task that sleeps for `ms` and then panics with `message`.
fn failing(ms: u64, message: &'static str) -> Task<Result<(), Cancelled>> {
    aio::create_task(async move {
        aio::sleep(Duration::from_millis(ms)).await?;
        panic!("{message}")
    })
}

fn cancelled_message(error: &Error) -> Option<String> {
    match error {
        Error::Cancelled(cancelled) => cancelled.message.as_deref().map(str::to_string),
        other => panic!("expected a cancellation, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// States and results
// ---------------------------------------------------------------------------

// test_tasks.BaseTaskTests.test_task_repr (its states: pending, then
// finished with a result) and test_task_class; concur also names the state
// of a started task paused at an await.
#[test]
fn task_states_pending_running_done() {
    run(|| async {
        let task = aio::create_task(async {
            let me = aio::current_task().expect("a task runs as the current task");
            assert_eq!(me.state(), TaskState::Running);
            aio::sleep(Duration::from_millis(20)).await?;
            Ok::<_, Cancelled>("abc")
        });
        assert_eq!(task.state(), TaskState::Pending);
        assert!(!task.is_done() && !task.is_cancelled());
        yield_now().await;
        assert_eq!(task.state(), TaskState::Running);
        assert!(!task.is_done() && !task.is_cancelled());
        let task = finished(task).await;
        assert_eq!(task.state(), TaskState::Done);
        assert!(task.is_done() && !task.is_cancelled());
        assert_eq!(task.result(), Ok(Ok("abc")));
    });
}

// test_tasks.BaseTaskTests.test_task_basics
#[test]
fn test_task_basics() {
    async fn inner1() -> u32 {
        42
    }
    async fn inner2() -> u32 {
        1000
    }
    let total = run(|| async {
        let outer = aio::create_task(async { inner1().await + inner2().await });
        outer.await
    });
    assert_eq!(total, Ok(1042));
}

// test_futures.BaseFutureTests.test_result / test_exception (the
// InvalidStateError of an unfinished future is Error::NotDone here).
#[test]
fn result_and_exception_before_and_after_the_task_finishes() {
    run(|| async {
        let task = aio::create_task(async { 7 });
        assert_eq!(task.result(), Err(Error::NotDone));
        assert_eq!(task.exception(), Err(Error::NotDone));
        yield_now().await;
        assert_eq!(task.result(), Ok(7));
        assert_eq!(task.result(), Ok(7), "result() reads, it does not take");
        assert_eq!(task.exception(), Ok(None));
        assert_eq!(task.await, Ok(7));
        assert_eq!(
            Error::NotDone.to_string(),
            "the task has not finished: await it, or read its result once it is done"
        );
    });
}

// test_tasks.BaseTaskTests.test_exception_traceback (a task's exception is
// there once it failed): a panic is the task's exception.
#[test]
fn panics_become_error_panicked() {
    run(|| async {
        let boom = aio::create_task(async { panic!("boom") });
        let formatted = aio::create_task(async {
            let code = 7;
            panic!("code {code}")
        });
        yield_now().await;
        assert_eq!(boom.exception(), Ok(Some(Error::Panicked("boom".into()))));
        assert_eq!(boom.state(), TaskState::Done, "a panic finishes a task; it is not a cancellation");
        let error = boom.await.unwrap_err();
        assert_eq!(error.to_string(), "the task panicked: boom");
        assert_eq!(formatted.await, Err(Error::Panicked("code 7".into())));
        // The loop and the task awaiting them go on.
        nap(1).await;
    });
}

// ---------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------

// test_tasks.BaseTaskTests.test_cancel_with_message_before_starting_task
#[test]
fn test_cancel_with_message_before_starting_task() {
    run(|| async {
        let started = Rc::new(Cell::new(false));
        let flag = started.clone();
        let task = aio::create_task(async move {
            flag.set(true);
            aio::sleep(Duration::from_secs(10)).await
        });
        // No sleep before the cancel: the task has not run.
        assert!(task.cancel_with("my message"));
        let task = finished(task).await;
        assert!(task.is_cancelled());
        assert!(!started.get(), "a task cancelled before it started never runs its body");
        let error = task.exception().unwrap().expect("a cancelled task has an exception");
        assert_eq!(cancelled_message(&error).as_deref(), Some("my message"));
    });
}

// test_tasks.BaseTaskTests.test_cancel
#[test]
fn test_cancel() {
    run(|| async {
        let task = sleeper(10_000, 12);
        let target = task.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            target.cancel();
        });
        let state = task.task_ref();
        let start = Instant::now();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(start.elapsed() < Duration::from_secs(5), "the 10 s sleep was cut short");
        assert_eq!(state.state(), TaskState::Cancelled);
        assert!(!state.cancel(), "a finished task cannot be cancelled");
    });
}

// test_tasks.BaseTaskTests.test_cancel_yield, as CPython writes it: the
// main task lets the other run one step (run_briefly), then cancels it
// while it is paused at its first `sleep(0)`.
#[test]
fn test_cancel_yield() {
    run(|| async {
        let task = aio::create_task(async {
            aio::sleep(Duration::ZERO).await?;
            aio::sleep(Duration::ZERO).await?;
            Ok::<_, Cancelled>(12)
        });
        yield_now().await; // start it
        assert!(task.cancel(), "the task finished during one sleep(0) of the main task");
        let task = finished(task).await;
        assert!(task.is_done() && task.is_cancelled());
        assert!(!task.cancel());
        assert!(task.result().unwrap_err().is_cancelled());
    });
}

// test_tasks.BaseTaskTests.test_cancel_yield, with the canceller a task of
// the loop: tasks take turns one step at a time, so the cancel arrives
// while the target is paused at a `sleep(0)`.
#[test]
fn test_cancel_yield_from_a_task() {
    run(|| async {
        let task = aio::create_task(async {
            aio::sleep(Duration::ZERO).await?;
            aio::sleep(Duration::ZERO).await?;
            Ok::<_, Cancelled>(12)
        });
        let target = task.task_ref();
        let canceller = aio::create_task(async move {
            aio::sleep(Duration::ZERO).await?; // the target took its first step
            Ok::<_, Cancelled>(target.cancel())
        });
        assert_eq!(canceller.await, Ok(Ok(true)));
        let task = finished(task).await;
        assert!(task.is_done() && task.is_cancelled());
        assert!(!task.cancel());
        assert!(task.result().unwrap_err().is_cancelled());
    });
}

// test_tasks.BaseTaskTests.test_cancel_task_catching: a body that handles
// the cancellation (drops the error) ends done, with its value.
#[test]
fn test_cancel_task_catching() {
    run(|| async {
        let task = aio::create_task(async {
            match aio::sleep(Duration::from_secs(10)).await {
                Err(_) => 42,
                Ok(()) => 0,
            }
        });
        yield_now().await; // start it
        assert!(task.cancel());
        let task = finished(task).await;
        assert_eq!(task.result(), Ok(42));
        assert!(!task.is_cancelled());
        assert_eq!(task.state(), TaskState::Done);
    });
}

// test_tasks.BaseTaskTests.test_cancel_task_ignoring: after handling the
// cancellation the body awaits again, undisturbed.
#[test]
fn test_cancel_task_ignoring() {
    run(|| async {
        let task = aio::create_task(async {
            let _ignored = aio::sleep(Duration::from_secs(10)).await.is_err();
            aio::sleep(Duration::from_millis(5)).await?;
            Ok::<_, Cancelled>(42)
        });
        yield_now().await;
        assert!(task.cancel());
        let task = finished(task).await;
        assert_eq!(task.result(), Ok(Ok(42)));
        assert!(!task.is_cancelled());
    });
}

// test_tasks.BaseTaskTests.test_task_cancel_message_getter and
// test_cancel_with_message_then_future_result: the message reaches the
// body at its await and whoever awaits the task.
#[test]
fn cancel_message_reaches_the_body_and_the_awaiter() {
    run(|| async {
        let seen = Rc::new(RefCell::new(None));
        let record = seen.clone();
        let task = aio::create_task(async move {
            let outcome = aio::sleep(Duration::from_secs(10)).await;
            if let Err(cancelled) = &outcome {
                *record.borrow_mut() = Some(cancelled.message.as_deref().map(str::to_string));
            }
            outcome
        });
        yield_now().await;
        task.cancel_with("my message");
        let error = task.await.unwrap_err();
        assert_eq!(cancelled_message(&error).as_deref(), Some("my message"));
        assert_eq!(error.to_string(), "the task was cancelled: my message");
        assert_eq!(*seen.borrow(), Some(Some("my message".to_string())));

        // No message: `cancel("")`, Python's `cancel()`.
        let task = sleeper(10_000, ());
        yield_now().await;
        task.cancel();
        let error = task.await.unwrap_err();
        assert_eq!(cancelled_message(&error), None);
        assert_eq!(error.to_string(), "the task was cancelled");
    });
}

// test_tasks.BaseTaskTests.test_cancelling
#[test]
fn test_cancelling() {
    run(|| async {
        let task = sleeper(10_000, ());
        assert_eq!(task.cancelling(), 0);
        assert!(task.cancel());
        assert_eq!(task.cancelling(), 1);
        // As in CPython since 3.11, a second request counts too.
        assert!(task.cancel());
        assert_eq!(task.cancelling(), 2);
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

// test_tasks.BaseTaskTests.test_uncancel_basic
#[test]
fn test_uncancel_basic() {
    run(|| async {
        let task = aio::create_task(async {
            if aio::sleep(Duration::from_secs(10)).await.is_err() {
                aio::current_task().unwrap().uncancel();
            }
            aio::sleep(Duration::from_secs(10)).await
        });
        nap(10).await;

        // Cancel the first sleep.
        assert!(task.cancel());
        assert_eq!(task.cancelling(), 1);
        assert!(!task.is_cancelled(), "still not finished");
        nap(10).await;

        // After uncancel().
        assert_eq!(task.cancelling(), 0);
        assert!(!task.is_cancelled() && !task.is_done());

        // Cancel the second sleep.
        assert!(task.cancel());
        assert_eq!(task.cancelling(), 1);
        let task = finished(task).await;
        assert!(task.is_cancelled() && task.is_done());

        // uncancel is no longer effective after the task is complete.
        task.uncancel();
        assert!(task.is_cancelled() && task.is_done());
    });
}

// test_tasks.BaseTaskTests.test_uncancel_resets_must_cancel: a cancellation
// withdrawn before the task was handed it is never handed over.
#[test]
fn test_uncancel_resets_must_cancel() {
    run(|| async {
        let task = aio::create_task(async {
            aio::sleep(Duration::from_millis(20)).await?;
            Ok::<_, Cancelled>(42)
        });
        yield_now().await; // get the task waiting
        task.cancel();
        assert_eq!(task.cancelling(), 1);
        assert_eq!(task.uncancel(), 0);
        assert_eq!(task.cancelling(), 0);
        assert_eq!(task.await, Ok(Ok(42)));
    });
}

// test_tasks.BaseTaskTests.test_cancel (its last line) and
// test_futures.BaseFutureTests.test_cancel: a finished task refuses, and
// the refusal counts nothing.
#[test]
fn cancel_of_a_finished_task_returns_false() {
    run(|| async {
        let task = aio::create_task(async { 5 });
        yield_now().await;
        assert!(task.is_done());
        assert!(!task.cancel_with("too late"));
        assert_eq!(task.cancelling(), 0);
        assert_eq!(task.state(), TaskState::Done);
        assert_eq!(task.await, Ok(5));
    });
}

// test_tasks.BaseTaskTests.test_cancel_current_task
#[test]
fn test_cancel_current_task() {
    run(|| async {
        let task = aio::create_task(async {
            aio::current_task().unwrap().cancel();
            // The sleep is cancelled at once.
            aio::sleep(Duration::from_secs(100)).await?;
            Ok::<_, Cancelled>(12)
        });
        assert!(!task.is_cancelled());
        let task = finished(task).await;
        assert!(task.is_done() && task.is_cancelled());
        assert!(!task.cancel());
    });
}

// test_tasks.BaseTaskTests.test_cancel_at_end: a task cancelled right
// before its body returns ends cancelled, not with the value.
#[test]
fn test_cancel_at_end() {
    run(|| async {
        let task = aio::create_task(async {
            aio::current_task().unwrap().cancel();
            12
        });
        assert!(!task.is_cancelled());
        let task = finished(task).await;
        assert!(task.is_done());
        assert!(task.is_cancelled(), "got {:?} with {:?}", task.state(), task.result());
        assert!(!task.cancel());
    });
}

// test_tasks.BaseTaskTests.test_cancel_awaited_task: a task that cancels
// itself and then awaits another task cancels that task too.
#[test]
fn test_cancel_awaited_task() {
    run(|| async {
        let nested_slot = Rc::new(RefCell::new(None));
        let slot = nested_slot.clone();
        let task = aio::create_task(async move {
            let nested = aio::create_task(aio::cancellable(pending::<()>()));
            *slot.borrow_mut() = Some(nested.task_ref());
            aio::sleep(Duration::ZERO).await?;
            aio::current_task().unwrap().cancel();
            // The nested task is cancelled at once, and so is this one.
            nested.await
        });
        let task = finished(task).await;
        assert!(task.is_cancelled());
        let nested = nested_slot.borrow().clone().expect("the nested task was made");
        assert_eq!(nested.state(), TaskState::Cancelled);
    });
}

// test_tasks.BaseTaskTests.test_yield_future_passes_cancel: cancelling the
// outer task cancels what it awaits; the inner future sees the cancellation
// first and lets it out, the outer handles it.
#[test]
fn test_yield_future_passes_cancel() {
    async fn inner(proof: Rc<Cell<u32>>) -> Result<(), Cancelled> {
        match aio::cancellable(pending::<()>()).await {
            Err(cancelled) => {
                proof.set(proof.get() + 1);
                Err(cancelled)
            }
            Ok(()) => panic!("got past the wait in inner()"),
        }
    }
    run(|| async {
        let proof = Rc::new(Cell::new(0));
        let counter = proof.clone();
        let outer = aio::create_task(async move {
            match inner(counter.clone()).await {
                Err(_) => counter.set(counter.get() + 100), // expected path
                Ok(()) => counter.set(counter.get() + 10),
            }
        });
        yield_now().await;
        outer.cancel();
        let outer = finished(outer).await;
        assert_eq!(proof.get(), 101);
        assert!(!outer.is_cancelled(), "the outer task handled the cancellation");
    });
}

// test_tasks.BaseTaskTests.test_yield_future_passes_cancel, with a task in
// between: a cancellation of the awaiting task is passed on to the awaited
// task, and comes back to the awaiter as its own.
#[test]
fn cancel_is_passed_on_to_the_awaited_task() {
    run(|| async {
        let inner_saw = Rc::new(Cell::new(false));
        let flag = inner_saw.clone();
        let inner = aio::create_task(async move {
            let outcome = aio::sleep(Duration::from_secs(10)).await;
            flag.set(outcome.is_err());
            outcome
        });
        let inner_state = inner.task_ref();
        let outer = aio::create_task(inner);
        yield_now().await;
        outer.cancel_with("from outside");
        let outer = finished(outer).await;
        assert!(inner_saw.get(), "the awaited task saw the cancellation at its sleep");
        assert_eq!(inner_state.state(), TaskState::Cancelled);
        assert!(outer.is_cancelled(), "the awaiter let the cancellation out, so it ends cancelled");
        let error = outer.exception().unwrap().unwrap();
        assert_eq!(cancelled_message(&error).as_deref(), Some("from outside"));
    });
}

// Task.cancel's rule one level down (test_tasks.BaseTaskTests.test_cancel_task_catching
// with a task in between): the cancellation passed on to the awaited task
// is that task's to handle; if it handles it and returns a value, the
// awaiter gets the value and is not cancelled again later.
#[test]
fn a_passed_on_cancellation_handled_by_the_awaited_task_is_consumed() {
    run(|| async {
        let outer = aio::create_task(async {
            let inner = aio::create_task(async {
                match aio::sleep(Duration::from_secs(10)).await {
                    Err(_) => 42,
                    Ok(()) => 0,
                }
            });
            let value = inner.await;
            let afterwards = aio::sleep(Duration::from_millis(5)).await;
            (value, afterwards.is_ok())
        });
        yield_now().await;
        outer.cancel();
        assert_eq!(outer.await, Ok((Ok(42), true)));
    });
}

// test_tasks.BaseTaskTests.test_cancel_inner_future: the future a task
// awaits is cancelled (not the task); its CancelledError propagates out of
// the task, which ends cancelled.
#[test]
fn test_cancel_inner_future() {
    run(|| async {
        let inner = aio::create_task(aio::cancellable(pending::<()>()));
        let inner_state = inner.task_ref();
        let task = aio::create_task(async move {
            inner.await??;
            Ok::<_, Error>(12)
        });
        yield_now().await; // start the task
        inner_state.cancel();
        let task = finished(task).await;
        assert_eq!(inner_state.state(), TaskState::Cancelled);
        assert!(task.is_cancelled(), "got {:?} with {:?}", task.state(), task.result());
    });
}

// test_tasks.BaseTaskTests.test_task_cancel_sleeping_task
#[test]
fn test_task_cancel_sleeping_task() {
    run(|| async {
        let start = Instant::now();
        let sleeper = sleeper(5_000_000, ());
        let target = sleeper.task_ref();
        aio::running_loop().unwrap().call_later(Duration::from_millis(100), move || {
            target.cancel();
        });
        let outcome = match sleeper.await {
            Err(error) if error.is_cancelled() => "cancelled",
            _ => "slept in",
        };
        assert_eq!(outcome, "cancelled");
        assert!(start.elapsed() >= Duration::from_millis(100));
    });
}

// ---------------------------------------------------------------------------
// shield
// ---------------------------------------------------------------------------

// test_tasks.BaseTaskTests.test_shield_result
#[test]
fn test_shield_result() {
    let value = run(|| async { aio::shield(aio::create_task(async { 42 })).await });
    assert_eq!(value, Ok(42));
}

// test_tasks.BaseTaskTests.test_shield_exception
#[test]
fn test_shield_exception() {
    let outcome = run(|| async {
        let inner = aio::create_task(async {
            nap(1).await;
            panic!("expected")
        });
        aio::shield(inner).await
    });
    assert_eq!(outcome, Err::<(), _>(Error::Panicked("expected".into())));
}

// test_tasks.BaseTaskTests.test_shield_cancel_inner: the shielded task is
// cancelled (not the awaiter): awaiting the shield gives the cancellation.
#[test]
fn test_shield_cancel_inner() {
    run(|| async {
        let inner = sleeper(10_000, ());
        let target = inner.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            target.cancel_with("inner");
        });
        let error = aio::shield(inner).await.unwrap_err();
        assert_eq!(cancelled_message(&error).as_deref(), Some("inner"));
        nap(1).await; // the awaiter itself was not cancelled
    });
}

// test_tasks.BaseTaskTests.test_shield_effect and
// test_shield_cancel_outer: cancelling the awaiter does not reach the
// shielded task, which finishes.
#[test]
fn test_shield_effect() {
    run(|| async {
        let proof = Rc::new(Cell::new(0));
        let counter = proof.clone();
        let inner = aio::create_task(async move {
            nap(300).await;
            counter.set(counter.get() + 1);
        });
        let inner_state = inner.task_ref();
        let counter = proof.clone();
        let outer = aio::create_task(async move {
            aio::shield(inner).await?;
            counter.set(counter.get() + 100);
            Ok::<_, Error>(())
        });
        yield_now().await;
        outer.cancel();
        let outer = finished(outer).await;
        assert!(outer.is_cancelled());
        assert_eq!(inner_state.state(), TaskState::Running, "the shielded task runs on");
        eventually("the shielded task finishes", || inner_state.state() == TaskState::Done).await;
        assert_eq!(proof.get(), 1);
    });
}

// ---------------------------------------------------------------------------
// gather
// ---------------------------------------------------------------------------

// test_tasks.GatherTestsBase.test_success: values come in the order given,
// whatever order the tasks finish in.
#[test]
fn test_gather_success() {
    let values = run(|| async {
        let tasks = [(30, 'a'), (10, 'b'), (20, 'c')].map(|(ms, value)| {
            aio::create_task(async move {
                nap(ms).await;
                value
            })
        });
        aio::gather(tasks).await
    });
    assert_eq!(values, Ok(vec!['a', 'b', 'c']));
}

// test_tasks.FutureGatherTests.test_constructor_empty_sequence_use_running_loop
#[test]
fn test_gather_empty() {
    let values = run(|| async { aio::gather(Vec::<Task<u8>>::new()).await });
    assert_eq!(values, Ok(vec![]));
}

// test_tasks.GatherTestsBase.test_one_exception: the first failure ends the
// gather at once; the other tasks run on.
#[test]
fn test_gather_one_exception() {
    run(|| async {
        let fine = aio::create_task(async { 1 });
        let broken = aio::create_task(async {
            nap(5).await;
            panic!("broken")
        });
        let slow = aio::create_task(async {
            nap(1_000).await;
            3
        });
        let slow_state = slow.task_ref();
        let outcome = aio::gather([fine, broken, slow]).await;
        assert_eq!(outcome, Err(Error::Panicked("broken".into())));
        assert_eq!(slow_state.state(), TaskState::Running, "the gather did not wait for the slow task");
        eventually("the slow task finishes on its own", || slow_state.state() == TaskState::Done).await;
    });
}

// test_tasks.GatherTestsBase.test_return_exceptions and
// FutureGatherTests.test_result_exception_one_cancellation
#[test]
fn test_gather_return_exceptions() {
    let outcomes = run(|| async {
        let a = aio::create_task(async {
            nap(10).await;
            3
        });
        let b = aio::create_task(async { 1 });
        let c = aio::create_task(async { panic!("zero division") });
        let d = aio::create_task(async {
            nap(20).await;
            panic!("runtime")
        });
        let e = aio::create_task(async { 0 });
        e.cancel(); // before it starts: it ends cancelled
        aio::gather([a, b, c, d, e]).return_exceptions().await.unwrap()
    });
    assert_eq!(outcomes.len(), 5);
    assert_eq!(
        outcomes[..4],
        [Ok(3), Ok(1), Err(Error::Panicked("zero division".into())), Err(Error::Panicked("runtime".into()))]
    );
    assert!(outcomes[4].as_ref().unwrap_err().is_cancelled());
}

// test_tasks.FutureGatherTests.test_one_cancellation: a gathered task that
// ends cancelled ends the gather with that cancellation; the task awaiting
// the gather was not cancelled itself and goes on.
#[test]
fn test_gather_one_cancellation() {
    run(|| async {
        let a = aio::create_task(async { Ok::<_, Cancelled>(1) });
        let b = sleeper(10_000, 2);
        b.cancel();
        let c = sleeper(20, 3);
        let outcome = aio::gather([a, b, c]).await;
        assert!(outcome.unwrap_err().is_cancelled());
        nap(1).await; // not cancelled
    });
}

// test_tasks.CoroutineGatherTests.test_cancellation_broadcast: cancelling
// the task that awaits a gather cancels every gathered task.
#[test]
fn test_gather_cancellation_broadcast() {
    run(|| async {
        let proof = Rc::new(Cell::new(0));
        let children: Vec<_> = (0..2)
            .map(|_| {
                let proof = proof.clone();
                aio::create_task(async move {
                    aio::cancellable(pending::<()>()).await?;
                    proof.set(proof.get() + 1);
                    Ok::<_, Cancelled>(())
                })
            })
            .collect();
        let states: Vec<_> = children.iter().map(Task::task_ref).collect();
        let counter = proof.clone();
        let outer = aio::create_task(async move {
            aio::gather(children).await?;
            counter.set(counter.get() + 100);
            Ok::<_, Error>(())
        });
        yield_now().await;
        assert!(outer.cancel());
        let outer = finished(outer).await;
        assert!(outer.is_cancelled());
        for state in &states {
            assert_eq!(state.state(), TaskState::Cancelled);
        }
        yield_now().await;
        assert_eq!(proof.get(), 0);
    });
}

// test_tasks.BaseTaskTests.test_cancel_gather_2: a task looping over
// gather(..., return_exceptions=True) that is cancelled ends cancelled,
// with the message ("If gather() itself is cancelled, the cancellation is
// propagated regardless of return_exceptions").
#[test]
fn test_cancel_gather_2() {
    run(|| async {
        let looping = aio::create_task(async {
            let start = Instant::now();
            loop {
                let child = aio::create_task(aio::sleep(Duration::from_millis(10)));
                aio::gather([child]).return_exceptions().await?;
                if start.elapsed() > Duration::from_secs(1) {
                    return Ok::<_, Cancelled>("ran to the end");
                }
                aio::sleep(Duration::ZERO).await?;
            }
        });
        nap(50).await;
        looping.cancel_with("my message");
        let looping = finished(looping).await;
        assert!(looping.is_cancelled(), "got {:?}", looping.result());
        let error = looping.exception().unwrap().unwrap();
        assert_eq!(cancelled_message(&error).as_deref(), Some("my message"));
    });
}

// ---------------------------------------------------------------------------
// wait
// ---------------------------------------------------------------------------

// test_tasks.BaseTaskTests.test_wait: all completed; done keeps the order
// given.
#[test]
fn test_wait_all_completed() {
    run(|| async {
        let a = sleeper(10, 'a');
        let b = sleeper(30, 'b');
        let (done, pending) = aio::wait([b, a], ReturnWhen::AllCompleted, None).await.unwrap();
        assert!(pending.is_empty());
        let values: Vec<_> = done.iter().map(|task| task.result().unwrap().unwrap()).collect();
        assert_eq!(values, ['b', 'a']);

        // Doing it again, with everything done, returns at once.
        let (done, pending) = aio::wait(done, ReturnWhen::AllCompleted, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

// test_tasks.BaseTaskTests.test_wait_first_completed
#[test]
fn test_wait_first_completed() {
    run(|| async {
        let a = sleeper(10_000, ());
        let b = sleeper(10, ());
        let (done, pending) = aio::wait([b, a], ReturnWhen::FirstCompleted, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert!(done[0].is_done());
        assert_eq!(done[0].result(), Ok(Ok(())));
        assert!(!pending[0].is_done(), "wait cancels nothing");
        pending[0].cancel_with("clean up");
    });
}

// test_tasks.BaseTaskTests.test_wait_first_exception: one task has already
// failed.
#[test]
fn test_wait_first_exception() {
    run(|| async {
        let a = sleeper(10_000, ());
        let b = failing(0, "err");
        let start = Instant::now();
        let (done, pending) = aio::wait([b, a], ReturnWhen::FirstException, None).await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert_eq!(done[0].exception(), Ok(Some(Error::Panicked("err".into()))));
        pending[0].cancel_with("clean up");
    });
}

// test_tasks.BaseTaskTests.test_wait_first_exception_in_wait
#[test]
fn test_wait_first_exception_in_wait() {
    run(|| async {
        let a = sleeper(10_000, ());
        let b = failing(10, "err");
        let (done, pending) = aio::wait([b, a], ReturnWhen::FirstException, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert!(done[0].exception().unwrap().is_some());
        pending[0].cancel_with("clean up");
    });
}

// test_tasks.BaseTaskTests.test_wait_first_exception, the rule behind it:
// with no exception FIRST_EXCEPTION waits for all, and a cancelled task is
// not an exception.
#[test]
fn wait_first_exception_without_exception_waits_for_all() {
    run(|| async {
        let cancelled = sleeper(10_000, 1);
        cancelled.cancel();
        let slow = sleeper(30, 2);
        let (done, pending) = aio::wait([cancelled, slow], ReturnWhen::FirstException, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
        assert!(done[0].is_cancelled());
        assert_eq!(done[1].result(), Ok(Ok(2)));
    });
}

// test_tasks.BaseTaskTests.test_wait_with_exception
#[test]
fn test_wait_with_exception() {
    run(|| async {
        let a = sleeper(10, ());
        let b = failing(30, "really");
        let (done, pending) = aio::wait([b, a], ReturnWhen::AllCompleted, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
        let errors = done.iter().filter(|task| task.exception().unwrap().is_some()).count();
        assert_eq!(errors, 1);
    });
}

// test_tasks.BaseTaskTests.test_wait_with_timeout and
// test_wait_concurrent_complete
#[test]
fn test_wait_with_timeout() {
    run(|| async {
        let a = sleeper(10, 'a');
        let b = sleeper(10_000, 'b');
        let start = Instant::now();
        let (done, pending) =
            aio::wait([b, a], ReturnWhen::AllCompleted, Some(Duration::from_millis(100))).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert_eq!(done[0].result(), Ok(Ok('a')));
        assert!(!pending[0].is_done(), "the timeout cancels nothing");
        pending[0].cancel_with("clean up");
    });
}

// test_tasks.BaseTaskTests.test_wait_generator: any iterator of tasks.
#[test]
fn test_wait_generator() {
    run(|| async {
        let tasks = (0..10).map(|i| aio::create_task(async move { i }));
        let (done, pending) = aio::wait(tasks, ReturnWhen::AllCompleted, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (10, 0));
    });
}

// test_tasks.BaseTaskTests.test_yield_wait_does_not_shield_cancel:
// cancelling the task that waits ends its wait early; the tasks it waited
// on run on.
#[test]
fn test_yield_wait_does_not_shield_cancel() {
    run(|| async {
        let proof = Rc::new(Cell::new(0));
        let counter = proof.clone();
        let inner = aio::create_task(async move {
            nap(30).await;
            counter.set(counter.get() + 1);
        });
        let inner_state = inner.task_ref();
        let counter = proof.clone();
        let outer = aio::create_task(async move {
            aio::wait([inner], ReturnWhen::AllCompleted, None).await?;
            counter.set(counter.get() + 100);
            Ok::<_, aio::WaitError>(())
        });
        yield_now().await;
        outer.cancel();
        let outer = finished(outer).await;
        assert!(outer.is_cancelled());
        eventually("the waited-on task finishes", || inner_state.state() == TaskState::Done).await;
        assert_eq!(proof.get(), 1);
    });
}

// ---------------------------------------------------------------------------
// as_completed
// ---------------------------------------------------------------------------

// test_tasks.BaseTaskTests.test_as_completed
#[test]
fn test_as_completed() {
    let order = run(|| async {
        let tasks = [(50, 'c'), (10, 'a'), (30, 'b')].map(|(ms, value)| {
            aio::create_task(async move {
                nap(ms).await;
                value
            })
        });
        let mut finished = aio::as_completed(tasks, None);
        let mut order = Vec::new();
        while let Some(value) = finished.next().await {
            order.push(value.unwrap());
        }
        assert_eq!(finished.next().await, None, "an exhausted as_completed stays exhausted");
        order
    });
    assert_eq!(order, ['a', 'b', 'c']);
}

// test_tasks.BaseTaskTests.test_as_completed_with_timeout
#[test]
fn test_as_completed_with_timeout() {
    run(|| async {
        let a = sleeper(10, 'a');
        let b = sleeper(10_000, 'b');
        let b_state = b.task_ref();
        let start = Instant::now();
        let mut finished = aio::as_completed([a, b], Some(Duration::from_millis(120)));
        assert_eq!(finished.next().await, Some(Ok(Ok('a'))));
        assert_eq!(finished.next().await, Some(Err(Error::Timeout(Duration::from_millis(120)))));
        assert!(start.elapsed() >= Duration::from_millis(120));
        assert_eq!(finished.next().await, None);
        assert_eq!(b_state.state(), TaskState::Running, "the timeout cancels nothing");
        b_state.cancel_with("clean up");
    });
}

// test_tasks.BaseTaskTests.test_as_completed_with_unused_timeout
#[test]
fn test_as_completed_with_unused_timeout() {
    run(|| async {
        let mut finished = aio::as_completed([sleeper(10, 'a')], Some(Duration::from_secs(1)));
        assert_eq!(finished.next().await, Some(Ok(Ok('a'))));
        assert_eq!(finished.next().await, None);
    });
}

// ---------------------------------------------------------------------------
// current_task and names
// ---------------------------------------------------------------------------

// test_tasks.BaseTaskTests.test_current_task and
// BaseCurrentLoopTests.test_current_task_no_running_loop
#[test]
fn test_current_task() {
    assert!(aio::current_task().is_none(), "no task outside a loop");
    run(|| async {
        let task = aio::create_task(async { aio::current_task().map(|me| me.name()) }).with_name("the task");
        assert_eq!(task.await.unwrap().as_deref(), Some("the task"));
        // The main future of the loop runs as a task too.
        let main = aio::current_task().expect("the main future is a task");
        assert_eq!(main.state(), TaskState::Running);
    });
    assert!(aio::current_task().is_none(), "no task once the loop is gone");
}

// test_tasks.BaseTaskTests.test_current_task_with_interleaving_tasks
#[test]
fn test_current_task_with_interleaving_tasks() {
    run(|| async {
        let make = |name: &'static str, pause: u64| {
            aio::create_task(async move {
                for _ in 0..5 {
                    assert_eq!(&*aio::current_task().unwrap().name(), name);
                    nap(pause).await;
                }
                assert_eq!(&*aio::current_task().unwrap().name(), name);
            })
            .with_name(name)
        };
        let task1 = make("task1", 1);
        let task2 = make("task2", 2);
        let (done, _) = aio::wait([task1, task2], ReturnWhen::AllCompleted, None).await.unwrap();
        for task in done {
            assert_eq!(task.exception(), Ok(None), "{} saw another task as current", task.name());
        }
    });
}

// test_tasks.BaseTaskTests.test_task_repr_autogenerated: unnamed tasks are
// Task-<n>, with growing numbers.
#[test]
fn test_task_names_autogenerated() {
    run(|| async {
        let number = |task: &Task<()>| -> u64 {
            let name = task.name();
            let digits = name.strip_prefix("Task-").unwrap_or_else(|| panic!("unexpected name {name}"));
            digits.parse().unwrap()
        };
        let t1 = aio::create_task(async {});
        let t2 = aio::create_task(async {});
        assert_ne!(t1.name(), t2.name());
        assert!(number(&t1) < number(&t2));
    });
}

// test_tasks.BaseTaskTests.test_bare_create_named_task and
// test_task_set_name_pylong (set_name / get_name)
#[test]
fn test_task_names_given_and_changed() {
    run(|| async {
        let task = aio::create_task(async {
            let me = aio::current_task().unwrap();
            let first = me.name();
            me.set_name("renamed inside");
            first
        })
        .with_name("No-op");
        assert_eq!(&*task.name(), "No-op");
        let task = finished(task).await;
        assert_eq!(task.result().as_deref(), Ok("No-op"));
        assert_eq!(&*task.name(), "renamed inside");
        task.set_name("123456789");
        assert_eq!(&*task.name(), "123456789");
        assert_eq!(&*task.task_ref().name(), "123456789");
    });
}

// ---------------------------------------------------------------------------
// Done callbacks
// ---------------------------------------------------------------------------

// test_futures.BaseFutureDoneCallbackTests.test_callbacks_invoked_on_set_result
// and test_callbacks_invoked_on_set_exception: callbacks run soon after
// the task finishes, in the order added, each with the task.
#[test]
fn done_callbacks_run_soon_after_with_the_task() {
    run(|| async {
        let bag = Rc::new(RefCell::new(Vec::new()));
        let task = aio::create_task(async {
            nap(5).await;
            "foo"
        });
        for thing in [42, 17] {
            let bag = bag.clone();
            task.add_done_callback(move |task| bag.borrow_mut().push((thing, task.result())));
        }
        assert!(bag.borrow().is_empty());
        let task = finished(task).await;
        eventually("the callbacks ran", || bag.borrow().len() == 2).await;
        assert_eq!(*bag.borrow(), [(42, Ok("foo")), (17, Ok("foo"))]);
        assert_eq!(task.result(), Ok("foo"));

        let failed = Rc::new(RefCell::new(None));
        let record = failed.clone();
        let broken = aio::create_task(async { panic!("callback sees this") });
        broken.add_done_callback(move |task: &Task<()>| *record.borrow_mut() = Some(task.exception()));
        eventually("the callback of the failed task ran", || failed.borrow().is_some()).await;
        assert_eq!(*failed.borrow(), Some(Ok(Some(Error::Panicked("callback sees this".into())))));
    });
}

// Future.add_done_callback's rule (test_futures): a callback added to a
// finished task is scheduled with call_soon, not run on the spot.
#[test]
fn done_callback_added_after_done_still_runs_soon() {
    run(|| async {
        let task = aio::create_task(async { 9 });
        yield_now().await;
        assert!(task.is_done());
        let seen = Rc::new(RefCell::new(None));
        let record = seen.clone();
        task.add_done_callback(move |task| *record.borrow_mut() = Some(task.result()));
        assert_eq!(*seen.borrow(), None, "scheduled, not run inside add_done_callback");
        yield_now().await;
        assert_eq!(*seen.borrow(), Some(Ok(9)));
    });
}

// The callback of a cancelled task gets the cancelled task.
#[test]
fn done_callback_of_a_cancelled_task() {
    run(|| async {
        let seen = Rc::new(Cell::new(None));
        let record = seen.clone();
        let task = sleeper(10_000, ());
        task.add_done_callback(move |task| record.set(Some(task.is_cancelled())));
        yield_now().await;
        task.cancel();
        eventually("the callback ran", || seen.get().is_some()).await;
        assert_eq!(seen.get(), Some(true));
    });
}

// ---------------------------------------------------------------------------
// Tasks and the loop
// ---------------------------------------------------------------------------

// concur's rule where CPython warns (asyncio.create_task's docs: keep a
// reference, or the task may vanish): a task whose handle is dropped
// unawaited keeps running.
#[test]
fn a_task_dropped_unawaited_keeps_running() {
    run(|| async {
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        drop(aio::create_task(async move {
            nap(10).await;
            flag.set(true);
        }));
        eventually("the dropped task finishes its work", || ran.get()).await;
    });
}

// test_tasks.BaseTaskTests.test_ensure_future_coroutine ("no current event
// loop" outside a loop): create_task outside a loop panics, saying why.
#[test]
fn create_task_outside_a_loop_panics_with_a_clear_message() {
    let panic = std::panic::catch_unwind(|| {
        drop(aio::create_task(async {}));
    })
    .expect_err("create_task outside a loop must panic");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
        .expect("a text message");
    assert!(message.contains("create_task"), "{message}");
    assert!(message.contains("no event loop is running"), "{message}");
}

// test_tasks.SleepTests.test_sleep_zero: sleep(0) lets the callbacks
// scheduled before it run.
#[test]
fn test_sleep_zero() {
    run(|| async {
        let result = Rc::new(Cell::new(0));
        let add = result.clone();
        aio::running_loop().unwrap().call_soon(move || add.set(add.get() + 1));
        assert_eq!(result.get(), 0);
        yield_now().await;
        assert_eq!(result.get(), 1, "incremented by the call_soon callback");
    });
}

// test_tasks.BaseTaskTests.test_sleep (the elapsed time, lower bound
// only).
#[test]
fn test_sleep() {
    run(|| async {
        let start = Instant::now();
        assert_eq!(sleeper(50, "yeah").await, Ok(Ok("yeah")));
        assert!(start.elapsed() >= Duration::from_millis(50));
    });
}

// ---------------------------------------------------------------------------
// Blocking work: to_thread and run_in_executor
// ---------------------------------------------------------------------------

// test_threads.ToThreadTests.test_to_thread and
// test_events.EventLoopTestsMixin.test_run_in_executor: the call runs on
// another thread and its value comes back.
#[test]
fn test_to_thread() {
    run(|| async {
        let loop_thread = std::thread::current().id();
        let (value, thread) = aio::to_thread(|| (6 * 7, std::thread::current().id())).await.unwrap();
        assert_eq!(value, 42);
        assert_ne!(thread, loop_thread);

        let pool = ThreadPool::new(2).unwrap();
        let (value, thread) = aio::run_in_executor(&pool, || ("yo", std::thread::current().id())).await.unwrap();
        assert_eq!(value, "yo");
        assert_ne!(thread, loop_thread);
    });
}

// test_threads.ToThreadTests.test_to_thread_exception: a panic in the call
// comes back as the awaiter's error; the loop goes on.
#[test]
fn test_to_thread_exception() {
    run(|| async {
        let outcome = aio::to_thread(|| -> u8 { panic!("in the thread") }).await;
        assert_eq!(outcome, Err(Error::Panicked("in the thread".into())));
        let pool = ThreadPool::new(1).unwrap();
        let outcome = aio::run_in_executor(&pool, || -> u8 { panic!("in the pool") }).await;
        assert_eq!(outcome, Err(Error::Panicked("in the pool".into())));
        assert_eq!(aio::to_thread(|| 1).await, Ok(1), "the default pool still serves");
        nap(1).await;
    });
}

// test_threads.ToThreadTests.test_to_thread_concurrent: blocking calls
// overlap each other, and the loop runs other tasks meanwhile.
#[test]
fn test_to_thread_concurrent() {
    const D: Duration = Duration::from_millis(250);
    run(|| async {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let ticks = Rc::new(Cell::new(0u32));
        let counter = ticks.clone();
        let ticker = aio::create_task(async move {
            while aio::sleep(Duration::from_millis(5)).await.is_ok() {
                counter.set(counter.get() + 1);
            }
        });
        let start = Instant::now();
        let calls: Vec<_> = (0..3)
            .map(|i| {
                let (in_flight, most) = (in_flight.clone(), most.clone());
                aio::create_task(aio::to_thread(move || {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(D);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    i
                }))
            })
            .collect();
        assert_eq!(aio::gather(calls).await, Ok(vec![Ok(0), Ok(1), Ok(2)]));
        let elapsed = start.elapsed();
        ticker.cancel();
        assert_eq!(most.load(Ordering::SeqCst), 3, "the three calls ran at the same time");
        assert!(elapsed < D * 3, "took {elapsed:?}: the calls ran one after another");
        assert!(ticks.get() >= 3, "the loop ticked only {} times while the calls blocked", ticks.get());
    });
}

// test_events.EventLoopTestsMixin.test_run_in_executor, with two calls on
// a pool of two: they overlap, and the loop runs other tasks meanwhile.
#[test]
fn run_in_executor_overlaps_with_the_loop() {
    const D: Duration = Duration::from_millis(150);
    run(|| async {
        let pool = ThreadPool::new(2).unwrap();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let ticks = Rc::new(Cell::new(0u32));
        let counter = ticks.clone();
        let ticker = aio::create_task(async move {
            while aio::sleep(Duration::from_millis(5)).await.is_ok() {
                counter.set(counter.get() + 1);
            }
        });
        let calls: Vec<_> = (0..2)
            .map(|i| {
                let (in_flight, most) = (in_flight.clone(), most.clone());
                aio::create_task(aio::run_in_executor(&pool, move || {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(D);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    i
                }))
            })
            .collect();
        assert_eq!(aio::gather(calls).await, Ok(vec![Ok(0), Ok(1)]));
        ticker.cancel();
        assert_eq!(most.load(Ordering::SeqCst), 2, "the two calls ran at the same time");
        assert!(ticks.get() >= 3, "the loop ticked only {} times while the calls blocked", ticks.get());
    });
}

// test_threads.ToThreadTests.test_to_thread (its await is a cancellation
// point): a task cancelled while it waits for a blocking call ends
// cancelled; the call itself finishes on its thread.
#[test]
fn to_thread_cancelled_while_waiting() {
    run(|| async {
        let finished_call = Arc::new(AtomicUsize::new(0));
        let flag = finished_call.clone();
        let task = aio::create_task(async move {
            aio::to_thread(move || {
                std::thread::sleep(Duration::from_millis(50));
                flag.store(1, Ordering::SeqCst);
            })
            .await
        });
        nap(10).await;
        task.cancel();
        let task = finished(task).await;
        assert!(task.is_cancelled());
        eventually("the call finishes on its thread", || finished_call.load(Ordering::SeqCst) == 1).await;
    });
}
