//! The types of [`Report`]: through serde, the schema of `report.json`.

use serde::{Deserialize, Serialize};

use crate::model::{Model, PROCESS_CAP};
use crate::workload::Workload;

/// The `schema` value of this version of `report.json`.
pub const SCHEMA: &str = "concur-bench/2";

/// Everything a bench run measured. Serialised, it is `report.json`; see
/// the [module docs](crate::report) for the schema.
///
/// # Examples
///
/// ```
/// use concur_lab::report::{Report, SCHEMA};
///
/// let json = serde_json::to_string(&Report::empty()).unwrap();
/// let back: Report = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.schema, SCHEMA);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The version of concur that ran.
    pub concur_version: String,
    /// When the run began, UTC, RFC 3339 to the second.
    pub started_utc: String,
    /// The whole run's wall time.
    pub total_s: f64,
    /// Whether the run was stopped before the end: then only the runs that
    /// ended are in it.
    pub partial: bool,
    /// The machine it ran on.
    pub machine: Machine,
    /// What was asked.
    pub settings: Settings,
    /// What else used the processors; `None` where the system does not say.
    pub load: Option<Load>,
    /// The HTTP server of `net`, if it ran.
    pub server: Option<Server>,
    /// The limit of each workload, in workload order.
    pub limits: Vec<Limit>,
    /// One per (workload, model) that ran, workloads outer, in the order
    /// asked.
    pub cells: Vec<Cell>,
    /// How the Python run went; `None` when it was not asked for.
    pub python: Option<PythonRun>,
    /// The sweep over N; `None` without `--sweep`.
    pub sweep: Option<Sweep>,
    /// What makes figures of this run less than trustworthy, in sentences:
    /// a busy machine, a result past its limit, runs that disagree.
    pub warnings: Vec<String>,
    /// Plain sentences a reader needs: what was fsync'd, what was capped.
    pub notes: Vec<String>,
}

/// The machine a report was made on.
///
/// # Examples
///
/// ```
/// let machine = concur_lab::report::Machine::this();
/// assert!(machine.cores >= 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// `std::thread::available_parallelism`.
    pub cores: usize,
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// The processor's model name, where the system says it.
    pub cpu: Option<String>,
}

impl Machine {
    /// This machine.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_lab::report::Machine::this().os, std::env::consts::OS);
    /// ```
    pub fn this() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        });
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpu,
        }
    }
}

impl Machine {
    /// `2 cores (AMD EPYC 7B13), linux x86_64`: the line the table and the
    /// charts name the machine by.
    pub(crate) fn label(&self) -> String {
        let cpu = self.cpu.as_ref().map_or(String::new(), |cpu| format!(" ({cpu})"));
        format!("{} cores{cpu}, {} {}", self.cores, self.os, self.arch)
    }
}

/// The settings of the run, as they were applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The workloads run.
    pub workloads: Vec<Workload>,
    /// The models run.
    pub models: Vec<Model>,
    /// Tasks per cell.
    pub n: usize,
    /// The scale of every workload.
    pub scale: f64,
    /// Runs per cell asked with `--repeat`; `None` for the default, by
    /// time (see [`BenchConfig::runs`](crate::BenchConfig::runs)).
    pub repeat: Option<usize>,
    /// The server's per-response delay.
    pub net_delay_s: f64,
    /// The most worker processes of a `processes` cell.
    pub process_cap: usize,
    /// Whether each `disk` task fsyncs its file (always, in this version).
    pub disk_fsync: bool,
}

/// What else used the processors, before and during the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// Cores other processes kept busy in the half second before the run.
    pub before_cores: f64,
    /// The one-minute load average before the run.
    pub load_average_before: Option<f64>,
    /// Cores other processes kept busy on average over the timed runs.
    pub during_cores: f64,
    /// Of those, cores the hypervisor gave to other virtual machines.
    pub steal_cores: f64,
    /// Other processes' use, in cores, from which a cell is marked busy.
    pub busy_cores: f64,
}

/// The page server of the `net` workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// The page's URL.
    pub url: String,
    /// The port it listened on; closed once the run is over.
    pub port: u16,
    /// The delay before each answer.
    pub delay_s: f64,
}

/// The physical limit of a workload's cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// The workload.
    pub workload: Workload,
    /// The shortest time N tasks could take here.
    pub limit_s: f64,
    /// Whether no run can beat it (`cpu`, `net`, `sleep`): a cell faster
    /// than a bound is a measurement problem. The `disk` limit is one
    /// writer's bandwidth, which several writers may pass.
    pub bound: bool,
    /// How the limit was found, in words and numbers.
    pub basis: String,
}

/// What makes a cell's figures doubtful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Other processes used the processors while the cell ran and it
    /// needed them: its time is slower than this machine can do.
    Busy,
    /// Faster than its workload's bound allows: a measurement problem (the
    /// serial cell that sets the `cpu` limit was slowed, say), not a result.
    BeyondLimit,
    /// Its runs differ by more than a fifth of their median.
    WideSpread,
}

impl Flag {
    /// The words the table uses.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_lab::report::Flag::WideSpread.label(), "wide spread");
    /// ```
    pub fn label(self) -> &'static str {
        match self {
            Flag::Busy => "busy",
            Flag::BeyondLimit => "beyond limit",
            Flag::WideSpread => "wide spread",
        }
    }
}

