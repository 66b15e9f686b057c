//! Worker processes under fire: kill -9 with a thousand tasks in flight,
//! SIGTERM under load, a worker stopped (SIGSTOP) past its heartbeat and
//! woken after a reaper took its tasks, and a stream of 10 MB payloads.
//!
//! A plain program rather than a libtest harness: the worker processes are
//! this very executable started again with `CONCUR_TEST_WORKER` set, which
//! must reach `main` before anything else runs. Each worker writes the
//! number of every task it starts to a log file of its own (one `write` per
//! line, with `O_APPEND`, so a line is never torn even by kill -9); the cases
//! count the lines. At its end a worker prints its `RunReport` as JSON on
//! standard output, which goes to a file beside its log. Each case prints
//! its name; the program exits non-zero if any fails.

mod common;

use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cmd, wait_until, RedisServer};
use concur::aio;
use concur_worker::{EnqueueOptions, Job, QueueConfig, TaskError, Worker};
use serde_json::{json, Value};

const CHILD: &str = "CONCUR_TEST_WORKER";
const CHILD_LOG: &str = "CONCUR_TEST_WORKER_LOG";
const CHILD_CONCURRENCY: &str = "CONCUR_TEST_WORKER_CONCURRENCY";
const CHILD_TTL_MS: &str = "CONCUR_TEST_WORKER_TTL_MS";

fn main() -> ExitCode {
    if let Ok(url) = std::env::var(CHILD) {
        return child(&url);
    }
    let cases: [(&str, fn()); 4] = [
        ("kill_9_with_a_thousand_in_flight_loses_nothing", kill_9_rounds),
        ("sigterm_under_load_loses_nothing_and_runs_nothing_twice", sigterm_under_load),
        ("a_worker_woken_after_a_reap_knows_it_was_reaped_and_changes_nothing", woken_after_a_reap),
        ("ten_megabyte_payloads_are_dead_lettered_in_bounded_memory", huge_payloads),
    ];
    common::run_cases(&cases)
}

/// A worker process: runs the task `work` — log the task's number, then
/// sleep its milliseconds — until SIGINT/SIGTERM.
fn child(url: &str) -> ExitCode {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let log = std::env::var(CHILD_LOG).expect("the log file is given");
    let log = Arc::new(OpenOptions::new().create(true).append(true).open(log).expect("the log opens"));
    let worker = Worker::builder()
        .redis(url)
        .concurrency(var(CHILD_CONCURRENCY).unwrap_or(64) as usize)
        .heartbeat_ttl(Duration::from_millis(var(CHILD_TTL_MS).unwrap_or(3000)))
        .grace_period(Duration::from_secs(20))
        .handler("work", move |job: Job| {
            let log = log.clone();
            async move {
                let (n, ms): (u64, u64) = job.args_as()?;
                (&*log).write_all(format!("{n}\n").as_bytes())?;
                aio::sleep(Duration::from_millis(ms)).await?;
                Ok::<_, TaskError>(n)
            }
        })
        .build();
    let worker = worker.inspect(common::stop_on_signals);
    match worker.and_then(Worker::run) {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report).expect("a report serializes"));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("worker: {error}");
            ExitCode::FAILURE
        }
    }
}

struct WorkerProcess {
    child: Child,
    log: PathBuf,
    report: PathBuf,
}

impl WorkerProcess {
    fn start(server: &RedisServer, dir: &Path, name: &str, concurrency: usize) -> WorkerProcess {
        WorkerProcess::start_with_ttl(server, dir, name, concurrency, Duration::from_secs(3))
    }

