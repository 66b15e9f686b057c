//! `EventLoop::run_until_complete` with a future that borrows from its
//! caller: the loop runs it as a task, which must be `'static`, so the
//! future is lent to the task for the call (`aio/lend.rs`, the crate's one
//! lifetime-erasing `transmute`). These cases end the call every way it can
//! end — done, stopped, panicked, cancelled — while the task lives on in the
//! loop, then run the loop again, so that a task still reaching the borrow
//! would read freed memory.
//!
//! `scripts/test` runs this file under miri, which reports such a read as
//! undefined behaviour; under `cargo test` the cases check the outcomes.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use common::aio_harness::bounded;
use concur::aio::{self, EventLoop, LoopError};

/// A turn of the loop, then another: what the lingering task needs to run.
fn run_again(lp: &EventLoop) {
    lp.run_until_complete(async {
        aio::sleep(Duration::ZERO).await.unwrap();
        aio::sleep(Duration::ZERO).await.unwrap();
    })
    .unwrap();
}

#[test]
fn a_borrowing_future_runs_to_its_value() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let mut seen = Vec::new();
        let name = String::from("borrowed");
        let length = lp
            .run_until_complete(async {
                seen.push(name.as_str());
                aio::sleep(Duration::ZERO).await.unwrap();
                seen.push("after a turn");
                name.len()
            })
            .unwrap();
        assert_eq!((length, seen), (8, vec!["borrowed", "after a turn"]));
        run_again(&lp);
    });
}

#[test]
fn a_stopped_call_drops_the_future_before_its_borrows_end() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        {
            let reads = Cell::new(0);
            let text = String::from("gone when the call returns");
            let handle = lp.handle();
            lp.call_soon(move || handle.stop());
            let outcome = lp.run_until_complete(async {
                loop {
                    reads.set(reads.get() + text.len());
                    aio::sleep(Duration::ZERO).await.unwrap();
                }
            });
            assert_eq!(outcome, Err(LoopError::Stopped));
            assert!(reads.get() > 0);
        }
        // The main task is still in the loop; it must find nothing to poll.
        run_again(&lp);
        lp.close().unwrap();
    });
}

#[test]
fn a_panicking_future_unwinds_and_the_loop_goes_on() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            let text = String::from("borrowed until the panic");
            lp.run_until_complete(async {
                aio::sleep(Duration::ZERO).await.unwrap();
                panic!("{text}");
            })
        }));
        let message = panicked.expect_err("the panic goes on from run_until_complete");
        assert_eq!(message.downcast_ref::<String>().map(String::as_str), Some("borrowed until the panic"));
        run_again(&lp);
    });
}

#[test]
fn a_cancelled_main_task_reports_it_and_leaves_nothing_behind() {
    bounded(|| {
        let lp = EventLoop::new().unwrap();
        {
            let text = String::from("borrowed by the main task");
            let outcome = lp.run_until_complete(async {
                aio::current_task().unwrap().cancel_with("from inside");
                aio::sleep(Duration::from_secs(60)).await?;
                Ok::<_, aio::Cancelled>(text.len())
            });
            assert!(matches!(outcome, Err(LoopError::Cancelled(_))), "{outcome:?}");
        }
        run_again(&lp);
        assert_eq!(lp.run_until_complete(async { aio::all_tasks().unwrap().len() }), Ok(1));
    });
}
