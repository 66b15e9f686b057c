//! What a bench run is asked to do, and the checks on it.
//!
//! [`BenchConfig`] holds every knob of `concur bench`; [`BenchConfig::validate`]
//! refuses the values that cannot give a meaningful run (no tasks, a zero,
//! negative or infinite scale, an empty list) before anything starts, so a
//! bad command line leaves nothing behind.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::model::Model;
use crate::workload::Workload;

/// Where the report files go when `--out` is not given: `bench-out/` in the
/// current directory.
pub const DEFAULT_OUT: &str = "bench-out";

/// Runs a cell gets when `--repeat` is not given.
pub const AUTO_RUNS: usize = 3;

/// Runs a long cell gets when `--repeat` is not given.
pub const AUTO_RUNS_LONG: usize = 2;

/// A first run longer than this makes a cell long.
pub const LONG_RUN: Duration = Duration::from_secs(10);

/// The per-response delay of the bench's HTTP server at scale 1.
pub const DEFAULT_NET_DELAY: Duration = Duration::from_millis(100);

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
    /// Times each cell is run; the report keeps every time, the median and
    /// the spread. `None`, the default, lets each cell choose by how long
    /// it takes: [`AUTO_RUNS`] runs, or [`AUTO_RUNS_LONG`] for a cell whose
    /// first run took longer than [`LONG_RUN`] (see [`BenchConfig::runs`]).
    pub repeat: Option<usize>,
    /// Also run the N = 1 … 10,000 sweep of `sleep` and `net`.
    pub sweep: bool,
    /// Also run `bench/python/bench.py` and show Python beside concur.
    pub python: bool,
    /// The folder for `report.md`, `report.json` and the SVG charts.
    pub out: PathBuf,
    /// The server's per-response delay in milliseconds, exactly; `None`
    /// for 100 ms × scale.
    pub net_delay_ms: Option<u64>,
}

impl Default for BenchConfig {
    /// The full default run: all workloads and models, N = 10, scale 1,
    /// runs chosen by time, report files in `bench-out/`.
    fn default() -> BenchConfig {
        BenchConfig {
            workloads: Workload::ALL.to_vec(),
            models: Model::ALL.to_vec(),
            n: 10,
            scale: 1.0,
            repeat: None,
            sweep: false,
            python: false,
            out: PathBuf::from(DEFAULT_OUT),
            net_delay_ms: None,
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
        if self.repeat == Some(0) {
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

    /// How many runs a cell gets, given the time of its first run (`None`
    /// before it has run): `--repeat` if given, else [`AUTO_RUNS`], or
    /// [`AUTO_RUNS_LONG`] when the first run took longer than [`LONG_RUN`].
    ///
    /// Three runs give a median that one slow run cannot move and a spread
    /// to judge it by; a cell of 20 s (the serial cpu and sleep cells of the
    /// full run) would make a third run cost more than the rest of the
    /// table, so those get two: still a spread, at two thirds of the time.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::BenchConfig;
    ///
    /// let auto = BenchConfig::default();
    /// assert_eq!(auto.runs(None), 3);
    /// assert_eq!(auto.runs(Some(2.0)), 3);
    /// assert_eq!(auto.runs(Some(22.7)), 2);
    /// let fixed = BenchConfig { repeat: Some(5), ..auto };
    /// assert_eq!(fixed.runs(Some(22.7)), 5);
    /// ```
    pub fn runs(&self, first_run_s: Option<f64>) -> usize {
        match (self.repeat, first_run_s) {
            (Some(runs), _) => runs,
            (None, Some(first)) if first > LONG_RUN.as_secs_f64() => AUTO_RUNS_LONG,
            (None, _) => AUTO_RUNS,
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
