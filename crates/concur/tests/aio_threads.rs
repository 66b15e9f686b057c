//! A loop on a thread of its own, fed from other threads: CPython's
//! `RunCoroutineThreadsafeTests` (`test_tasks.py`) and the background-loop
//! recipe of the reference text. Blocking callbacks sent with
//! `call_soon_threadsafe` run one after another (about 3 × D for three);
//! coroutines sent with `run_coroutine_threadsafe` overlap (about D); many
//! threads get exact results; cancelling the thread-side future cancels the
//! task; a handle outlives its loop and then says `LoopError::Closed`; and a
//! future whose loop closes fails instead of hanging. Each test names the
//! CPython case it mirrors in a comment above it.
//!
//! Every test runs on a thread of its own and fails if it has not finished
//! within [`LONG`]; every wait on a future or a channel has a timeout, and
//! every background loop is stopped and joined with a deadline.
//!
//! Timings: D = 200 ms; the serial case must take at least 2.5 × D, the
//! overlapping one less than 2.5 × D — about 300 ms of slack each way, which
//! a loaded 2-core machine keeps.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use concur::aio::{self, Cancelled, LoopError, LoopHandle};
use concur::futures::FutureError;
use concur::thread::{JoinHandle, JoinStatus};

use common::aio_harness::bounded;
use common::LONG;

static_assertions::assert_impl_all!(LoopHandle: Send, Sync, Clone);
static_assertions::assert_impl_all!(concur::futures::ConcurrentFuture<u32>: Send, Sync);

/// How long each piece of work of the timing tests waits.
const D: Duration = Duration::from_millis(200);

/// A loop running forever on its own thread (`aio::spawn_background`),
/// stopped and joined with a deadline when the test is done with it.
struct Background {
    handle: LoopHandle,
    thread: Option<JoinHandle<Result<(), LoopError>>>,
}

impl Background {
    fn start() -> Background {
        let (handle, thread) = aio::spawn_background().expect("a background loop starts");
        Background { handle, thread: Some(thread) }
    }

    /// Stops the loop and returns what its thread returned.
    fn stop(mut self) -> Result<(), LoopError> {
        self.handle.stop();
        let thread = self.thread.take().expect("stopped once");
        assert_eq!(
            thread.join_timeout(LONG).unwrap(),
            JoinStatus::Finished,
            "the loop's thread did not stop within {LONG:?}"
        );
        thread.join().expect("the loop's thread did not panic")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // A test that failed before `stop`: stop the loop, but do not wait
        // long for a loop that may be the reason it failed.
        if let Some(thread) = self.thread.take() {
            self.handle.stop();
            let _ = thread.join_timeout(Duration::from_secs(2));
        }
    }
}

