//! `async`: a task per unit of work on one `concur::aio` event loop,
//! gathered. `sleep` and `net` await (`aio::sleep`, a tokio socket on the
//! loop's reactor); `cpu` and `disk` run their blocking bodies inside the
//! tasks as written, which is the point: a loop runs one task at a time, and
//! a task that never awaits holds it.

use std::time::{Duration, Instant};

use concur::aio;

use super::{CellError, Timed};
use crate::workload::{get_page_async, Task};

pub(super) fn run(tasks: &[Task]) -> Result<Timed, CellError> {
    let owned = tasks.to_vec();
    // `aio::run` makes the loop, as `asyncio.run` does: part of the cell.
    let start = Instant::now();
    let outcome = aio::run(async move {
        let handles: Vec<_> = owned.into_iter().map(|task| aio::create_task(run_one(task))).collect();
        aio::gather(handles).await
    });
    let elapsed = start.elapsed();
    let results = outcome
        .map_err(|error| CellError::Model(format!("the event loop failed: {error}")))?
        .map_err(|error| CellError::Model(format!("a task on the event loop failed: {error}")))?;
    Ok((elapsed, results))
}

async fn run_one(task: Task) -> Result<u64, CellError> {
    match task {
        Task::Sleep { seconds } => {
            aio::sleep(Duration::from_secs_f64(seconds))
                .await
                .map_err(|cancelled| CellError::Model(format!("a sleeping task was cancelled: {cancelled}")))?;
            Ok(0)
        }
        Task::Net { addr } => Ok(get_page_async(addr).await?),
        // Blocking on purpose: what a loop does with work that never awaits.
        Task::Cpu { .. } | Task::Disk { .. } => Ok(task.run()?),
    }
}
