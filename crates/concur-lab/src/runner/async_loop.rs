//! `async`: a task per unit of work on one `concur::aio` event loop,
//! gathered. `sleep` and `net` await (`aio::sleep`, a tokio socket on the
//! loop's reactor); `cpu` and `disk` run their blocking bodies inside the
//! tasks as written, which is the point: a loop runs one task at a time, and
//! a task that never awaits holds it.

use std::time::{Duration, Instant};

use concur::aio;

use super::cell_error::{CellError, Timed};
use crate::stop::Stop;
use crate::workload::{get_page_async, Task};

pub(super) fn run(tasks: &[Task], stop: &Stop) -> Result<Timed, CellError> {
    let owned = tasks.to_vec();
    let stop = stop.clone();
    // `aio::run` makes the loop, as `asyncio.run` does: part of the cell.
    let start = Instant::now();
    let outcome = aio::run(async move {
        let handles: Vec<_> = owned.into_iter().map(|task| aio::create_task(run_one(task, stop.clone()))).collect();
        aio::gather(handles).await
    });
    let elapsed = start.elapsed();
    let results = outcome
        .map_err(|error| CellError::Model(format!("the event loop failed: {error}")))?
        .map_err(|error| CellError::Model(format!("a task on the event loop failed: {error}")))?;
    Ok((elapsed, results))
}

async fn run_one(task: Task, stop: Stop) -> Result<u64, CellError> {
    // A requested stop ends a waiting task at once, short of its work.
    let stopped = || Ok(0);
    match task {
        Task::Sleep { seconds } => tokio::select! {
            slept = aio::sleep(Duration::from_secs_f64(seconds)) => {
                slept.map_err(|cancelled| CellError::Model(format!("a sleeping task was cancelled: {cancelled}")))?;
                Ok(0)
            }
            () = stop.requested() => stopped(),
        },
        Task::Net { addr } => tokio::select! {
            got = get_page_async(addr) => Ok(got?),
            () = stop.requested() => stopped(),
        },
        // Blocking on purpose: what a loop does with work that never awaits.
        Task::Cpu { .. } | Task::Disk { .. } => Ok(task.run(&stop)?),
    }
}
