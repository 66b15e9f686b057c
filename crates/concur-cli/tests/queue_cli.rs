//! The worker's commands reach the `concur` binary: bad input is exit code 2
//! with a message naming the problem. (The commands themselves are tested
//! against a real redis-server in crates/concur-worker/tests/worker_cli.rs.)

use std::process::Command;

fn concur(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_concur")).args(args).output().expect("the concur binary runs");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn an_unreachable_redis_is_exit_code_2_naming_the_url() {
    // Port 1 on loopback: nothing listens there.
    for command in [&["status"][..], &["enqueue", "sleep", "1"], &["dead", "list"], &["result", "some-id"]] {
        let mut args = command.to_vec();
        args.extend(["--redis", "redis://127.0.0.1:1"]);
        let (code, stderr) = concur(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("redis://127.0.0.1:1"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unknown_command_is_exit_code_2() {
    let (code, stderr) = concur(&["fly"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("fly"), "{stderr}");
}

#[test]
fn a_missing_config_file_is_exit_code_2_naming_it() {
    let (code, stderr) =
        concur(&["worker", "--redis", "redis://127.0.0.1:1", "--config", "/nonexistent/concur-tasks.json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/nonexistent/concur-tasks.json"), "{stderr}");
}
