//! A whole bench run, in order: check the settings and the output folder,
//! look at what else uses the processors, start the page server, take the
//! probes, time the cells, run Python and the sweep if asked, write the
//! report files, and clean up.
//!
//! The runs of a workload's cells take turns — serial, threads, processes,
//! async, then the second run of each — so that whatever drifts during a
//! run (other work, a disk still writing) falls on every model alike
//! rather than on whichever came first. A requested [`Stop`] ends the run
//! at the next moment it looks; what was measured by then becomes the
//! report, marked partial.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::config::BenchConfig;
use crate::error::{BenchError, Halt};
use crate::estimate::{human, Plan, Side};
use crate::limits::{cpu_limit, disk_limit, median, percent_of_limit, python_ratio, speedup};
use crate::load::{self, Sample, Usage};
use crate::model::{Model, PROCESS_CAP};
use crate::observe::{Event, Observer, Progress};
use crate::probe::{self, Probes};
use crate::python::{self, Ended, Place};
use crate::report::flags::{self, is_busy};
use crate::report::{
    self, Cell, Limit, Load, Machine, PythonCell, PythonRun, PythonStatus, Report, Server, Settings, Sweep,
};
use crate::runner::{time_run, workers};
use crate::scratch::{self, OutDir, Scratch};
use crate::server::PageServer;
use crate::stop::Stop;
use crate::sweep;
use crate::workload::{Task, Workload, SLEEP};

/// A run that went to its end: the report, and the files written.
///
/// # Examples
///
/// ```no_run
/// # use concur_lab::{BenchConfig, Event, Stop};
/// let mut quiet = |_: &Event<'_>| {};
/// let outcome = concur_lab::run(&BenchConfig::default(), &mut quiet, &Stop::new()).unwrap();
/// for file in &outcome.files {
///     println!("wrote {}", file.display()); // bench-out/report.md, …
/// }
/// ```
#[derive(Debug)]
pub struct Outcome {
    /// What was measured.
    pub report: Report,
    /// The report files, `report.md` first, as paths under the `--out`
    /// folder.
    pub files: Vec<PathBuf>,
}

/// How long the look at the machine before the run lasts.
const LOOK_BEFORE: Duration = Duration::from_millis(500);

/// A run planned to take longer than this is said to be long, up front.
const LONG_RUN: Duration = Duration::from_secs(20 * 60);

/// Runs the bench `config` describes, tells `observer` what happens as it
/// happens, writes `report.md`, `report.json` and `report.svg` (and
/// `report-sweep.svg` after a sweep) into `config.out`, and returns the
/// report with the paths of the files.
///
/// The program's `main` must call [`serve_if_child`](crate::serve_if_child)
/// first: the `processes` model and the page server are this executable
/// started again.
///
/// # Errors
///
/// [`BenchError::Interrupted`], holding the partial report and its files,
/// if `stop` was requested. Another [`BenchError`] if the settings are
/// invalid, the output folder cannot be written, or a cell fails (a full
/// disk, a server that does not start); then the temporary files, child
/// processes and any output folder the run created are removed first.
///
/// # Examples
///
/// ```no_run
/// use concur_lab::{BenchConfig, Event, Format, Model, Stop, Workload};
///
/// fn main() {
///     if concur_lab::serve_if_child().is_some() {
///         return;
///     }
///     let config = BenchConfig {
///         workloads: vec![Workload::Sleep],
///         models: vec![Model::Serial, Model::Threads],
///         scale: 0.01,
///         out: "bench-out".into(),
///         ..BenchConfig::default()
///     };
///     let mut show = |event: &Event<'_>| eprintln!("{event}");
///     let outcome = concur_lab::run(&config, &mut show, &Stop::new()).unwrap();
///     print!("{}", outcome.report.render(Format::Table));
/// }
/// ```
pub fn run(config: &BenchConfig, observer: &mut dyn Observer, stop: &Stop) -> Result<Outcome, BenchError> {
    config.validate()?;
    let started = SystemTime::now();
    let clock = Instant::now();
    let out = OutDir::prepare(&config.out).map_err(|source| BenchError::OutDir { path: config.out.clone(), source })?;
    scratch::raise_open_file_limit();
    let scratch = Scratch::new().map_err(BenchError::Scratch)?;
    let mut session = Session::new(config, observer, stop);
    session.look_before();
    let wants_server = config.needs_server() || (config.sweep && config.sweep_workloads().contains(&Workload::Net));
    let server = match wants_server {
        true => Some(PageServer::start(config.net_delay()).map_err(|e| BenchError::Server(e.to_string()))?),
        false => None,
    };
    session.children = server.iter().map(PageServer::pid).collect();
    let partial = match session.measure(&scratch, server.as_ref()) {
        Ok(()) => false,
        Err(Halt::Stopped) => true,
        Err(Halt::Failed(error)) => return Err(error),
    };
    let mut report = session.report(started, server.as_ref(), partial);
    // Stop the server before the report says the run is over: its port is
    // closed once `run` returns.
    drop(server);
    drop(scratch);
    report.total_s = clock.elapsed().as_secs_f64();
    let files = write_files(&report, out)?;
    if partial {
        Err(BenchError::Interrupted { report: Box::new(report), files })
    } else {
        Ok(Outcome { report, files })
    }
}

