//! The checks on a run's settings and names, before anything runs.

use std::path::PathBuf;

use concur_lab::{parse_list, BenchConfig, BenchError, ConfigError, Format, Model, Workload};

#[test]
fn names_parse_and_unknown_ones_list_the_valid() {
    for workload in Workload::ALL {
        assert_eq!(workload.name().parse::<Workload>(), Ok(workload));
    }
    for model in Model::ALL {
        assert_eq!(model.name().parse::<Model>(), Ok(model));
    }
    let error = "gpu".parse::<Workload>().unwrap_err();
    assert_eq!(error.to_string(), "there is no workload named \"gpu\": choose from cpu, disk, net, sleep");
    let error = "fibers".parse::<Model>().unwrap_err();
    assert_eq!(error.to_string(), "there is no model named \"fibers\": choose from serial, threads, processes, async");
    let error = "yaml".parse::<Format>().unwrap_err();
    assert_eq!(error.to_string(), "there is no output format named \"yaml\": choose from table, md, json");
    assert_eq!("table".parse::<Format>(), Ok(Format::Table));
    assert_eq!("json".parse::<Format>(), Ok(Format::Json));
    assert!("CPU".parse::<Workload>().is_err(), "names are exact");
}

#[test]
fn lists_keep_order_drop_repeats_and_refuse_empties() {
    assert_eq!(parse_list::<Model>("async, serial,async", "models"), Ok(vec![Model::Async, Model::Serial]));
    assert_eq!(parse_list::<Workload>("", "workloads"), Err(ConfigError::EmptyList("workloads")));
    assert_eq!(parse_list::<Workload>(",,", "workloads"), Err(ConfigError::EmptyList("workloads")));
    assert!(matches!(parse_list::<Workload>("cpu,nope", "workloads"), Err(ConfigError::UnknownName { .. })));
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
}

#[test]
fn bad_settings_are_refused() {
    let base = BenchConfig::default();
    let check = |config: BenchConfig, expected: ConfigError| assert_eq!(config.validate(), Err(expected));
    check(BenchConfig { n: 0, ..base.clone() }, ConfigError::NoTasks);
    check(BenchConfig { repeat: 0, ..base.clone() }, ConfigError::NoRepeats);
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
    assert!(ConfigError::BadScale(-1.0).to_string().contains("above 0"));
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
    let error = concur_lab::run(&BenchConfig { scale: 0.0, out: out.clone(), ..BenchConfig::default() }).unwrap_err();
    assert!(matches!(error, BenchError::Config(ConfigError::BadScale(_))));
    assert_eq!(error.exit_code(), 2);
    assert!(!dir.path().join("never").exists());

    // An --out under a file: refused before anything runs.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let config = BenchConfig { out: file.join("out"), workloads: vec![Workload::Sleep], ..BenchConfig::default() };
    let error = concur_lab::run(&config).unwrap_err();
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
}