/// One (workload, model) cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The workload.
    pub workload: Workload,
    /// The model.
    pub model: Model,
    /// Tasks run.
    pub n: usize,
    /// Threads, processes or loops that ran them.
    pub workers: usize,
    /// Every run's wall time, in the order run.
    pub times_s: Vec<f64>,
    /// The median of `times_s`.
    pub median_s: f64,
    /// The fastest run.
    pub min_s: f64,
    /// The slowest run.
    pub max_s: f64,
    /// (max − min) ÷ median: 0.05 is runs within 5 % of each other.
    pub spread: f64,
    /// `serial`'s median over this one; `None` if `serial` was not run.
    pub speedup: Option<f64>,
    /// The workload's limit.
    pub limit_s: f64,
    /// limit ÷ median × 100.
    pub percent_of_limit: f64,
    /// Cores other processes kept busy on average while the cell ran;
    /// `None` where the system does not say, or the runs were too short.
    pub others_cores: Option<f64>,
    /// Cores the bench itself kept busy meanwhile.
    pub own_cores: Option<f64>,
    /// What makes these figures doubtful; empty for a clean cell.
    pub flags: Vec<Flag>,
    /// Python's figures for the same cell, if Python ran.
    pub python: Option<PythonCell>,
}

/// Python's time for a cell, beside concur's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PythonCell {
    /// Every run's wall time in Python.
    pub times_s: Vec<f64>,
    /// Their median.
    pub median_s: f64,
    /// The fastest run.
    pub min_s: f64,
    /// The slowest run.
    pub max_s: f64,
    /// Python's median ÷ concur's: above 1, concur is faster.
    pub ratio: f64,
    /// What makes Python's figures doubtful: `busy` or `wide_spread`.
    pub flags: Vec<Flag>,
}

/// Whether the Python side ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PythonStatus {
    /// It ran; its cells are in the table.
    Ran,
    /// No `python3` was found; the run went on without it.
    Missing,
    /// `bench.py` was missing, failed or printed something unreadable.
    Failed,
    /// The run was stopped while Python ran; the runs that ended are in.
    Stopped,
}

/// The Python side's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PythonRun {
    /// How it went.
    pub status: PythonStatus,
    /// The Python version that ran.
    pub version: Option<String>,
    /// Why it did not run, or what it said on failure.
    pub detail: Option<String>,
}

/// The sweep over N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The task counts tried.
    pub ns: Vec<usize>,
    /// The most worker processes.
    pub process_cap: usize,
    /// A point whose time would surely pass this is skipped.
    pub budget_s: f64,
    /// One per (workload, model, N).
    pub points: Vec<SweepPoint>,
}

/// One point of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// `sleep` or `net`.
    pub workload: Workload,
    /// The model.
    pub model: Model,
    /// Tasks.
    pub n: usize,
    /// Threads, processes or loops that ran them.
    pub workers: usize,
    /// Every run's wall time; empty if skipped or not reached.
    pub times_s: Vec<f64>,
    /// Their median; `None` if skipped or not reached.
    pub median_s: Option<f64>,
    /// Why the point was not run.
    pub skipped: Option<String>,
}

impl Report {
    /// A report of nothing: no cells, this machine, default settings. A
    /// base for tests and tools that build reports by hand.
    ///
    /// # Examples
    ///
    /// ```
    /// let report = concur_lab::report::Report::empty();
    /// assert!(report.cells.is_empty() && !report.partial);
    /// ```
    pub fn empty() -> Report {
        Report {
            schema: SCHEMA.to_string(),
            concur_version: env!("CARGO_PKG_VERSION").to_string(),
            started_utc: super::time::utc_timestamp(std::time::SystemTime::now()),
            total_s: 0.0,
            partial: false,
            machine: Machine::this(),
            settings: Settings {
                workloads: Vec::new(),
                models: Vec::new(),
                n: 0,
                scale: 1.0,
                repeat: None,
                net_delay_s: 0.0,
                process_cap: PROCESS_CAP,
                disk_fsync: true,
            },
            load: None,
            server: None,
            limits: Vec::new(),
            cells: Vec::new(),
            python: None,
            sweep: None,
            warnings: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// `report.json`'s text.
    ///
    /// # Examples
    ///
    /// ```
    /// let json = concur_lab::report::Report::empty().to_json();
    /// assert!(json.ends_with("}\n"));
    /// ```
    pub fn to_json(&self) -> String {
        // A tree of plain structs, strings and finite numbers: nothing in it
        // can fail to serialise.
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// The cell of `workload` under `model`, if it ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::{report::Report, Model, Workload};
    ///
    /// assert!(Report::empty().cell(Workload::Cpu, Model::Serial).is_none());
    /// ```
    pub fn cell(&self, workload: Workload, model: Model) -> Option<&Cell> {
        self.cells.iter().find(|cell| cell.workload == workload && cell.model == model)
    }

    /// The limit of `workload`, if it ran.
    pub(crate) fn limit(&self, workload: Workload) -> Option<&Limit> {
        self.limits.iter().find(|limit| limit.workload == workload)
    }
}
