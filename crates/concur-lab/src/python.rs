//! The Python side: `bench/python/bench.py` run with the same settings,
//! against the same page server and in the same temporary folder.
//!
//! `bench.py` says each run as it ends on its standard error (`cpu serial
//! run 1/3: 47.700 s`), which the bench reads as it comes: to show it, to
//! keep the estimate of the time left, and to keep the Python figures of a
//! run that is stopped before `bench.py` prints its one JSON document on
//! standard output at the end.
//!
//! The script is looked for, in order, at `$CONCUR_BENCH_PY`,
//! `bench/python/bench.py` under the current directory, and the same path
//! in the source tree this crate was built from. The interpreter is the
//! first `python3` on `PATH`. When either is missing, or the script fails,
//! the run goes on without Python and the report says why. `bench.py` leads
//! a process group of its own, so a stop ends its `multiprocessing`
//! children with it ([`children`](crate::children)).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::Deserialize;

use crate::children;
use crate::config::BenchConfig;
use crate::model::Model;
use crate::report::PythonStatus;
use crate::stop::Stop;
use crate::workload::Workload;

/// The `schema` of `bench.py`'s output that this reader understands.
const PYTHON_SCHEMA: &str = "concur-bench-python/2";

/// How long `bench.py` has to end after a stop's `SIGTERM` before its group
/// is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// `bench.py`'s output.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PythonOutput {
    pub(crate) schema: String,
    pub(crate) python: String,
    pub(crate) cells: Vec<PythonOutputCell>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PythonOutputCell {
    pub(crate) workload: Workload,
    pub(crate) model: Model,
    pub(crate) times_s: Vec<f64>,
}

/// One run `bench.py` reported as it ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PythonRan {
    pub(crate) workload: Workload,
    pub(crate) model: Model,
    /// This run's number, from 1, and how many the cell gets.
    pub(crate) run: usize,
    pub(crate) of: usize,
    pub(crate) seconds: f64,
}

/// How the Python side ended.
#[derive(Debug)]
pub(crate) enum Ended {
    Ran(PythonOutput),
    NotRun(PythonStatus, String),
    Stopped,
}

/// The first `python3` on `PATH`.
fn find_python() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("python3")).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn find_script() -> Option<PathBuf> {
    let from_env = std::env::var_os("CONCUR_BENCH_PY").map(PathBuf::from);
    let here = PathBuf::from("bench/python/bench.py");
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python/bench.py");
    from_env.into_iter().chain([here, source_tree]).find(|path| path.is_file())
}

/// What `bench.py` is given besides the settings: the folder for its
/// `disk` files and the page server's URL.
pub(crate) struct Place<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) url: Option<String>,
}

