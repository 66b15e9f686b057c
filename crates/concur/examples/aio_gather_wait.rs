//! Waiting on many tasks: `gather` for their values, `wait` for control.
//!
//! 1. `gather` awaits every task and hands back their values in the order
//!    the tasks were given, however they finish; the whole takes as long as
//!    the slowest, not the sum. With `return_exceptions` it reports every
//!    outcome, a cancelled task's among them, instead of stopping at the
//!    first failure.
//! 2. `wait` hands back the tasks themselves, split into done and pending,
//!    and never cancels anything. Three deliveries are watched in three
//!    rounds: `FirstCompleted` returns at the first to arrive; then
//!    `AllCompleted` with a timeout returns when the time is up, with what
//!    arrived meanwhile and the rest still on their way; finally a wait
//!    without a timeout collects the rest.
//!
//! The delays are spaced by 200 ms or more, so the order of finishing is the
//! same on every run even on a busy machine; the elapsed times printed vary a
//! little.
//!
//! Run with `cargo run -p concur --example aio_gather_wait`.

use std::time::{Duration, Instant};

use concur::aio::{self, Cancelled, Error, ReturnWhen, Task, TaskState};

/// A task that sleeps `ms` milliseconds, then returns `name`.
fn after(ms: u64, name: &'static str) -> Task<Result<&'static str, Cancelled>> {
    aio::create_task(async move {
        aio::sleep(Duration::from_millis(ms)).await?;
        Ok(name)
    })
    .with_name(name)
}

/// The names of tasks, for printing.
fn names<T: 'static>(tasks: &[Task<T>]) -> Vec<std::rc::Rc<str>> {
    tasks.iter().map(Task::name).collect()
}

fn millis(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

/// Part 1, `gather`: every value, in the order given.
async fn gather_demo() -> Result<(), Error> {
    println!("== gather: every value, in the order given ==");
    let start = Instant::now();
    // Finishing order: soup, bread, salad; given order: salad, soup, bread.
    let dishes = [after(600, "salad"), after(200, "soup"), after(400, "bread")];
    let served: Vec<&str> = aio::gather(dishes).await?.into_iter().collect::<Result<_, _>>()?;
    let took = start.elapsed();
    println!("gather(salad 600 ms, soup 200 ms, bread 400 ms) -> {served:?} after {} ms", took.as_millis());
    println!("(the sum of the delays is 1200 ms: the three waited at the same time)");
    assert_eq!(served, ["salad", "soup", "bread"]);
    assert!(took >= Duration::from_millis(600), "gather returned before its slowest task: {took:?}");
    assert!(took < Duration::from_millis(1200), "the tasks did not overlap: {took:?}");

    // One of three is cancelled: plain gather would end with that error;
    // return_exceptions gives each outcome in its place.
    let orders = [after(50, "tea"), after(5_000, "cake"), after(100, "coffee")];
    orders[1].cancel_with("out of cake");
    let outcomes = aio::gather(orders).return_exceptions().await.unwrap();
    println!("gather(tea, cake cancelled, coffee).return_exceptions():");
    let mut shown = Vec::new();
    for outcome in &outcomes {
        let line = match outcome {
            Ok(Ok(name)) => format!("Ok({name})"),
            Ok(Err(cancelled)) | Err(Error::Cancelled(cancelled)) => format!("Err({cancelled})"),
            Err(other) => format!("Err({other})"),
        };
        println!("  {line}");
        shown.push(line);
    }
    assert_eq!(shown, ["Ok(tea)", "Err(the task was cancelled: out of cake)", "Ok(coffee)"]);
    Ok(())
}

/// Part 2, `wait`: first completed, then a timeout, then the rest.
async fn wait_demo() -> Result<(), Error> {
    println!("== wait: done and pending, nothing cancelled ==");
    let start = Instant::now();
    let parcels = vec![after(800, "sofa"), after(100, "letter"), after(300, "books")];
    println!("three deliveries: sofa in 800 ms, letter in 100 ms, books in 300 ms");

    let (done, pending) = aio::wait(parcels, ReturnWhen::FirstCompleted, None).await?;
    println!("wait(FirstCompleted) after {} ms: done {:?}, pending {:?}", millis(start), names(&done), names(&pending));
    assert_eq!((names(&done), names(&pending)), (vec!["letter".into()], vec!["sofa".into(), "books".into()]));

    // The time is up about 500 ms from the start: 200 ms after the books
    // arrive, 300 ms before the sofa does.
    let limit = Duration::from_millis(400);
    let (done, pending) = aio::wait(pending, ReturnWhen::AllCompleted, Some(limit)).await?;
    println!(
        "wait(AllCompleted, timeout {} ms) after {} ms: done {:?}, pending {:?}",
        limit.as_millis(),
        millis(start),
        names(&done),
        names(&pending)
    );
    assert_eq!((names(&done), names(&pending)), (vec!["books".into()], vec!["sofa".into()]));
    // A timeout of `wait` cancels nothing: the sofa is still on its way.
    println!("after the timeout the sofa is {:?}, not cancelled", pending[0].state());
    assert_eq!(pending[0].state(), TaskState::Running);

    let (done, pending) = aio::wait(pending, ReturnWhen::AllCompleted, None).await?;
    println!("wait(AllCompleted) after {} ms: done {:?}, pending {:?}", millis(start), names(&done), names(&pending));
    assert!(pending.is_empty());
    // `wait` leaves the values in the tasks: read them with `result()`.
    let sofa = done[0].result()??;
    println!("the value is still in the task: result() = {sofa:?}");
    assert_eq!(sofa, "sofa");
    assert!(start.elapsed() >= Duration::from_millis(800));
    Ok(())
}

fn main() {
    aio::run(async {
        gather_demo().await?;
        println!();
        wait_demo().await
    })
    .expect("no other loop runs on this thread")
    .expect("no task panics and main is not cancelled");
}
