//! What a bench run is asked to do, and the checks on it.
//!
//! [`BenchConfig`] holds every knob of `concur bench`; [`BenchConfig::validate`]
//! refuses the values that cannot give a meaningful run (no tasks, a zero or
//! negative scale, an empty list) before anything starts, so a bad command
//! line leaves nothing behind. The names of workloads, models and output
//! formats parse with [`std::str::FromStr`]; an unknown name is an error
//! whose message lists the valid ones.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::workload::Workload;

/// The most worker processes the `processes` model starts for one cell. A
/// cell with more tasks queues them on this many processes, and the report
/// says so: thousands of processes would measure the machine's process
/// table, not the model.
pub const PROCESS_CAP: usize = 64;

/// Where the report files go when `--out` is not given: `bench-out/` in the
/// current directory.
pub const DEFAULT_OUT: &str = "bench-out";

/// The per-response delay of the bench's HTTP server at scale 1.
pub const DEFAULT_NET_DELAY: Duration = Duration::from_millis(100);

/// Which report goes to standard output. The files in `--out` are always
/// all written, whatever this says.
///
/// # Examples
///
/// ```
/// use concur_lab::Format;
///
/// assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
/// assert!("html".parse::<Format>().unwrap_err().to_string().contains("table, md, json"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An aligned plain-text table, for a terminal.
    #[default]
    Table,
    /// The Markdown of `report.md`.
    Markdown,
    /// The JSON of `report.json`.
    Json,
}

impl Format {
    /// Every format, in the order the help lists them.
    pub const ALL: [Format; 3] = [Format::Table, Format::Markdown, Format::Json];

    /// The name used on the command line.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_lab::Format::Json.name(), "json");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Format, ConfigError> {
        Format::ALL.into_iter().find(|format| format.name() == text.trim()).ok_or_else(|| ConfigError::UnknownName {
            kind: "output format",
            name: text.to_string(),
            valid: names(Format::ALL.map(Format::name)),
        })
    }
}

pub(crate) fn names<const K: usize>(names: [&str; K]) -> String {
    names.join(", ")
}

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
    /// A workload, model or format name that does not exist.
    #[error("there is no {kind} named {name:?}: choose from {valid}")]
    UnknownName {
        /// What was being named: "workload", "model", "output format".
        kind: &'static str,
        /// The name given.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// `-n 0`.
    #[error("-n must be at least 1: each cell runs N tasks, and with none there is nothing to time")]
    NoTasks,
    /// `--repeat 0`.
    #[error("--repeat must be at least 1: each cell is timed that many times and the median kept")]
    NoRepeats,
    /// A scale that is zero, negative or not a finite number.
    #[error("--scale must be a number above 0 (1 is the full workloads, 0.01 a quick run), not {0}")]
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

/// Everything `concur bench` is asked to do.
///
/// # Examples
///
/// ```
/// use concur_lab::{BenchConfig, Model, Workload};
///
/// let config = BenchConfig {
///     workloads: vec![Workload::Sleep],
///     models: vec![Model::Serial, Model::Threads],
///     n: 4,
///     scale: 0.01,
///     ..BenchConfig::default()
/// };
/// config.validate().unwrap();
/// assert_eq!(config.net_delay(), std::time::Duration::from_millis(1));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// The workloads, in the order their rows appear.
    pub workloads: Vec<Workload>,
    /// The models, in the order their rows appear.
    pub models: Vec<Model>,
    /// Tasks per cell.
    pub n: usize,
    /// Shrinks (below 1) or grows every workload: cpu rounds, disk lines,
    /// the sleep and the default net delay are multiplied by it.
    pub scale: f64,
    /// Times each cell is run; the report keeps every time and the median.
    pub repeat: usize,
    /// Also run the N = 1 … 10,000 sweep of `sleep` and `net`.
    pub sweep: bool,
    /// Also run `bench/python/bench.py` and show Python beside concur.
    pub python: bool,
    /// The folder for `report.md`, `report.json` and the SVG charts.
    pub out: PathBuf,
    /// The server's per-response delay in milliseconds, exactly; `None`
    /// for 100 ms × scale.
    pub net_delay_ms: Option<u64>,
    /// Draw progress bars on standard error (only where it is a terminal).
    pub progress: bool,
}

