//! `concur worker` under the faults an operator meets, driven as an operator
//! drives it: program tasks whose exits deliver SIGCHLD by the thousand, a
//! Ctrl-C, a worker killed with SIGKILL while its programs (and their
//! children) run, Redis flushed under running workers, a Redis that may
//! evict keys, a full dead-letter list, dead letters retried by id from
//! the command line after Redis was killed and restarted, and a busy
//! worker's quick tasks through SIGTERM, SIGKILL and a Redis restart.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{cmd, concur, wait_until, Ready, RedisServer, Scratch, WorkerProcess};
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::json;

/// Log lines that would mean the worker took a signal for a lost connection,
/// or a finished task for a reaped one.
const FALSE_ALARMS: [&str; 5] =
    ["lost the connection", "could not fetch", "could not acknowledge", "reaper had already", "retrying with backoff"];

/// Writes a config file with one program task, `name`, that runs `script`
/// with `/bin/sh -c` (its argument as `$1`); returns the file's path.
fn shell_task(scratch: &Scratch, name: &str, script: &str) -> String {
    let args = json!(["-c", script, name]);
    scratch.write("tasks.json", &json!({"tasks": {name: {"program": "/bin/sh", "args": args}}}).to_string())
}

fn done(server: &RedisServer) -> u64 {
    server.queue(QueueConfig::default()).status().expect("status").done
}

/// How many times each line occurs in `file`.
fn line_counts(file: &std::path::Path) -> HashMap<String, usize> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut counts = HashMap::new();
    for line in text.lines() {
        *counts.entry(line.to_owned()).or_default() += 1;
    }
    counts
}

#[test]
fn two_thousand_program_tasks_at_concurrency_100_are_acknowledged_once_with_no_reconnect() {
    const TOTAL: u64 = 2000;
    let server = RedisServer::start();
    let scratch = Scratch::new("sigchld");
    let runs = scratch.path("runs");
    let script = format!("echo \"$1\" >> {}", runs.display());
    let config = shell_task(&scratch, "record", &script);
    let url = server.url();
    let worker =
        WorkerProcess::started(&["--redis", &url, "--config", &config, "--concurrency", "100"], &scratch.path("log"));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("record", (0..TOTAL).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    wait_until("every task is done", Duration::from_secs(180), || done(&server) == TOTAL);
    let log = worker.stop();

    for alarm in FALSE_ALARMS {
        assert!(!log.contains(alarm), "the worker logged {alarm:?}:\n{log}");
    }
    assert!(log.contains("reconnects=0"), "the stop line reports no reconnect:\n{log}");
    assert!(!log.contains("maxmemory-policy"), "no eviction warning against a noeviction server:\n{log}");
    let counts = line_counts(&runs);
    assert_eq!(counts.len() as u64, TOTAL, "every task ran");
    let twice: Vec<_> = counts.iter().filter(|(_, &n)| n != 1).collect();
    assert!(twice.is_empty(), "tasks that ran more than once: {twice:?}");
    let status = server.queue(QueueConfig::default()).status().unwrap();
    assert_eq!((status.done, status.pending, status.processing(), status.reaped), (TOTAL, 0, 0, 0));
}

#[test]
fn ctrl_c_stops_an_idle_worker_without_a_false_alarm() {
    let server = RedisServer::start();
    let scratch = Scratch::new("ctrl-c");
    let url = server.url();
    for round in 0..3 {
        let mut worker =
            WorkerProcess::started(&["--redis", &url, "--grace", "0.3"], &scratch.path(&format!("log{round}")));
        // Let it block in its idle fetch.
        std::thread::sleep(Duration::from_millis(300));
        worker.signal(libc::SIGINT);
        let stopping = Instant::now();
        assert_eq!(worker.wait(Duration::from_secs(30)), 0, "{}", worker.log());
        let log = worker.log();
        assert!(stopping.elapsed() < Duration::from_secs(10), "the stop took {:?}", stopping.elapsed());
        for alarm in FALSE_ALARMS {
            assert!(!log.contains(alarm), "round {round}: the worker logged {alarm:?}:\n{log}");
        }
        assert!(log.contains("worker stopped"), "{log}");
        assert!(log.contains("may finish within 300ms"), "the grace period as given:\n{log}");
    }
}

/// Whether `pid` is a process that still runs (a zombie has ended).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The process group of `pid`.
fn group_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let (_, rest) = stat.rsplit_once(')').expect("a stat line");
    rest.split_whitespace().nth(2).and_then(|g| g.parse().ok()).expect("the process group")
}

