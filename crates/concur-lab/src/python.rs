//! The Python side: `bench/python/bench.py` run with the same settings,
//! against the same page server and in the same temporary folder, its
//! cells read back from the one JSON document it prints.
//!
//! The script is looked for, in order, at `$CONCUR_BENCH_PY`,
//! `bench/python/bench.py` under the current directory, and the same path
//! in the source tree this crate was built from. The interpreter is the
//! first `python3` on `PATH`. When either is missing, or the script fails,
//! the run goes on without Python and the report says why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::config::BenchConfig;
use crate::report::PythonStatus;
use crate::scratch::{self, Scratch};
use crate::server::PageServer;

/// The `schema` of `bench.py`'s output that this reader understands.
const PYTHON_SCHEMA: &str = "concur-bench-python/1";

/// `bench.py`'s output.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PythonOutput {
    pub(crate) schema: String,
    pub(crate) python: String,
    pub(crate) cells: Vec<PythonOutputCell>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PythonOutputCell {
    pub(crate) workload: String,
    pub(crate) model: String,
    pub(crate) times_s: Vec<f64>,
    pub(crate) median_s: f64,
}

/// Why Python did not run: the status for the report and the words.
pub(crate) type NotRun = (PythonStatus, String);

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

/// Runs `bench.py` and reads its cells.
pub(crate) fn run(
    config: &BenchConfig,
    scratch: &Scratch,
    server: Option<&PageServer>,
) -> Result<PythonOutput, NotRun> {
    let Some(python) = find_python() else {
        return Err((PythonStatus::Missing, "no python3 on PATH; the run went on without Python".to_string()));
    };
    let Some(script) = find_script() else {
        return Err((
            PythonStatus::Failed,
            "bench/python/bench.py was not found (run from the repository root, or set CONCUR_BENCH_PY)".to_string(),
        ));
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
        .arg(config.repeat.to_string())
        .arg("--dir")
        .arg(scratch.path());
    if let Some(server) = server {
        command.arg("--url").arg(server.url());
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| (PythonStatus::Failed, format!("could not start {}: {e}", python.display())))?;
    let pid = child.id();
    scratch::watch_child(pid);
    let output = child.wait_with_output();
    scratch::forget_child(pid);
    let output = output.map_err(|e| (PythonStatus::Failed, format!("could not read bench.py's output: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err((PythonStatus::Failed, format!("bench.py ended with {}: {}", output.status, tail.join(" / "))));
    }
    parse(&output.stdout)
}

/// Reads `bench.py`'s JSON document.
pub(crate) fn parse(stdout: &[u8]) -> Result<PythonOutput, NotRun> {
    let parsed: PythonOutput = serde_json::from_slice(stdout)
        .map_err(|e| (PythonStatus::Failed, format!("bench.py printed something that is not its JSON report: {e}")))?;
    if parsed.schema != PYTHON_SCHEMA {
        return Err((
            PythonStatus::Failed,
            format!("bench.py printed schema {:?}, and this concur reads {PYTHON_SCHEMA:?}", parsed.schema),
        ));
    }
    Ok(parsed)
}
