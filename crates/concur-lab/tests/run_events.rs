//! A run in this process, as a program drives it: the events it tells as it
//! goes, the files it names, and a stop that keeps a partial report. Only
//! the models that need no child process are used (`processes` needs the
//! program's `main` to call `serve_if_child`; the binary's tests cover it).

use concur_lab::{BenchConfig, BenchError, Event, Model, Stop, Workload};

fn config(out: &std::path::Path) -> BenchConfig {
    BenchConfig {
        workloads: vec![Workload::Sleep],
        models: vec![Model::Threads, Model::Serial, Model::Async],
        n: 3,
        scale: 0.01,
        repeat: Some(2),
        out: out.to_path_buf(),
        ..BenchConfig::default()
    }
}

#[test]
fn a_run_tells_each_run_and_row_and_names_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut lines = Vec::new();
    let mut rows = 0;
    let mut planned = None;
    let mut observer = |event: &Event<'_>| {
        match event {
            Event::Planned { progress, .. } => planned = Some(progress.total),
            Event::Row(cell) => {
                rows += 1;
                assert_eq!(cell.times_s.len(), 2, "a row comes with all its runs");
            }
            _ => {}
        }
        lines.push(event.to_string());
    };
    let outcome = concur_lab::run(&config(&out), &mut observer, &Stop::new()).unwrap();
    assert_eq!(planned, Some(6), "three cells of two runs: {lines:?}");
    assert_eq!(rows, 3, "{lines:?}");
    let ran: Vec<&String> = lines.iter().filter(|line| line.contains(", run ")).collect();
    assert!(ran.iter().any(|line| line.starts_with("sleep × serial, run 2 of 2: ")), "{ran:?}");
    // The runs take turns: threads, serial, async, then again.
    let order: Vec<&str> = ran.iter().filter(|l| l.contains(" s (")).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(order, ["sleep × threads", "sleep × serial", "sleep × async"].repeat(2), "{ran:?}");
    let names: Vec<_> = outcome.files.iter().map(|f| f.strip_prefix(&out).unwrap().to_str().unwrap()).collect();
    assert_eq!(names, ["report.md", "report.json", "report.svg"]);
    assert!(outcome.files.iter().all(|f| f.is_file()));
    assert!(!outcome.report.partial);
    let cell = outcome.report.cells.iter().find(|c| c.model == Model::Serial).unwrap();
    assert!(cell.min_s <= cell.median_s && cell.median_s <= cell.max_s);
}

#[test]
fn a_stop_keeps_what_was_measured_as_a_partial_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Sleeps of 2 s: the serial cell would take 6 s a run.
    let config = BenchConfig { scale: 1.0, repeat: Some(1), ..config(&out) };
    let stop = Stop::new();
    let asker = stop.clone();
    let mut observer = |event: &Event<'_>| {
        // Ctrl-C as the serial cell begins, the threads cell measured.
        if let Event::Started { what, .. } = event {
            if what.starts_with("sleep × serial") {
                asker.request();
            }
        }
    };
    let error = concur_lab::run(&config, &mut observer, &stop).unwrap_err();
    let BenchError::Interrupted { report, files } = error else { panic!("not an interruption: {error}") };
    assert!(report.partial);
    let models: Vec<Model> = report.cells.iter().map(|cell| cell.model).collect();
    assert_eq!(models, [Model::Threads], "the threads cell ran; serial was stopped and async never began");
    assert_eq!(files.len(), 3);
    let markdown = std::fs::read_to_string(&files[0]).unwrap();
    assert!(markdown.contains("PARTIAL"), "{markdown}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    assert_eq!(json["partial"], true);
}
