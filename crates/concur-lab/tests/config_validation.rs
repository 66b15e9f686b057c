//! The checks on a run's settings and names, before anything runs.

use std::path::PathBuf;

use concur_lab::{BenchConfig, BenchError, ConfigError, Event, Format, Model, Stop, Workload};

#[test]
fn names_are_the_command_line_and_json_names() {
    assert_eq!(Workload::ALL.map(Workload::name), ["cpu", "disk", "net", "sleep"]);
    assert_eq!(Model::ALL.map(Model::name), ["serial", "threads", "processes", "async"]);
    assert_eq!([Format::Table, Format::Markdown, Format::Json].map(Format::name), ["table", "md", "json"]);
    for workload in Workload::ALL {
        assert_eq!(serde_json::to_value(workload).unwrap(), workload.name());
    }
    for model in Model::ALL {
        assert_eq!(serde_json::to_value(model).unwrap(), model.name());
    }
}

#[test]
fn the_default_run_is_valid() {
    let config = BenchConfig::default();
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(config.n, 10);
    assert_eq!(config.workloads, Workload::ALL);
    assert_eq!(config.models, Model::ALL);
    assert_eq!(config.out, PathBuf::from("bench-out"));
    assert_eq!(config.net_delay().as_millis(), 100);
    assert_eq!(config.repeat, None, "runs are chosen by time");
    assert_eq!(config.runs(None), 3);
    assert_eq!(config.runs(Some(25.0)), 2, "a cell of 25 s runs twice");
}

#[test]
fn bad_settings_are_refused() {
    let base = BenchConfig::default();
    let check = |config: BenchConfig, expected: ConfigError| assert_eq!(config.validate(), Err(expected));
    check(BenchConfig { n: 0, ..base.clone() }, ConfigError::NoTasks);
    check(BenchConfig { repeat: Some(0), ..base.clone() }, ConfigError::NoRepeats);
    check(BenchConfig { scale: 0.0, ..base.clone() }, ConfigError::BadScale(0.0));
    check(BenchConfig { scale: -1.0, ..base.clone() }, ConfigError::BadScale(-1.0));
    check(BenchConfig { scale: f64::INFINITY, ..base.clone() }, ConfigError::BadScale(f64::INFINITY));
    assert!(matches!(BenchConfig { scale: f64::NAN, ..base.clone() }.validate(), Err(ConfigError::BadScale(_))));
    check(BenchConfig { workloads: vec![], ..base.clone() }, ConfigError::EmptyList("workloads"));
    check(BenchConfig { models: vec![], ..base.clone() }, ConfigError::EmptyList("models"));
    check(BenchConfig { net_delay_ms: Some(60_001), ..base.clone() }, ConfigError::BadNetDelay(60_001));
    check(
        BenchConfig { sweep: true, workloads: vec![Workload::Cpu, Workload::Disk], ..base.clone() },
        ConfigError::SweepWithoutWorkload,
    );
    assert_eq!(BenchConfig { sweep: true, workloads: vec![Workload::Net], ..base }.validate(), Ok(()));
}

#[test]
fn messages_say_what_to_do() {
    assert!(ConfigError::NoTasks.to_string().contains("at least 1"));
    assert!(ConfigError::BadScale(f64::INFINITY).to_string().contains("must be a finite number above 0"));
    assert!(ConfigError::SweepWithoutWorkload.to_string().contains("add sleep or net"));
}

#[test]
fn the_net_delay_scales_unless_given() {
    let config = BenchConfig { scale: 0.01, ..BenchConfig::default() };
    assert_eq!(config.net_delay().as_micros(), 1_000);
    let config = BenchConfig { net_delay_ms: Some(250), ..config };
    assert_eq!(config.net_delay().as_millis(), 250);
}

#[test]
fn a_refused_run_writes_nothing_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never/made");
    let mut quiet = |_: &Event<'_>| {};
    let config = BenchConfig { scale: 0.0, out: out.clone(), ..BenchConfig::default() };
    let error = concur_lab::run(&config, &mut quiet, &Stop::new()).unwrap_err();
    assert!(matches!(error, BenchError::Config(ConfigError::BadScale(_))));
    assert_eq!(error.exit_code(), 2);
    assert!(!dir.path().join("never").exists());

    // An --out under a file: refused before anything runs.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let config = BenchConfig { out: file.join("out"), workloads: vec![Workload::Sleep], ..BenchConfig::default() };
    let error = concur_lab::run(&config, &mut quiet, &Stop::new()).unwrap_err();
    assert!(matches!(error, BenchError::OutDir { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("choose another --out"));
}

#[test]
fn only_input_errors_exit_2() {
    let full = BenchError::DiskFull { model: Model::Threads, detail: "No space left on device".into() };
    assert_eq!(full.exit_code(), 2);
    let cell = BenchError::Cell { workload: Workload::Net, model: Model::Async, detail: "refused".into() };
    assert_eq!(cell.exit_code(), 1);
    assert!(cell.to_string().contains("async cell of the net workload"));
    let report = Box::new(concur_lab::report::Report::empty());
    let stopped = BenchError::Interrupted { report, files: vec!["bench-out/report.md".into()] };
    assert_eq!(stopped.exit_code(), 130, "as a shell reports Ctrl-C");
    assert!(stopped.to_string().contains("bench-out/report.md"));
}