    fn start_with_ttl(
        server: &RedisServer,
        dir: &Path,
        name: &str,
        concurrency: usize,
        ttl: Duration,
    ) -> WorkerProcess {
        let log = dir.join(format!("{name}.log"));
        // Outside `dir`, whose files are all start logs.
        let report = dir.with_extension(format!("{name}.report"));
        let child = Command::new(std::env::current_exe().expect("the test knows its path"))
            .env(CHILD, server.url())
            .env(CHILD_LOG, &log)
            .env(CHILD_CONCURRENCY, concurrency.to_string())
            .env(CHILD_TTL_MS, ttl.as_millis().to_string())
            .stdout(std::fs::File::create(&report).expect("the report file"))
            .stderr(Stdio::inherit())
            .spawn()
            .expect("a worker process starts");
        WorkerProcess { child, log, report }
    }

    /// The report the worker printed as it ended.
    fn report(&self) -> Value {
        let text = std::fs::read_to_string(&self.report).expect("the report file");
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not a report ({e}): {text:?}"))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the id of a child this process started and has not reaped.
        unsafe { libc::kill(self.pid() as i32, signal) };
    }

    /// Waits for the process to exit, failing the test after `timeout`.
    fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return status;
            }
            assert!(Instant::now() < deadline, "worker {} did not exit within {timeout:?}", self.pid());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The worker id this process registered under, once it has.
    fn worker_id(&self, server: &RedisServer) -> String {
        let prefix = format!("{}-", self.pid());
        let mut id = None;
        wait_until("the worker process registers", Duration::from_secs(15), || {
            let workers: Vec<String> = cmd(&mut server.raw(), &["SMEMBERS", "{queue}:workers"]);
            id = workers.into_iter().find(|w| w.starts_with(&prefix));
            id.is_some()
        });
        id.expect("found above")
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.report);
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concur-worker-process-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// How many times each task number was started, over all logs in `dir`.
fn starts(dir: &Path) -> HashMap<u64, u32> {
    let mut counts = HashMap::new();
    for entry in std::fs::read_dir(dir).expect("the scratch directory") {
        let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("a log");
        for line in text.lines() {
            *counts.entry(line.parse().expect("a task number")).or_default() += 1;
        }
    }
    counts
}

fn done(server: &RedisServer) -> u64 {
    server.queue(QueueConfig::default()).status().expect("status").done
}

fn enqueue_work(server: &RedisServer, numbers: std::ops::Range<u64>, ms: impl Fn(u64) -> u64) -> Vec<String> {
    let mut producer = server.queue(QueueConfig::default());
    producer
        .enqueue_many("work", numbers.map(|n| vec![json!(n), json!(ms(n))]), &EnqueueOptions::default())
        .expect("enqueue")
}

