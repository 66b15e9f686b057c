//! `report.json`'s schema: what is written parses back to the same report,
//! and the field names stay exactly as documented.

use std::collections::BTreeSet;

use concur_lab::report::{
    Cell, Flag, Limit, Load, PythonCell, PythonRun, PythonStatus, Report, Server, Sweep, SweepPoint, SCHEMA,
};
use concur_lab::{Format, Model, Workload};
use serde_json::Value;

/// A report with every optional part filled in.
fn full_report() -> Report {
    let mut report = Report::empty();
    report.total_s = 91.5;
    report.settings.workloads = vec![Workload::Cpu, Workload::Sleep];
    report.settings.models = vec![Model::Serial, Model::Threads];
    report.settings.n = 10;
    report.settings.net_delay_s = 0.1;
    report.server = Some(Server { url: "http://127.0.0.1:40000/page".into(), port: 40000, delay_s: 0.1 });
    report.limits = vec![
        Limit {
            workload: Workload::Cpu,
            limit_s: 7.5,
            bound: true,
            basis: "one task 1.5 s × N 10 ÷ min(N, 2 cores)".into(),
        },
        Limit { workload: Workload::Sleep, limit_s: 2.0, bound: true, basis: "one sleep".into() },
    ];
    let cell = |workload, model, median_s: f64, speedup, limit_s: f64, python: Option<PythonCell>| Cell {
        workload,
        model,
        n: 10,
        workers: if model == Model::Threads { 10 } else { 1 },
        times_s: vec![median_s * 0.99, median_s, median_s * 1.01],
        median_s,
        min_s: median_s * 0.99,
        max_s: median_s * 1.01,
        spread: 0.02,
        speedup: Some(speedup),
        limit_s,
        percent_of_limit: limit_s / median_s * 100.0,
        others_cores: Some(0.01),
        own_cores: Some(1.0),
        flags: Vec::new(),
        python,
    };
    let python = PythonCell {
        times_s: vec![30.0, 31.0, 29.0],
        median_s: 30.0,
        min_s: 29.0,
        max_s: 31.0,
        ratio: 2.0,
        flags: vec![Flag::WideSpread],
    };
    report.cells = vec![
        cell(Workload::Cpu, Model::Serial, 15.0, 1.0, 7.5, Some(python)),
        cell(Workload::Cpu, Model::Threads, 7.8, 15.0 / 7.8, 7.5, None),
        cell(Workload::Sleep, Model::Serial, 20.0, 1.0, 2.0, None),
        cell(Workload::Sleep, Model::Threads, 2.001, 20.0 / 2.001, 2.0, None),
    ];
    report.python = Some(PythonRun { status: PythonStatus::Ran, version: Some("3.11.7".into()), detail: None });
    report.sweep = Some(Sweep {
        ns: vec![1, 10, 100, 1000, 10_000],
        process_cap: 64,
        budget_s: 60.0,
        points: vec![
            SweepPoint {
                workload: Workload::Sleep,
                model: Model::Threads,
                n: 1000,
                workers: 1000,
                times_s: vec![2.05],
                median_s: Some(2.05),
                skipped: None,
            },
            SweepPoint {
                workload: Workload::Sleep,
                model: Model::Serial,
                n: 1000,
                workers: 1,
                times_s: vec![],
                median_s: None,
                skipped: Some("skipped: it would take at least 2000 s".into()),
            },
        ],
    });
    report.load = Some(Load {
        before_cores: 0.02,
        load_average_before: Some(0.3),
        during_cores: 0.04,
        steal_cores: 0.0,
        busy_cores: 0.25,
    });
    report.warnings = vec!["the runs of python cpu × serial differ".into()];
    report.notes = vec!["disk: fsync'd".into()];
    report
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().expect("an object").keys().map(String::as_str).collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[test]
fn a_report_survives_a_round_trip() {
    let report = full_report();
    let json = report.to_json();
    let back: Report = serde_json::from_str(&json).expect("report.json parses as a Report");
    assert_eq!(back, report);
    assert_eq!(Report::empty().schema, SCHEMA);
    assert_eq!(SCHEMA, "concur-bench/2");
}

#[test]
fn field_names_are_the_documented_ones() {
    let value: Value = serde_json::from_str(&full_report().to_json()).unwrap();
    assert_eq!(
        keys(&value),
        set(&[
            "schema",
            "concur_version",
            "started_utc",
            "total_s",
            "partial",
            "machine",
            "settings",
            "load",
            "server",
            "limits",
            "cells",
            "python",
            "sweep",
            "warnings",
            "notes"
        ])
    );
    assert_eq!(keys(&value["machine"]), set(&["cores", "os", "arch", "cpu"]));
    assert_eq!(
        keys(&value["settings"]),
        set(&["workloads", "models", "n", "scale", "repeat", "net_delay_s", "process_cap", "disk_fsync"])
    );
    assert_eq!(keys(&value["server"]), set(&["url", "port", "delay_s"]));
    assert_eq!(
        keys(&value["load"]),
        set(&["before_cores", "load_average_before", "during_cores", "steal_cores", "busy_cores"])
    );
    assert_eq!(keys(&value["limits"][0]), set(&["workload", "limit_s", "bound", "basis"]));
    assert_eq!(
        keys(&value["cells"][0]),
        set(&[
            "workload",
            "model",
            "n",
            "workers",
            "times_s",
            "median_s",
            "min_s",
            "max_s",
            "spread",
            "speedup",
            "limit_s",
            "percent_of_limit",
            "others_cores",
            "own_cores",
            "flags",
            "python"
        ])
    );
    assert_eq!(keys(&value["cells"][0]["python"]), set(&["times_s", "median_s", "min_s", "max_s", "ratio", "flags"]));
    assert_eq!(keys(&value["python"]), set(&["status", "version", "detail"]));
    assert_eq!(keys(&value["sweep"]), set(&["ns", "process_cap", "budget_s", "points"]));
    assert_eq!(
        keys(&value["sweep"]["points"][0]),
        set(&["workload", "model", "n", "workers", "times_s", "median_s", "skipped"])
    );
}

#[test]
fn names_and_absent_parts_are_written_plainly() {
    let value: Value = serde_json::from_str(&full_report().to_json()).unwrap();
    assert_eq!(value["cells"][1]["workload"], "cpu");
    assert_eq!(value["cells"][1]["model"], "threads");
    assert_eq!(value["cells"][1]["python"], Value::Null);
    assert_eq!(value["python"]["status"], "ran");
    assert_eq!(value["cells"][0]["python"]["flags"][0], "wide_spread");
    assert_eq!(value["cells"][0]["flags"], serde_json::json!([]));
    assert_eq!(value["partial"], false);
    assert_eq!(value["sweep"]["points"][1]["median_s"], Value::Null);
    assert!(value["started_utc"].as_str().unwrap().ends_with('Z'));

    let empty: Value = serde_json::from_str(&Report::empty().to_json()).unwrap();
    assert_eq!(empty["server"], Value::Null);
    assert_eq!(empty["python"], Value::Null);
    assert_eq!(empty["sweep"], Value::Null);
}

#[test]
fn a_report_from_an_older_reader_shape_is_refused() {
    // A renamed field is a schema change: it must not parse silently.
    let mut value: Value = serde_json::from_str(&full_report().to_json()).unwrap();
    let cells = value["cells"].as_array_mut().unwrap();
    let cell = cells[0].as_object_mut().unwrap();
    let median = cell.remove("median_s").unwrap();
    cell.insert("median".into(), median);
    assert!(serde_json::from_value::<Report>(value).is_err());
}

#[test]
fn the_text_forms_show_every_cell() {
    let report = full_report();
    let table = report.render(Format::Table);
    assert!(table.contains("% of limit") && table.contains("python ÷ concur"), "{table}");
    assert!(table.contains("cpu       threads"), "{table}");
    assert!(table.contains("1.92×"), "speedup 15 / 7.8: {table}");
    assert!(table.contains("warning: the runs of python cpu × serial differ."), "{table}");
    assert!(table.contains("python wide spread"), "the check column: {table}");
    assert!(table.contains("sweep"), "{table}");
    let markdown = report.render(Format::Markdown);
    assert!(markdown.starts_with("# concur bench"));
    assert!(
        markdown.contains(
            "| cpu | serial | 10 | 15.000 | 14.850–15.150 | 1.00× | 7.500 | 50 % | 30.000 | 2.00 | python wide spread |"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("median of those runs' wall times"), "the words say what time is: {markdown}");
    assert!(markdown.contains("skipped: it would take at least 2000 s"), "{markdown}");
    assert_eq!(report.render(Format::Json), report.to_json());
}

#[test]
fn a_cell_beyond_its_limit_shows_no_result() {
    let mut report = full_report();
    let cell = &mut report.cells[1];
    cell.median_s = 5.0;
    cell.percent_of_limit = 150.0;
    cell.speedup = Some(3.0);
    cell.flags = vec![Flag::BeyondLimit, Flag::Busy];
    let table = report.render(Format::Table);
    let row = table.lines().find(|line| line.starts_with("cpu       threads")).unwrap();
    assert!(row.contains("beyond limit (150 %), busy"), "{row}");
    assert!(!row.contains("3.00×") && !row.contains("150 %  "), "no speedup or % shown as a result: {row}");
    assert!(table.contains("check: busy = "), "the legend says what the words mean: {table}");
}

#[test]
fn a_partial_report_says_so() {
    let mut report = full_report();
    report.partial = true;
    report.total_s = 12.5;
    assert!(report.render(Format::Table).contains("PARTIAL: stopped after 12.5 s"));
    assert!(report.render(Format::Markdown).contains("PARTIAL"));
}