/// The runs of one cell so far.
#[derive(Debug, Clone)]
struct Measured {
    workload: Workload,
    model: Model,
    times: Vec<f64>,
    usage: Usage,
    /// Whether every run's usage is known (`/proc` was readable).
    usage_known: bool,
}

impl Measured {
    fn new(workload: Workload, model: Model) -> Measured {
        Measured { workload, model, times: Vec::new(), usage: Usage::default(), usage_known: true }
    }

    fn add(&mut self, seconds: f64, usage: Option<Usage>) {
        self.times.push(seconds);
        match usage {
            Some(usage) => self.usage.add(usage),
            None => self.usage_known = false,
        }
    }

    fn cores(&self) -> (Option<f64>, Option<f64>) {
        match self.usage_known {
            true => (self.usage.others_cores(), self.usage.ours_cores()),
            false => (None, None),
        }
    }
}

/// Everything a run gathers on its way.
struct Session<'a> {
    config: &'a BenchConfig,
    observer: &'a mut dyn Observer,
    stop: &'a Stop,
    machine: Machine,
    /// The page server, whose processor time is the bench's own.
    children: Vec<u32>,
    before: Option<(Usage, Option<f64>)>,
    warned_busy: bool,
    /// Every timed run's usage, for the report's load.
    during: Usage,
    probes: Probes,
    plan: Option<Plan>,
    cells: Vec<Measured>,
    python: Vec<Measured>,
    python_ended: Option<Ended>,
    sweep: Option<Sweep>,
}

