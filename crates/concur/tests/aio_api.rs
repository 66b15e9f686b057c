//! The `aio` API as issue 14 left it, each case a trap that was fixed or a
//! Python behaviour that was missing, with the CPython test it mirrors
//! named above it where there is one (`Lib/test/test_asyncio/`).
//!
//! Every test runs its loop on a thread of its own, bounded in time, so a
//! bug fails instead of hanging.

mod common;

use common::aio_harness::{nap, run, yield_now};

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use concur::aio::{self, Cancelled, Error, TimeoutError};

// One predicate style: `is_done` and `is_cancelled` on the task, its
// `TaskRef` and the callback handles.
#[test]
fn predicates_read_is_done_and_is_cancelled() {
    run(|| async {
        let finishes = aio::create_task(async { 1 });
        let cancelled = aio::create_task(async {});
        assert!(!finishes.is_done() && !finishes.is_cancelled());
        assert!(cancelled.cancel());
        yield_now().await;
        assert!(finishes.is_done() && !finishes.is_cancelled());
        assert!(cancelled.is_done() && cancelled.is_cancelled());
        let watch = cancelled.task_ref();
        assert!(watch.is_done() && watch.is_cancelled());
        let handle = aio::running_loop().unwrap().call_soon(|| {});
        assert!(!handle.is_cancelled());
        handle.cancel();
        assert!(handle.is_cancelled());
    });
}

// `is_running` is true from the task's first step until it finishes, on
// the task and on its `TaskRef`, and never for a task cancelled before it
// started (the state `concurrent.futures.Future.running()` reports).
#[test]
fn is_running_from_the_first_step_until_the_end() {
    run(|| async {
        let sleeper = aio::create_task(async {
            aio::sleep(Duration::from_secs(60)).await?;
            Ok::<_, Cancelled>(())
        });
        let never_started = aio::create_task(async {});
        let watch = sleeper.task_ref();
        assert!(!sleeper.is_running() && !watch.is_running(), "created, not yet run");
        assert!(never_started.cancel());
        yield_now().await;
        assert!(sleeper.is_running() && watch.is_running(), "paused at its sleep");
        assert!(!sleeper.is_done());
        assert!(!never_started.is_running() && never_started.is_cancelled());
        assert!(aio::current_task().unwrap().is_running(), "the task asking runs");

        sleeper.cancel();
        yield_now().await;
        assert!(!watch.is_running() && watch.is_cancelled(), "cancelled is not running");

        let quick = aio::create_task(async { 7 });
        let watch = quick.task_ref();
        assert_eq!(quick.await.unwrap(), 7);
        assert!(!watch.is_running() && watch.is_done(), "finished is not running");
    });
}

// `cancel()` carries no message, `cancel_with(msg)` one
// (test_tasks.test_cancel_with_message_then_future_result).
#[test]
fn cancel_without_and_with_a_message() {
    run(|| async {
        let plain = aio::create_task(aio::sleep(Duration::from_secs(60)));
        let told = aio::create_task(aio::sleep(Duration::from_secs(60)));
        yield_now().await;
        plain.cancel();
        told.cancel_with("closing time");
        match plain.await {
            Err(Error::Cancelled(cancelled)) => assert_eq!(cancelled.message, None),
            other => panic!("expected a cancellation, got {other:?}"),
        }
        match told.await {
            Err(Error::Cancelled(cancelled)) => assert_eq!(cancelled.message.as_deref(), Some("closing time")),
            other => panic!("expected a cancellation, got {other:?}"),
        }
    });
}

// `name()` is a shared string: reading it twice gives the same allocation.
#[test]
fn name_does_not_allocate_each_time() {
    run(|| async {
        let task = aio::create_task(async {});
        let (first, second) = (task.name(), task.name());
        assert!(Rc::ptr_eq(&first, &second));
        assert!(first.starts_with("Task-"));
        task.set_name("renamed");
        assert_eq!(&*task.name(), "renamed");
        assert!(Rc::ptr_eq(&task.name(), &task.task_ref().name()));
    });
}

