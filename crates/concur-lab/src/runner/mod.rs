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
//!
//! [`time_run`] times one run of a cell for the table and the sweep alike,
//! with what else used the processors meanwhile ([`load`](crate::load)).
//! Before a `disk` run it flushes the file system (`syncfs`), so that no
//! run pays for the write-back or the freed blocks of the one before: on a
//! disk mounted with `discard`, the removal of the last run's files is
//! otherwise done during the next run, and the first disk cell of a run,
//! right after the limit's probe, came out up to five times slower than
//! the same cell run again.

mod async_loop;
mod cell_error;
mod processes;
mod serial;
mod threads;

use std::path::Path;

use crate::error::{BenchError, Halt};
use crate::load::{Sample, Usage};
use crate::model::Model;
use crate::scratch;
use crate::stop::Stop;
use crate::workload::{Task, TaskError, Workload};

pub(crate) use cell_error::CellError;
pub(crate) use processes::{worker_functions, workers_for};

/// One timed run of a cell.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) seconds: f64,
    /// What the processors did meanwhile; `None` without `/proc`.
    pub(crate) usage: Option<Usage>,
}

/// Times one run of `tasks` under `model`, then removes the `disk` files.
/// `children` are the live processes of the bench (the page server) whose
/// processor time is the bench's own.
pub(crate) fn time_run(
    workload: Workload,
    model: Model,
    tasks: &[Task],
    stop: &Stop,
    children: &[u32],
) -> Result<Run, Halt> {
    if stop.is_requested() {
        return Err(Halt::Stopped);
    }
    if let Some(Task::Disk { path, .. }) = tasks.first() {
        settle(path);
    }
    let before = Sample::now(children);
    let timed = time_cell(model, tasks, stop);
    let after = Sample::now(children);
    for task in tasks {
        if let Task::Disk { path, .. } = task {
            scratch::remove_files([path]);
        }
    }
    if stop.is_requested() {
        return Err(Halt::Stopped);
    }
    let elapsed = timed.map_err(|error| match error {
        CellError::Task(error @ TaskError::DiskFull { .. }) => {
            BenchError::DiskFull { model, detail: error.to_string() }
        }
        other => BenchError::Cell { workload, model, detail: other.to_string() },
    })?;
    let usage = before.zip(after).map(|(before, after)| before.until(&after));
    Ok(Run { seconds: elapsed.as_secs_f64(), usage })
}

/// Threads, processes or loops that run `n` tasks under `model`.
pub(crate) fn workers(model: Model, n: usize) -> usize {
    match model {
        Model::Serial | Model::Async => 1,
        Model::Threads => n,
        Model::Processes => workers_for(n),
    }
}

/// Flushes the file system that holds `file`, so that a disk run starts
/// with nothing of the last one left to write or free.
#[cfg(target_os = "linux")]
fn settle(file: &Path) {
    let Some(folder) = file.parent() else { return };
    if let Ok(handle) = std::fs::File::open(folder) {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs takes an open descriptor, which `handle` keeps
        // open for the call; it has no memory effects.
        unsafe {
            libc::syncfs(handle.as_raw_fd());
        }
    }
}

/// Flushes every file system: where there is no `syncfs`, `sync` is the
/// same for the bench's purpose, only broader.
#[cfg(not(target_os = "linux"))]
fn settle(_file: &Path) {
    // SAFETY: sync takes no arguments and has no memory effects.
    unsafe { libc::sync() };
}

/// Runs `tasks` under `model` and returns the wall time.
fn time_cell(model: Model, tasks: &[Task], stop: &Stop) -> Result<std::time::Duration, CellError> {
    let (elapsed, results) = match model {
        Model::Serial => serial::run(tasks, stop),
        Model::Threads => threads::run(tasks, stop)?,
        Model::Processes => processes::run(tasks, stop)?,
        Model::Async => async_loop::run(tasks, stop)?,
    };
    for (task, result) in tasks.iter().zip(results) {
        let got = result?;
        if got != task.expected() && !stop.is_requested() {
            return Err(CellError::Short { expected: task.expected(), got });
        }
    }
    Ok(elapsed)
}
