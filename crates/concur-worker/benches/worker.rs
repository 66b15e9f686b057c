//! End-to-end figures of the worker against a redis-server of its own:
//!
//! - **throughput**: no-op tasks per second with 1 and 2 worker processes —
//!   the tasks are enqueued first, then the drain is timed from the first
//!   fetch to the last acknowledgement (results stored, as by default);
//! - beside it, `redis-benchmark -t lpush,rpop -P 16` on the same server in
//!   the same run: the server's raw list speed, the ceiling for any worker;
//! - **pickup latency**: from the push to the handler's start on an idle
//!   worker (blocked in `BLMOVE`), p50 and p99.
//!
//! ```text
//! cargo bench -p concur-worker --bench worker
//! ```
//!
//! `CONCUR_BENCH_TASKS` sets the tasks per throughput run (default 100,000)
//! and `CONCUR_BENCH_CONCURRENCY` the workers' concurrency (default: the
//! worker's default). Worker processes are this executable, re-run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{cmd, RedisServer};
use concur_worker::{EnqueueOptions, Job, QueueConfig, TaskError, Worker, DEFAULT_CONCURRENCY};
use serde_json::json;

const CHILD_URL: &str = "CONCUR_BENCH_WORKER_URL";

fn concurrency() -> usize {
    std::env::var("CONCUR_BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CONCURRENCY)
}

fn main() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        let worker = Worker::builder()
            .redis(&url)
            .concurrency(concurrency())
            .handler("noop", |_job: Job| async { Ok::<_, TaskError>(()) })
            .build()
            .expect("the bench worker builds");
        common::stop_on_signals(&worker);
        worker.run().expect("the bench worker runs");
        return;
    }
    let tasks: usize = std::env::var("CONCUR_BENCH_TASKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let server = RedisServer::start();
    println!("worker bench: {tasks} no-op tasks per run, concurrency {} per worker, 2 cores", concurrency());
    println!();
    redis_benchmark(server.port);
    for processes in [1, 2] {
        let rate = throughput(&server, tasks, processes);
        println!(
            "  concur worker, {processes} process(es): {rate:>9.0} tasks/s (fetch, run, acknowledge, store result)"
        );
    }
    latency(&server);
}

/// `redis-benchmark -t lpush,rpop -P 16` against the same server.
fn redis_benchmark(port: u16) {
    let output = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-t", "lpush,rpop", "-P", "16", "-q", "-n", "1000000"])
        .output();
    match output {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout);
            for line in text.split(['\r', '\n']).filter(|l| l.contains("requests per second")) {
                println!("  redis-benchmark -P 16 {}", line.trim());
            }
        }
        Err(e) => println!("  redis-benchmark could not run ({e})"),
    }
}

fn spawn_worker(url: &str) -> Child {
    Command::new(std::env::current_exe().expect("the bench knows its path"))
        .env(CHILD_URL, url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a worker process starts")
}

fn throughput(server: &RedisServer, tasks: usize, processes: usize) -> f64 {
    let mut raw = server.raw();
    let _: () = cmd(&mut raw, &["FLUSHALL"]);
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("noop", (0..tasks).map(|_| vec![]), &EnqueueOptions::default()).expect("enqueue");
    let mut workers: Vec<Child> = (0..processes).map(|_| spawn_worker(&server.url())).collect();
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
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = start.elapsed();
    for worker in &mut workers {
        // SIGTERM: the graceful stop.
        // SAFETY: kill(2) on the id of a child this process started and has not reaped.
        unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
    }
    for worker in &mut workers {
        let _ = worker.wait();
    }
    tasks as f64 / elapsed.as_secs_f64()
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
