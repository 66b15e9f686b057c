//! The report of a bench run, and its four forms: a terminal table,
//! `report.md`, `report.json` and `report.svg` (plus `report-sweep.svg`
//! after `--sweep`).
//!
//! # What a cell's figures are
//!
//! A cell is N tasks of one workload under one model. One *run* of it is
//! timed from just before its first task starts to just after its last one
//! ends: one wall time for the N tasks together. The cell is run several
//! times ([`BenchConfig::runs`](crate::BenchConfig::runs)); its *time* is
//! the median of those runs' wall times, and its *spread* how far apart
//! they were. Runs of a workload's cells take turns (serial, threads,
//! processes, async, then again), so slow drift — a busier moment, a disk
//! still writing — falls on every model alike. [`flags`] says which cells
//! not to take at face value.
//!
//! # `report.json`, schema `concur-bench/2`
//!
//! The JSON is [`Report`] through serde; its field names are part of the
//! schema and change only with a new `schema` string. Times are seconds
//! as numbers; names of workloads and models are the command-line names.
//!
//! ```text
//! {
//!   "schema": "concur-bench/2",
//!   "concur_version": "0.1.0",
//!   "started_utc": "2026-01-31T12:00:00Z",   when the run began
//!   "total_s": 95.2,                         the whole run, probes and Python included
//!   "partial": false,                        true when stopped early: only finished runs are in
//!   "machine": {"cores": 2, "os": "linux", "arch": "x86_64", "cpu": "…" | null},
//!   "settings": {"workloads": ["cpu", …], "models": ["serial", …], "n": 10, "scale": 1.0,
//!                "repeat": 3 | null,          null: runs chosen by time
//!                "net_delay_s": 0.1, "process_cap": 64, "disk_fsync": true},
//!   "load": {"before_cores": 0.02, "load_average_before": 0.4 | null, "during_cores": 0.05,
//!            "steal_cores": 0.01, "busy_cores": 0.25} | null,   null without /proc
//!   "server": {"url": "http://127.0.0.1:PORT/page", "port": PORT, "delay_s": 0.1} | null,
//!   "limits": [{"workload": "cpu", "limit_s": 7.4, "bound": true, "basis": "…how it was measured…"}, …],
//!   "cells": [{"workload": "cpu", "model": "threads", "n": 10, "workers": 10,
//!              "times_s": [7.6, 7.7, 7.5], "median_s": 7.6, "min_s": 7.5, "max_s": 7.7,
//!              "spread": 0.026,                  (max − min) ÷ median
//!              "speedup": 1.95 | null,           serial's median ÷ this one; null without serial
//!              "limit_s": 7.4, "percent_of_limit": 97.4,
//!              "others_cores": 0.02 | null,      what other processes used meanwhile
//!              "own_cores": 1.98 | null,         what the bench used meanwhile
//!              "flags": [] | ["busy", "beyond_limit", "wide_spread"],
//!              "python": {"times_s": [..], "median_s": 30.1, "min_s": 29.8, "max_s": 30.4,
//!                         "ratio": 3.96} | null}, …],
//!   "python": {"status": "ran" | "missing" | "failed" | "stopped", "version": "3.11.7" | null,
//!              "detail": "…" | null} | null,     null when --python was not asked
//!   "sweep": {"ns": [1, 10, 100, 1000, 10000], "process_cap": 64, "budget_s": 60.0,
//!             "points": [{"workload": "sleep", "model": "async", "n": 1000, "workers": 1,
//!                         "times_s": [2.01], "median_s": 2.01, "skipped": null}, …]} | null,
//!   "warnings": ["…"],                       what makes figures doubtful
//!   "notes": ["…"]
//! }
//! ```
//!
//! `workers` is how many threads, processes or loops ran the tasks: 1 for
//! `serial` and `async`, N for `threads`, min(N, `process_cap`) for
//! `processes`. A sweep point that was not run has `skipped` set to the
//! reason and no times.

pub(crate) mod chart;
pub mod flags;
pub mod limits;
mod schema;
mod text;
pub(crate) mod time;

pub use schema::{
    Cell, Flag, Limit, Load, Machine, PythonCell, PythonRun, PythonStatus, Report, Server, Settings, Sweep, SweepPoint,
    SCHEMA,
};
pub(crate) use text::cell_line;

/// Which report goes to standard output. The files in `--out` are always
/// all written, whatever this says.
///
/// # Examples
///
/// ```
/// use concur_lab::Format;
///
/// assert_eq!(Format::Markdown.name(), "md");
/// assert_eq!(Format::default(), Format::Table);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// An aligned plain-text table, for a terminal.
    #[default]
    Table,
    /// The Markdown of `report.md`.
    #[cfg_attr(feature = "clap", value(name = "md"))]
    Markdown,
    /// The JSON of `report.json`.
    Json,
}

impl Format {
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

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Report {
    /// The report in `format`: what `concur bench` prints.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::{report::Report, Format};
    ///
    /// let report = Report::empty();
    /// assert!(report.render(Format::Json).contains("\"schema\": \"concur-bench/2\""));
    /// assert!(report.render(Format::Markdown).starts_with("# concur bench"));
    /// ```
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => text::table(self),
            Format::Markdown => text::markdown(self),
            Format::Json => self.to_json(),
        }
    }
}
