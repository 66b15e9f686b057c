//! The report of a bench run, and its four forms: a terminal table,
//! `report.md`, `report.json` and `report.svg` (plus `report-sweep.svg`
//! after `--sweep`).
//!
//! # `report.json`, schema `concur-bench/1`
//!
//! The JSON is [`Report`] through serde; its field names are part of the
//! schema and change only with a new `schema` string. Times are seconds
//! as numbers; names of workloads and models are the command-line names.
//!
//! ```text
//! {
//!   "schema": "concur-bench/1",
//!   "concur_version": "0.1.0",
//!   "started_utc": "2026-01-31T12:00:00Z",   when the run began
//!   "total_s": 95.2,                         the whole run, probes and Python included
//!   "machine": {"cores": 2, "os": "linux", "arch": "x86_64", "cpu": "…" | null},
//!   "settings": {"workloads": ["cpu", …], "models": ["serial", …], "n": 10, "scale": 1.0,
//!                "repeat": 1, "net_delay_s": 0.1, "process_cap": 64, "disk_fsync": true},
//!   "server": {"url": "http://127.0.0.1:PORT/page", "port": PORT, "delay_s": 0.1} | null,
//!   "limits": [{"workload": "cpu", "limit_s": 7.4, "basis": "…how it was measured…"}, …],
//!   "cells": [{"workload": "cpu", "model": "threads", "n": 10, "workers": 10,
//!              "times_s": [7.6], "median_s": 7.6,
//!              "speedup": 1.95 | null,           serial's median ÷ this one; null without serial
//!              "limit_s": 7.4, "percent_of_limit": 97.4,
//!              "python": {"times_s": [..], "median_s": 30.1, "ratio": 3.96} | null}, …],
//!   "python": {"status": "ran" | "missing" | "failed", "version": "3.11.7" | null,
//!              "detail": "…" | null} | null,     null when --python was not asked
//!   "sweep": {"ns": [1, 10, 100, 1000, 10000], "process_cap": 64, "budget_s": 60.0,
//!             "points": [{"workload": "sleep", "model": "async", "n": 1000, "workers": 1,
//!                         "times_s": [2.01], "median_s": 2.01, "skipped": null}, …]} | null,
//!   "notes": ["…"]
//! }
//! ```
//!
//! `workers` is how many threads, processes or loops ran the tasks: 1 for
//! `serial` and `async`, N for `threads`, min(N, `process_cap`) for
//! `processes`. A sweep point that was not run has `skipped` set to the
//! reason and no times.

pub(crate) mod chart;
pub mod limits;
mod text;

use serde::{Deserialize, Serialize};

use crate::config::Format;
use crate::model::Model;
use crate::workload::Workload;

/// The `schema` value of this version of `report.json`.
pub const SCHEMA: &str = "concur-bench/1";

/// Everything a bench run measured. Serialised, it is `report.json`; see
/// the [module docs](self) for the schema.
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
    /// The machine it ran on.
    pub machine: Machine,
    /// What was asked.
    pub settings: Settings,
    /// The HTTP server of `net`, if it ran.
    pub server: Option<Server>,
    /// The limit of each workload, in workload order.
    pub limits: Vec<Limit>,
    /// One per (workload, model), workloads outer, in the order asked.
    pub cells: Vec<Cell>,
    /// How the Python run went; `None` when it was not asked for.
    pub python: Option<PythonRun>,
    /// The sweep over N; `None` without `--sweep`.
    pub sweep: Option<Sweep>,
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
    /// See [`Machine`].
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
    /// Times each cell ran.
    pub repeat: usize,
    /// The server's per-response delay.
    pub net_delay_s: f64,
    /// The most worker processes of a `processes` cell.
    pub process_cap: usize,
    /// Whether each `disk` task fsyncs its file (always, in this version).
    pub disk_fsync: bool,
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
    /// How the limit was found, in words and numbers.
    pub basis: String,
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
    /// Every repeat's wall time.
    pub times_s: Vec<f64>,
    /// The median of `times_s`.
    pub median_s: f64,
    /// `serial`'s median over this one; `None` if `serial` was not run.
    pub speedup: Option<f64>,
    /// The workload's limit.
    pub limit_s: f64,
    /// limit ÷ median × 100.
    pub percent_of_limit: f64,
    /// Python's figures for the same cell, if Python ran.
    pub python: Option<PythonCell>,
}

/// Python's time for a cell, beside concur's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PythonCell {
    /// Every repeat's wall time in Python.
    pub times_s: Vec<f64>,
    /// Their median.
    pub median_s: f64,
    /// Python's median ÷ concur's: above 1, concur is faster.
    pub ratio: f64,
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
    /// Every repeat's wall time; empty if skipped.
    pub times_s: Vec<f64>,
    /// Their median; `None` if skipped.
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
    /// assert!(report.cells.is_empty());
    /// ```
    pub fn empty() -> Report {
        Report {
            schema: SCHEMA.to_string(),
            concur_version: env!("CARGO_PKG_VERSION").to_string(),
            started_utc: utc_timestamp(std::time::SystemTime::now()),
            total_s: 0.0,
            machine: Machine::this(),
            settings: Settings {
                workloads: Vec::new(),
                models: Vec::new(),
                n: 0,
                scale: 1.0,
                repeat: 1,
                net_delay_s: 0.0,
                process_cap: crate::config::PROCESS_CAP,
                disk_fsync: true,
            },
            server: None,
            limits: Vec::new(),
            cells: Vec::new(),
            python: None,
            sweep: None,
            notes: Vec::new(),
        }
    }

    /// The report in `format`: what `concur bench` prints.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::{report::Report, Format};
    ///
    /// let report = Report::empty();
    /// assert!(report.render(Format::Json).contains("\"schema\": \"concur-bench/1\""));
    /// assert!(report.render(Format::Markdown).starts_with("# concur bench"));
    /// ```
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => text::table(self),
            Format::Markdown => text::markdown(self),
            Format::Json => self.to_json(),
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

/// `2026-01-31T12:00:00Z` for `time` (civil-from-days, after Howard
/// Hinnant's algorithm: a date crate would be a dependency for one line).
pub(crate) fn utc_timestamp(time: std::time::SystemTime) -> String {
    let secs = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::utc_timestamp;

    #[test]
    fn timestamps_match_known_dates() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(UNIX_EPOCH + Duration::from_secs(1_767_225_599)), "2025-12-31T23:59:59Z");
    }
}
