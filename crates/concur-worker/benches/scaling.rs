//! How far one queue goes on one Redis, on a Redis Cluster, and sharded
//! over the cluster's masters — measured side by side in one run — and what
//! the durability mode and several queues per worker cost:
//!
//! - **drain rate**: no-op tasks per second, the tasks enqueued first, then
//!   drained by worker processes (results stored, as by default), timed from
//!   a tenth of them done to nine tenths, for: one
//!   `redis-server`; a three-master cluster (three replicas) with the queue
//!   in one slot; the same cluster with the queue in three shards, one per
//!   master; the sharded queue with `min_replicas: 1` (`WAIT` after each
//!   enqueue and acknowledgement);
//! - **pickup latency** of an idle worker serving `critical,default,low`:
//!   from the push to the handler's start, for a task pushed to the first
//!   queue and to the others.
//!
//! ```text
//! cargo bench -p concur-worker --bench scaling
//! ```
//!
//! `CONCUR_BENCH_TASKS` sets the tasks per drain (default 60,000) and
//! `CONCUR_BENCH_WORKERS` the worker processes (default: the machine's
//! cores). Worker processes are this executable, re-run. docs/SCALING.md
//! records the figures.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::cluster::RedisCluster;
use common::RedisServer;
use concur_worker::{Client, EnqueueOptions, Job, QueueConfig, QueueSet, TaskError, Worker};
use serde_json::json;

const CHILD_URL: &str = "CONCUR_BENCH_WORKER_URL";
const CHILD_REPLICAS: &str = "CONCUR_BENCH_WORKER_REPLICAS";
const CHILD_QUEUE: &str = "CONCUR_BENCH_WORKER_QUEUE";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        let name = std::env::var(CHILD_QUEUE).expect("the queue is given");
        let config = QueueConfig { min_replicas: env_number(CHILD_REPLICAS, 0) as u32, ..QueueConfig::named(&name) };
        let worker = Worker::builder()
            .redis(&url)
            .queue_config(config)
            .concurrency(200)
            .handler("noop", |_job: Job| async { Ok::<_, TaskError>(()) })
            .build()
            .expect("the bench worker builds");
        common::stop_on_signals(&worker);
        worker.run().expect("the bench worker runs");
        return;
    }
    let tasks = env_number("CONCUR_BENCH_TASKS", 60_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = env_number("CONCUR_BENCH_WORKERS", cores);
    println!(
        "scaling bench: {tasks} no-op tasks per drain, {workers} worker processes of concurrency 200, {cores} cores"
    );
    println!();
    let single = {
        let server = RedisServer::start();
        drain(&server.url(), tasks, workers, 0, 0)
    };
    println!("  one redis-server, one queue:                   {single:>9.0} tasks/s");
    let masters = RedisCluster::start_masters();
    let url = masters.url();
    let one_slot = drain(&url, tasks, workers, 0, 0);
    println!("  3 masters, no replica, one queue (one slot):  {one_slot:>9.0} tasks/s");
    let sharded = drain(&url, tasks, workers, 3, 0);
    println!(
        "  3 masters, no replica, one queue in 3 shards:  {sharded:>9.0} tasks/s ({:.2}x the one-slot queue)",
        sharded / one_slot
    );
    drop(masters);
    let cluster = RedisCluster::start();
    let url = cluster.url();
    let one_slot = drain(&url, tasks, workers, 0, 0);
    println!("  3 masters + 3 replicas, one slot:             {one_slot:>9.0} tasks/s");
    let sharded = drain(&url, tasks, workers, 3, 0);
    println!(
        "  3 masters + 3 replicas, 3 shards:              {sharded:>9.0} tasks/s ({:.2}x the one-slot queue)",
        sharded / one_slot
    );
    let durable = drain(&url, tasks, workers, 3, 1);
    println!(
        "  the same with min_replicas 1 (WAIT):          {durable:>9.0} tasks/s ({:.2}x without)",
        durable / sharded
    );
    drop(cluster);
    let server = RedisServer::start();
    latency(&server);
}

/// Enqueues `tasks` no-ops on a fresh queue (with `shards` shards), then
/// times their drain by `workers` worker processes.
fn drain(url: &str, tasks: usize, workers: usize, shards: u32, min_replicas: u32) -> f64 {
    let fresh = format!("bench{}", now_ns());
    let config = QueueConfig { name: fresh.clone(), min_replicas, ..QueueConfig::default() };
    let mut client = Client::connect(url, config).expect("connect");
    client.set_shards(shards).expect("declare the shards");
    client.enqueue_many("noop", (0..tasks).map(|_| vec![]), &EnqueueOptions::default()).expect("enqueue");
    let mut children: Vec<Child> = (0..workers)
        .map(|_| {
            let mut command = Command::new(std::env::current_exe().expect("the bench knows its path"));
            command
                .env(CHILD_URL, url)
                .env(CHILD_REPLICAS, min_replicas.to_string())
                .env(CHILD_QUEUE, &fresh)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            command.spawn().expect("a worker process starts")
        })
        .collect();
    // The rate of the steady part, from a tenth of the tasks done to nine
    // tenths: the workers' start-up (connections to every member on every
    // node) and the last stragglers are left out.
    let deadline = Instant::now() + Duration::from_secs(600);
    let total = tasks as u64;
    let (low, high) = (total / 10, total * 9 / 10);
    while client.status().expect("status").done < low {
        assert!(Instant::now() < deadline, "the drain did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    let start = Instant::now();
    let from = client.status().expect("status").done;
    let mut to;
    loop {
        to = client.status().expect("status").done;
        if to >= high {
            break;
        }
        assert!(Instant::now() < deadline, "the drain did not finish");
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = start.elapsed();
    for child in &mut children {
        // SAFETY: kill(2) on the id of a child this process started and has not reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    for child in &mut children {
        let _ = child.wait();
    }
    (to - from) as f64 / elapsed.as_secs_f64()
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos() as u64
}

/// Pickup latency of an idle worker serving three queues in strict order.
fn latency(server: &RedisServer) {
    let (sender, samples) = mpsc::channel::<u64>();
    let worker = Worker::builder()
        .redis(&server.url())
        .queues("critical,default,low".parse::<QueueSet>().expect("a queue set"))
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
    for name in ["critical", "low"] {
        let mut producer = server.queue(QueueConfig::named(name));
        let mut latencies = Vec::new();
        for _ in 0..300 {
            producer.enqueue("stamp", vec![json!(now_ns())], &EnqueueOptions::default()).expect("enqueue");
            latencies.push(samples.recv_timeout(Duration::from_secs(5)).expect("a pushed task starts"));
            // Let the worker go idle again, at a point of its cycle that
            // varies from push to push.
            std::thread::sleep(Duration::from_millis(1 + latencies.len() as u64 % 37));
        }
        latencies.sort_unstable();
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize] as f64 / 1e6;
        println!(
            "  pickup latency, idle worker serving critical,default,low, push to {name:<8}: p50 {:>7.3} ms, p99 {:>7.3} ms",
            at(0.5),
            at(0.99)
        );
    }
    stop.stop();
    running.join().expect("the worker thread").expect("the worker ran");
}
