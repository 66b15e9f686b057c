//! The queue commands as a user runs them, through the `concur` binary:
//! exit status, what they print, and what they leave in Redis — bad input
//! (an unreachable or silent server, a wrong password, a missing or invalid
//! config file, an unknown command or task, a number out of range) exits
//! with status 2, says what is wrong, and writes nothing.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{cmd, command, concur, expect, free_port, Ready, RedisServer};
use concur_worker::protocol::Fetched;
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::{json, Value};

fn keys(server: &RedisServer) -> Vec<String> {
    let mut keys: Vec<String> = cmd(&mut server.raw(), &["KEYS", "*"]);
    keys.sort();
    keys
}

#[test]
fn an_unreachable_server_exits_2() {
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

#[test]
fn a_wrong_password_exits_2_without_echoing_it_or_writing() {
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

#[test]
fn a_missing_or_invalid_config_exits_2_and_writes_nothing() {
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
    expect(&concur(&["worker", "--redis", &url, "--concurrency", "0"]), 2, "from 1 to 1000000; 0 is out of range");
    assert_eq!(keyspace(&url), before, "a failed start wrote to Redis");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_commands_and_tasks_exit_2() {
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

#[test]
fn enqueue_reads_json_arguments_counts_and_delays() {
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

#[test]
fn status_shows_the_queue_as_text_and_json() {
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

#[test]
fn dead_lists_retries_and_purges() {
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

#[test]
fn result_prints_the_record_or_exits_1() {
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

#[test]
fn the_worker_runs_tasks_and_stops_on_sigterm() {
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

#[test]
fn a_server_that_accepts_but_never_answers_is_named_within_the_connect_timeout() {
    // Something that takes connections and says nothing, like a wrong service.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("redis://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in silent.incoming().take(6) {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    for args in [
        vec!["status", "--redis", &url, "--connect-timeout", "1"],
        vec!["enqueue", "--redis", &url, "--connect-timeout", "0.5", "sleep", "1"],
        vec!["worker", "--redis", &url, "--connect-timeout", "1"],
    ] {
        let started = Instant::now();
        let run = concur(&args);
        let timeout = args[args.iter().position(|a| *a == "--connect-timeout").unwrap() + 1];
        expect(&run, 2, &format!("Redis at {url} did not answer within {timeout} s"));
        assert!(!run.stderr.contains("os error"), "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?} took {:?}", started.elapsed());
    }
    drop(held);
}

#[test]
fn every_number_states_its_range_and_a_negative_one_is_out_of_range() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    for (args, says) in [
        (vec!["worker", "--concurrency", "-5"], "from 1 to 1000000; -5 is out of range"),
        (vec!["worker", "--concurrency", "0"], "from 1 to 1000000; 0 is out of range"),
        (vec!["worker", "--heartbeat-ttl", "nan"], "finite number of seconds of 0.3 or more"),
        (vec!["worker", "--heartbeat-ttl", "0"], "of 0.3 or more; 0 is out of range"),
        (vec!["worker", "--grace", "-1"], "of 0 or more; -1 is out of range"),
        (vec!["worker", "--loading-wait", "inf"], "finite number of seconds of 0 or more"),
        (vec!["worker", "--idle-watch", "0"], "of 0.001 or more; 0 is out of range"),
        (vec!["status", "--connect-timeout", "0"], "above 0; 0 is out of range"),
        (vec!["enqueue", "--count", "-2", "sleep", "1"], "-2 is out of range"),
        (vec!["enqueue", "--max-attempts", "0", "sleep", "1"], "0 is out of range"),
        (vec!["enqueue", "--timeout", "-3", "sleep", "1"], "-3 is out of range"),
        (vec!["enqueue", "--delay", "-1s", "sleep", "1"], "-1s is out of range"),
        (vec!["dead", "list", "--limit", "-1"], "-1 is out of range"),
    ] {
        let mut args = args.clone();
        args.extend(["--redis", &url]);
        let run = concur(&args);
        expect(&run, 2, says);
        assert!(!run.stderr.contains("unexpected argument"), "{args:?}: {}", run.stderr);
    }
    // The help states each range.
    let help = concur(&["worker", "--help"]).stdout;
    for range in ["(1 to 1000000)", "(0 or more)", "(0.3 or more", "(more than 0)", "(0.001 or more)"] {
        assert!(help.contains(range), "{range:?} missing from the help:\n{help}");
    }
}

#[test]
fn status_shows_the_dead_letters_trimmed_at_the_cap() {
    let server = RedisServer::start();
    let url = server.url();
    let mut queue = server.queue(QueueConfig { dead_cap: 2, ..QueueConfig::default() });
    queue.enqueue_many("nope", (0..5).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    for fetched in queue.fetch("w1", 5, Duration::ZERO).unwrap() {
        let Fetched::Task(task) = fetched else { panic!("a task") };
        queue.reject("w1", &task, "no handler").unwrap();
    }
    let run = concur(&["status", "--redis", &url]);
    assert!(run.stdout.contains("trimmed     3 dead-letter entries dropped"), "{}", run.stdout);
    let json: Value = serde_json::from_str(&concur(&["status", "--redis", &url, "--json"]).stdout).unwrap();
    assert_eq!((json["dead"].clone(), json["dead_trimmed"].clone()), (json!(2), json!(3)));
}

#[test]
fn status_shows_several_queues_and_what_each_worker_serves() {
    let server = RedisServer::start();
    let url = server.url();
    for (name, n) in [("critical", 2), ("low", 5)] {
        let mut queue = server.queue(QueueConfig::named(name));
        queue.enqueue_many("echo", (0..n).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
        queue.heartbeat_as("w1", Duration::from_secs(30), "critical:3,low:1", 8).unwrap();
    }
    let run = concur(&["status", "--redis", &url, "--queue", "critical,low"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in
        ["queue \"critical\"", "queue \"low\"", "pending     2", "pending     5", "serves critical:3,low:1 (8 at once)"]
    {
        assert!(run.stdout.contains(expected), "{expected:?} missing from:\n{}", run.stdout);
    }
    let json: Value =
        serde_json::from_str(&concur(&["status", "--redis", &url, "--queue", "critical,low", "--json"]).stdout)
            .unwrap();
    assert_eq!((json[0]["queue"].clone(), json[1]["pending"].clone()), (json!("critical"), json!(5)));
    assert_eq!(json[0]["workers"][0]["serves"], json!("critical:3,low:1"));
    expect(&concur(&["enqueue", "--redis", &url, "--queue", "a,b", "echo"]), 2, "contains the character ','");
}

#[test]
fn shards_are_declared_listed_and_served() {
    let server = RedisServer::start();
    let url = server.url();
    let run = concur(&["shards", "--redis", &url, "--queue", "jobs"]);
    assert!(run.stdout.contains("is not sharded"), "{}", run.stdout);
    let run = concur(&["shards", "--redis", &url, "--queue", "jobs", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("has 3 shards"), "{}", run.stdout);
    let run = concur(&["enqueue", "--redis", &url, "--queue", "jobs", "--count", "9", "echo"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = concur(&["shards", "--redis", &url, "--queue", "jobs"]);
    assert_eq!(run.stdout.lines().filter(|l| l.contains("pending        3")).count(), 3, "{}", run.stdout);
    let run = concur(&["status", "--redis", &url, "--queue", "jobs"]);
    assert!(run.stdout.contains("pending     9"), "{}", run.stdout);
    expect(&concur(&["shards", "--redis", &url, "--queue", "jobs", "4"]), 2, "drain them");
    expect(&concur(&["shards", "--redis", &url, "--queue", "jobs", "-1"]), 2, "-1 is out of range");
}

#[test]
fn min_replicas_refuses_a_write_no_replica_confirms() {
    let server = RedisServer::start();
    let url = server.url();
    let run = concur(&["enqueue", "--redis", &url, "--min-replicas", "1", "--replica-timeout", "0.2", "echo", "x"]);
    expect(&run, 1, "only 0 of the 1 replicas asked for confirmed it in time");
    // The master has the write; it is its durability that was not confirmed.
    assert_eq!(cmd::<i64>(&mut server.raw(), &["LLEN", "queue"]), 1);
    assert_eq!(concur(&["enqueue", "--redis", &url, "echo", "y"]).code, 0);
    expect(&concur(&["enqueue", "--redis", &url, "--min-replicas", "101", "echo"]), 2, "from 0 to 100");
}

#[test]
fn enqueue_wait_prints_the_result_or_exits_1_with_the_reason() {
    let server = RedisServer::start();
    let url = server.url();
    let scratch = common::Scratch::new("enqueue-wait");
    let worker = common::WorkerProcess::start(&["--redis", &url, "--concurrency", "4"], &scratch.path("worker.log"));
    let bound = ["--wait-timeout", "60"];
    let run = concur(&[&["enqueue", "--redis", &url, "--wait"], &bound[..], &["echo", "hi", "2"]].concat());
    assert_eq!((run.code, run.stdout.as_str()), (0, "[\"hi\",2]\n"), "{}", run.stderr);
    let run = concur(&[&["enqueue", "--redis", &url, "--wait", "--count", "3"], &bound[..], &["sleep", "0"]].concat());
    assert_eq!((run.code, run.stdout.as_str()), (0, "0\n0\n0\n"), "{}", run.stderr);
    // A sleep of a negative time is rejected: dead-lettered at once, with the reason.
    let run = concur(&[&["enqueue", "--redis", &url, "--wait"], &bound[..], &["sleep", "-1"]].concat());
    expect(&run, 1, "must not be negative");
    assert!(run.stderr.contains("dead-lettered"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    // No worker serves this queue: the wait ends at its timeout, the task stays.
    let run = concur(&["enqueue", "--redis", &url, "--queue", "unserved", "--wait", "--wait-timeout", "0.5", "echo"]);
    expect(&run, 1, "no result within 0.5 s");
    let pending: i64 = cmd(&mut server.raw(), &["LLEN", "unserved"]);
    assert_eq!(pending, 1);
    expect(&concur(&["enqueue", "--redis", &url, "--wait-timeout", "1", "echo"]), 2, "--wait");
    worker.stop();
}
