//! `serial`: the tasks one after another on the calling thread.

use std::time::Instant;

use super::cell_error::{CellError, Timed};
use crate::stop::Stop;
use crate::workload::Task;

pub(super) fn run(tasks: &[Task], stop: &Stop) -> Timed {
    let start = Instant::now();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        if stop.is_requested() {
            break;
        }
        let result = task.run(stop).map_err(CellError::from);
        let failed = result.is_err();
        results.push(result);
        // The rest would fail the same way, and the cell is lost anyway.
        if failed {
            break;
        }
    }
    (start.elapsed(), results)
}