/// Runs `bench.py`, calling `on_run` with each run it reports and the
/// process id (its processor time is the bench's own) until it ends or
/// `stop` is requested.
pub(crate) fn run(
    config: &BenchConfig,
    place: &Place<'_>,
    stop: &Stop,
    on_run: &mut dyn FnMut(PythonRan, u32),
) -> Ended {
    let Some(python) = find_python() else {
        return Ended::NotRun(PythonStatus::Missing, "no python3 on PATH; the run went on without Python".to_string());
    };
    let Some(script) = find_script() else {
        return Ended::NotRun(
            PythonStatus::Failed,
            "bench/python/bench.py was not found (run from the repository root, or set CONCUR_BENCH_PY)".to_string(),
        );
    };
    let join = |names: Vec<&str>| names.join(",");
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .arg("--workloads")
        .arg(join(config.workloads.iter().map(|w| w.name()).collect()))
        .arg("--models")
        .arg(join(config.models.iter().map(|m| m.name()).collect()))
        .arg("-n")
        .arg(config.n.to_string())
        .arg("--scale")
        .arg(config.scale.to_string())
        .arg("--repeat")
        .arg(config.repeat.map_or("auto".to_string(), |runs| runs.to_string()))
        .arg("--dir")
        .arg(place.dir);
    if let Some(url) = &place.url {
        command.arg("--url").arg(url);
    }
    // A `__pycache__` beside the script would be left in the source tree.
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    let spawned = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Ended::NotRun(PythonStatus::Failed, format!("could not start {}: {e}", python.display())),
    };
    let pid = child.id();
    // Standard output is read whole on a thread of its own, so that neither
    // pipe fills while the other is read.
    let stdout = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            out.read_to_end(&mut text).map(|_| text)
        })
    });
    let (lines, received) = mpsc::channel();
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut said = Vec::new();
    loop {
        match received.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => match parse_ran(&line) {
                Some(ran) => on_run(ran, pid),
                None => said.push(line),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if stop.is_requested() {
            let _ = children::stop_group(&mut child, STOP_GRACE);
            return Ended::Stopped;
        }
    }
    let status = match child.wait() {
        Ok(status) => status,
        Err(e) => return Ended::NotRun(PythonStatus::Failed, format!("could not wait for bench.py: {e}")),
    };
    let stdout = match stdout.map(|reader| reader.join()) {
        Some(Ok(Ok(text))) => text,
        _ => return Ended::NotRun(PythonStatus::Failed, "could not read bench.py's output".to_string()),
    };
    if !status.success() {
        let tail: Vec<&str> = said.iter().rev().take(5).map(String::as_str).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Ended::NotRun(PythonStatus::Failed, format!("bench.py ended with {status}: {}", tail.join(" / ")));
    }
    match parse(&stdout) {
        Ok(output) => Ended::Ran(output),
        Err(detail) => Ended::NotRun(PythonStatus::Failed, detail),
    }
}

/// Reads one of `bench.py`'s run lines: `cpu   serial    run 1/3:   47.700 s`.
pub(crate) fn parse_ran(line: &str) -> Option<PythonRan> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [workload, model, "run", count, seconds, "s"] = words.as_slice() else { return None };
    let (run, of) = count.strip_suffix(':')?.split_once('/')?;
    fn name<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }
    Some(PythonRan {
        workload: name(workload)?,
        model: name(model)?,
        run: run.parse().ok()?,
        of: of.parse().ok()?,
        seconds: seconds.parse().ok()?,
    })
}

/// Reads `bench.py`'s JSON document.
pub(crate) fn parse(stdout: &[u8]) -> Result<PythonOutput, String> {
    let parsed: PythonOutput = serde_json::from_slice(stdout)
        .map_err(|e| format!("bench.py printed something that is not its JSON report: {e}"))?;
    if parsed.schema != PYTHON_SCHEMA {
        return Err(format!("bench.py printed schema {:?}, and this concur reads {PYTHON_SCHEMA:?}", parsed.schema));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lines_are_read() {
        let ran = parse_ran("cpu   serial    run 1/3:   47.700 s").unwrap();
        assert_eq!(ran, PythonRan { workload: Workload::Cpu, model: Model::Serial, run: 1, of: 3, seconds: 47.7 });
        assert_eq!(parse_ran("net   async     run 2/2:    0.108 s").unwrap().model, Model::Async);
        assert_eq!(parse_ran("Traceback (most recent call last):"), None);
        assert_eq!(parse_ran("gpu   serial    run 1/3:   1.0 s"), None);
    }

    #[test]
    fn the_document_is_checked() {
        let good = br#"{"schema": "concur-bench-python/2", "python": "3.11.7",
            "cells": [{"workload": "cpu", "model": "threads", "times_s": [1.0, 2.0]}]}"#;
        assert_eq!(parse(good).unwrap().cells[0].model, Model::Threads);
        let old = br#"{"schema": "concur-bench-python/1", "python": "3.11.7", "cells": []}"#;
        assert!(parse(old).unwrap_err().contains("concur-bench-python/2"));
        assert!(parse(b"hello").is_err());
    }
}