/// Several rounds of: a worker takes a thousand tasks, and is killed with
/// SIGKILL while they run; a second worker runs throughout. Every task must
/// complete; a task may run twice only if it was in flight at a kill.
fn kill_9_rounds() {
    let server = RedisServer::start();
    let dir = scratch("kill9");
    let steady = WorkerProcess::start(&server, &dir, "steady", 100);
    let per_round = 1500;
    let mut by_id: HashMap<String, u64> = HashMap::new();
    let mut in_flight: HashSet<u64> = HashSet::new();
    let mut total = 0;
    for round in 0..3 {
        let ids = enqueue_work(&server, total..total + per_round, |n| 1000 + (n % 7) * 150);
        by_id.extend(ids.into_iter().zip(total..));
        total += per_round;
        let mut victim = WorkerProcess::start(&server, &dir, &format!("victim{round}"), 1000);
        let id = victim.worker_id(&server);
        let processing = format!("{{queue}}:processing:{id}");
        wait_until("the victim runs nine hundred tasks", Duration::from_secs(20), || {
            let started = std::fs::read_to_string(&victim.log).map_or(0, |log| log.lines().count());
            started >= 900 && cmd::<i64>(&mut server.raw(), &["LLEN", &processing]) >= 900
        });
        victim.signal(libc::SIGKILL);
        victim.wait(Duration::from_secs(10));
        let held: Vec<String> = cmd(&mut server.raw(), &["LRANGE", &processing, "0", "-1"]);
        assert!(held.len() >= 900, "round {round}: {} in flight", held.len());
        for payload in held {
            let envelope: Value = serde_json::from_str(&payload).expect("an envelope");
            in_flight.insert(envelope["args"][0].as_u64().expect("a task number"));
        }
    }
    let finisher = WorkerProcess::start(&server, &dir, "finisher", 1000);
    wait_until("every task is done", Duration::from_secs(120), || done(&server) == total);
    for mut worker in [steady, finisher] {
        worker.signal(libc::SIGTERM);
        assert!(worker.wait(Duration::from_secs(30)).success());
    }

    let counts = starts(&dir);
    let missing: Vec<u64> = (0..total).filter(|n| !counts.contains_key(n)).collect();
    assert!(missing.is_empty(), "{} tasks never ran, e.g. {:?}", missing.len(), missing.first());
    let twice: Vec<u64> = (0..total).filter(|n| counts[n] > 1).collect();
    let outside: Vec<&u64> = twice.iter().filter(|n| !in_flight.contains(n)).collect();
    assert!(outside.is_empty(), "{} tasks ran twice without being in flight at a kill: {outside:?}", outside.len());
    assert!(!twice.is_empty(), "tasks in flight at a kill run again");
    let mut queue = server.queue(QueueConfig::default());
    for (id, n) in &by_id {
        let result = queue.result(id).expect("a result").unwrap_or_else(|| panic!("task {n} has no result"));
        assert_eq!(result.result, Some(json!(n)));
    }
    let status = queue.status().expect("status");
    assert_eq!((status.pending, status.processing(), status.dead, status.delayed), (0, 0, 0, 0));
    println!("  {total} tasks, {} in flight at the kills, {} ran twice", in_flight.len(), twice.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM while two hundred tasks run: they finish, the worker retires,
/// and a second worker runs the rest; each task runs exactly once.
fn sigterm_under_load() {
    let server = RedisServer::start();
    let dir = scratch("sigterm");
    let total = 2000;
    enqueue_work(&server, 0..total, |n| 100 + (n % 4) * 100);
    let mut first = WorkerProcess::start(&server, &dir, "first", 200);
    wait_until("some tasks are done", Duration::from_secs(20), || done(&server) >= 300);
    let id = first.worker_id(&server);
    first.signal(libc::SIGTERM);
    let stopping = Instant::now();
    assert!(first.wait(Duration::from_secs(30)).success(), "a graceful stop exits with status 0");
    assert!(stopping.elapsed() < Duration::from_secs(10), "the stop took {:?}", stopping.elapsed());
    let status = server.queue(QueueConfig::default()).status().expect("status");
    assert!(status.workers.iter().all(|w| w.id != id), "the worker retired");
    assert_eq!(status.processing(), 0);
    assert!(status.pending > 0, "the test stopped the worker under load");

    let mut second = WorkerProcess::start(&server, &dir, "second", 200);
    wait_until("every task is done", Duration::from_secs(60), || done(&server) == total);
    second.signal(libc::SIGTERM);
    assert!(second.wait(Duration::from_secs(30)).success());

    let counts = starts(&dir);
    let wrong: Vec<(u64, u32)> =
        (0..total).map(|n| (n, counts.get(&n).copied().unwrap_or(0))).filter(|c| c.1 != 1).collect();
    assert!(wrong.is_empty(), "{} tasks did not run exactly once: {:?}", wrong.len(), &wrong[..wrong.len().min(5)]);
    for worker in [&first, &second] {
        assert!(std::fs::metadata(&worker.log).is_ok_and(|m| m.len() > 0), "both workers ran tasks");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A worker stopped with SIGSTOP while it runs ten tasks stays silent past
/// its heartbeat: a reaper takes it for dead, and a second worker runs the
/// ten. Woken with SIGCONT, the first finishes its copies, and its late
/// acknowledgements change nothing: it knows a reaper took the tasks.
fn woken_after_a_reap() {
    let server = RedisServer::start();
    let dir = scratch("woken");
    let ttl = Duration::from_millis(800);
    let ids = enqueue_work(&server, 0..10, |_| 2000);
    let mut sleeper = WorkerProcess::start_with_ttl(&server, &dir, "sleeper", 10, ttl);
    let sleeper_id = sleeper.worker_id(&server);
    let processing = format!("{{queue}}:processing:{sleeper_id}");
    wait_until("the sleeper holds all ten", Duration::from_secs(10), || {
        cmd::<i64>(&mut server.raw(), &["LLEN", &processing]) == 10
    });
    sleeper.signal(libc::SIGSTOP);
    let mut reaper = server.queue(QueueConfig::default());
    let mut returned = 0;
    wait_until("a reaper takes the sleeper for dead", Duration::from_secs(20), || {
        returned += reaper.reap(ttl).expect("reap").returned;
        std::thread::sleep(Duration::from_millis(100));
        returned == 10
    });
    let mut second = WorkerProcess::start_with_ttl(&server, &dir, "second", 10, ttl);
    wait_until("the second worker runs the ten", Duration::from_secs(20), || done(&server) == 10);
    sleeper.signal(libc::SIGCONT);
    // Its copies end two seconds after they began; then it stops.
    std::thread::sleep(Duration::from_millis(2500));
    for worker in [&sleeper, &second] {
        worker.signal(libc::SIGTERM);
    }
    assert!(sleeper.wait(Duration::from_secs(30)).success());
    assert!(second.wait(Duration::from_secs(30)).success());
    let late = sleeper.report();
    assert_eq!(
        (late["done"].as_u64(), late["not_held"].as_u64(), late["vanished"].as_u64()),
        (Some(0), Some(10), Some(0))
    );
    assert_eq!(second.report()["done"].as_u64(), Some(10));
    let mut queue = server.queue(QueueConfig::default());
    for id in &ids {
        let result = queue.result(id).expect("a result").expect("stored");
        assert_eq!(result.worker, second.report()["worker"].as_str().unwrap());
    }
    let status = queue.status().expect("status");
    assert_eq!((status.done, status.reaped, status.pending, status.processing()), (10, 10, 0, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The worker's peak resident memory, from /proc.
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("a VmHWM line");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a size in kB")
}

/// Thirty 10 MB payloads (300 MB in all) among ordinary tasks: each is
/// dead-lettered with its reason, the ordinary tasks run, and the worker's
/// peak memory stays far below the total.
fn huge_payloads() {
    let server = RedisServer::start();
    let dir = scratch("huge");
    let worker = WorkerProcess::start(&server, &dir, "worker", 64);
    worker.worker_id(&server);
    let mut raw = server.raw();
    let count = 30;
    for i in 0..count {
        let mut payload = vec![b'{'; 10 << 20];
        payload[1] = b'0' + (i % 10) as u8;
        let _: i64 = cmd(&mut raw, &["LPUSH", "queue", &String::from_utf8(payload).expect("ASCII")]);
        enqueue_work(&server, i..i + 1, |_| 1);
    }
    wait_until("every payload is dealt with", Duration::from_secs(60), || {
        let status = server.queue(QueueConfig::default()).status().expect("status");
        status.dead == count && status.done == count
    });
    let peak_mib = peak_memory_kib(worker.pid()) / 1024;
    let entries = server.queue(QueueConfig::default()).dead_list(0, 100).expect("the dead list");
    assert!(entries.iter().all(|e| e.error.contains("more than the queue's limit") && e.payload_size == 10 << 20));
    assert!(peak_mib < 150, "the worker's memory peaked at {peak_mib} MiB for 300 MiB of bad payloads");
    println!("  peak resident memory of the worker: {peak_mib} MiB");
    let _ = std::fs::remove_dir_all(&dir);
}
