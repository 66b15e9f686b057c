//! Running the N tasks of one cell under one model, and timing them.
//!
//! Every runner times the same span: from just before the first task is
//! started to just after the last has ended — thread spawning, process
//! start-up, event-loop creation and pool shutdown included, since a
//! program that uses the model pays for them too. Building the task list
//! happens before the clock starts.
//!
//! Each runner lives in its own file and uses concur's own tool for its
//! model: [`concur::thread`] for `threads`, [`concur::executor::ProcessPool`]
//! for `processes`, `concur::aio` for `async`.

mod async_loop;
mod processes;
mod serial;
mod threads;

use std::time::Duration;

use crate::model::Model;
use crate::workload::{Task, TaskError};

pub(crate) use processes::{worker_registry, workers_for};

/// Why a cell could not be timed.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CellError {
    /// A task failed.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The model's machinery failed: a thread, process or loop that could
    /// not start, a task that panicked, a worker that died.
    #[error("{0}")]
    Model(String),
    /// A task returned less than it should have: it did not do all its work.
    #[error("a task returned {got} where {expected} was expected: it did not do all of its work")]
    Short { expected: u64, got: u64 },
}

/// Runs `tasks` under `model` and returns the wall time.
pub(crate) fn time_cell(model: Model, tasks: &[Task]) -> Result<Duration, CellError> {
    let (elapsed, results) = match model {
        Model::Serial => serial::run(tasks),
        Model::Threads => threads::run(tasks)?,
        Model::Processes => processes::run(tasks)?,
        Model::Async => async_loop::run(tasks)?,
    };
    for (task, result) in tasks.iter().zip(results) {
        let got = result?;
        if got != task.expected() {
            return Err(CellError::Short { expected: task.expected(), got });
        }
    }
    Ok(elapsed)
}

/// The wall time, and each task's result in task order.
type Timed = (Duration, Vec<Result<u64, CellError>>);
