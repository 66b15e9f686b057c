//! The measurements taken before the cells, for the limits: one `disk`
//! task alone (the write bandwidth), one GET alone (the round trip), and
//! one `cpu` task alone when no `serial` cell will time it.

use std::time::Instant;

use crate::config::BenchConfig;
use crate::error::BenchError;
use crate::limits::median;
use crate::model::Model;
use crate::scratch::{remove_files, Scratch};
use crate::server::PageServer;
use crate::workload::{self, scaled, Workload, DISK_LINES};

/// What the probes measured; `None` where the workload was not asked.
#[derive(Debug, Default, Clone)]
pub(crate) struct Probes {
    pub(crate) cpu_task_s: Option<f64>,
    /// Bytes of one `disk` task and the seconds it took alone.
    pub(crate) disk: Option<(u64, f64)>,
    pub(crate) net_round_trip_s: Option<f64>,
}

/// The steps [`measure`] takes, for the progress bar.
pub(crate) fn steps(config: &BenchConfig) -> u64 {
    let cpu = config.workloads.contains(&Workload::Cpu) && !config.models.contains(&Model::Serial);
    u64::from(cpu) + u64::from(config.workloads.contains(&Workload::Disk)) + u64::from(config.needs_server())
}

pub(crate) fn measure(
    config: &BenchConfig,
    scratch: &Scratch,
    server: Option<&PageServer>,
    progress: &crate::progress::Progress,
) -> Result<Probes, BenchError> {
    let mut probes = Probes::default();
    if config.workloads.contains(&Workload::Cpu) && !config.models.contains(&Model::Serial) {
        progress.start("limit: one cpu task alone".to_string());
        let rounds = scaled(workload::CPU_ROUNDS, config.scale);
        let start = Instant::now();
        std::hint::black_box(workload::cpu(rounds));
        probes.cpu_task_s = Some(start.elapsed().as_secs_f64());
        progress.step();
    }
    if config.workloads.contains(&Workload::Disk) {
        progress.start("limit: one disk task alone".to_string());
        let path = scratch.probe_file();
        let lines = scaled(DISK_LINES, config.scale);
        // The fastest of three: the first write of a run can pay for
        // allocating the file system's space, which later tasks do not.
        let mut fastest: Option<(u64, f64)> = None;
        for _ in 0..3 {
            let start = Instant::now();
            let written = workload::disk(&path, lines);
            let seconds = start.elapsed().as_secs_f64();
            remove_files([&path]);
            let bytes = written.map_err(|error| match error {
                workload::TaskError::DiskFull { .. } => {
                    BenchError::DiskFull { model: Model::Serial, detail: error.to_string() }
                }
                other => BenchError::Cell { workload: Workload::Disk, model: Model::Serial, detail: other.to_string() },
            })?;
            if fastest.is_none_or(|(_, best)| seconds < best) {
                fastest = Some((bytes, seconds));
            }
        }
        let (bytes, seconds) = fastest.unwrap_or((0, f64::NAN));
        probes.disk = Some((bytes, seconds));
        progress.step();
    }
    if let Some(server) = server {
        progress.start("limit: one GET alone".to_string());
        let fail = |error: workload::TaskError| BenchError::Cell {
            workload: Workload::Net,
            model: Model::Serial,
            detail: error.to_string(),
        };
        // The first connection pays for the server's first accept; the
        // limit is a warm round trip, as every task after the first gets.
        workload::get_page(server.addr()).map_err(fail)?;
        let mut times = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            workload::get_page(server.addr()).map_err(fail)?;
            times.push(start.elapsed().as_secs_f64());
        }
        probes.net_round_trip_s = median(&times);
        progress.step();
    }
    Ok(probes)
}
