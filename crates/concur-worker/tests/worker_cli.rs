//! The queue commands as a user runs them: exit status, what they print,
//! and what they leave in Redis — bad input (an unreachable server, a wrong
//! password, a missing or invalid config file, an unknown command or task)
//! exits with status 2, says what is wrong, and writes nothing.
//!
//! A plain program rather than a libtest harness: each command runs as this
//! executable started again with `CONCUR_CLI_TEST` set, which parses its
//! arguments as `concur` does (the commands flattened into a clap parser)
//! and exits with the command's status.

mod common;

use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use common::{cmd, free_port, Ready, RedisServer};
use concur_worker::{EnqueueOptions, Fetched, QueueConfig};
use serde_json::{json, Value};

const CHILD: &str = "CONCUR_CLI_TEST";

/// The `concur` binary's shape, as far as the queue commands go.
#[derive(Parser)]
#[command(name = "concur")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    #[command(flatten)]
    Queue(concur_worker::cli::Command),
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        let Commands::Queue(command) = Cli::parse().command;
        return ExitCode::from(concur_worker::cli::run(&command));
    }
    let cases: [(&str, fn()); 9] = [
        ("an_unreachable_server_exits_2", unreachable_server),
        ("a_wrong_password_exits_2_without_echoing_it_or_writing", wrong_password),
        ("a_missing_or_invalid_config_exits_2_and_writes_nothing", bad_config),
        ("unknown_commands_and_tasks_exit_2", unknown_commands_and_tasks),
        ("enqueue_reads_json_arguments_counts_and_delays", enqueue),
        ("status_shows_the_queue_as_text_and_json", status),
        ("dead_lists_retries_and_purges", dead),
        ("result_prints_the_record_or_exits_1", result),
        ("the_worker_runs_tasks_and_stops_on_sigterm", worker),
    ];
    common::run_cases(&cases)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test knows its path"));
    command.args(args).env(CHILD, "1").env_remove("CONCUR_REDIS_URL").stdin(Stdio::null());
    command
}

/// Runs `concur ARGS` to its end, killing it after 30 s.
fn concur(args: &[&str]) -> Run {
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

fn expect(run: &Run, code: i32, stderr_has: &str) {
    assert_eq!(run.code, code, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stderr.contains(stderr_has), "stderr should say {stderr_has:?}: {}", run.stderr);
}

fn keys(server: &RedisServer) -> Vec<String> {
    let mut keys: Vec<String> = cmd(&mut server.raw(), &["KEYS", "*"]);
    keys.sort();
    keys
}

fn unreachable_server() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    for args in [
        vec!["worker", "--redis", &url],
        vec!["enqueue", "--redis", &url, "sleep", "1"],
        vec!["status", "--redis", &url],
        vec!["dead", "list", "--redis", &url],
        vec!["result", "--redis", &url, "abc"],
    ] {
        expect(&concur(&args), 2, &format!("could not connect to Redis at {url}"));
    }
    expect(&concur(&["status", "--redis", "http://127.0.0.1"]), 2, "is not a Redis URL");
}

