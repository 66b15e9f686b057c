//! The first steps with `aio`: a task, `run_until_complete`, a done
//! callback, and the result.
//!
//! Part one makes an `EventLoop` and a task on it. A task is created at
//! once but runs only while the loop runs, so it stays `Pending` until
//! `run_until_complete` starts the loop. A done callback added beforehand
//! runs on the loop when the task finishes, and sees its result;
//! `run_until_complete` returns the same result once the task is done.
//!
//! Part two uses `aio::run`, Python's `asyncio.run`: a fresh loop for one
//! main future. It shows what makes a task different from a bare future:
//! the task starts running as soon as the main future pauses, whether or
//! not anyone awaits it yet, while a bare `async` block does nothing until
//! it is awaited — the same difference as between `asyncio.create_task(coro)`
//! and a coroutine object in Python.
//!
//! Every order printed here is fixed by the program, not by timing; only the
//! elapsed times vary from run to run.
//!
//! Run with `cargo run -p concur --example aio_basics`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concur::aio::{self, Cancelled, EventLoop, TaskState};

/// How long the kettle takes to boil.
const BOIL: Duration = Duration::from_millis(200);

/// How long the toast takes to brown.
const TOAST: Duration = Duration::from_millis(150);

/// What happened, in order, for the checks at the end of each part.
type Log = Rc<RefCell<Vec<String>>>;

fn note(log: &Log, line: String) {
    println!("{line}");
    log.borrow_mut().push(line);
}

/// A task on an explicit loop, with a done callback.
fn task_on_a_loop() {
    println!("== a task on an EventLoop ==");
    let lp = EventLoop::new().expect("the system gives the loop its resources");
    let log: Log = Rc::default();

    let body_log = log.clone();
    // The body returns `Result<_, Cancelled>` so that `?` can pass a
    // cancellation out of its await; nobody cancels it here.
    let kettle = lp
        .create_task(async move {
            let me = aio::current_task().expect("a task body runs as the current task");
            note(&body_log, format!("  kettle: started, state {:?}; heating for {} ms", me.state(), BOIL.as_millis()));
            aio::sleep(BOIL).await?;
            note(&body_log, "  kettle: boiled".to_string());
            Ok::<_, Cancelled>("hot water")
        })
        .with_name("kettle");

    // Nothing has run: the loop only runs inside run_until_complete.
    println!("created task '{}': state {:?}, done() {}", kettle.name(), kettle.state(), kettle.is_done());
    assert_eq!(kettle.state(), TaskState::Pending);
    match kettle.result() {
        Err(error) => println!("result() before it ran: {error}"),
        Ok(value) => panic!("a task that never ran has no result, got {value:?}"),
    }

    let callback_log = log.clone();
    kettle.add_done_callback(move |task| {
        let value = task.result().expect("the task finished").expect("nobody cancelled it");
        note(&callback_log, format!("  done callback: '{}' ended {:?} with {value:?}", task.name(), task.state()));
    });
    println!("added a done callback");

    // Running a task moves its value out; a `TaskRef` keeps an eye on
    // its state afterwards.
    let watch = kettle.task_ref();
    println!("run_until_complete(kettle):");
    let start = Instant::now();
    // Given a task, run_until_complete answers its value or one
    // `aio::Error` for the loop's failure and the task's alike; the inner
    // `Result` is the body's own.
    let value = lp
        .run_until_complete(kettle)
        .expect("the loop is open and the task neither panicked nor was cancelled")
        .expect("the body got no cancellation");
    let took = start.elapsed();
    println!("run_until_complete returned {value:?} after {} ms", took.as_millis());
    println!("state now: {:?}", watch.state());

    assert_eq!(value, "hot water");
    assert_eq!(watch.state(), TaskState::Done);
    assert!(took >= BOIL, "the task slept {BOIL:?}, yet the loop returned after {took:?}");
    // The callback ran on the loop before run_until_complete returned, as
    // Python's loop runs done callbacks before the one that stops it.
    assert_eq!(
        *log.borrow(),
        [
            format!("  kettle: started, state Running; heating for {} ms", BOIL.as_millis()).as_str(),
            "  kettle: boiled",
            "  done callback: 'kettle' ended Done with \"hot water\"",
        ]
    );
    lp.close().expect("the loop is not running");
    println!("loop closed: {}", lp.is_closed());
}

/// `aio::run`, and a task that runs unawaited beside a bare future that
/// does not.
fn tasks_run_on_their_own() {
    println!("== aio::run: a task runs on its own, a bare future waits to be awaited ==");
    let log: Log = Rc::default();
    let start = Instant::now();
    let breakfast = aio::run({
        let log = log.clone();
        async move {
            let toast_log = log.clone();
            let toast = aio::create_task(async move {
                note(&toast_log, "  toast: in the toaster".to_string());
                aio::sleep(TOAST).await?;
                note(&toast_log, "  toast: browned".to_string());
                Ok::<_, Cancelled>("toast")
            })
            .with_name("toast");
            let bare_log = log.clone();
            let jam = async move {
                note(&bare_log, "  jam: opened (only now, when awaited)".to_string());
                "jam"
            };
            note(&log, "  main: created the toast task and the jam future".to_string());
            // The toast starts at this pause; the jam future does not.
            aio::sleep(Duration::from_millis(50)).await?;
            note(&log, format!("  main: 50 ms later the toast task is {:?}", toast.state()));
            let jam = jam.await;
            // The outer `?` is how the task ended (a panic, a cancellation),
            // the inner one what its body returned.
            let toast = toast.await??;
            Ok::<_, aio::Error>(format!("{toast} and {jam}"))
        }
    })
    .expect("no other loop runs on this thread")
    .expect("neither main nor the toast failed");
    let took = start.elapsed();
    println!("aio::run returned {breakfast:?} after {} ms", took.as_millis());

    assert_eq!(breakfast, "toast and jam");
    assert_eq!(
        *log.borrow(),
        [
            "  main: created the toast task and the jam future",
            "  toast: in the toaster",
            "  main: 50 ms later the toast task is Running",
            "  jam: opened (only now, when awaited)",
            "  toast: browned",
        ]
    );
    assert!(took >= TOAST, "the toast took {TOAST:?}, yet main returned after {took:?}");
}

fn main() {
    task_on_a_loop();
    println!();
    tasks_run_on_their_own();
}
