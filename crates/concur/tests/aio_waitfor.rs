//! `aio::wait_for`, `aio::timeout` and `aio::timeout_at` against CPython's
//! `Lib/test/test_asyncio/test_waitfor.py` and `test_timeouts.py`: a future
//! that finishes in time; one that does not, which is cancelled and sees
//! the cancellation at its await (its clean-up runs); one that swallows the
//! cancellation; a task, to which the cancellation is passed on; nested
//! timeouts; a future waiting on something that knows nothing of `aio`,
//! which is dropped; and a cancellation from outside that arrives during a
//! timeout, which is still delivered. Each test names the CPython case it
//! mirrors in a comment above it.
//!
//! Every test runs its loop on a thread of its own and fails if that thread
//! has not finished within [`common::LONG`], so a bug fails instead of
//! hanging.
//!
//! Changed, because Rust differs:
//! - `async with asyncio.timeout(d):` is `aio::timeout(d, async { .. })`;
//!   its `TimeoutError` is `Err(TimeoutError::Elapsed(d))`.
//! - CPython's `_EPSILON` (0.1 ms) timeouts are 1 ms here, the timer's
//!   resolution, and its `time.sleep` stands for a loop blocked by work.
//! - Both timers of `test_nested_timeouts` fire; the inner scope reports its
//!   own timeout where CPython's inner scope lets a `CancelledError` out.
//!   What the tests check is what both promise: the outer scope times out
//!   and the awaited code sees the cancellation.
//!
//! Skipped: `reschedule`, `expired`, `when` and the `repr` of the timeout
//! object (`aio::timeout` is a future, not a context manager), the exception
//! chaining cases (`__cause__`/`__context__`), `timeout=None` (no timeout
//! is just `.await`), and entering a timeout twice or outside a task.

mod common;

use common::aio_harness::{finished, ms, nap, run};

use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::rc::Rc;
use std::time::{Duration, Instant};

use concur::aio::{self, Cancelled, Error, TaskGroup, TaskState, TimeoutError};

/// Sets its flag when dropped: shows that a future was dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// CPython's `foo()` of `test_wait_for`: marks itself running, sleeps for
/// `n` ms, and unmarks itself on the way out however it leaves.
fn foo(running: &Rc<Cell<Option<bool>>>, n: u64) -> impl Future<Output = Result<&'static str, Cancelled>> {
    let running = running.clone();
    async move {
        running.set(Some(true));
        let slept = aio::sleep(ms(n)).await;
        running.set(Some(false));
        slept.map(|()| "done")
    }
}

// test_timeouts.TimeoutTests.test_timeout_not_called and
// test_waitfor.AsyncioWaitForTest.test_wait_for_blocking: in time, the
// value comes back and nothing is left pending on the task.
#[test]
fn finishes_in_time() {
    run(|| async {
        assert_eq!(aio::wait_for(async { "done" }, Duration::from_secs(10)).await, Ok("done"));
        let start = Instant::now();
        assert_eq!(aio::timeout(Duration::from_secs(10), aio::sleep(ms(10))).await, Ok(Ok(())));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(aio::current_task().unwrap().cancelling(), 0);
        nap(1).await; // no cancellation left behind
    });
}

// test_timeouts.TimeoutTests.test_timeout_basic
#[test]
fn test_timeout_basic() {
    run(|| async {
        let start = Instant::now();
        let outcome = aio::timeout(ms(10), aio::sleep(Duration::from_secs(10))).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(10))));
        assert!(start.elapsed() >= ms(10));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(outcome.unwrap_err().to_string(), "the operation did not finish within 10ms");
    });
}

// test_timeouts.TimeoutTests.test_timeout_at_basic
#[test]
fn test_timeout_at_basic() {
    run(|| async {
        let deadline = Instant::now() + ms(10);
        let outcome = aio::timeout_at(deadline, aio::sleep(Duration::from_secs(10))).await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))), "{outcome:?}");
        assert!(Instant::now() >= deadline);
    });
}

// test_timeouts.TimeoutTests.test_timeout_zero and test_timeout_zero_sleep_zero
#[test]
fn test_timeout_zero() {
    run(|| async {
        let outcome = aio::timeout(Duration::ZERO, aio::sleep(Duration::from_secs(10))).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(Duration::ZERO)));
    });
}

