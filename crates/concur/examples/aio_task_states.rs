//! The life of a task: `Pending → Running → Done`, and the two ways to
//! `Cancelled`.
//!
//! 1. A task that finishes: `Pending` when created, `Running` once the loop
//!    has started it (also while it is paused at an await — started and not
//!    finished), `Done` when its body returns.
//! 2. A task cancelled before it ever ran: `Pending → Cancelled`. Its body
//!    never starts.
//! 3. A task cancelled while it waits: `Running → Cancelled`. `cancel(msg)`
//!    only asks; the task is handed a `Cancelled` carrying the message at the
//!    await it is paused on, cleans up, and lets the error out with `?`.
//! 4. A task that handles the cancellation instead — drops the error and
//!    returns a value — ends `Done`, as a coroutine that catches
//!    `CancelledError` does in Python.
//!
//! Each state is printed when it is seen: by the task itself through
//! `aio::current_task()`, by `main` between its awaits, and by a done
//! callback. The order of the lines is fixed by the program; the sleeps only
//! give the tasks something to wait on.
//!
//! Run with `cargo run -p concur --example aio_task_states`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use concur::aio::{self, Cancelled, Error, Task, TaskState};

/// Longer than the example runs: a sleep that ends only by cancellation.
const FOREVER: Duration = Duration::from_secs(60);

/// Prints the state a done callback sees when the task finishes, and keeps
/// it for `main` to check: a panic inside a callback would only be reported
/// by the loop, as Python's loop logs a callback's exception, not raise it.
fn report_when_finished<T: 'static>(task: &Task<T>) -> Rc<Cell<Option<TaskState>>> {
    let seen = Rc::new(Cell::new(None));
    let record = seen.clone();
    task.add_done_callback(move |task| {
        println!("  done callback: '{}' is {:?}", task.name(), task.state());
        record.set(Some(task.state()));
    });
    seen
}

/// The state of the task running this code.
fn my_state() -> TaskState {
    aio::current_task().expect("called from a task body").state()
}

/// Part 1: Pending → Running → Done.
async fn finishes() -> Result<(), Error> {
    println!("== 1. a task that finishes: Pending -> Running -> Done ==");
    let worker = aio::create_task(async {
        println!("  worker: started, my state is {:?}", my_state());
        aio::sleep(Duration::from_millis(100)).await?;
        println!("  worker: woke up, still {:?}; returning 42", my_state());
        Ok::<_, Cancelled>(42)
    })
    .with_name("worker");
    let worker_callback = report_when_finished(&worker);
    println!("main: created 'worker': {:?}", worker.state());
    assert_eq!(worker.state(), TaskState::Pending);

    // `sleep(0)` gives every ready task one step: the worker runs up to its
    // first await.
    aio::sleep(Duration::ZERO).await?;
    println!("main: after sleep(0) 'worker' is {:?} (paused at its await)", worker.state());
    assert_eq!(worker.state(), TaskState::Running);

    let watch = worker.task_ref();
    let value = worker.await??;
    println!("main: awaited 'worker': {:?}, value {value}", watch.state());
    assert_eq!((watch.state(), value), (TaskState::Done, 42));
    assert_eq!(worker_callback.get(), Some(TaskState::Done));
    Ok(())
}

/// Part 2, Pending → Cancelled: cancelled before its first step.
async fn cancelled_before_it_ran() -> Result<(), Error> {
    println!("== 2. cancelled before it ran: Pending -> Cancelled ==");
    let started = Rc::new(Cell::new(false));
    let flag = started.clone();
    let idle = aio::create_task(async move {
        flag.set(true);
        "never returned"
    })
    .with_name("idle");
    let idle_callback = report_when_finished(&idle);
    println!("main: created 'idle': {:?}", idle.state());
    let asked = idle.cancel_with("not needed after all");
    println!("main: idle.cancel(\"not needed after all\") -> {asked}");
    assert!(asked);

    // One turn for the task to end, and one for its done callback, which
    // the loop runs soon after, as Python's does.
    aio::sleep(Duration::ZERO).await?;
    aio::sleep(Duration::ZERO).await?;
    println!("main: after sleep(0) 'idle' is {:?}; its body started: {}", idle.state(), started.get());
    assert_eq!(idle.state(), TaskState::Cancelled);
    assert!(!started.get(), "a task cancelled while pending never starts");
    assert_eq!(idle_callback.get(), Some(TaskState::Cancelled));
    match idle.await {
        Err(Error::Cancelled(cancelled)) => {
            println!("main: awaiting it gives: {cancelled}");
            assert_eq!(cancelled.message.as_deref(), Some("not needed after all"));
        }
        other => panic!("expected a cancellation, got {other:?}"),
    }
    Ok(())
}

