//! The measurements taken before the cells: one `cpu` task alone (for the
//! limit when no `serial` cell will time it, and for the estimate of the
//! run's length), one `disk` task alone (the write bandwidth), and one GET
//! alone (the round trip).

use std::time::Instant;

use crate::config::BenchConfig;
use crate::error::{BenchError, Halt};
use crate::limits::median;
use crate::model::Model;
use crate::scratch::{remove_files, Scratch};
use crate::server::PageServer;
use crate::stop::Stop;
use crate::workload::{self, scaled, TaskError, Workload, DISK_LINES};

/// What the probes measured; `None` where the workload was not asked.
#[derive(Debug, Default, Clone)]
pub(crate) struct Probes {
    pub(crate) cpu_task_s: Option<f64>,
    /// Bytes of one `disk` task and the seconds it took alone.
    pub(crate) disk: Option<(u64, f64)>,
    pub(crate) net_round_trip_s: Option<f64>,
}

fn probe_failed(workload: Workload) -> impl Fn(TaskError) -> BenchError {
    move |error| match error {
        TaskError::DiskFull { .. } => BenchError::DiskFull { model: Model::Serial, detail: error.to_string() },
        other => BenchError::Cell { workload, model: Model::Serial, detail: other.to_string() },
    }
}

/// Takes the probes the workloads of `config` need, saying each one to
/// `starting` as it begins.
pub(crate) fn measure(
    config: &BenchConfig,
    scratch: &Scratch,
    server: Option<&PageServer>,
    stop: &Stop,
    starting: &mut dyn FnMut(&str),
) -> Result<Probes, Halt> {
    let mut probes = Probes::default();
    let stopped = |probes| if stop.is_requested() { Err(Halt::Stopped) } else { Ok(probes) };
    if config.workloads.contains(&Workload::Cpu) {
        starting("probe: one cpu task alone");
        let rounds = scaled(workload::CPU_ROUNDS, config.scale);
        let start = Instant::now();
        std::hint::black_box(workload::cpu(rounds, stop));
        probes.cpu_task_s = Some(start.elapsed().as_secs_f64());
        probes = stopped(probes)?;
    }
    if config.workloads.contains(&Workload::Disk) {
        starting("probe: one disk task alone");
        let path = scratch.probe_file();
        let lines = scaled(DISK_LINES, config.scale);
        // The fastest of three: the first write of a run can pay for
        // allocating the file system's space, which later tasks do not.
        let mut fastest: Option<(u64, f64)> = None;
        for _ in 0..3 {
            let start = Instant::now();
            let written = workload::disk(&path, lines, stop);
            let seconds = start.elapsed().as_secs_f64();
            remove_files([&path]);
            probes = stopped(probes)?;
            let bytes = written.map_err(probe_failed(Workload::Disk))?;
            if fastest.is_none_or(|(_, best)| seconds < best) {
                fastest = Some((bytes, seconds));
            }
        }
        probes.disk = fastest;
    }
    if let Some(server) = server {
        starting("probe: one GET alone");
        let fail = probe_failed(Workload::Net);
        // The first connection pays for the server's first accept; the
        // limit is a warm round trip, as every task after the first gets.
        workload::get_page(server.addr()).map_err(&fail)?;
        let mut times = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            workload::get_page(server.addr()).map_err(&fail)?;
            times.push(start.elapsed().as_secs_f64());
        }
        probes.net_round_trip_s = median(&times);
        probes = stopped(probes)?;
    }
    Ok(probes)
}