// test_timeouts.TimeoutTests.test_waiter_cancelled: the future sees the
// cancellation at its await, cleans up, and lets it out; the scope reports
// the timeout.
#[test]
fn test_waiter_cancelled() {
    run(|| async {
        let cancelled = Rc::new(Cell::new(false));
        let flag = cancelled.clone();
        let outcome = aio::timeout(ms(10), async move {
            if let Err(cancel) = aio::sleep(Duration::from_secs(10)).await {
                flag.set(true);
                return Err(cancel);
            }
            Ok(())
        })
        .await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(10))));
        assert!(cancelled.get());
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_waits_for_task_cancellation,
// with a future instead of a task: clean-up that awaits runs to its end
// before wait_for returns.
#[test]
fn clean_up_that_awaits_finishes_before_the_timeout_returns() {
    run(|| async {
        let task_done = Rc::new(Cell::new(false));
        let flag = task_done.clone();
        let inner = async move {
            let outcome = aio::sleep(Duration::from_secs(10)).await;
            if outcome.is_err() {
                nap(5).await; // clean-up takes a while, and may await
            }
            flag.set(true);
            outcome
        };
        let outcome = aio::wait_for(inner, ms(1)).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(1))));
        assert!(task_done.get());
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for: the timeout of a task
// passes the cancellation to that task, which ends cancelled after its
// clean-up ran.
#[test]
fn test_wait_for() {
    run(|| async {
        let running = Rc::new(Cell::new(None));
        let fut = aio::create_task(foo(&running, 10_000));
        let state = fut.task_ref();
        let outcome = aio::wait_for(fut, ms(100)).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(100))));
        assert_eq!(state.state(), TaskState::Cancelled, "cancelled by the timeout");
        assert_eq!(running.get(), Some(false));
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_waits_for_task_cancellation
#[test]
fn test_wait_for_waits_for_task_cancellation() {
    run(|| async {
        let task_done = Rc::new(Cell::new(false));
        let flag = task_done.clone();
        let inner_task = aio::create_task(async move {
            let outcome = aio::sleep(Duration::from_secs(10)).await;
            if outcome.is_err() {
                nap(1).await;
            }
            flag.set(true);
            outcome
        });
        let state = inner_task.task_ref();
        let outcome = aio::wait_for(inner_task, ms(1)).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(1))));
        assert!(task_done.get());
        assert_eq!(state.state(), TaskState::Cancelled);
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0
#[test]
fn test_wait_for_timeout_0() {
    run(|| async {
        let running = Rc::new(Cell::new(None));
        let fut = aio::create_task(foo(&running, 10_000));
        nap(1).await; // it started
        assert_eq!(running.get(), Some(true));
        let state = fut.task_ref();
        assert_eq!(aio::wait_for(fut, Duration::ZERO).await, Err(TimeoutError::Elapsed(Duration::ZERO)));
        assert_eq!(state.state(), TaskState::Cancelled);
        assert_eq!(running.get(), Some(false));
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0_future_done
#[test]
fn test_wait_for_timeout_0_future_done() {
    run(|| async {
        let fut = aio::create_task(async { "done" });
        nap(1).await;
        assert!(fut.is_done());
        assert_eq!(aio::wait_for(fut, Duration::ZERO).await, Ok(Ok("done")));
        // A future is a coroutine here, never a finished one: with no time
        // it is not started (test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started).
        assert_eq!(aio::wait_for(async { "ready" }, Duration::ZERO).await, Err(TimeoutError::Elapsed(Duration::ZERO)));
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_cancel_suppressed and
// test_wait_for_cancellation_race_condition (GH-86296): a future that
// swallows the cancellation and returns a value gives that value, as
// `asyncio.timeout` does.
#[test]
fn test_wait_for_cancel_suppressed() {
    run(|| async {
        let return_42 = async {
            match aio::sleep(Duration::from_secs(10)).await {
                Err(_) => 42,
                Ok(()) => 0,
            }
        };
        assert_eq!(aio::wait_for(return_42, ms(10)).await, Ok(42));
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_cancel_suppressed, with a
// task: the task swallows the cancellation passed on to it and returns a
// value, which wait_for gives back.
#[test]
fn test_wait_for_cancel_suppressed_by_a_task() {
    run(|| async {
        let return_42 = aio::create_task(async {
            match aio::sleep(Duration::from_secs(10)).await {
                Err(_) => 42,
                Ok(()) => 0,
            }
        });
        assert_eq!(aio::wait_for(return_42, ms(10)).await, Ok(Ok(42)));
        assert_eq!(aio::current_task().unwrap().cancelling(), 0);
        nap(1).await; // no cancellation left behind
    });
}

// test_waitfor.AsyncioWaitForTest.test_asyncio_wait_for_timeout: a task
// that ignores cancellation until its own deadline; wait_for waits for it
// to exit (whatever it then reports).
#[test]
fn test_asyncio_wait_for_timeout() {
    run(|| async {
        let exited = Rc::new(Cell::new(false));
        let flag = exited.clone();
        let slow_task = async move {
            let exit_at = Instant::now() + ms(200);
            while let Some(left) = exit_at.checked_duration_since(Instant::now()) {
                let _ignored = aio::sleep(left).await.is_err();
            }
            flag.set(true);
        };
        let start = Instant::now();
        let _either = aio::wait_for(slow_task, ms(100)).await;
        assert!(exited.get());
        assert!(start.elapsed() >= ms(200));
    });
}

// test_waitfor.AsyncioWaitForTest.test_asyncio_wait_for_cancelled: the
// task running wait_for is cancelled; wait_for still waits for the future,
// which ignores cancellation, to exit.
#[test]
fn test_asyncio_wait_for_cancelled() {
    run(|| async {
        let exited = Rc::new(Cell::new(false));
        let flag = exited.clone();
        let slow_task = async move {
            let exit_at = Instant::now() + ms(200);
            while let Some(left) = exit_at.checked_duration_since(Instant::now()) {
                let _ignored = aio::sleep(left).await.is_err();
            }
            flag.set(true);
        };
        let wait_for_task = aio::create_task(aio::wait_for(slow_task, ms(400)));
        nap(1).await;
        wait_for_task.cancel();
        let _either = finished(wait_for_task).await;
        assert!(exited.get());
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_reraises_exception_during_cancellation:
// a task that fails in its clean-up: wait_for gives that failure (here the
// error the task returned), not a timeout.
#[test]
fn test_wait_for_reraises_exception_during_cancellation() {
    #[derive(Debug, Clone, PartialEq)]
    struct FooException;
    run(|| async {
        let inner_task = aio::create_task(async {
            // try: sleep(0.2) finally: raise FooException
            let _slept = aio::sleep(ms(200)).await.is_ok();
            Err::<(), _>(FooException)
        });
        let outcome = aio::wait_for(inner_task, ms(1)).await;
        assert_eq!(outcome, Ok(Ok(Err(FooException))));
    });
}

// test_waitfor.AsyncioWaitForTest.test_cancel_wait_for and
// test_cancel_blocking_wait_for (Python issue #23219): cancelling the task
// that runs wait_for cancels the task it waits for.
#[test]
fn test_cancel_wait_for() {
    run(|| async {
        let blocking = aio::create_task(aio::cancellable(pending::<()>()));
        let blocking_state = blocking.task_ref();
        let wait = aio::create_task(aio::wait_for(blocking, Duration::from_secs(60)));
        let target = wait.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            target.cancel();
        });
        let wait = finished(wait).await;
        assert!(wait.is_cancelled());
        assert_eq!(blocking_state.state(), TaskState::Cancelled);

        // And with no timeout at all: a plain await passes it on too.
        let blocking = aio::create_task(aio::cancellable(pending::<()>()));
        let blocking_state = blocking.task_ref();
        let wait = aio::create_task(blocking);
        let target = wait.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            target.cancel();
        });
        let wait = finished(wait).await;
        assert!(wait.is_cancelled());
        assert_eq!(blocking_state.state(), TaskState::Cancelled);
    });
}

// test_waitfor.AsyncioWaitForTest.test_wait_for_issue86296: the task
// awaited finishes in one step; the task running wait_for is cancelled
// right after and does not reach its end.
#[test]
fn test_wait_for_issue86296() {
    run(|| async {
        let inner_task = aio::create_task(async { "done" });
        let inner_state = inner_task.task_ref();
        let reached_end = Rc::new(Cell::new(false));
        let flag = reached_end.clone();
        let task = aio::create_task(async move {
            let value = aio::wait_for(inner_task, Duration::from_secs(100)).await;
            aio::sleep(Duration::from_secs(1)).await?;
            flag.set(true);
            Ok::<_, Error>(value)
        });
        assert!(!task.is_done());
        aio::sleep(Duration::ZERO).await.unwrap(); // run the task
        task.cancel();
        let task = finished(task).await;
        assert!(task.is_cancelled());
        assert_eq!(inner_state.state(), TaskState::Done);
        assert!(!reached_end.get());
    });
}

// test_timeouts.TimeoutTests.test_nested_timeouts: two scopes with the
// same deadline; the code inside sees the cancellation and lets it out,
// and the outer scope times out.
#[test]
fn test_nested_timeouts() {
    run(|| async {
        let cancelled = Rc::new(Cell::new(false));
        let flag = cancelled.clone();
        let deadline = Instant::now() + ms(10);
        let outcome = aio::timeout_at(deadline, async move {
            aio::timeout_at(deadline, async move {
                if let Err(cancel) = aio::sleep(Duration::from_secs(10)).await {
                    flag.set(true);
                    return Err(cancel);
                }
                Ok(())
            })
            .await
        })
        .await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))), "{outcome:?}");
        assert!(cancelled.get());
        assert_eq!(aio::current_task().unwrap().cancelling(), 0);
        nap(1).await; // no cancellation left behind
    });
}

/// Nested timeouts over a loop kept busy by a blocking call of `busy` ms:
/// the inner scope's outcome, kept when it is handled and passed on when it
/// is a cancellation (as CPython's `assertRaises(TimeoutError)` lets any
/// other error through), and then a 10 s sleep for the outer scope to stop.
/// Returns the outer outcome and the inner one.
async fn nested_over_a_busy_loop(
    outer: u64,
    inner: u64,
    busy: u64,
) -> (Result<Result<(), Cancelled>, TimeoutError>, TimeoutError) {
    let start = Instant::now();
    let inner_outcome = Rc::new(RefCell::new(None));
    let record = inner_outcome.clone();
    let outcome = aio::timeout(ms(outer), async move {
        let inner = aio::timeout(ms(inner), async {
            std::thread::sleep(ms(busy));
            aio::sleep(Duration::from_secs(1)).await
        })
        .await;
        let error = inner.expect_err("the inner scope expired");
        *record.borrow_mut() = Some(error.clone());
        if let TimeoutError::Cancelled(passed_on) = error {
            return Err(passed_on);
        }
        // The timeout was handled; this sleep is for the outer one to stop.
        aio::sleep(Duration::from_secs(10)).await
    })
    .await;
    assert!(start.elapsed() < Duration::from_secs(5), "the outer scope stopped the sleep");
    let inner = inner_outcome.borrow_mut().take().expect("the inner scope ended");
    (outcome, inner)
}

// test_timeouts.TimeoutTests.test_nested_timeouts_loop_busy: the inner
// timeout fires and is handled; the outer one then stops the long sleep
// after it. When the busy spell outlasts the outer deadline too (a loaded
// machine), it ends as the next case.
#[test]
fn test_nested_timeouts_loop_busy() {
    run(|| async {
        let (outcome, inner) = nested_over_a_busy_loop(100, 10, 100).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(100))));
        assert!(matches!(inner, TimeoutError::Elapsed(_) | TimeoutError::Cancelled(_)), "{inner:?}");
    });
}

// The same, with the busy spell past both deadlines for certain: the two
// scopes expire in one turn of the loop. The inner one, cancelled twice
// (its own request and the outer's), passes the cancellation on rather
// than turning it into its timeout; the outer one reports the timeout.
#[test]
fn nested_timeouts_expiring_in_one_turn_report_the_outer() {
    run(|| async {
        let (outcome, inner) = nested_over_a_busy_loop(20, 10, 50).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(20))));
        assert!(matches!(inner, TimeoutError::Cancelled(_)), "{inner:?}");
    });
}