impl<'a> Session<'a> {
    fn new(config: &'a BenchConfig, observer: &'a mut dyn Observer, stop: &'a Stop) -> Session<'a> {
        Session {
            config,
            observer,
            stop,
            machine: Machine::this(),
            children: Vec::new(),
            before: None,
            warned_busy: false,
            during: Usage::default(),
            probes: Probes::default(),
            plan: None,
            cells: Vec::new(),
            python: Vec::new(),
            python_ended: None,
            sweep: None,
        }
    }

    fn warn(&mut self, text: &str) {
        self.observer.event(&Event::Warning(text));
    }

    fn progress(&self) -> Progress {
        progress_of(self.plan.as_ref())
    }

    /// Half a second of looking at what else runs, before anything of the
    /// bench does.
    fn look_before(&mut self) {
        let average = load::load_average();
        let Some(first) = Sample::now(&[]) else { return };
        self.stop.sleep(LOOK_BEFORE);
        let Some(second) = Sample::now(&[]) else { return };
        let usage = first.until(&second);
        self.before = Some((usage, average));
        let others = usage.others_cores().unwrap_or(0.0);
        if others >= flags::BUSY_CORES {
            let text = format!(
                "the machine is busy before the run: other processes keep {others:.1} of its {} cores busy{}; \
                 cells that compute will be slowed and marked busy",
                self.machine.cores,
                average.map_or(String::new(), |avg| format!(" (load average {avg:.2})"))
            );
            self.warn(&text);
        }
    }

    /// Notes a run's usage, warning the first time the machine is found
    /// busy.
    fn account(&mut self, usage: Option<Usage>) {
        let Some(usage) = usage else { return };
        self.during.add(usage);
        if !self.warned_busy && is_busy(usage.others_cores(), usage.ours_cores(), self.machine.cores) {
            self.warned_busy = true;
            let text = format!(
                "other processes are keeping {:.1} of the {} cores busy: the cells measured meanwhile are \
                 marked busy, and their times are not this machine's best",
                usage.others_cores().unwrap_or(0.0),
                self.machine.cores
            );
            self.warn(&text);
        }
    }

    /// Probes, cells, Python, sweep.
    fn measure(&mut self, scratch: &Scratch, server: Option<&PageServer>) -> Result<(), Halt> {
        let observer = &mut *self.observer;
        let mut starting = |what: &str| observer.event(&Event::Started { what, progress: None });
        self.probes = probe::measure(self.config, scratch, server, self.stop, &mut starting)?;
        let sweep = self.config.sweep.then(|| sweep::plan(self.config));
        let sweep_points: Vec<_> = sweep
            .iter()
            .flat_map(|sweep| &sweep.points)
            .filter(|point| point.skipped.is_none())
            .map(|point| (point.workload, point.model, point.n))
            .collect();
        let plan = Plan::new(self.config, &self.probes, self.machine.cores, &sweep_points);
        let cells = self.config.workloads.len() * self.config.models.len() * (1 + usize::from(self.config.python))
            + sweep_points.len();
        self.plan = Some(plan);
        let progress = self.progress();
        self.observer.event(&Event::Planned { cells, progress });
        if progress.left > LONG_RUN {
            let text = format!(
                "this run should take {} (N = {}, scale {}{}); Ctrl-C stops it and keeps what was measured \
                 in a partial report",
                human(progress.left),
                self.config.n,
                self.config.scale,
                if self.config.python { ", with Python" } else { "" }
            );
            self.warn(&text);
        }
        self.sweep = sweep;
        for &workload in &self.config.workloads {
            self.measure_workload(workload, scratch, server)?;
        }
        if self.config.python {
            self.run_python(scratch, server)?;
        }
        if self.sweep.is_some() {
            self.run_sweep(scratch, server)?;
        }
        Ok(())
    }

    /// The cells of one workload, their runs taking turns.
    fn measure_workload(
        &mut self,
        workload: Workload,
        scratch: &Scratch,
        server: Option<&PageServer>,
    ) -> Result<(), Halt> {
        let config = self.config;
        let addr = server.map(PageServer::addr);
        let tasks: Vec<(Model, Vec<Task>)> = config
            .models
            .iter()
            .map(|&model| {
                let tasks = (0..config.n)
                    .map(|index| Task::new(workload, config.scale, scratch.task_file(model, index), addr))
                    .collect();
                (model, tasks)
            })
            .collect();
        for &model in &config.models {
            self.cells.push(Measured::new(workload, model));
        }
        loop {
            let mut ran = false;
            for (model, tasks) in &tasks {
                let index = self.cell_index(workload, *model);
                let done = self.cells[index].times.len();
                let wanted = config.runs(self.cells[index].times.first().copied());
                if done >= wanted {
                    continue;
                }
                ran = true;
                let what = match (done, config.repeat) {
                    (0, None) => format!("{workload} × {model}, run 1"),
                    _ => format!("{workload} × {model}, run {} of {wanted}", done + 1),
                };
                self.observer.event(&Event::Started { what: &what, progress: Some(self.progress()) });
                let run = time_run(workload, *model, tasks, self.stop, &self.children)?;
                self.cells[index].add(run.seconds, run.usage);
                if let Some(plan) = &mut self.plan {
                    plan.ran(Side::Concur, workload, *model, config.n, false, run.seconds);
                }
                self.account(run.usage);
                let progress = self.progress();
                self.observer.event(&Event::Ran { what: &what, seconds: run.seconds, progress });
                let measured = &self.cells[index];
                if measured.times.len() >= config.runs(measured.times.first().copied()) {
                    let limits = self.limits();
                    let cell = self.cell(measured, &limits);
                    self.observer.event(&Event::Row(&cell));
                }
            }
            if !ran {
                return Ok(());
            }
        }
    }

    fn cell_index(&self, workload: Workload, model: Model) -> usize {
        // Pushed before the first run of the workload.
        self.cells.iter().position(|m| m.workload == workload && m.model == model).unwrap_or(0)
    }

    fn run_python(&mut self, scratch: &Scratch, server: Option<&PageServer>) -> Result<(), Halt> {
        let place = Place { dir: scratch.path(), url: server.map(PageServer::url) };
        let what = "python: bench/python/bench.py, the same cells";
        self.observer.event(&Event::Started { what, progress: Some(self.progress()) });
        let (config, stop) = (self.config, self.stop);
        let server_pids = self.children.clone();
        let mut last = Sample::now(&server_pids);
        let ended = python::run(config, &place, stop, &mut |ran, pid| {
            let mut ours = server_pids.clone();
            ours.push(pid);
            let now = Sample::now(&ours);
            let usage = last.zip(now).map(|(last, now)| last.until(&now));
            last = now;
            let index = match self.python.iter().position(|m| m.workload == ran.workload && m.model == ran.model) {
                Some(index) => index,
                None => {
                    self.python.push(Measured::new(ran.workload, ran.model));
                    self.python.len() - 1
                }
            };
            self.python[index].add(ran.seconds, usage);
            if let Some(plan) = &mut self.plan {
                plan.ran(Side::Python, ran.workload, ran.model, config.n, false, ran.seconds);
            }
            self.account(usage);
            let what = format!("python {} × {}, run {} of {}", ran.workload, ran.model, ran.run, ran.of);
            let progress = self.progress();
            self.observer.event(&Event::Ran { what: &what, seconds: ran.seconds, progress });
            if ran.run == ran.of {
                let limits = self.limits();
                if let Some(measured) = self.cells.iter().find(|m| m.workload == ran.workload && m.model == ran.model) {
                    let mut cell = self.cell(measured, &limits);
                    cell.python = self.python_cell(&self.python[index], cell.median_s);
                    self.observer.event(&Event::PythonRow(&cell));
                }
            }
        });
        let stopped = matches!(ended, Ended::Stopped);
        if matches!(ended, Ended::NotRun(..)) {
            if let Some(plan) = &mut self.plan {
                plan.drop_side(Side::Python);
            }
            if let Ended::NotRun(_, detail) = &ended {
                let text = format!("Python did not run: {detail}");
                self.warn(&text);
            }
        }
        self.python_ended = Some(ended);
        if stopped {
            return Err(Halt::Stopped);
        }
        Ok(())
    }

    fn run_sweep(&mut self, scratch: &Scratch, server: Option<&PageServer>) -> Result<(), Halt> {
        let Some(mut sweep) = self.sweep.take() else { return Ok(()) };
        let place = (scratch.path(), server.map(PageServer::addr));
        let config = self.config;
        let (stop, children) = (self.stop, self.children.clone());
        let observer = &mut *self.observer;
        let plan = &mut self.plan;
        let result = sweep::run(config, &mut sweep, place, stop, &children, &mut |point, seconds| {
            if let Some(plan) = plan.as_mut() {
                plan.ran(Side::Concur, point.workload, point.model, point.n, true, seconds);
            }
            let what = format!("sweep: {} × {}, N = {}", point.workload, point.model, point.n);
            observer.event(&Event::Ran { what: &what, seconds, progress: progress_of(plan.as_ref()) });
        });
        self.sweep = Some(sweep);
        result
    }

    /// Each workload's limit, from the probes and the `serial` cell.
    fn limits(&self) -> Vec<Limit> {
        let (config, probes, cores) = (self.config, &self.probes, self.machine.cores);
        let n = config.n;
        let serial = |workload| {
            self.cells
                .iter()
                .find(|m| m.workload == workload && m.model == Model::Serial)
                .and_then(|m| median(&m.times))
        };
        config
            .workloads
            .iter()
            .filter_map(|&workload| {
                let (limit_s, bound, basis) = match workload {
                    Workload::Cpu => {
                        let (one, from) = match serial(workload) {
                            Some(serial) => (serial / n as f64, "the serial cell's median ÷ N"),
                            None => (probes.cpu_task_s?, "one task timed alone before the run"),
                        };
                        let limit = cpu_limit(one, n, cores);
                        (limit, true, format!("one task {one:.3} s ({from}) × N {n} ÷ min(N, {cores} cores)"))
                    }
                    Workload::Disk => {
                        let (bytes, seconds) = probes.disk?;
                        let bandwidth = bytes as f64 / seconds;
                        let basis = format!(
                            "N {n} × {:.1} MB at {:.0} MB/s, the write-and-fsync bandwidth of one task alone \
                             (fastest of three)",
                            bytes as f64 / 1e6,
                            bandwidth / 1e6
                        );
                        (disk_limit(n, bytes, bandwidth), false, basis)
                    }
                    Workload::Net => {
                        let round_trip = probes.net_round_trip_s?;
                        let basis = format!(
                            "one round trip: a GET alone took {:.1} ms (server delay {:.1} ms), median of three",
                            round_trip * 1e3,
                            config.net_delay().as_secs_f64() * 1e3
                        );
                        (round_trip, true, basis)
                    }
                    Workload::Sleep => {
                        let sleep = SLEEP.as_secs_f64() * config.scale;
                        (sleep, true, format!("one sleep of 2 s × scale {} = {sleep:.3} s", config.scale))
                    }
                };
                Some(Limit { workload, limit_s, bound, basis })
            })
            .collect()
    }

    /// The cell of `measured`, with its flags.
    fn cell(&self, measured: &Measured, limits: &[Limit]) -> Cell {
        let times = &measured.times;
        let median_s = median(times).unwrap_or(0.0);
        let (min_s, max_s) =
            (times.iter().copied().fold(f64::INFINITY, f64::min), times.iter().copied().fold(0.0, f64::max));
        let limit = limits.iter().find(|l| l.workload == measured.workload);
        let limit_s = limit.map_or(0.0, |l| l.limit_s);
        let serial = self
            .cells
            .iter()
            .find(|m| m.workload == measured.workload && m.model == Model::Serial)
            .and_then(|m| median(&m.times));
        let (others_cores, own_cores) = measured.cores();
        let mut cell = Cell {
            workload: measured.workload,
            model: measured.model,
            n: self.config.n,
            workers: workers(measured.model, self.config.n),
            times_s: times.clone(),
            median_s,
            min_s,
            max_s,
            spread: if median_s > 0.0 { (max_s - min_s) / median_s } else { 0.0 },
            speedup: serial.map(|serial| speedup(serial, median_s)),
            limit_s,
            percent_of_limit: percent_of_limit(limit_s, median_s),
            others_cores,
            own_cores,
            flags: Vec::new(),
            python: None,
        };
        cell.flags = flags::flags(&cell, limit, self.machine.cores);
        cell
    }

    fn python_cell(&self, measured: &Measured, concur_median: f64) -> Option<PythonCell> {
        let median_s = median(&measured.times)?;
        let times = &measured.times;
        let (others_cores, own_cores) = measured.cores();
        let (min_s, max_s) = min_max(times);
        let spread = (max_s - min_s) / median_s;
        let mut flags = Vec::new();
        if is_busy(others_cores, own_cores, self.machine.cores) {
            flags.push(report::Flag::Busy);
        }
        if times.len() >= 2 && spread > flags::WIDE_SPREAD {
            flags.push(report::Flag::WideSpread);
        }
        Some(PythonCell {
            times_s: times.clone(),
            median_s,
            min_s,
            max_s,
            ratio: python_ratio(median_s, concur_median),
            flags,
        })
    }

    /// The report of what was measured.
    fn report(mut self, started: SystemTime, server: Option<&PageServer>, partial: bool) -> Report {
        let config = self.config;
        let mut report = Report::empty();
        report.started_utc = report::time::utc_timestamp(started);
        report.partial = partial;
        report.machine = self.machine.clone();
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
        report.load = self.before.map(|(before, average)| Load {
            before_cores: before.others_cores().unwrap_or(0.0),
            load_average_before: average,
            during_cores: self.during.others_cores().unwrap_or(0.0),
            steal_cores: if self.during.wall_s > 0.0 { self.during.steal_s / self.during.wall_s } else { 0.0 },
            busy_cores: flags::BUSY_CORES,
        });
        report.server = server.map(|server| Server {
            url: server.url(),
            port: server.addr().port(),
            delay_s: server.delay().as_secs_f64(),
        });
        report.limits = self.limits();
        let measured: Vec<Measured> = self.cells.iter().filter(|m| !m.times.is_empty()).cloned().collect();
        report.cells = measured.iter().map(|m| self.cell(m, &report.limits)).collect();
        if let Some(ended) = self.python_ended.take() {
            report.python = Some(self.merge_python(&mut report.cells, ended));
        } else if config.python && partial {
            report.python = Some(PythonRun {
                status: PythonStatus::Stopped,
                version: None,
                detail: Some("the run was stopped before Python began".to_string()),
            });
        }
        report.sweep = self.sweep.take();
        report.notes = notes(config, server);
        report.warnings = flags::warnings(&report);
        report
    }

    fn merge_python(&mut self, cells: &mut [Cell], ended: Ended) -> PythonRun {
        let (status, version, detail) = match ended {
            Ended::Ran(output) => {
                // The document's times are the ones bench.py stands by.
                for cell in output.cells {
                    if let Some(measured) =
                        self.python.iter_mut().find(|m| m.workload == cell.workload && m.model == cell.model)
                    {
                        measured.times = cell.times_s;
                    }
                }
                (PythonStatus::Ran, Some(output.python), None)
            }
            Ended::Stopped => (PythonStatus::Stopped, None, Some("the run was stopped while Python ran".to_string())),
            Ended::NotRun(status, detail) => (status, None, Some(detail)),
        };
        for cell in cells.iter_mut() {
            if let Some(measured) = self.python.iter().find(|m| m.workload == cell.workload && m.model == cell.model) {
                cell.python = self.python_cell(measured, cell.median_s);
            }
        }
        let missing = cells.iter().filter(|cell| cell.python.is_none()).count();
        let detail = match (status, missing) {
            (PythonStatus::Ran, 1..) => Some(format!("bench.py gave no figures for {missing} of the cells")),
            _ => detail,
        };
        PythonRun { status, version, detail }
    }
}

/// Where `plan` is; nothing done of nothing before there is a plan.
fn progress_of(plan: Option<&Plan>) -> Progress {
    match plan {
        Some(plan) => Progress { done: plan.done(), total: plan.total(), left: plan.left() },
        None => Progress { done: 0, total: 0, left: Duration::ZERO },
    }
}

/// The fastest and the slowest of `times`.
fn min_max(times: &[f64]) -> (f64, f64) {
    (times.iter().copied().fold(f64::INFINITY, f64::min), times.iter().copied().fold(0.0, f64::max))
}

fn notes(config: &BenchConfig, server: Option<&PageServer>) -> Vec<String> {
    let mut notes = Vec::new();
    if config.workloads.contains(&Workload::Disk) {
        notes.push(
            "disk: each task writes its own file through an 8 KiB buffered writer and fsyncs it (File::sync_all) \
             before it counts as done; the files are removed after each run, and the file system is flushed \
             (syncfs) before the next, so that no run pays for the write-back or the freed blocks of the one \
             before."
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
             another exactly as serial does, and the two take the same time within their spread; sleep and net \
             await, and overlap."
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

fn write_files(report: &Report, mut out: OutDir) -> Result<Vec<PathBuf>, BenchError> {
    let failed = |name: &str, detail: String| BenchError::Report { path: out.path().join(name), detail };
    let cells_svg = report::chart::cells_svg(report).map_err(|e| failed("report.svg", e))?;
    let sweep_svg = match &report.sweep {
        Some(sweep) => Some(report::chart::sweep_svg(report, sweep).map_err(|e| failed("report-sweep.svg", e))?),
        None => None,
    };
    let mut files = vec![
        ("report.md", report.render(crate::Format::Markdown)),
        ("report.json", report.to_json()),
        ("report.svg", cells_svg),
    ];
    if let Some(svg) = sweep_svg {
        files.push(("report-sweep.svg", svg));
    }
    for (name, contents) in files {
        out.write(name, contents.as_bytes())
            .map_err(|e| BenchError::Report { path: out.path().join(name), detail: e.to_string() })?;
    }
    Ok(out.keep())
}
