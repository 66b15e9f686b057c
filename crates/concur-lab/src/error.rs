//! Why a bench run did not start, or stopped.

use std::path::PathBuf;

use crate::model::Model;
use crate::report::Report;
use crate::workload::Workload;

/// A bench run's settings that cannot work.
///
/// # Examples
///
/// ```
/// use concur_lab::{BenchConfig, ConfigError};
///
/// let config = BenchConfig { n: 0, ..BenchConfig::default() };
/// assert!(matches!(config.validate(), Err(ConfigError::NoTasks)));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `-n 0`.
    #[error("-n must be at least 1: each cell runs N tasks, and with none there is nothing to time")]
    NoTasks,
    /// `--repeat 0`.
    #[error("--repeat must be at least 1: each cell is timed that many times and the median kept")]
    NoRepeats,
    /// A scale that is zero, negative or not a finite number.
    #[error("--scale must be a finite number above 0 (1 is the full workloads, 0.01 a quick run), not {0}")]
    BadScale(f64),
    /// A per-response delay too long to be meant.
    #[error("--net-delay-ms must be at most 60000 (a minute); {0} ms would make every GET time out")]
    BadNetDelay(u64),
    /// An empty `--workloads` or `--models` list.
    #[error("--{0} must name at least one; leave the option out to run them all")]
    EmptyList(&'static str),
    /// `--sweep` without `sleep` or `net` among the workloads.
    #[error("--sweep varies N for the sleep and net workloads, and --workloads has neither: add sleep or net")]
    SweepWithoutWorkload,
}

/// Why [`run`](crate::run) stopped. Whatever the reason, the run has
/// removed its temporary files and stopped its server and worker
/// processes. A run that failed removes any output folder it created; an
/// interrupted one leaves its partial report there.
///
/// # Examples
///
/// ```
/// use concur_lab::{BenchConfig, BenchError, Stop};
///
/// let config = BenchConfig { n: 0, ..BenchConfig::default() };
/// let error = concur_lab::run(&config, &mut |_: &concur_lab::Event<'_>| {}, &Stop::new()).unwrap_err();
/// assert!(matches!(error, BenchError::Config(_)));
/// assert_eq!(error.exit_code(), 2);
/// ```
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The settings cannot work; nothing ran.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The output folder cannot be created or written.
    #[error("cannot write the report to {}: {source}; choose another --out", path.display())]
    OutDir {
        /// The folder asked for.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// No temporary folder for the `disk` files.
    #[error("could not create a temporary folder for the disk workload: {0}; check that TMPDIR is writable")]
    Scratch(std::io::Error),
    /// The page server of `net` did not start.
    #[error("{0}")]
    Server(String),
    /// The disk filled up during `disk`.
    #[error("the {model} cell of the disk workload stopped: {detail}")]
    DiskFull {
        /// The model that was running.
        model: Model,
        /// What the system said, and where.
        detail: String,
    },
    /// A cell failed for another reason.
    #[error("the {model} cell of the {workload} workload failed: {detail}")]
    Cell {
        /// The workload.
        workload: Workload,
        /// The model.
        model: Model,
        /// What went wrong.
        detail: String,
    },
    /// A report file could not be made or written.
    #[error("could not write the report file {}: {detail}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A [`Stop`](crate::Stop) was requested. What was measured until then
    /// is in `report` (its `partial` is `true`) and in the files listed.
    #[error("the run was interrupted; the partial report is in {}", files.first().map_or_else(|| "no file".into(), |f| f.display().to_string()))]
    Interrupted {
        /// The report of what was measured.
        report: Box<Report>,
        /// The report files written, `report.md` first.
        files: Vec<PathBuf>,
    },
}

impl BenchError {
    /// The process exit code for this error: 2 for what the user can fix —
    /// bad settings, an output folder that cannot be written, a full disk —
    /// 130 for an interrupted run (as a shell reports Ctrl-C), and 1 for
    /// the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::BenchError;
    ///
    /// assert_eq!(BenchError::Server("no port".into()).exit_code(), 1);
    /// ```
    pub fn exit_code(&self) -> i32 {
        match self {
            BenchError::Config(_) | BenchError::OutDir { .. } | BenchError::DiskFull { .. } => 2,
            BenchError::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

/// Why a step of the run did not finish: a stop was requested, or it
/// failed.
#[derive(Debug)]
pub(crate) enum Halt {
    Stopped,
    Failed(BenchError),
}

impl From<BenchError> for Halt {
    fn from(error: BenchError) -> Halt {
        Halt::Failed(error)
    }
}