// test_timeouts.TimeoutTests.test_nested_timeouts_concurrent: the outer
// scope's time runs out first; the inner scope, not expired, lets the
// cancellation through, and the outer scope reports the timeout.
#[test]
fn test_nested_timeouts_concurrent() {
    run(|| async {
        let inner_outcome = Rc::new(RefCell::new(None));
        let record = inner_outcome.clone();
        let outcome = aio::timeout(ms(2), async move {
            let inner = aio::timeout(ms(1_000), async {
                // Pretend we crunch some numbers.
                std::thread::sleep(ms(10));
                aio::sleep(Duration::from_secs(1)).await
            })
            .await;
            let passed_through = matches!(&inner, Ok(Err(Cancelled { .. })));
            *record.borrow_mut() = Some(passed_through);
            inner
        })
        .await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(2))));
        assert_eq!(*inner_outcome.borrow(), Some(true), "the inner scope passed the cancellation through");
    });
}

// aio::timeout's rule for a future that knows nothing of aio (CPython has
// no such futures): it cannot be handed the cancellation, so it is dropped
// when time runs out.
#[test]
fn a_future_waiting_on_something_not_aio_is_dropped() {
    run(|| async {
        let dropped = Rc::new(Cell::new(false));
        let guard = DropFlag(dropped.clone());
        let outcome = aio::timeout(ms(10), async move {
            let _guard = guard;
            pending::<()>().await
        })
        .await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(10))));
        assert!(dropped.get(), "the future was dropped when time ran out");
        assert_eq!(aio::current_task().unwrap().cancelling(), 0);

        // The same in a task of its own, which then goes on.
        let dropped = Rc::new(Cell::new(false));
        let guard = DropFlag(dropped.clone());
        let task = aio::create_task(async move {
            let outcome = aio::wait_for(
                async move {
                    let _guard = guard;
                    pending::<()>().await
                },
                ms(10),
            )
            .await;
            aio::sleep(ms(1)).await?;
            Ok::<_, Cancelled>(outcome)
        });
        assert_eq!(task.await, Ok(Ok(Err(TimeoutError::Elapsed(ms(10))))));
        assert!(dropped.get());
    });
}