// A task moved into `wait_for` or `shield` can still be asked how it ended
// through its `TaskRef` (test_waitfor.test_wait_for_cancellation_race_condition
// keeps the task object the same way).
#[test]
fn task_ref_answers_after_the_task_moved() {
    run(|| async {
        let slow = aio::create_task(async {
            aio::sleep(Duration::from_secs(60)).await?;
            Ok::<_, Cancelled>(())
        });
        let watch = slow.task_ref();
        assert_eq!(watch.exception(), Err(Error::NotDone));
        let outcome = aio::wait_for(slow, Duration::from_millis(5)).await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))));
        assert!(watch.is_done() && watch.is_cancelled());
        assert!(matches!(watch.exception(), Ok(Some(Error::Cancelled(_)))));

        let broken = aio::create_task(async {
            nap(5).await;
            panic!("disk full")
        });
        let watch = broken.task_ref();
        let waiter = aio::create_task(aio::shield(broken));
        yield_now().await;
        waiter.cancel();
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert!(!watch.is_done(), "the shield kept the cancellation away");
        while !watch.is_done() {
            nap(2).await;
        }
        assert!(!watch.is_cancelled());
        assert_eq!(watch.exception(), Ok(Some(Error::Panicked("disk full".into()))));
    });
}

// An error stays readable after an await took the task's outcome, as
// Python's `exception()` does after `await task` raised.
#[test]
fn exception_survives_the_await() {
    run(|| async {
        let task = aio::create_task(async { panic!("boom") });
        let watch = task.task_ref();
        let id = task.add_done_callback(|_| {});
        assert_eq!(task.remove_done_callback(id), 1);
        let awaited: Result<(), Error> = task.await;
        assert_eq!(awaited, Err(Error::Panicked("boom".into())));
        assert_eq!(watch.exception(), Ok(Some(Error::Panicked("boom".into()))));
    });
}

// test_futures.BaseFutureTests.test_remove_done_callback: removed callbacks
// do not run, others do in order, and the count of removed ones comes back.
#[test]
fn remove_done_callback_on_a_task() {
    run(|| async {
        let seen = Rc::new(Cell::new(0u32));
        let task = aio::create_task(async { 7 });
        let add = |digit: u32| {
            let seen = seen.clone();
            move |_: &aio::Task<i32>| seen.set(seen.get() * 10 + digit)
        };
        let first = task.add_done_callback(add(1));
        let second = task.add_done_callback(add(2));
        let third = task.add_done_callback(add(3));
        assert_eq!(task.remove_done_callback(second), 1);
        assert_eq!(task.remove_done_callback(second), 0);
        let watch = task.task_ref();
        assert_eq!(task.await, Ok(7));
        nap(1).await;
        assert!(watch.is_done());
        assert_eq!(seen.get(), 13);
        let _ = (first, third);
        // A task's id means nothing to another task.
        let other = aio::create_task(async {});
        let mine = other.add_done_callback(|_| {});
        let stranger = aio::create_task(async {});
        assert_eq!(stranger.remove_done_callback(mine), 0);
        assert_eq!(other.remove_done_callback(mine), 1);
    });
}

// `run_until_complete(task)`: one error type for the loop's failure and the
// task's, matched once.
#[test]
fn run_until_complete_of_a_task_answers_one_error() {
    common::aio_harness::bounded(|| {
        let lp = aio::EventLoop::new().unwrap();
        let fine = lp.create_task(async { 5 });
        assert_eq!(lp.run_until_complete(fine), Ok(5));
        let broken = lp.create_task(async { panic!("broken") });
        assert_eq!(lp.run_until_complete(broken), Err(Error::Panicked("broken".into())));
        let cancelled = lp.create_task(async {});
        cancelled.cancel();
        assert!(matches!(lp.run_until_complete(cancelled), Err(Error::Cancelled(_))));
        let late = lp.create_task(async { 1 });
        lp.close().unwrap();
        assert_eq!(lp.run_until_complete(late), Err(Error::Loop(aio::LoopError::Closed)));
        // A future still answers its output beside the loop's own error.
        assert_eq!(lp.run_until_complete(async { 1 }), Err(aio::LoopError::Closed));
    });
}