// The reference's background-loop lesson (Python's `call_soon_threadsafe`
// into a thread running `loop.run_forever()`): callbacks that block run one
// after another, on the loop's thread.
#[test]
fn blocking_callbacks_run_one_after_another() {
    bounded(|| {
        let background = Background::start();
        let (sender, spans) = mpsc::channel();
        let start = Instant::now();
        for job in 0..3 {
            let sender = sender.clone();
            background
                .handle
                .call_soon_threadsafe(move || {
                    let began = start.elapsed();
                    std::thread::sleep(D);
                    let thread = std::thread::current().name().map(str::to_string);
                    sender.send((job, began, start.elapsed(), thread)).unwrap();
                })
                .unwrap();
        }
        let mut spans: Vec<_> = (0..3).map(|_| spans.recv_timeout(LONG).expect("every callback ran")).collect();
        let elapsed = start.elapsed();
        spans.sort_by_key(|span| span.1);
        assert_eq!(spans.iter().map(|span| span.0).collect::<Vec<_>>(), [0, 1, 2], "in the order sent");
        for pair in spans.windows(2) {
            assert!(pair[0].2 <= pair[1].1, "callbacks overlapped: {spans:?}");
        }
        assert!(spans.iter().all(|span| span.3.as_deref() == Some("aio-loop")), "{spans:?}");
        assert!(elapsed >= D * 5 / 2, "three blocking callbacks of {D:?} took only {elapsed:?}");
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe and
// the background-loop lesson: coroutines sent from a thread become tasks,
// which overlap while they wait.
#[test]
fn coroutines_overlap() {
    bounded(|| {
        let background = Background::start();
        let start = Instant::now();
        let naps: Vec<_> = (0..3)
            .map(|n| {
                background
                    .handle
                    .run_coroutine_threadsafe(async move {
                        aio::sleep(D).await?;
                        Ok::<_, Cancelled>(n)
                    })
                    .unwrap()
            })
            .collect();
        let values: Vec<_> = naps.iter().map(|nap| nap.result_timeout(LONG).unwrap().unwrap()).collect();
        let elapsed = start.elapsed();
        assert_eq!(values, [0, 1, 2]);
        assert!(elapsed >= D);
        assert!(elapsed < D * 5 / 2, "three sleeps of {D:?} took {elapsed:?}: they did not overlap");
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe:
// `add(1, 2)` after a short sleep.
#[test]
fn test_run_coroutine_threadsafe() {
    bounded(|| {
        let background = Background::start();
        let add = |a: u32, b: u32| async move {
            aio::sleep(Duration::from_millis(50)).await?;
            Ok::<_, Cancelled>(a + b)
        };
        let future = background.handle.run_coroutine_threadsafe(add(1, 2)).unwrap();
        assert_eq!(future.result_timeout(LONG), Ok(Ok(3)));
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe from
// many threads at once: nothing lost, nothing mixed up.
#[test]
fn results_from_many_threads_are_exact() {
    const THREADS: u64 = 8;
    const CALLS: u64 = 200;
    bounded(|| {
        let background = Background::start();
        let workers: Vec<_> = (0..THREADS)
            .map(|i| {
                let handle = background.handle.clone();
                common::spawn(move || {
                    let futures: Vec<_> = (0..CALLS)
                        .map(|j| {
                            handle
                                .run_coroutine_threadsafe(async move {
                                    aio::sleep(Duration::ZERO).await.unwrap();
                                    i * 1_000 + j
                                })
                                .unwrap()
                        })
                        .collect();
                    futures.iter().map(|future| future.result_timeout(LONG).unwrap()).sum::<u64>()
                })
            })
            .collect();
        let total: u64 = workers.into_iter().map(common::Joiner::join).sum();
        let expected: u64 = (0..THREADS).flat_map(|i| (0..CALLS).map(move |j| i * 1_000 + j)).sum();
        assert_eq!(total, expected);
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_with_timeout:
// the caller stops waiting, then cancels the future; the task is cancelled
// and sees the cancellation at its await.
#[test]
fn cancelling_the_future_cancels_the_task() {
    bounded(|| {
        let background = Background::start();
        let (sender, events) = mpsc::channel();
        let future = background
            .handle
            .run_coroutine_threadsafe(async move {
                sender.send("started").unwrap();
                let outcome = aio::sleep(Duration::from_secs(60)).await;
                sender.send(if outcome.is_err() { "saw the cancellation" } else { "slept" }).unwrap();
                outcome
            })
            .unwrap();
        assert_eq!(events.recv_timeout(LONG), Ok("started"));
        assert_eq!(future.result_timeout(Duration::ZERO), Err(FutureError::Timeout(Duration::ZERO)));
        assert!(future.cancel());
        assert_eq!(events.recv_timeout(LONG), Ok("saw the cancellation"));
        assert!(future.is_cancelled());
        assert_eq!(future.result_timeout(LONG), Err(FutureError::Cancelled));
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_task_cancelled:
// the coroutine cancels its own task and lets the cancellation out: the
// task ends cancelled, and so does the thread-side future.
#[test]
fn test_run_coroutine_threadsafe_task_cancelled() {
    bounded(|| {
        let background = Background::start();
        let future = background
            .handle
            .run_coroutine_threadsafe(async {
                aio::sleep(Duration::from_millis(10)).await?;
                aio::current_task().unwrap().cancel_with("by itself");
                aio::sleep(Duration::ZERO).await?;
                Ok::<_, Cancelled>(3)
            })
            .unwrap();
        assert_eq!(future.result_timeout(LONG), Err(FutureError::Cancelled));
        assert!(future.is_cancelled());
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_task_cancelled,
// with the task cancelled while it waits on something that knows nothing
// of aio (so it is dropped there): the caller is told it was cancelled,
// not that the loop closed.
#[test]
fn a_task_cancelled_at_a_foreign_await_is_reported_as_cancelled() {
    bounded(|| {
        let background = Background::start();
        let future = background
            .handle
            .run_coroutine_threadsafe(async {
                aio::current_task().unwrap().cancel();
                std::future::pending::<()>().await
            })
            .unwrap();
        let outcome = future.result_timeout(LONG);
        assert_eq!(outcome, Err(FutureError::Cancelled), "the loop is still running");
        background.stop().unwrap();
    });
}

// test_tasks.RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_with_exception:
// the coroutine's exception (here a panic) reaches the caller.
#[test]
fn test_run_coroutine_threadsafe_with_exception() {
    bounded(|| {
        let background = Background::start();
        let future = background
            .handle
            .run_coroutine_threadsafe(async {
                aio::sleep(Duration::from_millis(5)).await.unwrap();
                panic!("Fail!")
            })
            .unwrap();
        let outcome: Result<(), FutureError> = future.result_timeout(LONG);
        assert_eq!(outcome, Err(FutureError::Panicked("Fail!".into())));
        background.stop().unwrap();
    });
}

// test_events.EventLoopTestsMixin.test_close (call_soon_threadsafe on a
// closed loop raises): a handle used after its loop closed says so.
#[test]
fn a_handle_after_the_loop_closed() {
    bounded(|| {
        let background = Background::start();
        let handle = background.handle.clone();
        assert!(!handle.is_closed());
        background.stop().unwrap();
        assert!(handle.is_closed());
        assert!(!handle.is_running());
        assert!(matches!(handle.call_soon_threadsafe(|| {}), Err(LoopError::Closed)));
        assert!(matches!(handle.run_coroutine_threadsafe(async { 1 }), Err(LoopError::Closed)));
        handle.stop(); // ignored, not a panic
    });
}

// test_tasks.RunCoroutineThreadsafeTests (the caller never hangs): futures
// still pending when the loop closes fail, saying the loop closed.
#[test]
fn futures_pending_when_the_loop_closes_fail() {
    bounded(|| {
        let background = Background::start();
        let handle = background.handle.clone();
        let (sender, started) = mpsc::channel();
        let sleeping = handle
            .run_coroutine_threadsafe(async move {
                sender.send(()).unwrap();
                aio::sleep(Duration::from_secs(60)).await
            })
            .unwrap();
        started.recv_timeout(LONG).expect("the task started");
        background.stop().unwrap();
        match sleeping.result_timeout(LONG) {
            Err(FutureError::Failed(message)) => assert!(message.contains("closed"), "{message}"),
            other => panic!("expected the future to fail, got {other:?}"),
        }
    });
}

// The same, racing the stop: work sent while the loop stops is either
// refused, done, or failed, and its future never hangs.
#[test]
fn work_sent_while_the_loop_stops_never_hangs() {
    bounded(|| {
        for _ in 0..20 {
            let background = Background::start();
            let handle = background.handle.clone();
            handle.stop();
            let sent: Vec<_> = (0..5).map(|n| handle.run_coroutine_threadsafe(async move { n })).collect();
            background.stop().unwrap();
            for (n, future) in sent.into_iter().enumerate() {
                match future {
                    Err(LoopError::Closed) => {}
                    Ok(future) => match future.result_timeout(LONG) {
                        Ok(value) => assert_eq!(value, n),
                        Err(FutureError::Failed(message)) => assert!(message.contains("closed"), "{message}"),
                        Err(other) => panic!("unexpected {other:?}"),
                    },
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        }
    });
}

// test_base_events.BaseEventLoopTests.test_default_exc_handler_callback,
// for callbacks from other threads: one that fails does not stop the loop
// from taking more work, or from being stopped.
#[test]
fn a_panicking_threadsafe_callback_does_not_stop_the_loop() {
    bounded(|| {
        let background = Background::start();
        background.handle.call_soon_threadsafe(|| panic!("a callback failed")).unwrap();
        let (sender, ran) = mpsc::channel();
        let sent = background.handle.call_soon_threadsafe(move || sender.send(()).unwrap());
        assert!(sent.is_ok(), "{sent:?}");
        assert!(ran.recv_timeout(Duration::from_secs(2)).is_ok(), "the next callback never ran");
        background.stop().unwrap();
    });
}

// The recipe's last step: stopping the background loop ends its thread,
// which closes the loop.
#[test]
fn stopping_the_background_loop_ends_its_thread() {
    bounded(|| {
        let background = Background::start();
        let handle = background.handle.clone();
        let (sender, ran) = mpsc::channel();
        handle
            .call_soon_threadsafe(move || sender.send(std::thread::current().name().map(str::to_string)).unwrap())
            .unwrap();
        assert_eq!(ran.recv_timeout(LONG).unwrap().as_deref(), Some("aio-loop"));
        assert!(handle.is_running());
        assert_eq!(background.stop(), Ok(()));
        assert!(handle.is_closed());
    });
}
