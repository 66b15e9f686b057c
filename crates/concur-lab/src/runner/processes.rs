//! `processes`: a worker process per task in a
//! [`ProcessPool`](concur::executor::ProcessPool), at most
//! [`PROCESS_CAP`] of them.
//!
//! The workers are this program's executable started again; they run
//! [`Task::run`] registered under one name, and its result (or
//! [`TaskError`]) comes back as JSON. Each worker first makes itself the
//! leader of a process group of its own (the pool's initializer), so that a
//! terminal's Ctrl-C reaches the bench alone and the bench stops the
//! workers itself: see [`children`](crate::children).

use std::sync::Arc;
use std::time::{Duration, Instant};

use concur::executor::{Function, ProcessPool, Registry, Shutdown};
use concur::futures::{self, ReturnWhen};

use super::cell_error::{CellError, Timed};
use crate::children;
use crate::model::PROCESS_CAP;
use crate::stop::Stop;
use crate::workload::{Task, TaskError};

type RunTask = Function<Task, Result<u64, TaskError>>;

/// The functions the bench's worker processes serve.
pub(crate) struct Functions {
    pub(crate) registry: Registry,
    run_task: RunTask,
    own_group: Function<(), ()>,
}

/// The registry the bench's worker processes serve, with the handles the
/// pool calls them by.
pub(crate) fn worker_functions() -> Functions {
    let mut registry = Registry::new();
    let run_task = registry.register("concur-lab/run-task", |task: Task| task.run(&Stop::new()));
    let own_group = registry.register("concur-lab/own-group", |(): ()| children::lead_own_group());
    Functions { registry, run_task, own_group }
}

/// Worker processes for a cell of `n` tasks.
pub(crate) fn workers_for(n: usize) -> usize {
    n.clamp(1, PROCESS_CAP)
}

/// How often a wait on the workers looks at the stop.
const POLL: Duration = Duration::from_millis(20);

pub(super) fn run(tasks: &[Task], stop: &Stop) -> Result<Timed, CellError> {
    let functions = worker_functions();
    let owned = tasks.to_vec();
    let start = Instant::now();
    let pool = ProcessPool::builder()
        .max_workers(workers_for(owned.len()))
        .initializer(&functions.own_group, ())
        .build()
        .map_err(|error| CellError::Model(format!("the process pool could not be built: {error}")))?;
    let mut pending = Vec::with_capacity(owned.len());
    for task in owned {
        match pool.submit(&functions.run_task, task) {
            Ok(future) => pending.push(future),
            Err(error) => {
                pool.shutdown(Shutdown::wait().cancel_futures());
                return Err(CellError::Model(format!("the process pool refused a task: {error}")));
            }
        }
    }
    loop {
        let (_, waiting) = futures::wait(&pending, ReturnWhen::AllCompleted, Some(POLL));
        if waiting.is_empty() {
            break;
        }
        if stop.is_requested() {
            stop_workers(pool);
            return Ok((start.elapsed(), Vec::new()));
        }
    }
    let results: Vec<_> = pending
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

/// Ends a pool whose workers are mid-task: no more calls, then every
/// worker's group killed until the pool has reaped them all. The pool may
/// start a fresh worker for a call whose worker died before beginning it,
/// so the workers are looked up again until none is left.
fn stop_workers(pool: ProcessPool) {
    pool.shutdown(Shutdown::no_wait().cancel_futures());
    let pool = Arc::new(pool);
    let waiter = {
        let pool = Arc::clone(&pool);
        std::thread::spawn(move || pool.shutdown(Shutdown::wait().cancel_futures()))
    };
    while !waiter.is_finished() {
        for pid in pool.pids() {
            children::signal_group(pid, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = waiter.join();
}
