//! `--sweep`: the `sleep` and `net` workloads with N = 1, 10, 100, 1,000
//! and 10,000, under every model asked — how each model's time grows with
//! the number of waiting tasks, which a table at one N cannot show.
//!
//! A point that would surely take longer than [`BUDGET_S`] is skipped, with
//! the reason in the report: `serial` takes N waits one after another, and
//! `processes` runs its tasks [`PROCESS_CAP`](crate::PROCESS_CAP) at a time.
//! So is a `net` point that needs more sockets than the open-file limit.

use crate::config::BenchConfig;
use crate::error::BenchError;
use crate::model::Model;
use crate::progress::Progress;
use crate::report::{Sweep, SweepPoint};
use crate::runner::workers_for;
use crate::scratch::{self, Scratch};
use crate::server::PageServer;
use crate::workload::{Task, Workload};

/// The task counts of the sweep.
pub(crate) const NS: [usize; 5] = [1, 10, 100, 1_000, 10_000];

/// The longest a sweep point may be expected to take and still run.
pub(crate) const BUDGET_S: f64 = 60.0;

/// Sockets and files the bench keeps open besides the tasks' own.
const SPARE_FILES: u64 = 64;

/// The points of the sweep, run or not.
pub(crate) fn steps(config: &BenchConfig) -> u64 {
    if config.sweep {
        (config.sweep_workloads().len() * config.models.len() * NS.len() * config.repeat) as u64
    } else {
        0
    }
}

/// The shortest time `n` tasks of `task_s` each can take under `model`.
fn least_time(model: Model, n: usize, task_s: f64) -> f64 {
    match model {
        Model::Serial => n as f64 * task_s,
        Model::Processes => n.div_ceil(workers_for(n)) as f64 * task_s,
        Model::Threads | Model::Async => task_s,
    }
}

fn workers(model: Model, n: usize) -> usize {
    match model {
        Model::Serial | Model::Async => 1,
        Model::Threads => n,
        Model::Processes => workers_for(n),
    }
}

pub(crate) fn run(
    config: &BenchConfig,
    scratch: &Scratch,
    server: Option<&PageServer>,
    progress: &Progress,
) -> Result<Sweep, BenchError> {
    let open_files = scratch::open_file_limit();
    let mut points = Vec::new();
    for workload in config.sweep_workloads() {
        let task_s = match workload {
            Workload::Net => config.net_delay().as_secs_f64(),
            _ => crate::workload::SLEEP.as_secs_f64() * config.scale,
        };
        for &model in &config.models {
            for n in NS {
                let least = least_time(model, n, task_s);
                let skipped = if least > BUDGET_S {
                    Some(format!(
                        "skipped: it would take at least {least:.0} s, over the sweep's budget of {BUDGET_S:.0} s"
                    ))
                } else if workload == Workload::Net && model != Model::Serial && n as u64 + SPARE_FILES > open_files {
                    Some(format!("skipped: {n} sockets at once pass the open-file limit of {open_files}"))
                } else {
                    None
                };
                let mut point = SweepPoint {
                    workload,
                    model,
                    n,
                    workers: workers(model, n),
                    times_s: Vec::new(),
                    median_s: None,
                    skipped,
                };
                if point.skipped.is_some() {
                    for _ in 0..config.repeat {
                        progress.step();
                    }
                } else {
                    let tasks: Vec<Task> = (0..n)
                        .map(|_| Task::new(workload, config.scale, scratch.path().into(), server.map(PageServer::addr)))
                        .collect();
                    let label = format!("sweep: {workload} × {model}, N = {n}");
                    point.times_s =
                        crate::bench::time_repeats(workload, model, &tasks, config.repeat, &label, progress)?;
                    point.median_s = crate::limits::median(&point.times_s);
                }
                points.push(point);
            }
        }
    }
    Ok(Sweep { ns: NS.to_vec(), process_cap: crate::config::PROCESS_CAP, budget_s: BUDGET_S, points })
}