// test_tasks.test_gather / test_wait_with_coroutines: gather, wait,
// as_completed and shield take bare futures and run them as tasks.
#[test]
fn gather_wait_as_completed_and_shield_take_any_future() {
    run(|| async {
        let started = Rc::new(Cell::new(0));
        let future = |n: u64| {
            let started = started.clone();
            Box::pin(async move {
                started.set(started.get() + 1);
                // One of them is cancelled at this sleep.
                let _ = aio::sleep(Duration::from_millis(n)).await;
                n
            })
        };
        assert_eq!(aio::gather([future(3), future(1)]).await, Ok(vec![3, 1]));
        assert_eq!(started.get(), 2);

        let (done, pending) = aio::wait([future(1), future(200)], aio::ReturnWhen::FirstCompleted, None).await.unwrap();
        assert_eq!((done.len(), pending.len()), (1, 1));
        assert_eq!(done[0].result(), Ok(1));
        assert!(aio::all_tasks().unwrap().iter().any(|task| task.state() == aio::TaskState::Running));
        pending[0].cancel();

        let mut finished = aio::as_completed([future(20), future(2)], None);
        assert_eq!(finished.next().await, Some(Ok(2)));
        assert_eq!(finished.next().await, Some(Ok(20)));

        assert_eq!(aio::shield(future(1)).await, Ok(1));
        assert_eq!(started.get(), 7);
    });
}

// test_tasks.test_wait_empty_set / test_asyncio_wait_passing_empty: waiting
// on nothing is an error, as Python's ValueError.
#[test]
fn wait_of_nothing_is_an_error() {
    run(|| async {
        let nothing: Vec<aio::Task<()>> = Vec::new();
        let outcome = aio::wait(nothing, aio::ReturnWhen::AllCompleted, None).await;
        assert_eq!(outcome.unwrap_err(), aio::WaitError::Empty);
        assert_eq!(Error::from(aio::WaitError::Empty), Error::Empty);
    });
}

// test_waitfor.test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started
#[test]
fn wait_for_with_a_zero_timeout_does_not_start_the_future() {
    run(|| async {
        let started = Rc::new(Cell::new(false));
        let flag = started.clone();
        let foo = async move {
            flag.set(true);
        };
        let outcome = aio::wait_for(foo, Duration::ZERO).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(Duration::ZERO)));
        assert!(!started.get());
        // The awaiting task was not cancelled by it.
        nap(1).await;
        assert_eq!(aio::current_task().unwrap().cancelling(), 0);
    });
}

/// An exception handler that records the contexts it is given.
fn recording_handler() -> (aio::ExceptionHandler, Rc<std::cell::RefCell<Vec<aio::ExceptionContext>>>) {
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let record = seen.clone();
    (Rc::new(move |context: &aio::ExceptionContext| record.borrow_mut().push(context.clone())), seen)
}

// test_base_events.BaseEventLoopTests.test_set_exc_handler_custom and
// test_default_exc_handler_callback: a panicking callback goes to the
// handler, the loop goes on; `None` puts the default back.
#[test]
fn a_panicking_callback_goes_to_the_exception_handler() {
    common::aio_harness::bounded(|| {
        let lp = aio::EventLoop::new().unwrap();
        assert!(lp.get_exception_handler().is_none());
        let (handler, seen) = recording_handler();
        lp.set_exception_handler(Some(handler.clone()));
        assert!(Rc::ptr_eq(&lp.get_exception_handler().unwrap(), &handler));
        let after = Rc::new(Cell::new(false));
        let flag = after.clone();
        lp.call_soon(|| panic!("callback broke"));
        lp.call_soon(move || flag.set(true));
        lp.run_until_complete(aio::sleep(Duration::from_millis(1))).unwrap().unwrap();
        assert!(after.get(), "the loop went on after the panic");
        let seen_now = seen.borrow().clone();
        assert_eq!(seen_now.len(), 1);
        assert_eq!(seen_now[0].message, "Exception in callback");
        assert_eq!(seen_now[0].error, Some(Error::Panicked("callback broke".into())));
        lp.set_exception_handler(None);
        assert!(lp.get_exception_handler().is_none());
        lp.call_soon(|| panic!("to the default handler"));
        lp.run_until_complete(async {}).unwrap();
        assert_eq!(seen.borrow().len(), 1, "the removed handler was not called");
    });
}

