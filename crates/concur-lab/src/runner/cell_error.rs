//! What a runner hands back: each task's result and the wall time, or why
//! the cell could not be timed.

use std::time::Duration;

use crate::workload::TaskError;

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

/// The wall time, and each task's result in task order.
pub(crate) type Timed = (Duration, Vec<Result<u64, CellError>>);