// test_timeouts.TimeoutTests.test_foreign_cancel_doesnt_timeout_if_not_expired
#[test]
fn test_foreign_cancel_doesnt_timeout_if_not_expired() {
    run(|| async {
        let task = aio::create_task(async {
            aio::timeout(Duration::from_secs(10), async {
                aio::current_task().unwrap().cancel_with("foreign");
                aio::sleep(Duration::from_secs(10)).await
            })
            .await
        });
        let task = finished(task).await;
        assert!(task.is_cancelled(), "the cancellation is let out as it is, not turned into a timeout");
        let error = task.exception().unwrap().unwrap();
        assert!(error.is_cancelled(), "{error:?}");
    });
}

// test_timeouts.TimeoutTests.test_cancel_in_timeout_after_cancellation's
// rule, for a cancellation from outside that arrives inside a scope whose
// time already ran out (here during the clean-up the timeout started): the
// outside cancellation, not the timeout, comes out of the scope, and the
// task ends cancelled when it lets it out.
#[test]
fn an_outside_cancel_during_a_timeout_comes_out_of_the_scope() {
    run(|| async {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let record = seen.clone();
        let in_clean_up = Rc::new(Cell::new(false));
        let flag = in_clean_up.clone();
        let task = aio::create_task(async move {
            let scoped = aio::timeout(ms(20), async {
                if aio::sleep(Duration::from_secs(10)).await.is_err() {
                    // Clean-up after the timeout, cut short by the outside cancel.
                    flag.set(true);
                    aio::sleep(Duration::from_secs(10)).await?;
                }
                Ok::<_, Cancelled>(())
            })
            .await;
            let outside = matches!(&scoped, Err(TimeoutError::Cancelled(c)) if c.message.as_deref() == Some("outside"));
            record.borrow_mut().push(if outside { "scope: the outside cancellation" } else { "scope: other" });
            scoped
        });
        // Wait until the scope's time ran out and the task is in its clean-up.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !in_clean_up.get() {
            assert!(Instant::now() < deadline, "the timeout never fired");
            nap(2).await;
        }
        assert!(seen.borrow().is_empty());
        task.cancel_with("outside");
        let task = finished(task).await;
        assert_eq!(*seen.borrow(), ["scope: the outside cancellation"]);
        assert!(task.is_cancelled());
    });
}