/// Part 3, Running → Cancelled: the task sees the cancellation at its await and
/// lets it out.
async fn cancelled_while_waiting() -> Result<(), Error> {
    println!("== 3. cancelled while it waits: Running -> Cancelled ==");
    let download = aio::create_task(async {
        println!("  download: {:?}, waiting for data", my_state());
        if let Err(cancelled) = aio::sleep(FOREVER).await {
            // The cancellation arrives here, at the await; this is the place
            // to clean up before passing it on.
            println!("  download: my await returned \"{cancelled}\"; deleting the partial file");
            return Err(cancelled);
        }
        Ok("all the data")
    })
    .with_name("download");
    let download_callback = report_when_finished(&download);

    aio::sleep(Duration::from_millis(50)).await?;
    println!("main: 'download' is {:?}", download.state());
    let asked = download.cancel_with("the user pressed stop");
    // `cancel` only asks: the task learns of it when it next runs.
    println!(
        "main: cancel(\"the user pressed stop\") -> {asked}; right after: {:?}, cancelling() = {}",
        download.state(),
        download.cancelling()
    );
    assert!(asked);
    assert_eq!(download.state(), TaskState::Running);

    // A turn for the task to take its cancellation, one for its callback.
    aio::sleep(Duration::ZERO).await?;
    aio::sleep(Duration::ZERO).await?;
    println!("main: after sleep(0) 'download' is {:?}", download.state());
    assert_eq!(download.state(), TaskState::Cancelled);
    assert_eq!(download_callback.get(), Some(TaskState::Cancelled));
    let again = download.cancel_with("too late");
    println!("main: cancel again -> {again} (it has finished)");
    assert!(!again);
    match download.await {
        Err(Error::Cancelled(cancelled)) => {
            println!("main: awaiting it gives: {cancelled}");
            assert_eq!(cancelled.message.as_deref(), Some("the user pressed stop"));
        }
        other => panic!("expected a cancellation, got {other:?}"),
    }
    Ok(())
}

/// Part 4: A task that handles its cancellation ends Done.
async fn cancellation_handled() -> Result<(), Error> {
    println!("== 4. a task that handles the cancellation: Running -> Done ==");
    let survey = aio::create_task(async {
        let answers = ["yes", "no", "yes"];
        println!("  survey: {} answers in, waiting for more", answers.len());
        if let Err(cancelled) = aio::sleep(FOREVER).await {
            // Not passed on: dropping the error here handles it, and the
            // task ends with a value rather than cancelled.
            println!("  survey: told \"{cancelled}\"; handing in what I have");
        }
        answers.len()
    })
    .with_name("survey");
    let survey_callback = report_when_finished(&survey);

    aio::sleep(Duration::from_millis(50)).await?;
    survey.cancel_with("time is up");
    let watch = survey.task_ref();
    let answers = survey.await?;
    println!("main: 'survey' is {:?} with {answers} answers", watch.state());
    assert_eq!((watch.state(), answers), (TaskState::Done, 3));
    assert_eq!(survey_callback.get(), Some(TaskState::Done));
    Ok(())
}

fn main() {
    aio::run(async {
        finishes().await?;
        println!();
        cancelled_before_it_ran().await?;
        println!();
        cancelled_while_waiting().await?;
        println!();
        cancellation_handled().await?;
        Ok::<_, Error>(())
    })
    .expect("no other loop runs on this thread")
    .expect("main is not cancelled and no task panics");
}
