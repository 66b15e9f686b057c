//! An event loop on a thread of its own, fed from the main thread: blocking
//! callbacks queue up, coroutines overlap.
//!
//! `aio::spawn_background()` starts a loop running forever on a thread
//! named `aio-loop` and hands back a `LoopHandle`, which other threads use
//! to give it work — Python's recipe of a thread whose target is
//! `loop.run_forever()`.
//!
//! 1. Three callbacks through `call_soon_threadsafe`, each blocking for `D`
//!    with `std::thread::sleep` (a stand-in for a blocking call such as a
//!    file read). A loop runs one thing at a time on its one thread, so they
//!    run one after another: about 3 × D in all.
//! 2. Three futures through `run_coroutine_threadsafe`, each awaiting
//!    `aio::sleep(D)`. Each becomes a task; an await gives the loop back, so
//!    the three wait at the same time: about D in all. The main thread waits
//!    for each with `result_timeout` on the thread-side `Future` it got.
//!
//! The lesson: code sent to a loop must not block; if it has to, send it to
//! a thread (`aio::to_thread`) instead.
//!
//! The times printed vary a little from run to run; the order of the
//! callbacks and the fact that the coroutines overlap do not.
//!
//! Run with `cargo run -p concur --example aio_background_loop`.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use concur::aio::{self, LoopHandle};
use concur::thread::JoinStatus;

/// How long each piece of work waits.
const D: Duration = Duration::from_millis(300);

/// How long any wait in this example may take before it counts as a bug.
const PATIENCE: Duration = Duration::from_secs(10);

/// When a piece of work ran, measured from a common start, and on which
/// thread.
#[derive(Debug, Clone)]
struct Span {
    job: usize,
    began: Duration,
    ended: Duration,
    thread: String,
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("unnamed").to_string()
}

fn show(span: &Span) {
    println!(
        "  job {} ran on '{}' from {:>4} ms to {:>4} ms",
        span.job,
        span.thread,
        span.began.as_millis(),
        span.ended.as_millis()
    );
}

/// Part 1, blocking callbacks: they run one after another. Returns the wall time.
fn blocking_callbacks(handle: &LoopHandle) -> Duration {
    println!("== 3 blocking callbacks through call_soon_threadsafe, each sleeping {} ms ==", D.as_millis());
    let (sender, spans) = mpsc::channel();
    let start = Instant::now();
    for job in 1..=3 {
        let sender = sender.clone();
        handle
            .call_soon_threadsafe(move || {
                let began = start.elapsed();
                // Blocks the loop's only thread: nothing else on the loop
                // runs meanwhile, including the next callback.
                std::thread::sleep(D);
                let span = Span { job, began, ended: start.elapsed(), thread: thread_name() };
                sender.send(span).expect("the main thread waits for every span");
            })
            .expect("the background loop is open");
    }
    println!("main: sent 3 callbacks in {} ms, without waiting", start.elapsed().as_millis());
    let spans: Vec<Span> =
        (0..3).map(|_| spans.recv_timeout(PATIENCE).expect("each callback reports within the patience")).collect();
    let wall = start.elapsed();
    spans.iter().for_each(show);
    println!("all 3 finished after {} ms (3 x {} ms = {} ms)", wall.as_millis(), D.as_millis(), (3 * D).as_millis());

    assert_eq!(spans.iter().map(|s| s.job).collect::<Vec<_>>(), [1, 2, 3], "callbacks run in the order sent");
    assert!(spans.iter().all(|s| s.thread == "aio-loop"), "callbacks run on the loop's thread: {spans:?}");
    assert!(spans.windows(2).all(|pair| pair[1].began >= pair[0].ended), "callbacks never overlap: {spans:?}");
    assert!(wall >= 3 * D, "three blocking callbacks of {D:?} took only {wall:?}");
    wall
}

/// Part 2, coroutines: they overlap. Returns the wall time.
fn overlapping_coroutines(handle: &LoopHandle) -> Duration {
    println!("== 3 coroutines through run_coroutine_threadsafe, each awaiting aio::sleep({} ms) ==", D.as_millis());
    let start = Instant::now();
    let futures: Vec<_> = (1..=3)
        .map(|job| {
            handle
                .run_coroutine_threadsafe(async move {
                    let began = start.elapsed();
                    // An await, not a block: the loop runs the other tasks
                    // while this one sleeps.
                    aio::sleep(D).await?;
                    Ok::<_, aio::Cancelled>(Span { job, began, ended: start.elapsed(), thread: thread_name() })
                })
                .expect("the background loop is open")
        })
        .collect();
    println!("main: sent 3 coroutines in {} ms; each gave back a Future at once", start.elapsed().as_millis());
    let spans: Vec<Span> = futures
        .iter()
        .map(|future| {
            future
                .result_timeout(PATIENCE)
                .expect("the coroutine finishes within the patience")
                .expect("nobody cancels the coroutine")
        })
        .collect();
    let wall = start.elapsed();
    spans.iter().for_each(show);
    println!("all 3 finished after {} ms (about {} ms: they waited together)", wall.as_millis(), D.as_millis());

    assert!(spans.iter().all(|s| s.thread == "aio-loop"), "tasks run on the loop's thread: {spans:?}");
    let last_start = spans.iter().map(|s| s.began).max().expect("three spans");
    let first_end = spans.iter().map(|s| s.ended).min().expect("three spans");
    assert!(last_start < first_end, "all three were waiting at once: {spans:?}");
    assert!(wall >= D, "a sleep of {D:?} took only {wall:?}");
    // Generous: overlapping, the three take about D; in series they would
    // take 3 x D.
    assert!(wall < 2 * D, "the coroutines did not overlap: {wall:?}");
    wall
}

fn main() {
    let (handle, thread) = aio::spawn_background().expect("the loop's thread starts");
    println!("a loop runs forever on thread '{}'", thread.name());
    println!();

    let serial = blocking_callbacks(&handle);
    println!();
    let overlapped = overlapping_coroutines(&handle);
    println!();

    println!(
        "wall time: blocking callbacks {} ms, coroutines {} ms ({:.1}x faster)",
        serial.as_millis(),
        overlapped.as_millis(),
        serial.as_secs_f64() / overlapped.as_secs_f64()
    );

    handle.stop();
    let stopped = thread.join_timeout(PATIENCE).expect("the loop's thread does not panic");
    assert_eq!(stopped, JoinStatus::Finished, "the loop stops");
    thread.join().expect("the loop's thread does not panic").expect("the loop ran and closed cleanly");
    println!("stopped the loop; its handle now says closed: {}", handle.is_closed());
    assert!(handle.is_closed());
}
