//! `threads`: a [`concur::thread`] per task, all started, then all joined.

use std::time::Instant;

use concur::thread::{Builder, JoinHandle};

use super::cell_error::{CellError, Timed};
use crate::stop::Stop;
use crate::workload::{Task, TaskError};

pub(super) fn run(tasks: &[Task], stop: &Stop) -> Result<Timed, CellError> {
    let owned = tasks.to_vec();
    let start = Instant::now();
    let mut handles: Vec<JoinHandle<Result<u64, TaskError>>> = Vec::with_capacity(owned.len());
    let mut refused = None;
    for (index, task) in owned.into_iter().enumerate() {
        let stop = stop.clone();
        match Builder::new().name(format!("bench-task-{index}")).spawn(move || task.run(&stop)) {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                refused = Some(format!("thread {index} of the cell could not start: {error}"));
                break;
            }
        }
    }
    // Joined even after a refusal, so no thread of this cell outlives it.
    let results: Vec<_> = handles
        .into_iter()
        .map(|handle| match handle.join() {
            Ok(result) => result.map_err(CellError::from),
            Err(error) => Err(CellError::Model(error.to_string())),
        })
        .collect();
    let elapsed = start.elapsed();
    match refused {
        Some(reason) => Err(CellError::Model(reason)),
        None => Ok((elapsed, results)),
    }
}
