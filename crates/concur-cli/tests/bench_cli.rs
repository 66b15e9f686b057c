//! `concur bench` end to end: the real binary, its worker processes and
//! page server, its files — and its refusals of bad input.
//!
//! Every run gets its own `TMPDIR`, so "no temporary file is left" is
//! checked by finding that folder empty afterwards, and is bounded by a
//! timeout so a hang fails the test instead of blocking it.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const WORKLOADS: [&str; 4] = ["cpu", "disk", "net", "sleep"];
const MODELS: [&str; 4] = ["serial", "threads", "processes", "async"];

/// Runs `concur` with `args` and an empty `TMPDIR` of its own, killing it
/// after `limit`.
fn concur(args: &[&str], tmpdir: &Path, limit: Duration) -> Output {
    concur_with(args, tmpdir, limit, &[])
}

fn concur_with(args: &[&str], tmpdir: &Path, limit: Duration, envs: &[(&str, &Path)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_concur"))
        .args(args)
        .env("TMPDIR", tmpdir)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the concur binary starts");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("waiting for concur").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("reaping concur");
            panic!(
                "concur {args:?} did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("reading concur's output")
}

struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().expect("a test folder");
        std::fs::create_dir(root.path().join("tmp")).expect("a TMPDIR for the run");
        Sandbox { root }
    }

    fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn assert_tmp_empty(&self) {
        let left: Vec<_> =
            std::fs::read_dir(self.tmp()).expect("TMPDIR is readable").flatten().map(|e| e.path()).collect();
        assert!(left.is_empty(), "temporary files were left behind: {left:?}");
    }
}

fn number(value: &Value, field: &str) -> f64 {
    value[field].as_f64().unwrap_or_else(|| panic!("{field} is not a number in {value}"))
}

fn assert_port_closed(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "the page server's port {port} still accepts connections after the bench ended"
    );
}

#[test]
fn quick_run_over_every_workload_and_model() {
    let sandbox = Sandbox::new();
    let out = sandbox.path("out");
    let output = concur(
        &["bench", "--scale", "0.01", "--out", out.to_str().unwrap(), "--format", "json"],
        &sandbox.tmp(),
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "concur bench failed: {}\n{stderr}", output.status);

    let printed: Value = serde_json::from_slice(&output.stdout).expect("stdout is the JSON report");
    let file = std::fs::read_to_string(out.join("report.json")).expect("report.json is written");
    let report: Value = serde_json::from_str(&file).expect("report.json parses");
    assert_eq!(printed, report, "--format json prints report.json");
    assert_eq!(report["schema"], "concur-bench/2");
    assert_eq!(report["partial"], false);
    assert!(report["machine"]["cores"].as_u64().is_some_and(|cores| cores >= 1), "the machine's cores are reported");
    let n = report["settings"]["n"].as_u64().unwrap() as f64;
    assert_eq!(n, 10.0);

    let cells = report["cells"].as_array().expect("cells is a list");
    assert_eq!(cells.len(), 16, "one cell per workload and model");
    for workload in WORKLOADS {
        for model in MODELS {
            let cell = cells
                .iter()
                .find(|c| c["workload"] == workload && c["model"] == model)
                .unwrap_or_else(|| panic!("no cell for {workload} × {model}"));
            let median = number(cell, "median_s");
            let speedup = number(cell, "speedup");
            // Three runs each by default, and their spread.
            assert_eq!(cell["times_s"].as_array().unwrap().len(), 3, "{workload} × {model}: {cell}");
            assert!(number(cell, "min_s") <= median && median <= number(cell, "max_s"), "{cell}");
            assert!(cell["flags"].is_array(), "{cell}");
            let limit = number(cell, "limit_s");
            assert!(median > 0.0 && limit > 0.0, "{workload} × {model}: {cell}");
            assert!((number(cell, "percent_of_limit") - limit / median * 100.0).abs() < 1e-6);
            // The speedup is serial's median over this one. Its size is not
            // checked: on a busy machine one slow serial run can make it
            // anything, which is what the flags are for.
            let serial = cells.iter().find(|c| c["workload"] == workload && c["model"] == "serial").unwrap();
            assert!((speedup - number(serial, "median_s") / median).abs() < 1e-9, "{cell}");
            assert!(speedup > 0.0);
            // Faster than a bound is flagged, never shown as a result.
            let bound =
                report["limits"].as_array().unwrap().iter().any(|l| l["workload"] == workload && l["bound"] == true);
            if bound && number(cell, "percent_of_limit") > 101.0 {
                assert!(cell["flags"].as_array().unwrap().contains(&Value::from("beyond_limit")), "{cell}");
            }
            match workload {
                // Nothing can wait less than the wait itself.
                "sleep" => assert!(median >= 0.02, "{model} slept 10 × 20 ms in {median} s"),
                "net" => assert!(median >= 0.001, "{model} got pages delayed 1 ms in {median} s"),
                _ => {}
            }
        }
    }
    // Serial waits add up.
    let serial_sleep = cells.iter().find(|c| c["workload"] == "sleep" && c["model"] == "serial").unwrap();
    assert!(number(serial_sleep, "median_s") >= 0.2);

    let svg = std::fs::read_to_string(out.join("report.svg")).expect("report.svg is written");
    assert!(svg.contains("<svg") && svg.contains("sleep"), "report.svg is an SVG chart");
    let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md is written");
    assert!(markdown.starts_with("# concur bench") && markdown.contains("| cpu | threads |"));
    assert!(markdown.contains("median of those runs' wall times"), "report.md says what a time is");

    // Each row as it is measured, then every file by its path.
    assert!(stderr.contains("cpu × serial: ") && stderr.contains("sleep × async: "), "{stderr}");
    assert!(stderr.contains("planned: 48 timed runs of 16 cells"), "{stderr}");
    let files = stderr.split("report files:").nth(1).expect("the files are named");
    for name in ["report.md", "report.json", "report.svg"] {
        assert!(files.contains(out.join(name).to_str().unwrap()), "{name} is named with its path: {stderr}");
    }

    let port = report["server"]["port"].as_u64().expect("the server's port is reported") as u16;
    assert_port_closed(port);
    sandbox.assert_tmp_empty();
}

