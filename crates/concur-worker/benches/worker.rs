//! End-to-end figures of the worker against a redis-server of its own, with
//! Redis's own speed beside them in the same run:
//!
//! - **throughput**: no-op tasks per second — the tasks enqueued first, then
//!   the drain timed from the first fetch to the last acknowledgement
//!   (results stored, as by default) — for one worker process at
//!   concurrency 1, without and with a prefetch of 64, and for one and two
//!   processes at the default concurrency;
//! - beside it, `redis-benchmark -t lpush -q` on the same server, unpipelined
//!   (50 clients, one command per round trip: the cost of a plain round
//!   trip) and with `-P 16` (the server's raw list speed), and each
//!   throughput as a ratio to the unpipelined figure;
//! - **where a task's commands go**: from `INFO commandstats` over each
//!   drain, the scripts and the commands inside them, per task, with the
//!   server's time per task;
//! - **pickup latency**: from the push to the handler's start on an idle
//!   worker (blocked in `BLMOVE`), p50 and p99.
//!
//! ```text
//! cargo bench -p concur-worker --bench worker
//! ```
//!
//! Each throughput figure is the median of three rounds, each round a run
//! of `redis-benchmark` and one drain of each kind.
//!
//! `CONCUR_BENCH_TASKS` sets the tasks per throughput run (default 100,000,
//! and 2,000 for the check `cargo test --benches` makes;
//! a fifth of it at concurrency 1). Worker processes are this executable,
//! re-run, with the concurrency in `CONCUR_BENCH_CONCURRENCY` and the
//! prefetch in `CONCUR_BENCH_PREFETCH`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{cmd, RedisServer};
use concur_worker::{EnqueueOptions, Job, QueueConfig, TaskError, Worker, DEFAULT_CONCURRENCY};
use serde_json::json;

const CHILD_URL: &str = "CONCUR_BENCH_WORKER_URL";

const CHILD_CONCURRENCY: &str = "CONCUR_BENCH_CONCURRENCY";

const CHILD_PREFETCH: &str = "CONCUR_BENCH_PREFETCH";

/// The prefetch of the run at concurrency 1 that uses one.
const PREFETCH: usize = 64;

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        let worker = Worker::builder()
            .redis(&url)
            .concurrency(from_env(CHILD_CONCURRENCY, DEFAULT_CONCURRENCY))
            .prefetch(from_env(CHILD_PREFETCH, 0))
            .handler("noop", |_job: Job| async { Ok::<_, TaskError>(()) })
            .build()
            .expect("the bench worker builds");
        common::stop_on_signals(&worker);
        worker.run().expect("the bench worker runs");
        return;
    }
    let tasks = common::bench_size("TASKS", 100_000, 2_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = RedisServer::start();
    println!("worker bench: {tasks} no-op tasks per run ({} at concurrency 1), {cores} cores", tasks / 5);
    println!();
    // Each drain beside a run of redis-benchmark, in rounds: the server's
    // speed drifts on a shared machine, and a ratio of two figures taken
    // minutes apart would measure the drift. Medians are printed.
    let configs = [
        (1, 1, 0, tasks / 5),
        (1, 1, PREFETCH, tasks / 5),
        (1, DEFAULT_CONCURRENCY, 0, tasks),
        (2, DEFAULT_CONCURRENCY, 0, tasks),
    ];
    let mut plain_runs = Vec::new();
    let mut rates = vec![Vec::new(); configs.len()];
    let mut profiles = vec![String::new(); configs.len()];
    // One round for the quick check `cargo test --benches` makes.
    let rounds = if tasks < 10_000 { 1 } else { ROUNDS };
    for _ in 0..rounds {
        plain_runs.extend(redis_benchmark(server.port, &[]));
        for (i, &(processes, concurrency, prefetch, n)) in configs.iter().enumerate() {
            let (rate, profile) = throughput(&server, n, processes, concurrency, prefetch);
            rates[i].push(rate);
            profiles[i] = profile;
        }
    }
    let plain = median(&mut plain_runs);
    let pipelined = redis_benchmark(server.port, &["-P", "16"]);
    match plain {
        Some(rate) => println!("  redis-benchmark -t lpush          {rate:>10.0} requests/s ({})", runs(&plain_runs)),
        None => println!("  redis-benchmark -t lpush          could not run"),
    }
    match pipelined {
        Some(rate) => println!("  redis-benchmark -t lpush -P 16    {rate:>10.0} requests/s"),
        None => println!("  redis-benchmark -t lpush -P 16    could not run"),
    }
    for (i, (processes, concurrency, prefetch, _)) in configs.into_iter().enumerate() {
        let rate = median(&mut rates[i]).expect("every round measures every drain");
        let ratio = plain.map_or(String::new(), |plain| format!(" ({:.2}x redis-benchmark unpipelined)", rate / plain));
        let ahead = if prefetch > 0 { format!(", prefetch {prefetch}") } else { String::new() };
        println!(
            "  concur worker, {processes} process(es) at concurrency {concurrency}{ahead}: {rate:.0} tasks/s{ratio}, {}",
            runs(&rates[i])
        );
        println!("    per task in Redis (last round): {}", profiles[i]);
    }
    latency(&server);
}

/// Rounds of the throughput runs (see `main`).
const ROUNDS: usize = 3;