impl Default for BenchConfig {
    /// The full default run: all workloads and models, N = 10, scale 1,
    /// one repeat, report files in `bench-out/`.
    fn default() -> BenchConfig {
        BenchConfig {
            workloads: Workload::ALL.to_vec(),
            models: Model::ALL.to_vec(),
            n: 10,
            scale: 1.0,
            repeat: 1,
            sweep: false,
            python: false,
            out: PathBuf::from(DEFAULT_OUT),
            net_delay_ms: None,
            progress: true,
        }
    }
}

impl BenchConfig {
    /// Checks the settings, before anything runs or is written.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for the first setting that cannot work.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::{BenchConfig, ConfigError};
    ///
    /// let config = BenchConfig { scale: -1.0, ..BenchConfig::default() };
    /// assert_eq!(config.validate(), Err(ConfigError::BadScale(-1.0)));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.workloads.is_empty() {
            return Err(ConfigError::EmptyList("workloads"));
        }
        if self.models.is_empty() {
            return Err(ConfigError::EmptyList("models"));
        }
        if self.n == 0 {
            return Err(ConfigError::NoTasks);
        }
        if self.repeat == 0 {
            return Err(ConfigError::NoRepeats);
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(ConfigError::BadScale(self.scale));
        }
        if let Some(ms) = self.net_delay_ms.filter(|ms| *ms > 60_000) {
            return Err(ConfigError::BadNetDelay(ms));
        }
        if self.sweep && self.sweep_workloads().is_empty() {
            return Err(ConfigError::SweepWithoutWorkload);
        }
        Ok(())
    }

    /// The server's per-response delay: `--net-delay-ms` if given, else
    /// 100 ms × scale.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::BenchConfig;
    ///
    /// let config = BenchConfig { scale: 0.5, ..BenchConfig::default() };
    /// assert_eq!(config.net_delay().as_millis(), 50);
    /// let config = BenchConfig { net_delay_ms: Some(7), ..config };
    /// assert_eq!(config.net_delay().as_millis(), 7);
    /// ```
    pub fn net_delay(&self) -> Duration {
        match self.net_delay_ms {
            Some(ms) => Duration::from_millis(ms),
            None => DEFAULT_NET_DELAY.mul_f64(self.scale.max(0.0)),
        }
    }

    /// The workloads the sweep runs: `sleep` and `net`, those of them asked.
    pub(crate) fn sweep_workloads(&self) -> Vec<Workload> {
        self.workloads.iter().copied().filter(|w| matches!(w, Workload::Sleep | Workload::Net)).collect()
    }

    /// Whether the run needs the HTTP server.
    pub(crate) fn needs_server(&self) -> bool {
        self.workloads.contains(&Workload::Net)
    }
}

/// Parses a comma-separated list of names, keeping the first of any
/// repeats.
///
/// # Errors
///
/// The first name that does not parse, or [`ConfigError::EmptyList`] if
/// no name is given.
///
/// # Examples
///
/// ```
/// use concur_lab::{parse_list, Workload};
///
/// let workloads: Vec<Workload> = parse_list("sleep,cpu,sleep", "workloads").unwrap();
/// assert_eq!(workloads, [Workload::Sleep, Workload::Cpu]);
/// assert!(parse_list::<Workload>("cpu,gpu", "workloads").is_err());
/// ```
pub fn parse_list<T>(text: &str, option: &'static str) -> Result<Vec<T>, ConfigError>
where
    T: FromStr<Err = ConfigError> + PartialEq,
{
    let mut items = Vec::new();
    for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let item = name.parse::<T>()?;
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if items.is_empty() {
        return Err(ConfigError::EmptyList(option));
    }
    Ok(items)
}
