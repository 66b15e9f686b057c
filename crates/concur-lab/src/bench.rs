//! A whole bench run, in order: check the settings and the output folder,
//! start the page server, take the probes, time every cell, run Python and
//! the sweep if asked, write the report files, and clean up.

use std::time::{Instant, SystemTime};

use crate::config::{BenchConfig, PROCESS_CAP};
use crate::error::BenchError;
use crate::limits::{cpu_limit, disk_limit, median, percent_of_limit, python_ratio, speedup};
use crate::model::Model;
use crate::probe::{self, Probes};
use crate::progress::Progress;
use crate::report::{self, Cell, Limit, PythonCell, PythonRun, PythonStatus, Report, Server, Settings};
use crate::runner::{self, workers_for, CellError};
use crate::scratch::{self, OutDir, Scratch};
use crate::server::PageServer;
use crate::workload::{Task, TaskError, Workload, SLEEP};
use crate::{python, sweep};

/// Runs the bench `config` describes, writes `report.md`, `report.json`
/// and `report.svg` (and `report-sweep.svg` after a sweep) into
/// `config.out`, and returns the report.
///
/// The program's `main` must call [`serve_if_child`](crate::serve_if_child)
/// first: the `processes` model and the page server are this executable
/// started again.
///
/// # Errors
///
/// A [`BenchError`] if the settings are invalid, the output folder cannot
/// be written, or a cell fails (a full disk, a server that does not
/// start). The temporary files, child processes and any output folder the
/// run created are removed first.
///
/// # Examples
///
/// ```no_run
/// use concur_lab::{BenchConfig, Format, Model, Workload};
///
/// fn main() {
///     concur_lab::serve_if_child();
///     let config = BenchConfig {
///         workloads: vec![Workload::Sleep],
///         models: vec![Model::Serial, Model::Threads],
///         scale: 0.01,
///         out: "bench-out".into(),
///         ..BenchConfig::default()
///     };
///     let report = concur_lab::run(&config).unwrap();
///     print!("{}", report.render(Format::Table));
/// }
/// ```
pub fn run(config: &BenchConfig) -> Result<Report, BenchError> {
    config.validate()?;
    let started = SystemTime::now();
    let clock = Instant::now();
    scratch::clean_up_on_interrupt();
    let mut out =
        OutDir::prepare(&config.out).map_err(|source| BenchError::OutDir { path: config.out.clone(), source })?;
    scratch::raise_open_file_limit();
    let scratch = Scratch::new().map_err(BenchError::Scratch)?;
    let server = match config.needs_server() || (config.sweep && config.sweep_workloads().contains(&Workload::Net)) {
        true => Some(PageServer::start(config.net_delay()).map_err(|e| BenchError::Server(e.to_string()))?),
        false => None,
    };
    let cells_steps = (config.workloads.len() * config.models.len() * config.repeat) as u64;
    let progress = Progress::new(
        probe::steps(config) + cells_steps + u64::from(config.python) + sweep::steps(config),
        config.progress,
    );

    let probes = probe::measure(config, &scratch, server.as_ref(), &progress)?;
    let mut timed = Vec::new();
    for &workload in &config.workloads {
        for &model in &config.models {
            let tasks: Vec<Task> = (0..config.n)
                .map(|index| {
                    Task::new(
                        workload,
                        config.scale,
                        scratch.task_file(model, index),
                        server.as_ref().map(|s| s.addr()),
                    )
                })
                .collect();
            let label = format!("{workload} × {model}");
            let times = time_repeats(workload, model, &tasks, config.repeat, &label, &progress)?;
            timed.push((workload, model, times));
        }
    }

    let python = if config.python {
        progress.start("python: bench/python/bench.py".to_string());
        let result = python::run(config, &scratch, server.as_ref());
        progress.step();
        Some(result)
    } else {
        None
    };
    let sweep = if config.sweep { Some(sweep::run(config, &scratch, server.as_ref(), &progress)?) } else { None };
    progress.finish();

    let mut report = Report::empty();
    report.started_utc = report::utc_timestamp(started);
    report.settings = Settings {
        workloads: config.workloads.clone(),
        models: config.models.clone(),
        n: config.n,
        scale: config.scale,
        repeat: config.repeat,
        net_delay_s: config.net_delay().as_secs_f64(),
        process_cap: PROCESS_CAP,
        disk_fsync: true,
    };
    report.server = server.as_ref().map(|server| Server {
        url: server.url(),
        port: server.addr().port(),
        delay_s: server.delay().as_secs_f64(),
    });
    report.limits = limits(config, &probes, &timed, report.machine.cores);
    report.cells = cells(config, &report.limits, &timed);
    if let Some(python) = python {
        report.python = Some(merge_python(&mut report.cells, python));
    }
    report.sweep = sweep;
    report.notes = notes(config, server.as_ref());
    // Stop the server before the report says the run is over: its port is
    // closed once `run` returns.
    drop(server);
    drop(scratch);
    report.total_s = clock.elapsed().as_secs_f64();
    write_files(&report, &mut out)?;
    out.keep();
    Ok(report)
}

