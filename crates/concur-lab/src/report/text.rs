//! The report as text: an aligned table for a terminal, and Markdown.

use std::fmt::Write;

use super::{Cell, PythonStatus, Report, Sweep};
use crate::model::Model;

/// A table's rows as strings, the first being the header.
fn cell_rows(report: &Report) -> Vec<Vec<String>> {
    let python = report.cells.iter().any(|cell| cell.python.is_some());
    let mut header: Vec<String> =
        ["workload", "model", "N", "time (s)", "speedup", "limit (s)", "% of limit"].map(String::from).to_vec();
    if python {
        header.extend(["python (s)", "python ÷ concur"].map(String::from));
    }
    let mut rows = vec![header];
    for cell in &report.cells {
        let mut row = vec![
            cell.workload.to_string(),
            model_label(cell),
            cell.n.to_string(),
            seconds(cell.median_s),
            cell.speedup.map_or("—".to_string(), |s| format!("{s:.2}×")),
            seconds(cell.limit_s),
            format!("{:.0} %", cell.percent_of_limit),
        ];
        if python {
            match &cell.python {
                Some(py) => row.extend([seconds(py.median_s), format!("{:.2}", py.ratio)]),
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
        }
        rows.push(row);
    }
    rows
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

/// Columns after the second are numbers: right-aligned.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
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
                if c < 2 {
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

fn headline(report: &Report) -> String {
    let machine = &report.machine;
    format!(
        "{} cores, {} {}{}; N = {}, scale {}, repeat {}; {}",
        machine.cores,
        machine.os,
        machine.arch,
        machine.cpu.as_ref().map_or(String::new(), |cpu| format!(" ({cpu})")),
        report.settings.n,
        report.settings.scale,
        report.settings.repeat,
        report.started_utc,
    )
}

fn python_line(report: &Report) -> Option<String> {
    let python = report.python.as_ref()?;
    Some(match python.status {
        PythonStatus::Ran => format!(
            "Python {} ran the same cells (bench/python/bench.py); python ÷ concur above 1 means concur is faster.",
            python.version.as_deref().unwrap_or("?")
        ),
        PythonStatus::Missing | PythonStatus::Failed => {
            format!("Python did not run: {}", python.detail.as_deref().unwrap_or("no reason given"))
        }
    })
}

/// The terminal table.
pub(super) fn table(report: &Report) -> String {
    let mut out = format!("concur bench — {}\n\n", headline(report));
    out.push_str(&aligned(&cell_rows(report)));
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
            row.push(match point.and_then(|p| p.median_s) {
                Some(s) => seconds(s),
                None => "skipped".to_string(),
            });
        }
        rows.push(row);
    }
    rows
}

fn markdown_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (index, row) in rows.iter().enumerate() {
        let _ = writeln!(out, "| {} |", row.join(" | "));
        if index == 0 {
            let rule: Vec<&str> = (0..row.len()).map(|c| if c < 2 { "---" } else { "---:" }).collect();
            let _ = writeln!(out, "|{}|", rule.join("|"));
        }
    }
    out
}

/// `report.md`.
pub(super) fn markdown(report: &Report) -> String {
    let mut out = String::from("# concur bench\n\n");
    let _ = writeln!(out, "{}.\n", headline(report));
    out.push_str(&markdown_table(&cell_rows(report)));
    out.push_str(
        "\nTime is the median wall time of the N tasks, start-up included. Speedup is over `serial`. \
         The limit is the shortest time the machine allows for N tasks; % of limit is limit ÷ time.\n",
    );
    if !report.limits.is_empty() {
        out.push_str("\n## Limits\n\n");
        for limit in &report.limits {
            let _ = writeln!(out, "- `{}`: {} s — {}", limit.workload, seconds(limit.limit_s), limit.basis);
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
