//! `--sweep`: the `sleep` and `net` workloads with N = 1, 10, 100, 1,000
//! and 10,000, under every model asked — how each model's time grows with
//! the number of waiting tasks, which a table at one N cannot show.
//!
//! A point that would surely take longer than [`BUDGET_S`] is skipped, with
//! the reason in the report: `serial` takes N waits one after another, and
//! `processes` runs its tasks [`PROCESS_CAP`](crate::PROCESS_CAP) at a time.
//! So is a `net` point that needs more sockets than the open-file limit.

use crate::config::BenchConfig;
use crate::error::Halt;
use crate::limits::median;
use crate::model::{Model, PROCESS_CAP};
use crate::report::{Sweep, SweepPoint};
use crate::runner::{time_run, workers, workers_for};
use crate::scratch;
use crate::stop::Stop;
use crate::workload::{Task, Workload, SLEEP};

/// The task counts of the sweep.
pub(crate) const NS: [usize; 5] = [1, 10, 100, 1_000, 10_000];

/// The longest a sweep point may be expected to take and still run.
pub(crate) const BUDGET_S: f64 = 60.0;

/// Sockets and files the bench keeps open besides the tasks' own.
const SPARE_FILES: u64 = 64;

/// The shortest time `n` tasks of `task_s` each can take under `model`.
fn least_time(model: Model, n: usize, task_s: f64) -> f64 {
    match model {
        Model::Serial => n as f64 * task_s,
        Model::Processes => n.div_ceil(workers_for(n)) as f64 * task_s,
        Model::Threads | Model::Async => task_s,
    }
}

/// Every point of the sweep `config` asks for, those that will not run
/// with the reason; none has run yet.
pub(crate) fn plan(config: &BenchConfig) -> Sweep {
    let open_files = scratch::open_file_limit();
    let mut points = Vec::new();
    for workload in config.sweep_workloads() {
        let task_s = match workload {
            Workload::Net => config.net_delay().as_secs_f64(),
            _ => SLEEP.as_secs_f64() * config.scale,
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
                let workers = workers(model, n);
                points.push(SweepPoint { workload, model, n, workers, times_s: Vec::new(), median_s: None, skipped });
            }
        }
    }
    Sweep { ns: NS.to_vec(), process_cap: PROCESS_CAP, budget_s: BUDGET_S, points }
}

/// Runs the points of `sweep` that are not skipped, `--repeat` times each
/// (once by default: the sweep shows growth over orders of magnitude, which
/// a few per cent do not change), telling `on_run` of each run.
pub(crate) fn run(
    config: &BenchConfig,
    sweep: &mut Sweep,
    place: (&std::path::Path, Option<std::net::SocketAddr>),
    stop: &Stop,
    children: &[u32],
    on_run: &mut dyn FnMut(&SweepPoint, f64),
) -> Result<(), Halt> {
    let (dir, addr) = place;
    for point in sweep.points.iter_mut().filter(|point| point.skipped.is_none()) {
        let tasks: Vec<Task> =
            (0..point.n).map(|_| Task::new(point.workload, config.scale, dir.into(), addr)).collect();
        for _ in 0..config.repeat.unwrap_or(1) {
            let run = time_run(point.workload, point.model, &tasks, stop, children)?;
            point.times_s.push(run.seconds);
            point.median_s = median(&point.times_s);
            on_run(point, run.seconds);
        }
    }
    Ok(())
}