// test_futures.test_tb_logger_exception_unretrieved, through the handler: a
// task's panic nobody read reaches the loop's handler with the task's name.
#[test]
fn a_task_panic_nobody_read_goes_to_the_exception_handler() {
    common::aio_harness::bounded(|| {
        let lp = aio::EventLoop::new().unwrap();
        let (handler, seen) = recording_handler();
        lp.set_exception_handler(Some(handler));
        lp.run_until_complete(async {
            drop(aio::create_task(async { panic!("nobody reads me") }).with_name("lost"));
            let read = aio::create_task(async { panic!("read") });
            nap(1).await;
            assert!(read.exception().unwrap().is_some());
            drop(read);
            nap(1).await;
        })
        .unwrap();
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].message, "Task exception was never retrieved");
        assert_eq!(seen[0].task.as_deref(), Some("lost"));
        assert_eq!(seen[0].error, Some(Error::Panicked("nobody reads me".into())));
    });
}

// test_base_events.BaseEventLoopTests.test_set_exc_handler_broken: a
// handler that panics is reported by the default one; call_exception_handler
// reaches the handler by hand.
#[test]
fn a_broken_exception_handler_falls_back_to_the_default() {
    common::aio_harness::bounded(|| {
        let lp = aio::EventLoop::new().unwrap();
        let calls = Rc::new(Cell::new(0));
        let count = calls.clone();
        lp.set_exception_handler(Some(Rc::new(move |_: &aio::ExceptionContext| {
            count.set(count.get() + 1);
            panic!("the handler broke")
        })));
        lp.call_exception_handler(&aio::ExceptionContext::new("by hand"));
        lp.call_soon(|| panic!("callback"));
        lp.run_until_complete(async {}).unwrap();
        assert_eq!(calls.get(), 2, "both reports reached the handler, and neither panic escaped");
        lp.default_exception_handler(&aio::ExceptionContext::new("straight to tracing"));
    });
}

// test_timeouts.TimeoutTests.test_reschedule: `when` reads the deadline,
// `reschedule` moves or removes it, `expired` stays false for a block that
// ended another way.
#[test]
fn timeout_when_reschedule_and_expired() {
    run(|| async {
        let deadline1 = std::time::Instant::now() + Duration::from_secs(10);
        let deadline2 = deadline1 + Duration::from_secs(20);
        let limited = aio::timeout_at(deadline1, aio::sleep(Duration::from_secs(50)));
        let cm = limited.handle();
        let task = aio::create_task(limited);
        yield_now().await;
        assert_eq!(cm.when(), Some(deadline1));
        cm.reschedule(Some(deadline2)).unwrap();
        assert_eq!(cm.when(), Some(deadline2));
        cm.reschedule(None).unwrap();
        assert_eq!(cm.when(), None);
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!cm.expired());
        // Python: "Cannot change state of finished Timeout".
        assert_eq!(cm.reschedule(Some(deadline1)), Err(aio::RescheduleError::Finished));
        assert_eq!(cm.when(), None, "a refused reschedule leaves the deadline");
    });
}

// test_timeouts.TimeoutTests.test_timeout_basic and a deadline moved sooner
// from another task: it expires, and cannot be moved after.
#[test]
fn timeout_rescheduled_sooner_expires() {
    run(|| async {
        let limited = aio::timeout(Duration::from_secs(60), aio::sleep(Duration::from_secs(60)));
        let cm = limited.handle();
        let sooner = cm.clone();
        aio::create_task(async move {
            nap(2).await;
            sooner.reschedule(Some(std::time::Instant::now())).unwrap();
        });
        let outcome = aio::wait_for(limited, Duration::from_secs(30)).await;
        assert!(matches!(outcome, Ok(Err(TimeoutError::Elapsed(_)))), "{outcome:?}");
        assert!(cm.expired());
        assert_eq!(cm.reschedule(None), Err(aio::RescheduleError::Expired), "an expired timeout cannot be moved");
    });
}