/// Times `tasks` under `model` `repeat` times; removes the `disk` files
/// after each.
pub(crate) fn time_repeats(
    workload: Workload,
    model: Model,
    tasks: &[Task],
    repeat: usize,
    label: &str,
    progress: &Progress,
) -> Result<Vec<f64>, BenchError> {
    let mut times = Vec::with_capacity(repeat);
    for round in 1..=repeat {
        progress.start(if repeat > 1 { format!("{label} ({round}/{repeat})") } else { label.to_string() });
        let timed = runner::time_cell(model, tasks);
        remove_task_files(tasks);
        let elapsed = timed.map_err(|error| match error {
            CellError::Task(error @ TaskError::DiskFull { .. }) => {
                BenchError::DiskFull { model, detail: error.to_string() }
            }
            other => BenchError::Cell { workload, model, detail: other.to_string() },
        })?;
        times.push(elapsed.as_secs_f64());
        progress.step();
    }
    Ok(times)
}

fn remove_task_files(tasks: &[Task]) {
    for task in tasks {
        if let Task::Disk { path, .. } = task {
            scratch::remove_files([path]);
        }
    }
}

type Timed = Vec<(Workload, Model, Vec<f64>)>;

fn median_of(timed: &Timed, workload: Workload, model: Model) -> Option<f64> {
    timed.iter().find(|(w, m, _)| *w == workload && *m == model).and_then(|(_, _, times)| median(times))
}

/// Each workload's limit, from the probes and the `serial` cell.
fn limits(config: &BenchConfig, probes: &Probes, timed: &Timed, cores: usize) -> Vec<Limit> {
    let n = config.n;
    config
        .workloads
        .iter()
        .filter_map(|&workload| {
            let (limit_s, basis) = match workload {
                Workload::Cpu => {
                    let (one, from) = match median_of(timed, workload, Model::Serial) {
                        Some(serial) => (serial / n as f64, "the serial cell's median ÷ N"),
                        None => (probes.cpu_task_s?, "one task timed alone before the run"),
                    };
                    let limit = cpu_limit(one, n, cores);
                    (limit, format!("one task {one:.3} s ({from}) × N {n} ÷ min(N, {cores} cores)"))
                }
                Workload::Disk => {
                    let (bytes, seconds) = probes.disk?;
                    let bandwidth = bytes as f64 / seconds;
                    let limit = disk_limit(n, bytes, bandwidth);
                    let basis = format!(
                        "N {n} × {:.1} MB at {:.0} MB/s, the write-and-fsync bandwidth of one task alone (fastest of three)",
                        bytes as f64 / 1e6,
                        bandwidth / 1e6
                    );
                    (limit, basis)
                }
                Workload::Net => {
                    let round_trip = probes.net_round_trip_s?;
                    let basis = format!(
                        "one round trip: a GET alone took {:.1} ms (server delay {:.1} ms), median of three",
                        round_trip * 1e3,
                        config.net_delay().as_secs_f64() * 1e3
                    );
                    (round_trip, basis)
                }
                Workload::Sleep => {
                    let sleep = SLEEP.as_secs_f64() * config.scale;
                    (sleep, format!("one sleep of 2 s × scale {} = {sleep:.3} s", config.scale))
                }
            };
            Some(Limit { workload, limit_s, basis })
        })
        .collect()
}