fn wrong_password() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"], Ready::Ping);
    let good = format!("redis://:s3cret@127.0.0.1:{}", server.port);
    let bad = format!("redis://:hunter2@127.0.0.1:{}", server.port);
    let none = server.url();
    let run = concur(&["enqueue", "--redis", &good, "echo", "kept"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = keyspace(&good);
    for args in
        [vec!["worker", "--redis", &bad], vec!["status", "--redis", &bad], vec!["enqueue", "--redis", &bad, "echo"]]
    {
        let run = concur(&args);
        expect(&run, 2, "refused the password");
        assert!(!run.stderr.contains("hunter2"), "the password was echoed: {}", run.stderr);
    }
    expect(&concur(&["worker", "--redis", &none]), 2, "requires a password");
    assert_eq!(keyspace(&good), before, "a failed start wrote to Redis");
    // The password may come from the environment instead of the command line.
    let mut status = command(&["status"]);
    status.env("CONCUR_REDIS_URL", &good).stdout(Stdio::null()).stderr(Stdio::null());
    assert!(status.status().expect("status runs").success());
}

/// Every key and the pending list, as another program sees them.
fn keyspace(url: &str) -> (Vec<String>, Vec<String>) {
    let mut conn = redis::Client::open(url).unwrap().get_connection_with_timeout(Duration::from_secs(5)).unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    keys.sort();
    let pending: Vec<String> = redis::cmd("LRANGE").arg("queue").arg(0).arg(-1).query(&mut conn).unwrap();
    (keys, pending)
}

fn bad_config() {
    let server = RedisServer::start();
    let url = server.url();
    assert_eq!(concur(&["enqueue", "--redis", &url, "echo", "kept"]).code, 0);
    let before = keyspace(&url);
    let dir = std::env::temp_dir().join(format!("concur-cli-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let invalid = dir.join("invalid.json");
    std::fs::write(&invalid, r#"{"tasks": {"x": {"program": "true",}}}"#).unwrap();
    let unknown_program = dir.join("unknown.json");
    std::fs::write(&unknown_program, r#"{"tasks": {"x": {"program": "no-such-program-anywhere"}}}"#).unwrap();
    let invalid = invalid.display().to_string();
    let unknown_program = unknown_program.display().to_string();
    expect(&concur(&["worker", "--redis", &url, "--config", "/no/such/tasks.json"]), 2, "/no/such/tasks.json");
    expect(&concur(&["worker", "--redis", &url, "--config", &invalid]), 2, "is not valid");
    expect(&concur(&["worker", "--redis", &url, "--config", &unknown_program]), 2, "no-such-program-anywhere");
    expect(&concur(&["enqueue", "--redis", &url, "--config", &invalid, "x"]), 2, "is not valid");
    expect(&concur(&["worker", "--redis", &url, "--concurrency", "0"]), 2, "concurrency must be at least 1");
    assert_eq!(keyspace(&url), before, "a failed start wrote to Redis");
    let _ = std::fs::remove_dir_all(&dir);
}

fn unknown_commands_and_tasks() {
    let server = RedisServer::start();
    let url = server.url();
    expect(&concur(&["frobnicate"]), 2, "unrecognized subcommand");
    expect(&concur(&["dead", "frobnicate"]), 2, "unrecognized subcommand");
    expect(&concur(&["enqueue", "--redis", &url, "resize", "cat.png"]), 2, "unknown task \"resize\"");
    expect(&concur(&["enqueue", "--redis", &url, "--delay", "soon", "sleep", "1"]), 2, "--delay");
    expect(&concur(&["dead", "purge", "--redis", &url]), 2, "--yes");
    expect(&concur(&["dead", "retry", "--redis", &url]), 2, "--all");
    expect(&concur(&["result", "--redis", &url, "not an id"]), 2, "task id");
    assert!(keys(&server).is_empty());
    let dir = std::env::temp_dir().join(format!("concur-cli-tasks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("tasks.json");
    std::fs::write(&config, r#"{"tasks": {"resize": {"program": "true"}}}"#).unwrap();
    let config = config.display().to_string();
    assert_eq!(concur(&["enqueue", "--redis", &url, "--config", &config, "resize", "cat.png"]).code, 0);
    assert_eq!(concur(&["enqueue", "--redis", &url, "--no-check", "mine", "1"]).code, 0);
    assert_eq!(cmd::<i64>(&mut server.raw(), &["LLEN", "queue"]), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

fn pending(server: &RedisServer) -> Vec<Value> {
    let raw: Vec<String> = cmd(&mut server.raw(), &["LRANGE", "queue", "0", "-1"]);
    raw.iter().map(|p| serde_json::from_str(p).expect("an envelope")).collect()
}

fn enqueue() {
    let server = RedisServer::start();
    let url = server.url();
    let run = concur(&["enqueue", "--redis", &url, "echo", "hello", "3", "\"3\"", "[1,2]", "-1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = run.stdout.trim();
    let tasks = pending(&server);
    assert_eq!(tasks[0]["id"], json!(id));
    assert_eq!(tasks[0]["args"], json!(["hello", 3, "3", [1, 2], -1]));

    let run =
        concur(&["enqueue", "--redis", &url, "--count", "2500", "--max-attempts", "2", "--timeout", "9", "sleep", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2500);
    assert!(run.stderr.contains("enqueued 2500 tasks"), "{}", run.stderr);
    let tasks = pending(&server);
    assert_eq!(tasks.len(), 2501);
    assert_eq!((tasks[0]["max_attempts"].clone(), tasks[0]["timeout"].clone()), (json!(2), json!(9.0)));

    let run = concur(&["enqueue", "--redis", &url, "--queue", "later", "--delay", "2m", "sleep", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(cmd::<i64>(&mut server.raw(), &["ZCARD", "{later}:delayed"]), 1);
    let due: f64 = cmd(
        &mut server.raw(),
        &[
            "ZSCORE",
            "{later}:delayed",
            &cmd::<Vec<String>>(&mut server.raw(), &["ZRANGE", "{later}:delayed", "0", "0"])[0],
        ],
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((due - now - 120.0).abs() < 10.0, "due in {} s", due - now);
}

fn status() {
    let server = RedisServer::start();
    let url = server.url();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_many("echo", (0..3).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    queue.fetch("w1", 1, Duration::ZERO).unwrap();
    let run = concur(&["status", "--redis", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in ["pending     2", "processing  1 (1 workers)", "w1", "heartbeat", "dead        0", "throughput"] {
        assert!(run.stdout.contains(expected), "{expected:?} missing from:\n{}", run.stdout);
    }
    let run = concur(&["status", "--redis", &url, "--json"]);
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!((json["pending"].clone(), json["processing"].clone()), (json!(2), json!(1)));
    assert_eq!(json["workers"][0]["id"], json!("w1"));
}

fn dead() {
    let server = RedisServer::start();
    let url = server.url();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_many("nope", (0..3).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    for fetched in queue.fetch("w1", 3, Duration::ZERO).unwrap() {
        let Fetched::Task(task) = fetched else { panic!("a task") };
        queue.reject("w1", &task, "no handler for nope").unwrap();
    }
    let run = concur(&["dead", "list", "--redis", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.matches("no handler for nope").count(), 3, "{}", run.stdout);
    assert!(run.stderr.contains("3 of 3 dead-letter entries"), "{}", run.stderr);
    let run = concur(&["dead", "list", "--redis", &url, "--json", "--limit", "2"]);
    let entries: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(entries.len(), 2);
    let id = entries[0]["id"].as_str().unwrap().to_owned();

    let run = concur(&["dead", "retry", "--redis", &url, &id]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("1 tasks queued again"));
    assert_eq!(pending(&server)[0]["id"], json!(id));
    expect(&concur(&["dead", "retry", "--redis", &url, "no-such-entry"]), 1, "matched no dead-letter entry");
    let run = concur(&["dead", "purge", "--redis", &url, "--yes"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "2 dead-letter entries deleted"), "{}", run.stderr);
    assert_eq!(cmd::<i64>(&mut server.raw(), &["LLEN", "{queue}:dead"]), 0);
}

fn result() {
    let server = RedisServer::start();
    let url = server.url();
    let mut queue = server.queue(QueueConfig::default());
    let id = queue.enqueue("echo", vec![json!("hi")], &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    let Some(Fetched::Task(task)) = queue.fetch("w1", 1, Duration::ZERO).unwrap().pop() else { panic!("a task") };
    queue.ack("w1", &task, &json!(["hi"])).unwrap();
    let run = concur(&["result", "--redis", &url, &id]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let record: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!((record["status"].clone(), record["result"].clone()), (json!("succeeded"), json!(["hi"])));
    expect(&concur(&["result", "--redis", &url, "0000-unknown"]), 1, "no result is stored");
}

fn worker() {
    let server = RedisServer::start();
    let url = server.url();
    let mut child = command(&["worker", "--redis", &url, "--concurrency", "4", "--grace", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts");
    let mut queue = server.queue(QueueConfig::default());
    let id = queue.enqueue("echo", vec![json!("from the cli")], &EnqueueOptions::default()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue.result(&id).unwrap().is_none() {
        if Instant::now() >= deadline || child.try_wait().unwrap().is_some() {
            // Say what the worker said, so that a failure here can be read.
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("the worker did not run the task within 30 s; it said:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on a child of this process that has not been reaped yet.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("worker started") && stderr.contains("worker stopped"), "{stderr}");
    assert!(queue.status().unwrap().workers.is_empty(), "the worker retired");
}