// test_timeouts.TimeoutTests.test_outer_task_is_not_cancelled and
// test_tasks.BaseTaskTests.test_uncancel_structured_blocks: a timeout that
// fired leaves its task neither cancelled nor cancelling.
#[test]
fn test_outer_task_is_not_cancelled() {
    run(|| async {
        let outer = aio::create_task(async {
            let outcome = aio::timeout(ms(1), aio::sleep(Duration::from_secs(10))).await;
            assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(1))));
            let me = aio::current_task().unwrap();
            assert_eq!(me.cancelling(), 0);
            // Code after the scope is not affected by the timeout.
            aio::sleep(Duration::ZERO).await?;
            Ok::<_, Cancelled>("outer code reached")
        });
        let outer = finished(outer).await;
        assert!(outer.is_done() && !outer.is_cancelled());
        assert_eq!(outer.result(), Ok(Ok("outer code reached")));
        assert_eq!(outer.cancelling(), 0);
    });
}

// test_timeouts.TimeoutTests.test_timeout_after_cancellation: after a
// handled cancellation, a timeout in the clean-up still times out.
#[test]
fn test_timeout_after_cancellation() {
    run(|| async {
        let task = aio::create_task(async {
            aio::current_task().unwrap().cancel();
            let handled = aio::sleep(Duration::from_secs(1)).await.is_err(); // work which will be cancelled
            let clean_up = aio::timeout(Duration::ZERO, aio::sleep(Duration::from_secs(1))).await;
            (handled, clean_up)
        });
        assert_eq!(task.await, Ok((true, Err(TimeoutError::Elapsed(Duration::ZERO)))));
    });
}