/// The median of `values` (the upper one of an even count), if any.
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// "median of 3 runs: 81000, 84000, 90000", of sorted `values`.
fn runs(values: &[f64]) -> String {
    let all: Vec<String> = values.iter().map(|v| format!("{v:.0}")).collect();
    format!("median of {} runs: {}", values.len(), all.join(", "))
}

/// `redis-benchmark -t lpush -q` with `extra` against the same server:
/// requests per second.
fn redis_benchmark(port: u16, extra: &[&str]) -> Option<f64> {
    let port = port.to_string();
    let mut args = vec!["-p", &port, "-t", "lpush", "-q", "-n", "300000"];
    args.extend_from_slice(extra);
    let output = Command::new("redis-benchmark").args(&args).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.split(['\r', '\n']).rfind(|l| l.contains("requests per second"))?;
    line.split_whitespace().find_map(|word| word.parse::<f64>().ok())
}

/// The calls and time of each command over a drain of `tasks`, from
/// `INFO commandstats`, as "name calls/task (µs/task)", scripts first.
fn commands_per_task(raw: &mut redis::Connection, tasks: usize) -> String {
    let info: String = redis::cmd("INFO").arg("commandstats").query(raw).expect("INFO commandstats");
    let mut rows: Vec<(String, f64, f64)> = info
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let field =
                |key: &str| rest.split(',').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse::<f64>().ok());
            Some((name.to_owned(), field("calls")? / tasks as f64, field("usec")? / tasks as f64))
        })
        .filter(|(name, calls, _)| *calls >= 0.001 && !name.starts_with("config") && name != "info")
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2));
    rows.iter().map(|(name, calls, us)| format!("{name} {calls:.3} ({us:.2} us)")).collect::<Vec<_>>().join(", ")
}

fn spawn_worker(url: &str, concurrency: usize, prefetch: usize) -> Child {
    Command::new(std::env::current_exe().expect("the bench knows its path"))
        .env(CHILD_URL, url)
        .env(CHILD_CONCURRENCY, concurrency.to_string())
        .env(CHILD_PREFETCH, prefetch.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a worker process starts")
}

/// Drains `tasks` no-ops with `processes` workers of `concurrency` and
/// `prefetch`: tasks per second, and where their commands went.
fn throughput(
    server: &RedisServer,
    tasks: usize,
    processes: usize,
    concurrency: usize,
    prefetch: usize,
) -> (f64, String) {
    let mut raw = server.raw();
    let _: () = cmd(&mut raw, &["FLUSHALL"]);
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("noop", (0..tasks).map(|_| vec![]), &EnqueueOptions::default()).expect("enqueue");
    let _: () = cmd(&mut raw, &["CONFIG", "RESETSTAT"]);
    let mut workers: Vec<Child> = (0..processes).map(|_| spawn_worker(&server.url(), concurrency, prefetch)).collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    let total = tasks as i64;
    // The clock starts at the first fetch, not at the processes' start-up.
    while cmd::<i64>(&mut raw, &["LLEN", "queue"]) == total {
        assert!(Instant::now() < deadline, "no worker started");
        std::thread::sleep(Duration::from_micros(200));
    }
    let start = Instant::now();
    loop {
        let done: Option<i64> = cmd(&mut raw, &["HGET", "{queue}:stats", "done"]);
        if done == Some(total) {
            break;
        }
        assert!(Instant::now() < deadline, "the drain did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    let profile = commands_per_task(&mut raw, tasks);
    for worker in &mut workers {
        // SIGTERM: the graceful stop.
        // SAFETY: kill(2) on the id of a child this process started and has not reaped.
        unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
    }
    for worker in &mut workers {
        let _ = worker.wait();
    }
    (tasks as f64 / elapsed.as_secs_f64(), profile)
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos() as u64
}

fn latency(server: &RedisServer) {
    let mut raw = server.raw();
    let _: () = cmd(&mut raw, &["FLUSHALL"]);
    let (sender, samples) = mpsc::channel::<u64>();
    let worker = Worker::builder()
        .redis(&server.url())
        .handler("stamp", move |job: Job| {
            let started = now_ns();
            let sender = sender.clone();
            async move {
                let (pushed,): (u64,) = job.args_as()?;
                let _ = sender.send(started.saturating_sub(pushed));
                Ok::<_, TaskError>(())
            }
        })
        .build()
        .expect("the worker builds");
    let stop = worker.shutdown_handle();
    let running = std::thread::spawn(move || worker.run());
    std::thread::sleep(Duration::from_millis(300));
    let mut producer = server.queue(QueueConfig::default());
    let mut latencies = Vec::new();
    for _ in 0..2000 {
        producer.enqueue("stamp", vec![json!(now_ns())], &EnqueueOptions::default()).expect("enqueue");
        match samples.recv_timeout(Duration::from_secs(5)) {
            Ok(ns) => latencies.push(ns),
            Err(_) => panic!("a pushed task did not start within 5 s"),
        }
        // Let the worker go idle (back into BLMOVE) before the next push.
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.stop();
    running.join().expect("the worker thread").expect("the worker ran");
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize] as f64 / 1e6;
    println!(
        "  pickup latency, push to start on an idle worker: p50 {:.3} ms, p99 {:.3} ms ({} samples)",
        at(0.5),
        at(0.99),
        latencies.len()
    );
}
