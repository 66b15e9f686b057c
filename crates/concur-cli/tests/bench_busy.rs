//! `concur bench` beside a processor hog: it must say the machine is busy,
//! on screen and in the report, and mark the cpu cells it disturbed.
//!
//! The hog is this test process spinning a thread per core, so for the
//! bench it is "other processes" however fast or slow the machine is: it
//! takes about half of the processors from a cell that computes, far over
//! the quarter of a core from which a cell counts as busy. It has a binary
//! of its own so that it slows no other test.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Spins a thread per core until dropped.
struct Hog {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Hog {
    fn start() -> Hog {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                    }
                })
            })
            .collect();
        Hog { stop, threads }
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_busy_machine_is_said_and_its_cells_marked() {
    if !std::path::Path::new("/proc/stat").exists() {
        println!("note: no /proc here; the bench cannot see other processes, so this test is skipped");
        return;
    }
    let sandbox = tempfile::tempdir().expect("a test folder");
    let out = sandbox.path().join("out");
    let hog = Hog::start();
    // Long enough cells (a few tenths of a second each) for the processor
    // counters, which tick a hundred times a second, to tell.
    let mut child = Command::new(env!("CARGO_BIN_EXE_concur"))
        .args(["bench", "--workloads", "cpu", "--models", "serial,threads", "-n", "4", "--scale", "0.04"])
        .args(["--repeat", "2", "--out"])
        .arg(&out)
        .env("TMPDIR", sandbox.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the concur binary starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("concur bench did not finish within 120 s beside the hog");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(hog);
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");

    // Said at once, while it runs.
    assert!(stderr.contains("warning: the machine is busy before the run"), "{stderr}");
    // Said in the table: a warning line, and the cells marked.
    assert!(stdout.contains("warning: the machine was busy"), "{stdout}");
    for model in ["serial", "threads"] {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("cpu       {model}")))
            .unwrap_or_else(|| panic!("no cpu {model} row: {stdout}"));
        assert!(row.contains("busy"), "the cpu {model} row is marked: {row}");
    }
    // And in the report.
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("the machine was busy")), "{warnings:?}");
    for cell in report["cells"].as_array().unwrap() {
        assert!(cell["flags"].as_array().unwrap().contains(&Value::from("busy")), "{cell}");
        assert!(cell["others_cores"].as_f64().unwrap() >= 0.25, "{cell}");
    }
    assert!(report["load"]["before_cores"].as_f64().unwrap() >= 0.25, "{}", report["load"]);
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(markdown.contains("**Warning:** the machine was busy"), "{markdown}");
}