// test_timeouts.TimeoutTests.test_timeout_after_cancellation, going on
// after the clean-up: the cancellation the task handled before the scope
// is not delivered again after it (CPython's timeout compares
// `uncancel()` with the `cancelling()` it saw on entry).
#[test]
fn a_cancellation_handled_before_a_timeout_is_not_delivered_again() {
    run(|| async {
        let task = aio::create_task(async {
            aio::current_task().unwrap().cancel();
            let handled = aio::sleep(Duration::from_secs(1)).await.is_err();
            let clean_up = aio::timeout(ms(1), aio::sleep(Duration::from_secs(1))).await;
            let afterwards = aio::sleep(ms(1)).await;
            (handled, clean_up, afterwards.is_ok())
        });
        assert_eq!(task.await, Ok((true, Err(TimeoutError::Elapsed(ms(1))), true)));
    });
}

// test_timeouts.TimeoutTests.test_cancel_in_timeout_after_cancellation
#[test]
fn test_cancel_in_timeout_after_cancellation() {
    run(|| async {
        let task = aio::create_task(async {
            aio::current_task().unwrap().cancel();
            let handled = aio::sleep(Duration::from_secs(1)).await.is_err();
            assert!(handled);
            aio::timeout(Duration::from_secs(1), async {
                aio::current_task().unwrap().cancel_with("again");
                aio::sleep(Duration::from_secs(2)).await // some clean-up
            })
            .await
        });
        let task = finished(task).await;
        assert!(task.is_cancelled());
    });
}

// test_timeouts.TimeoutTests.test_timeout_taskgroup (its outline): a
// timeout around a group's join cancels the group's tasks and reports the
// timeout.
#[test]
fn test_timeout_taskgroup() {
    run(|| async {
        let cancelled = Rc::new(Cell::new(0));
        let counter = cancelled.clone();
        let group = TaskGroup::new();
        for _ in 0..3 {
            let counter = counter.clone();
            group
                .create_task(async move {
                    if let Err(cancel) = aio::sleep(Duration::from_secs(20)).await {
                        counter.set(counter.get() + 1);
                        return Err(cancel);
                    }
                    Ok(())
                })
                .unwrap();
        }
        let start = Instant::now();
        let outcome = aio::timeout(ms(10), group.join()).await;
        assert_eq!(outcome, Err(TimeoutError::Elapsed(ms(10))));
        assert_eq!(cancelled.get(), 3);
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

// test_waitfor.WaitForShieldTests.test_shielded_timeout and
// test_zero_timeout: the shield times out; the task it shields is not
// cancelled, and finishes.
#[test]
fn test_shielded_timeout() {
    run(|| async {
        for limit in [ms(10), Duration::ZERO] {
            let task = aio::create_task(async {
                aio::sleep(ms(500)).await?;
                Ok::<_, Cancelled>("done")
            });
            let state = task.task_ref();
            let outcome = aio::wait_for(aio::shield(task), limit).await;
            assert_eq!(outcome, Err(TimeoutError::Elapsed(limit)));
            assert_eq!(state.state(), TaskState::Running, "the shielded task was not cancelled");
            let deadline = Instant::now() + Duration::from_secs(5);
            while state.state() != TaskState::Done {
                assert!(Instant::now() < deadline, "the shielded task never finished");
                nap(2).await;
            }
        }
    });
}