fn cells(config: &BenchConfig, limits: &[Limit], timed: &Timed) -> Vec<Cell> {
    timed
        .iter()
        .map(|(workload, model, times)| {
            let median_s = median(times).unwrap_or(f64::NAN);
            let limit_s = limits.iter().find(|l| l.workload == *workload).map_or(f64::NAN, |l| l.limit_s);
            let workers = match model {
                Model::Serial | Model::Async => 1,
                Model::Threads => config.n,
                Model::Processes => workers_for(config.n),
            };
            Cell {
                workload: *workload,
                model: *model,
                n: config.n,
                workers,
                times_s: times.clone(),
                median_s,
                speedup: median_of(timed, *workload, Model::Serial).map(|serial| speedup(serial, median_s)),
                limit_s,
                percent_of_limit: percent_of_limit(limit_s, median_s),
                python: None,
            }
        })
        .collect()
}

fn merge_python(cells: &mut [Cell], result: Result<python::PythonOutput, python::NotRun>) -> PythonRun {
    match result {
        Ok(output) => {
            for cell in cells.iter_mut() {
                let theirs =
                    output.cells.iter().find(|py| py.workload == cell.workload.name() && py.model == cell.model.name());
                cell.python = theirs.map(|py| PythonCell {
                    times_s: py.times_s.clone(),
                    median_s: py.median_s,
                    ratio: python_ratio(py.median_s, cell.median_s),
                });
            }
            let missing = cells.iter().filter(|cell| cell.python.is_none()).count();
            PythonRun {
                status: PythonStatus::Ran,
                version: Some(output.python),
                detail: (missing > 0).then(|| format!("bench.py gave no figures for {missing} of the cells")),
            }
        }
        Err((status, detail)) => PythonRun { status, version: None, detail: Some(detail) },
    }
}

fn notes(config: &BenchConfig, server: Option<&PageServer>) -> Vec<String> {
    let mut notes = Vec::new();
    if config.workloads.contains(&Workload::Disk) {
        notes.push(
            "disk: each task writes its own file through an 8 KiB buffered writer and fsyncs it (File::sync_all) \
             before it counts as done; the files are removed after each cell."
                .to_string(),
        );
    }
    if let Some(server) = server {
        notes.push(format!(
            "net: the page server runs in its own process on {} and answers each GET after {:.1} ms.",
            server.addr(),
            server.delay().as_secs_f64() * 1e3
        ));
    }
    if config.models.contains(&Model::Processes) {
        let mut note = "processes: each worker is this program started again (concur's ProcessPool), and its \
                        start-up is in the time."
            .to_string();
        if config.n > PROCESS_CAP {
            note.push_str(&format!(" N = {} ran on {PROCESS_CAP} worker processes, the cap.", config.n));
        }
        notes.push(note);
    }
    if config.models.contains(&Model::Async)
        && config.workloads.iter().any(|w| matches!(w, Workload::Cpu | Workload::Disk))
    {
        notes.push(
            "async: cpu and disk tasks run their blocking bodies on the loop as written, so they run one after \
             another; sleep and net await."
                .to_string(),
        );
    }
    if config.sweep {
        notes.push(format!(
            "sweep: processes run at most {PROCESS_CAP} worker processes at once, so larger N queue on them; \
             points that would take over {:.0} s are skipped.",
            sweep::BUDGET_S
        ));
    }
    notes
}

fn write_files(report: &Report, out: &mut OutDir) -> Result<(), BenchError> {
    let failed = |name: &str, detail: String| BenchError::Report { path: out.path().join(name), detail };
    let cells_svg = report::chart::cells_svg(report).map_err(|e| failed("report.svg", e))?;
    let sweep_svg = match &report.sweep {
        Some(sweep) => Some(report::chart::sweep_svg(sweep).map_err(|e| failed("report-sweep.svg", e))?),
        None => None,
    };
    let mut files = vec![
        ("report.json", report.to_json()),
        ("report.md", report.render(crate::Format::Markdown)),
        ("report.svg", cells_svg),
    ];
    if let Some(svg) = sweep_svg {
        files.push(("report-sweep.svg", svg));
    }
    for (name, contents) in files {
        out.write(name, contents.as_bytes())
            .map_err(|e| BenchError::Report { path: out.path().join(name), detail: e.to_string() })?;
    }
    Ok(())
}
