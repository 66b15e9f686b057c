//! `serial`: the tasks one after another on the calling thread.

use std::time::Instant;

use super::{CellError, Timed};
use crate::workload::Task;

pub(super) fn run(tasks: &[Task]) -> Timed {
    let start = Instant::now();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        let result = task.run().map_err(CellError::from);
        let failed = result.is_err();
        results.push(result);
        // The rest would fail the same way, and the cell is lost anyway.
        if failed {
            break;
        }
    }
    (start.elapsed(), results)
}
