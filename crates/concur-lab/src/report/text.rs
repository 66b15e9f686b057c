//! The report as text: an aligned table for a terminal, Markdown, and the
//! one-line rows a run prints as its cells complete.

use std::fmt::Write;

use super::flags::{BOUND_SLACK, BUSY_CORES, WIDE_SPREAD};
use super::schema::{Cell, Flag, PythonCell, PythonStatus, Report, Sweep};
use crate::model::Model;

/// How the table is laid out: the terminal's columns or Markdown's.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Terminal,
    Markdown,
}

/// A table's rows as strings, the first being the header.
fn cell_rows(report: &Report, layout: Layout) -> Vec<Vec<String>> {
    let python = report.cells.iter().any(|cell| cell.python.is_some());
    let flagged = report.cells.iter().any(|cell| !check(cell).is_empty());
    let spread = match layout {
        Layout::Terminal => "spread",
        Layout::Markdown => "runs min–max (s)",
    };
    let mut header: Vec<String> =
        ["workload", "model", "N", "time (s)", spread, "speedup", "limit (s)", "% of limit"].map(String::from).to_vec();
    if python {
        header.extend(["python (s)", "python ÷ concur"].map(String::from));
    }
    if flagged {
        header.push("check".to_string());
    }
    let mut rows = vec![header];
    for cell in &report.cells {
        let beyond = cell.flags.contains(&Flag::BeyondLimit);
        let mut row = vec![
            cell.workload.to_string(),
            model_label(cell),
            cell.n.to_string(),
            seconds(cell.median_s),
            match layout {
                Layout::Terminal => spread_percent(cell.times_s.len(), cell.spread),
                Layout::Markdown => range(cell.times_s.len(), cell.min_s, cell.max_s),
            },
            match cell.speedup {
                Some(s) if !beyond => format!("{s:.2}×"),
                _ => "—".to_string(),
            },
            seconds(cell.limit_s),
            if beyond { "—".to_string() } else { format!("{:.0} %", cell.percent_of_limit) },
        ];
        if python {
            match &cell.python {
                Some(py) => row.extend([seconds(py.median_s), format!("{:.2}", py.ratio)]),
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
        }
        if flagged {
            row.push(check(cell));
        }
        rows.push(row);
    }
    rows
}

fn check(cell: &Cell) -> String {
    let mut labels: Vec<String> = cell
        .flags
        .iter()
        .map(|flag| match flag {
            Flag::BeyondLimit => format!("beyond limit ({:.0} %)", cell.percent_of_limit),
            other => other.label().to_string(),
        })
        .collect();
    if let Some(python) = &cell.python {
        labels.extend(python.flags.iter().map(|flag| format!("python {}", flag.label())));
    }
    labels.join(", ")
}

/// The model's name, with the worker count where it differs from N.
fn model_label(cell: &Cell) -> String {
    if cell.model == Model::Processes && cell.workers < cell.n {
        format!("processes ({})", cell.workers)
    } else {
        cell.model.to_string()
    }
}

/// Seconds with three significant figures' worth of decimals.
fn seconds(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.1}")
    } else if s >= 0.1 {
        format!("{s:.3}")
    } else {
        format!("{s:.4}")
    }
}

fn spread_percent(runs: usize, spread: f64) -> String {
    if runs < 2 {
        "—".to_string()
    } else {
        format!("{:.0} %", spread * 100.0)
    }
}

fn range(runs: usize, min: f64, max: f64) -> String {
    if runs < 2 {
        "1 run".to_string()
    } else {
        format!("{}–{}", seconds(min), seconds(max))
    }
}

/// Columns after the second are numbers, right-aligned, but for the last
/// when it holds words.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let words_last = rows.first().and_then(|header| header.last()).is_some_and(|last| last == "check");
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (index, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (text, width))| {
                let pad = width - text.chars().count();
                if c < 2 || (words_last && c == columns - 1) {
                    format!("{text}{}", " ".repeat(pad))
                } else {
                    format!("{}{text}", " ".repeat(pad))
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if index == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            let _ = writeln!(out, "{}", rule.join("  "));
        }
    }
    out
}

fn runs_setting(report: &Report) -> String {
    match report.settings.repeat {
        Some(1) => "1 run a cell".to_string(),
        Some(runs) => format!("{runs} runs a cell"),
        None => "3 runs a cell (2 when a run takes over 10 s)".to_string(),
    }
}