#[test]
fn a_worker_killed_with_sigkill_takes_its_programs_and_their_children_with_it() {
    let server = RedisServer::start();
    let scratch = Scratch::new("sigkill");
    let pids = scratch.path("pids");
    // Each task starts a child of its own, writes both ids, and waits.
    let script = format!("sleep 60 & echo \"$$ $!\" >> {}; wait", pids.display());
    let config = shell_task(&scratch, "nest", &script);
    let url = server.url();
    let mut worker =
        WorkerProcess::started(&["--redis", &url, "--config", &config, "--concurrency", "4"], &scratch.path("log"));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("nest", (0..4).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    wait_until("four programs and their children run", Duration::from_secs(30), || line_counts(&pids).len() == 4);
    let mut processes: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .split_whitespace()
        .map(|pid| pid.parse().expect("a process id"))
        .collect();
    // The leaders of the programs' groups are the worker's own children.
    let groups: Vec<i32> = processes.iter().map(|&pid| group_of(pid)).collect();
    processes.extend(groups);
    assert!(processes.iter().all(|&pid| alive(pid)), "every process runs before the kill");

    worker.signal(libc::SIGKILL);
    worker.wait(Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    let survivors: Vec<i32> = processes.iter().copied().filter(|&pid| alive(pid)).collect();
    for &pid in &survivors {
        // SAFETY: kill(2) with plain integers; cleans up after a failure.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(survivors.is_empty(), "processes outlived their worker by a second: {survivors:?} of {processes:?}");
}

#[test]
fn redis_flushed_under_running_workers_runs_no_task_twice() {
    let server = RedisServer::start();
    let scratch = Scratch::new("flush");
    let starts = scratch.path("starts");
    let script = format!("echo \"$1\" >> {}; sleep 3", starts.display());
    let config = shell_task(&scratch, "slow", &script);
    let url = server.url();
    let args = ["--redis", &url, "--config", &config, "--concurrency", "10", "--heartbeat-ttl", "1"];
    let first = WorkerProcess::started(&args, &scratch.path("first.log"));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("slow", (0..10).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    wait_until("the first worker runs all ten", Duration::from_secs(30), || line_counts(&starts).len() == 10);
    // A second worker, whose reaper looks every half second or so.
    let second = WorkerProcess::started(&args, &scratch.path("second.log"));
    let _: () = cmd(&mut server.raw(), &["FLUSHALL"]);
    // New work after the flush runs once, on either worker.
    producer.enqueue_many("slow", (10..15).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    wait_until("the five new tasks are done", Duration::from_secs(30), || done(&server) == 5);
    // The ten flushed tasks end by now.
    std::thread::sleep(Duration::from_secs(1));
    let first = first.stop();
    let second = second.stop();

    let counts = line_counts(&starts);
    assert_eq!(counts.len(), 15, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "a task ran twice: {counts:?}");
    for log in [&first, &second] {
        assert!(!log.contains("reaper had already"), "no reaper took a live worker:\n{log}");
    }
    assert!(first.contains("no longer in this worker's processing list"), "{first}");
    assert_eq!(server.queue(QueueConfig::default()).status().unwrap().reaped, 0);
}

#[test]
fn a_worker_warns_once_when_redis_may_evict_its_keys() {
    let server = RedisServer::start_with(&["--maxmemory-policy", "allkeys-lru"], Ready::Ping);
    let scratch = Scratch::new("evict");
    let url = server.url();
    let worker = WorkerProcess::started(&["--redis", &url], &scratch.path("log"));
    let log = worker.stop();
    assert_eq!(log.matches("maxmemory-policy is allkeys-lru").count(), 1, "{log}");
    assert!(log.contains("maxmemory-policy noeviction"), "the warning names the setting to use:\n{log}");
}

#[test]
fn a_full_dead_letter_list_is_trimmed_with_a_warning_the_first_time() {
    let server = RedisServer::start();
    let scratch = Scratch::new("trim");
    let url = server.url();
    let worker = WorkerProcess::started(&["--redis", &url, "--dead-cap", "2"], &scratch.path("log"));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("no-such-task", (0..6).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    wait_until("every task is dead-lettered", Duration::from_secs(30), || {
        server.queue(QueueConfig::default()).status().unwrap().dead_total == 6
    });
    let log = worker.stop();
    assert_eq!(log.matches("the dead-letter list is full").count(), 1, "{log}");
    let status = server.queue(QueueConfig::default()).status().unwrap();
    assert_eq!((status.dead, status.dead_trimmed), (2, 4));
}

#[test]
fn a_worker_serving_three_queues_killed_with_sigkill_loses_nothing() {
    let server = RedisServer::start();
    let scratch = Scratch::new("three-queues");
    let starts = scratch.path("starts");
    let script = format!("echo \"$1\" >> {}; sleep 0.5", starts.display());
    let config = shell_task(&scratch, "slow", &script);
    let url = server.url();
    let queues = "critical:5,default:2,low:1";
    let names = ["critical", "default", "low"];
    for name in names {
        let mut producer = server.queue(QueueConfig::named(name));
        let tasks = (0..40).map(|n| vec![json!(format!("{name}-{n}"))]);
        producer.enqueue_many("slow", tasks, &EnqueueOptions::default()).unwrap();
    }
    let args = ["--redis", &url, "--queue", queues, "--config", &config, "--concurrency", "20", "--heartbeat-ttl", "1"];
    let mut victim = WorkerProcess::start(&args, &scratch.path("victim.log"));
    wait_until("the victim holds tasks of every queue", Duration::from_secs(30), || {
        names.iter().all(|name| server.queue(QueueConfig::named(name)).status().unwrap().processing() > 0)
    });
    victim.signal(libc::SIGKILL);
    victim.wait(Duration::from_secs(10));
    // Everything the victim held is still in Redis, in its processing lists.
    let held: u64 =
        names.iter().map(|name| server.queue(QueueConfig::named(name)).status().unwrap().processing()).sum();
    assert!(held > 0);
    let rescuer = WorkerProcess::start(&args, &scratch.path("rescuer.log"));
    let total = |server: &RedisServer| -> u64 {
        names.iter().map(|name| server.queue(QueueConfig::named(name)).status().unwrap().done).sum()
    };
    wait_until("every task is done", Duration::from_secs(120), || total(&server) == 120);
    let log = rescuer.stop();
    assert!(log.contains("took back the tasks"), "the rescuer reaped the victim:\n{log}");
    let counts = line_counts(&starts);
    assert_eq!(counts.len(), 120, "every task ran at least once");
    for name in names {
        let status = server.queue(QueueConfig::named(name)).status().unwrap();
        assert_eq!((status.pending, status.processing(), status.dead), (0, 0, 0), "{name}");
    }
}

#[test]
fn a_schedule_from_the_config_file_ticks_and_status_shows_it() {
    let server = RedisServer::start();
    let scratch = Scratch::new("schedule");
    let config = scratch.write(
        "tasks.json",
        &json!({"schedules": {"beat": {"every": "1s", "task": "echo", "args": ["tick"], "queue": "ticks"}}})
            .to_string(),
    );
    let url = server.url();
    let worker = WorkerProcess::started(&["--redis", &url, "--config", &config], &scratch.path("log"));
    wait_until("three ticks are enqueued", Duration::from_secs(30), || {
        cmd::<i64>(&mut server.raw(), &["LLEN", "ticks"]) >= 3
    });
    let status = common::concur(&["status", "--redis", &url, "--queue", "ticks"]);
    assert!(status.stdout.contains("schedules   1"), "{}", status.stdout);
    assert!(status.stdout.contains("beat") && status.stdout.contains("every 1s") && status.stdout.contains("next in"));
    worker.stop();
    let bad = scratch.write("bad.json", r#"{"schedules": {"x": {"cron": "not cron", "task": "echo"}}}"#);
    let run = common::concur(&["worker", "--redis", &url, "--config", &bad]);
    common::expect(&run, 2, "the schedule \"x\"");
}

#[test]
fn an_operator_pauses_a_queue_quiets_a_worker_with_sigtstp_and_stops_another_from_the_command_line() {
    let server = RedisServer::start();
    let scratch = Scratch::new("steer");
    let url = server.url();
    let mut worker = WorkerProcess::started(&["--redis", &url], &scratch.path("one.log"));
    let mut queue = server.queue(QueueConfig::default());

    // Paused: nothing is taken, and status says so.
    let run = common::concur(&["pause", "--redis", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("paused"), "{}", run.stdout);
    queue.enqueue_many("echo", (0..3).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!((done(&server), queue.status().unwrap().pending), (0, 3));
    let status = common::concur(&["status", "--redis", &url]);
    assert!(status.stdout.contains("PAUSED") && status.stdout.contains("oldest"), "{}", status.stdout);
    let run = common::concur(&["resume", "--redis", &url]);
    assert!(run.stdout.contains("resumed"), "{}", run.stdout);
    wait_until("the three ran after the resume", Duration::from_secs(20), || done(&server) == 3);
    worker.wait_for_log("the queue was resumed", Duration::from_secs(10));

    // SIGTSTP quiets: the process keeps running and takes nothing.
    worker.signal(libc::SIGTSTP);
    worker.wait_for_log("quiet: taking no new tasks", Duration::from_secs(10));
    queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(done(&server), 3, "a quiet worker takes nothing");
    let status = common::concur(&["status", "--redis", &url]);
    assert!(status.stdout.contains("quiet"), "{}", status.stdout);

    // `concur control ID stop` stops it as SIGTERM would.
    let id = queue.status().unwrap().workers[0].id.clone();
    let run = common::concur(&["control", "--redis", &url, &id, "stop"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(worker.wait(Duration::from_secs(20)), 0, "{}", worker.log());
    assert!(worker.log().contains("stopping, as an operator asked"), "{}", worker.log());
    assert_eq!(queue.status().unwrap().pending, 1, "the task it never took is still there");

    // Bad input names what was wrong and exits 2.
    common::expect(&common::concur(&["control", "--redis", &url, &id, "stop"]), 2, "no worker");
    common::expect(&common::concur(&["control", "--redis", &url, &id, "pause"]), 2, "not a worker control");
}

// The operator's path through dead letters, black-box but for the producer:
// a real worker whose program fails the first run of each task (one attempt
// allowed) fills the dead-letter list; Redis is killed and restarted from
// its append-only file under the running worker; `concur dead retry` of the
// oldest entry (past the first window a search by id looks at) and of the
// newest queues those two again, and the worker, reconnected by itself,
// runs them and they succeed; SIGTERM then stops it cleanly.
#[test]
fn dead_letters_of_failed_programs_are_retried_by_id_from_the_command_line_after_redis_restarts() {
    const TOTAL: usize = 1500;
    let scratch = Scratch::new("dead-retry");
    let (data, marks) = (scratch.path("redis"), scratch.path("marks"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&marks).unwrap();
    let data = data.display().to_string();
    let persistent = ["--appendonly", "yes", "--appendfsync", "always", "--dir", data.as_str()];
    let mut server = RedisServer::start_with(&persistent, Ready::Ping);
    let port = server.port;
    let runs = scratch.path("runs");
    let script = format!(
        "echo \"$1\" >> {runs}; [ -e {marks}/$1 ] && exit 0; touch {marks}/$1; exit 1",
        runs = runs.display(),
        marks = marks.display()
    );
    let config = shell_task(&scratch, "flaky", &script);
    let url = server.url();
    let worker =
        WorkerProcess::started(&["--redis", &url, "--config", &config, "--concurrency", "100"], &scratch.path("log"));
    let once = EnqueueOptions { max_attempts: Some(1), ..EnqueueOptions::default() };
    server.queue(QueueConfig::default()).enqueue_many("flaky", (0..TOTAL).map(|n| vec![json!(n)]), &once).unwrap();
    wait_until("every task failed its one attempt", Duration::from_secs(120), || {
        server.queue(QueueConfig::default()).status().is_ok_and(|s| s.dead == TOTAL as u64)
    });

    server.kill();
    std::thread::sleep(Duration::from_secs(1));
    let restarted = RedisServer::start_on(port, &persistent, Ready::Ping);
    let listed = concur(&["dead", "list", "--redis", &url, "--limit", &TOTAL.to_string(), "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    // Newest first: each entry's id, and the argument its payload carried.
    let entries: Vec<(String, String)> = listed
        .stdout
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON entry");
            let payload: serde_json::Value =
                serde_json::from_str(entry["payload"].as_str().expect("a kept payload")).expect("an envelope");
            (entry["id"].as_str().unwrap().to_owned(), payload["args"][0].to_string())
        })
        .collect();
    assert_eq!(entries.len(), TOTAL, "the dead letters outlived the restart");
    let (newest, oldest) = (&entries[0], &entries[TOTAL - 1]);
    let retried = concur(&["dead", "retry", "--redis", &url, &oldest.0, &newest.0]);
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert!(retried.stdout.contains("2 tasks queued again"), "{}", retried.stdout);
    wait_until("the two retried tasks succeed", Duration::from_secs(60), || {
        restarted.queue(QueueConfig::default()).status().is_ok_and(|s| s.done == 2)
    });
    let log = worker.stop();
    assert!(log.contains("the consumer reached Redis again"), "the worker noticed the outage by itself:\n{log}");

    let counts = line_counts(&runs);
    assert_eq!(counts.len(), TOTAL, "every task ran");
    let mut twice: Vec<&String> = counts.iter().filter(|(_, &n)| n != 1).map(|(arg, _)| arg).collect();
    twice.sort();
    let mut expected = vec![&oldest.1, &newest.1];
    expected.sort();
    assert_eq!(twice, expected, "only the two retried tasks ran again");
    let status = restarted.queue(QueueConfig::default()).status().unwrap();
    assert_eq!((status.done, status.dead, status.pending, status.processing()), (2, TOTAL as u64 - 2, 0, 0));
}

/// The TCP connections process `pid` holds to `port` on this machine, as
/// `ss -tp` would list them: its socket inodes, looked up in
/// `/proc/net/tcp` (Linux).
fn connections_to(pid: i32, port: u16) -> usize {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the worker's descriptors")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| Some(target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned()))
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let remote = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Remote address, state (01: established), inode.
            fields.len() > 9 && fields[2].ends_with(&remote) && fields[3] == "01" && inodes.contains(fields[9])
        })
        .count()
}

/// Acknowledged tasks, from the stats hash: one `HGET`, cheap enough to
/// poll while a worker drains.
fn acknowledged(server: &RedisServer) -> u64 {
    cmd::<Option<u64>>(&mut server.raw(), &["HGET", "{queue}:stats", "done"]).unwrap_or(0)
}

// A busy worker at concurrency 64 moves its tasks in two batches through
// two finishers, each refilling the slots it frees. Quick built-in tasks
// by the ten thousand go through the faults that meet those refills: a
// SIGTERM while both are in flight, a worker killed with SIGKILL and
// reaped, and Redis killed and restarted from its AOF under a third. Each
// task is acknowledged exactly once, and nothing is left behind.
#[test]
fn a_busy_worker_keeps_every_quick_task_through_sigterm_sigkill_and_a_redis_restart() {
    const TOTAL: u64 = 60_000;
    let scratch = Scratch::new("busy");
    let data = scratch.path("redis");
    std::fs::create_dir_all(&data).unwrap();
    let data = data.display().to_string();
    let persistent = ["--appendonly", "yes", "--appendfsync", "always", "--dir", data.as_str()];
    let mut server = RedisServer::start_with(&persistent, Ready::Ping);
    let (port, url) = (server.port, server.url());
    server
        .queue(QueueConfig::default())
        .enqueue_many("echo", (0..TOTAL).map(|n| vec![json!(n)]), &EnqueueOptions::default())
        .unwrap();

    // A SIGTERM mid-drain: a clean exit, no false alarm, nothing held.
    let first = WorkerProcess::started(&["--redis", &url, "--concurrency", "64"], &scratch.path("first.log"));
    wait_until("the first worker is busy", Duration::from_secs(60), || acknowledged(&server) >= 3_000);
    assert_eq!(
        connections_to(first.pid(), port),
        4,
        "one queue at concurrency 64: the consumer's, two finishers' and the maintenance thread's"
    );
    let log = first.stop();
    for alarm in FALSE_ALARMS {
        assert!(!log.contains(alarm), "the first worker logged {alarm:?}:\n{log}");
    }
    assert!(log.contains("reconnects=0"), "{log}");
    let status = server.queue(QueueConfig::default()).status().unwrap();
    assert_eq!(status.processing(), 0, "the stopped worker holds nothing");
    assert!(status.pending > 0, "the test stopped the worker under load");
    assert_eq!(status.done + status.pending, TOTAL);

    // A worker killed with SIGKILL: its heartbeat lapses after a second and
    // the next worker's reaper returns what it held.
    let killed = status.done;
    let mut second = WorkerProcess::started(
        &["--redis", &url, "--concurrency", "64", "--heartbeat-ttl", "1"],
        &scratch.path("second.log"),
    );
    wait_until("the second worker is busy", Duration::from_secs(60), || acknowledged(&server) >= killed + 5_000);
    second.signal(libc::SIGKILL);
    second.wait(Duration::from_secs(10));

    // Redis killed under a third worker, and started again from its AOF.
    let third = WorkerProcess::started(
        &["--redis", &url, "--concurrency", "64", "--heartbeat-ttl", "2"],
        &scratch.path("third.log"),
    );
    let before_kill = acknowledged(&server);
    wait_until("the third worker is busy", Duration::from_secs(60), || acknowledged(&server) >= before_kill + 5_000);
    server.kill();
    std::thread::sleep(Duration::from_millis(500));
    let restarted = RedisServer::start_on(port, &persistent, Ready::Ping);
    wait_until("every task is acknowledged", Duration::from_secs(120), || {
        restarted.queue(QueueConfig::default()).status().is_ok_and(|s| s.pending == 0 && s.processing() == 0)
    });
    let log = third.stop();
    assert!(log.contains("reached Redis again"), "the third worker came back by itself:\n{log}");
    assert!(!log.contains("no longer in this worker's processing list"), "nothing vanished:\n{log}");

    let status = restarted.queue(QueueConfig::default()).status().unwrap();
    assert_eq!(
        (status.done, status.pending, status.processing(), status.dead, status.delayed),
        (TOTAL, 0, 0, 0, 0),
        "each task acknowledged exactly once"
    );
    assert!(status.reaped > 0, "the killed worker's tasks came back through a reaper");
}
