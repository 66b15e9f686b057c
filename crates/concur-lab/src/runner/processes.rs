//! `processes`: a worker process per task in a
//! [`ProcessPool`](concur::executor::ProcessPool), at most
//! [`PROCESS_CAP`](crate::PROCESS_CAP) of them.
//!
//! The workers are this program's executable started again; they run
//! [`Task::run`] registered under one name, and its result (or
//! [`TaskError`]) comes back as JSON.

use std::time::Instant;

use concur::executor::{Function, ProcessPool, Registry, Shutdown};

use super::{CellError, Timed};
use crate::config::PROCESS_CAP;
use crate::workload::{Task, TaskError};

type RunTask = Function<Task, Result<u64, TaskError>>;

/// The registry the bench's worker processes serve, and the handle the pool
/// submits tasks with.
pub(crate) fn worker_registry() -> (Registry, RunTask) {
    let mut registry = Registry::new();
    let run = registry.register("concur-lab/run-task", |task: Task| task.run());
    (registry, run)
}

/// Worker processes for a cell of `n` tasks.
pub(crate) fn workers_for(n: usize) -> usize {
    n.clamp(1, PROCESS_CAP)
}

pub(super) fn run(tasks: &[Task]) -> Result<Timed, CellError> {
    let (_, run_task) = worker_registry();
    let owned = tasks.to_vec();
    let start = Instant::now();
    let pool = ProcessPool::new(workers_for(owned.len()));
    let mut futures = Vec::with_capacity(owned.len());
    for task in owned {
        match pool.submit(&run_task, task) {
            Ok(future) => futures.push(future),
            Err(error) => {
                pool.shutdown(Shutdown::wait().cancel_futures());
                return Err(CellError::Model(format!("the process pool refused a task: {error}")));
            }
        }
    }
    let results: Vec<_> = futures
        .into_iter()
        .map(|future| match future.into_result() {
            Ok(result) => result.map_err(CellError::from),
            Err(error) => Err(CellError::Model(format!(
                "{error} (a worker process must reach `concur_lab::serve_if_child()` at the top of `main`)"
            ))),
        })
        .collect();
    // Part of the cell: Python's `Process.join()` waits for the exit too.
    pool.shutdown(Shutdown::wait());
    Ok((start.elapsed(), results))
}