fn headline(report: &Report) -> String {
    let mut line = format!(
        "{}; N = {}, scale {}, {}; {}",
        report.machine.label(),
        report.settings.n,
        report.settings.scale,
        runs_setting(report),
        report.started_utc,
    );
    if report.partial {
        let _ = write!(line, " — PARTIAL: stopped after {:.1} s, only the runs that ended are here", report.total_s);
    }
    line
}

fn python_line(report: &Report) -> Option<String> {
    let python = report.python.as_ref()?;
    Some(match python.status {
        PythonStatus::Ran => format!(
            "Python {} ran the same cells (bench/python/bench.py); python ÷ concur above 1 means concur is faster.",
            python.version.as_deref().unwrap_or("?")
        ),
        PythonStatus::Stopped => {
            "Python was stopped with the run; the Python runs that ended are in the table.".to_string()
        }
        PythonStatus::Missing | PythonStatus::Failed => {
            format!("Python did not run: {}", python.detail.as_deref().unwrap_or("no reason given"))
        }
    })
}

/// What the `check` column's words mean, for a report that uses them.
fn check_legend(report: &Report) -> Option<String> {
    let used = |flag: Flag| {
        report.cells.iter().any(|cell| {
            cell.flags.contains(&flag) || cell.python.as_ref().is_some_and(|python| python.flags.contains(&flag))
        })
    };
    let mut parts = Vec::new();
    if used(Flag::Busy) {
        parts.push(format!(
            "busy = other processes kept at least {BUSY_CORES} of a core busy while the cell computed, or left \
             no room at all, so it shared the processors"
        ));
    }
    if used(Flag::BeyondLimit) {
        parts.push(format!(
            "beyond limit = more than {:.0} % past a limit nothing can beat: a measurement problem, so its \
             speedup and % of limit are not shown",
            (BOUND_SLACK - 1.0) * 100.0
        ));
    }
    if used(Flag::WideSpread) {
        parts.push(format!("wide spread = its runs differ by more than {:.0} % of their median", WIDE_SPREAD * 100.0));
    }
    (!parts.is_empty()).then(|| format!("check: {}.", parts.join("; ")))
}

/// The terminal table.
pub(super) fn table(report: &Report) -> String {
    let mut out = format!("concur bench — {}\n\n", headline(report));
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}.");
    }
    if !report.warnings.is_empty() {
        out.push('\n');
    }
    out.push_str(&aligned(&cell_rows(report, Layout::Terminal)));
    if let Some(legend) = check_legend(report) {
        let _ = write!(out, "\n{legend}\n");
    }
    if let Some(line) = python_line(report) {
        let _ = write!(out, "\n{line}\n");
    }
    if let Some(sweep) = &report.sweep {
        let _ = write!(out, "\nsweep (median seconds by N):\n\n{}", aligned(&sweep_rows(sweep)));
    }
    if !report.notes.is_empty() {
        out.push('\n');
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    let _ = write!(out, "\ntotal {:.1} s\n", report.total_s);
    out
}

fn sweep_rows(sweep: &Sweep) -> Vec<Vec<String>> {
    let mut header = vec!["workload".to_string(), "model".to_string()];
    header.extend(sweep.ns.iter().map(|n| format!("N={n}")));
    let mut rows = vec![header];
    let mut keys: Vec<_> = Vec::new();
    for point in &sweep.points {
        if !keys.contains(&(point.workload, point.model)) {
            keys.push((point.workload, point.model));
        }
    }
    for (workload, model) in keys {
        let mut row = vec![workload.to_string(), model.to_string()];
        for n in &sweep.ns {
            let point = sweep.points.iter().find(|p| p.workload == workload && p.model == model && p.n == *n);
            row.push(match point {
                Some(point) => match (point.median_s, &point.skipped) {
                    (Some(s), _) => seconds(s),
                    (None, Some(_)) => "skipped".to_string(),
                    (None, None) => "not run".to_string(),
                },
                None => "—".to_string(),
            });
        }
        rows.push(row);
    }
    rows
}

fn markdown_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let words_last = rows.first().and_then(|header| header.last()).is_some_and(|last| last == "check");
    for (index, row) in rows.iter().enumerate() {
        let _ = writeln!(out, "| {} |", row.join(" | "));
        if index == 0 {
            let rule: Vec<&str> = (0..row.len())
                .map(|c| if c < 2 || (words_last && c == row.len() - 1) { "---" } else { "---:" })
                .collect();
            let _ = writeln!(out, "|{}|", rule.join("|"));
        }
    }
    out
}

