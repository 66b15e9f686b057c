//! The `concur` binary as an operator runs it — its exit status, what it
//! prints, signals — beside a `redis-server` of the test's own (the worker
//! crate's harness, shared).

#![allow(dead_code)] // Each test file uses a different part of the harness.

#[path = "../../../concur-worker/tests/common/mod.rs"]
mod redis_harness;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(unused_imports)] // Each test file uses a different part of the harness.
pub(crate) use redis_harness::{cmd, free_port, wait_until, Ready, RedisServer};

/// What a finished command did.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// `concur ARGS`, not started yet, with no Redis URL from the environment.
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_concur"));
    command.args(args).env_remove("CONCUR_REDIS_URL").env_remove("RUST_LOG").stdin(Stdio::null());
    command
}

/// Runs `concur ARGS` to its end, killing it after 30 s.
pub(crate) fn concur(args: &[&str]) -> Run {
    let child = command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the command starts");
    let pid = child.id() as i32;
    let finished = Arc::new(AtomicBool::new(false));
    let watch = finished.clone();
    let killed = Arc::new(AtomicBool::new(false));
    let kill = killed.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !watch.load(Ordering::SeqCst) {
            if Instant::now() > deadline {
                kill.store(true, Ordering::SeqCst);
                // SAFETY: kill(2) on a child of this process that has not been reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let output = child.wait_with_output().expect("the command's output");
    finished.store(true, Ordering::SeqCst);
    assert!(!killed.load(Ordering::SeqCst), "concur {args:?} did not finish within 30 s");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Asserts the exit status and a piece of standard error.
pub(crate) fn expect(run: &Run, code: i32, stderr_has: &str) {
    assert_eq!(run.code, code, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stderr.contains(stderr_has), "stderr should say {stderr_has:?}: {}", run.stderr);
}

/// A scratch directory of the test's own, removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "concur-cli-test-{}-{name}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to the file `name`; returns its path as text.
    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write a scratch file");
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `concur worker` process, its standard error going to a file; killed on
/// drop if still running.
pub(crate) struct WorkerProcess {
    child: Child,
    log: PathBuf,
}

impl WorkerProcess {
    /// Starts `concur worker ARGS`, logging to `log`.
    pub(crate) fn start(args: &[&str], log: &Path) -> WorkerProcess {
        let mut full = vec!["worker"];
        full.extend(args);
        WorkerProcess::run(&full, &[], log)
    }

    /// Starts `concur worker ARGS`, logging to `log`, and waits up to 30 s
    /// for it to log that it started.
    pub(crate) fn started(args: &[&str], log: &Path) -> WorkerProcess {
        let mut worker = WorkerProcess::start(args, log);
        worker.wait_for_log("worker started", Duration::from_secs(30));
        worker
    }

    /// Starts `concur ARGS` (any long-running command) with the variables
    /// `env` set, logging to `log`.
    pub(crate) fn run(args: &[&str], env: &[(&str, &str)], log: &Path) -> WorkerProcess {
        let child = command(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("the log file"))
            .spawn()
            .expect("the worker starts");
        WorkerProcess { child, log: log.to_owned() }
    }

    pub(crate) fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub(crate) fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on a child of this process that has not been reaped yet.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// What the worker has logged so far.
    pub(crate) fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Waits until the log holds `text`, failing with the log after `timeout`.
    pub(crate) fn wait_for_log(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(text) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the worker exited ({status}) before logging {text:?}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "the worker did not log {text:?} within {timeout:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; returns its exit code (-1 for a
    /// signal), failing with the log after `timeout`.
    pub(crate) fn wait(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the worker did not exit within {timeout:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the log.
    pub(crate) fn stop(mut self) -> String {
        self.signal(libc::SIGTERM);
        let code = self.wait(Duration::from_secs(60));
        let log = self.log();
        assert_eq!(code, 0, "the worker did not stop cleanly:\n{log}");
        log
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