#[test]
fn table_is_the_default_output() {
    let sandbox = Sandbox::new();
    let out = sandbox.path("out");
    let output = concur(
        &["bench", "--workloads", "sleep", "--models", "serial,async", "-n", "3", "--scale", "0.01", "--out"],
        &sandbox.tmp(),
        Duration::from_secs(60),
    );
    // `--out` without a value is a usage error.
    assert_eq!(output.status.code(), Some(2));

    let output = concur(
        &[
            "bench",
            "--workloads",
            "sleep",
            "--models",
            "serial,async",
            "-n",
            "3",
            "--scale",
            "0.01",
            "--out",
            out.to_str().unwrap(),
        ],
        &sandbox.tmp(),
        Duration::from_secs(60),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("% of limit") && table.contains("sleep     async"), "{table}");
    assert!(out.join("report.json").is_file());
    sandbox.assert_tmp_empty();
}

/// Runs a command that must be refused: exit code 2, a message on stderr,
/// nothing written.
fn refused(args: &[&str], message: &[&str]) {
    let sandbox = Sandbox::new();
    let out = sandbox.path("new/out");
    let mut full: Vec<&str> = vec!["bench"];
    full.extend(args);
    let has_out = args.contains(&"--out");
    let out_text = out.to_str().unwrap().to_string();
    if !has_out {
        full.extend(["--out", &out_text]);
    }
    let output = concur(&full, &sandbox.tmp(), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{full:?} should exit 2; stderr: {stderr}");
    for words in message {
        assert!(stderr.contains(words), "{full:?}: stderr lacks {words:?}: {stderr}");
    }
    assert!(output.stdout.is_empty(), "{full:?} printed {:?}", String::from_utf8_lossy(&output.stdout));
    assert!(!sandbox.path("new").exists(), "{full:?} created its --out folder");
    sandbox.assert_tmp_empty();
}

#[test]
fn unknown_workload_lists_the_valid_ones() {
    refused(&["--workloads", "cpu,gpu"], &["'gpu'", "cpu, disk, net, sleep"]);
}

#[test]
fn unknown_model_lists_the_valid_ones() {
    refused(&["--models", "threads,fibers"], &["'fibers'", "serial, threads, processes, async"]);
}

#[test]
fn zero_tasks_is_refused() {
    refused(&["-n", "0"], &["-n must be at least 1"]);
}

#[test]
fn zero_negative_and_infinite_scales_are_refused() {
    for scale in ["0", "-1", "inf", "NaN"] {
        refused(&["--scale", scale], &["--scale must be a finite number above 0"]);
    }
}

#[test]
fn zero_repeats_are_refused() {
    refused(&["--repeat", "0"], &["--repeat must be at least 1"]);
}

#[test]
fn unknown_format_is_refused() {
    refused(&["--format", "html"], &["'html'", "table, md, json"]);
}

#[test]
fn unwritable_out_is_refused_and_nothing_is_left() {
    let sandbox = Sandbox::new();
    let file = sandbox.path("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let out = file.join("out");
    let output = concur(
        &["bench", "--workloads", "sleep", "--scale", "0.01", "--out", out.to_str().unwrap()],
        &sandbox.tmp(),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("cannot write the report to") && stderr.contains("--out"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");
    sandbox.assert_tmp_empty();

    // Missing parents under a file: none of them may be left either.
    let deep = sandbox.path("made/for/nothing");
    std::fs::write(sandbox.path("made"), b"").unwrap();
    let output = concur(
        &["bench", "--workloads", "sleep", "--scale", "0.01", "--out", deep.to_str().unwrap()],
        &sandbox.tmp(),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(sandbox.path("made").is_file());
    sandbox.assert_tmp_empty();
}

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_runs_beside_concur() {
    if !python3_available() {
        println!("note: python3 is not installed; the --python end-to-end test is skipped");
        return;
    }
    let sandbox = Sandbox::new();
    let out = sandbox.path("out");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python/bench.py");
    let output = concur_with(
        &["bench", "--python", "--scale", "0.01", "-n", "4", "--out", out.to_str().unwrap(), "--format", "json"],
        &sandbox.tmp(),
        Duration::from_secs(180),
        &[("CONCUR_BENCH_PY", &script)],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "concur bench --python failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("stdout is the JSON report");
    assert_eq!(report["python"]["status"], "ran", "python: {}", report["python"]);
    assert!(report["python"]["version"].as_str().is_some_and(|v| v.starts_with('3')));
    for cell in report["cells"].as_array().unwrap() {
        let python = &cell["python"];
        assert!(python.is_object(), "no Python figures for {} × {}", cell["workload"], cell["model"]);
        let ratio = number(python, "ratio");
        assert!((ratio - number(python, "median_s") / number(cell, "median_s")).abs() < 1e-9);
    }
    let table = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(table.contains("python ÷ concur"), "{table}");
    sandbox.assert_tmp_empty();
}

#[test]
fn missing_python_is_said_and_the_run_goes_on() {
    let sandbox = Sandbox::new();
    let out = sandbox.path("out");
    // No python3 on this PATH; concur starts its own children by full path.
    let output = concur_with(
        &["bench", "--python", "--workloads", "sleep", "--models", "async", "-n", "2", "--scale", "0.01", "--out"]
            .into_iter()
            .chain([out.to_str().unwrap(), "--format", "json"])
            .collect::<Vec<_>>(),
        &sandbox.tmp(),
        Duration::from_secs(60),
        &[("PATH", Path::new("/nonexistent"))],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["python"]["status"], "missing");
    assert!(report["python"]["detail"].as_str().unwrap().contains("no python3"));
    assert_eq!(report["cells"][0]["python"], Value::Null);
    sandbox.assert_tmp_empty();
}

/// A running `concur`, its standard error read line by line as it comes.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    said: String,
}

impl Running {
    fn start(args: &[&str], tmpdir: &Path) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_concur"))
            .args(args)
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the concur binary starts");
        let (send, lines) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Running { child, lines, said: String::new() }
    }

    /// Waits for a line of standard error that contains `words`.
    fn wait_for(&mut self, words: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                self.said.push_str(&line);
                self.said.push('\n');
                if line.contains(words) {
                    return line;
                }
            }
        }
        let _ = self.child.kill();
        panic!("concur did not say {words:?} within {limit:?}; it said:\n{}", self.said);
    }

    /// Sends SIGINT, as Ctrl-C does, and waits for the exit.
    fn interrupt(mut self, limit: Duration) -> (std::process::ExitStatus, String, String) {
        let signalled = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(signalled.success());
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("concur did not exit within {limit:?} of Ctrl-C; it said:\n{}", self.said);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        use std::io::Read;
        self.child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.said.push_str(&line);
            self.said.push('\n');
        }
        (status, stdout, self.said)
    }
}

#[test]
fn a_huge_n_warns_with_the_time_it_would_take() {
    let sandbox = Sandbox::new();
    let out = sandbox.path("out");
    let mut running = Running::start(
        &["bench", "--workloads", "sleep", "--models", "serial", "-n", "1000000", "--scale", "0.01", "--out"]
            .into_iter()
            .chain([out.to_str().unwrap()])
            .collect::<Vec<_>>(),
        &sandbox.tmp(),
    );
    // A million 20 ms sleeps one after another: over five hours.
    let warning = running.wait_for("this run should take", Duration::from_secs(30));
    assert!(warning.starts_with("warning: ") && warning.contains(" h "), "{warning}");
    assert!(warning.contains("Ctrl-C"), "it says how to stop: {warning}");
    let (status, stdout, said) = running.interrupt(Duration::from_secs(20));
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(stdout.contains("PARTIAL"), "{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["partial"], true);
    sandbox.assert_tmp_empty();
}