/// What the figures of a cell are, in words.
const WHAT_THE_FIGURES_ARE: &str = "A cell is N tasks of one workload run together under one model. One run of \
a cell is timed from just before its first task starts to just after its last one ends — one wall time for \
all N tasks, start-up of threads, processes or the loop included. Each cell is run several times, taking \
turns with the other models of its workload; **time** is the median of those runs' wall times and **runs \
min–max** the fastest and slowest. **Speedup** is the serial cell's time over this one's. The **limit** is \
the shortest time this machine allows for N tasks (see Limits); **% of limit** is limit ÷ time.";

/// `report.md`.
pub(super) fn markdown(report: &Report) -> String {
    let mut out = String::from("# concur bench\n\n");
    let _ = writeln!(out, "{}.\n", headline(report));
    if !report.warnings.is_empty() {
        for warning in &report.warnings {
            let _ = writeln!(out, "> **Warning:** {warning}.");
            out.push_str(">\n");
        }
        out.truncate(out.len() - 2);
        out.push('\n');
    }
    out.push_str(&markdown_table(&cell_rows(report, Layout::Markdown)));
    let _ = writeln!(out, "\n{WHAT_THE_FIGURES_ARE}");
    if let Some(legend) = check_legend(report) {
        let _ = writeln!(out, "\n{legend}");
    }
    if report.cells.iter().any(|cell| cell.python.is_some()) {
        out.push_str("\nPython's runs, min–max (s): ");
        let ranges: Vec<String> = report
            .cells
            .iter()
            .filter_map(|cell| {
                let py = cell.python.as_ref()?;
                Some(format!("{} × {} {}", cell.workload, cell.model, range(py.times_s.len(), py.min_s, py.max_s)))
            })
            .collect();
        let _ = writeln!(out, "{}.", ranges.join("; "));
    }
    if !report.limits.is_empty() {
        out.push_str("\n## Limits\n\n");
        for limit in &report.limits {
            let kind = if limit.bound { "" } else { " (one writer's pace, not a bound: several may pass it)" };
            let _ = writeln!(out, "- `{}`: {} s{kind} — {}", limit.workload, seconds(limit.limit_s), limit.basis);
        }
    }
    if let Some(line) = python_line(report) {
        let _ = write!(out, "\n## Python\n\n{line}\n");
    }
    if let Some(sweep) = &report.sweep {
        let _ = write!(
            out,
            "\n## Sweep\n\nMedian seconds as N grows (`report-sweep.svg` charts it).\n\n{}",
            markdown_table(&sweep_rows(sweep))
        );
        for point in sweep.points.iter().filter(|p| p.skipped.is_some()) {
            let _ = writeln!(
                out,
                "- {} / {} / N={}: {}",
                point.workload,
                point.model,
                point.n,
                point.skipped.as_deref().unwrap_or_default()
            );
        }
    }
    if !report.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    let _ = write!(out, "\nTotal run time {:.1} s. Chart: `report.svg`.\n", report.total_s);
    out
}

/// A cell on one line, as a run prints it once the cell has all its runs:
/// concur's figures, or with `python` Python's.
pub(crate) fn cell_line(cell: &Cell, python: Option<&PythonCell>) -> String {
    let runs = |times: &[f64], min: f64, max: f64| match times.len() {
        1 => "1 run".to_string(),
        k => format!("{}–{} over {k} runs", seconds(min), seconds(max)),
    };
    if let Some(py) = python {
        return format!(
            "python {} × {}: {} s ({}); python ÷ concur {:.2}",
            cell.workload,
            cell.model,
            seconds(py.median_s),
            runs(&py.times_s, py.min_s, py.max_s),
            py.ratio
        );
    }
    let mut line = format!(
        "{} × {}: {} s ({})",
        cell.workload,
        model_label(cell),
        seconds(cell.median_s),
        runs(&cell.times_s, cell.min_s, cell.max_s)
    );
    if cell.flags.contains(&Flag::BeyondLimit) {
        let _ = write!(line, ", faster than the limit ({:.0} %): a measurement problem", cell.percent_of_limit);
    } else {
        if let Some(speedup) = cell.speedup {
            let _ = write!(line, ", {speedup:.2}× serial");
        }
        let _ = write!(line, ", {:.0} % of the limit", cell.percent_of_limit);
    }
    let others: Vec<&str> = cell.flags.iter().filter(|f| **f != Flag::BeyondLimit).map(|f| f.label()).collect();
    if !others.is_empty() {
        let _ = write!(line, " [{}]", others.join(", "));
    }
    line
}
