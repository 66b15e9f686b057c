//! Ctrl-C in the middle of `concur bench`: the run writes what it had
//! measured as a partial report, removes its temporary files, ends every
//! process it started, and exits 130.
//!
//! "Every process it started" is checked without looking through `/proc`:
//! this test process makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`),
//! so any descendant of `concur` left running when `concur` exits becomes
//! this process's child, and `waitpid(-1)` finds it. That is also why this
//! test has a binary of its own: the wait would reap other tests' children.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Waits until this process has no children left; fails with the ones
/// still alive after `limit`.
fn assert_no_descendant_left(limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid pointer to an int; WNOHANG never blocks.
        let reaped = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match reaped {
            // No child at all: every descendant of the bench has ended.
            -1 => return,
            // A descendant ended and was handed to us: look again at once.
            pid if pid > 0 => continue,
            // Children alive and none ended yet.
            _ => {
                assert!(Instant::now() < deadline, "processes started by the bench outlived it by {limit:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn ctrl_c_keeps_a_partial_report_and_leaves_nothing_running() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes plain integers.
    let subreaper = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } == 0;
    #[cfg(not(target_os = "linux"))]
    let subreaper = false;
    let sandbox = tempfile::tempdir().expect("a test folder");
    let tmp = sandbox.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = sandbox.path().join("out/deeper");
    // A quick net cell, then four 10-second sleeps in worker processes:
    // long enough to interrupt with the net row already measured.
    let mut child = Command::new(env!("CARGO_BIN_EXE_concur"))
        .args(["bench", "--workloads", "net,sleep", "--models", "processes", "-n", "4"])
        .args(["--net-delay-ms", "1", "--scale", "5", "--repeat", "1", "--out"])
        .arg(&out)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the concur binary starts");
    let stderr = child.stderr.take().unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut said = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(50)) {
            said.push_str(&line);
            said.push('\n');
            if line.starts_with("net × processes: ") {
                break;
            }
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the net row did not come; concur said:\n{said}");
        }
    }
    // The sleep cell's workers start and go to sleep.
    std::thread::sleep(Duration::from_millis(1500));
    let signalled = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(signalled.success());

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("concur did not exit within 15 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The workers slept 10 s; they and the page server end with the bench.
    // (Looked at before reading the pipes to their end: a process left
    // running would hold them open.)
    if subreaper {
        assert_no_descendant_left(Duration::from_secs(5));
    } else {
        println!("note: this system has no child subreaper; the check for processes left is skipped");
    }
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        said.push_str(&line);
        said.push('\n');
    }
    let mut stdout = String::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert_eq!(status.code(), Some(130), "{said}");

    // The partial report, on standard output and in the files it names.
    assert!(stdout.contains("PARTIAL"), "{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
        .expect("the partial report.json parses");
    assert_eq!(report["partial"], true);
    let cells = report["cells"].as_array().unwrap();
    assert!(
        cells.iter().any(|cell| cell["workload"] == "net" && cell["model"] == "processes"),
        "the net cell measured before Ctrl-C is kept: {cells:?}"
    );
    assert!(!cells.iter().any(|cell| cell["workload"] == "sleep"), "the interrupted cell is not: {cells:?}");
    for name in ["report.md", "report.svg"] {
        assert!(out.join(name).is_file(), "{name} is written");
        assert!(said.contains(out.join(name).to_str().unwrap()), "{name} is named: {said}");
    }
    assert!(std::fs::read_to_string(out.join("report.md")).unwrap().contains("PARTIAL"));

    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "temporary files were left behind: {left:?}");
}
