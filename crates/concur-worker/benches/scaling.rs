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
//!   enqueue and acknowledgement); with the CPU time the Redis processes
//!   and the workers spent per task, and the busiest Redis process's share
//!   of a core — what says where the limit is;
//! - **masters with a core each, on paper**: a machine of two cores cannot
//!   give three masters a core each, so when every Redis process of a
//!   cluster shares it, a sharded queue has no idle CPU to move to. The
//!   bench then caps each master of a three-master cluster at a quarter of
//!   a core (a cgroup of its own, `cpu.cfs_quota_us` or `cpu.max`) and
//!   drains the one-slot and the sharded queue again: each master is its
//!   own limit, as on machines of their own. Skipped, saying so, where the
//!   bench may not make cgroups;
//! - **pickup latency** of an idle worker serving `critical,default,low`:
//!   from the push to the handler's start, for a task pushed to the first
//!   queue and to the others.
//!
//! ```text
//! cargo bench -p concur-worker --bench scaling
//! ```
//!
//! `CONCUR_BENCH_TASKS` sets the tasks per drain (default 200,000, and 2,000
//! for the check `cargo test --benches` makes) and
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
    let tasks = common::bench_size("TASKS", 200_000, 2_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = env_number("CONCUR_BENCH_WORKERS", cores);
    println!(
        "scaling bench: {tasks} no-op tasks per drain, {workers} worker processes of concurrency 200, {cores} cores"
    );
    println!();
    let single = {
        let server = RedisServer::start();
        drain(&server.url(), &[server.pid()], tasks, workers, 0, 0)
    };
    single.print("one redis-server, one queue", None);
    let masters = RedisCluster::start_masters();
    let (url, pids) = (masters.url(), cluster_pids(&masters));
    let one_slot = drain(&url, &pids, tasks, workers, 0, 0);
    one_slot.print("3 masters, no replica, one queue (one slot)", None);
    let sharded = drain(&url, &pids, tasks, workers, 3, 0);
    sharded.print("3 masters, no replica, one queue in 3 shards", Some(("the one-slot queue", &one_slot)));
    match CpuCaps::new(&pids, CAPPED_SHARE) {
        Ok(caps) => {
            let label = |what: &str| format!("{what}, masters at {:.0} % of a core", CAPPED_SHARE * 100.0);
            let one_slot = drain(&url, &pids, tasks, workers, 0, 0);
            one_slot.print(&label("one slot"), None);
            let sharded = drain(&url, &pids, tasks, workers, 3, 0);
            sharded.print(&label("3 shards"), Some(("the one-slot queue", &one_slot)));
            drop(masters);
            drop(caps);
        }
        Err(why) => {
            println!("  (masters capped at a share of a core: skipped, {why})");
            drop(masters);
        }
    }
    let cluster = RedisCluster::start();
    let (url, pids) = (cluster.url(), cluster_pids(&cluster));
    let one_slot = drain(&url, &pids, tasks, workers, 0, 0);
    one_slot.print("3 masters + 3 replicas, one slot", None);
    let sharded = drain(&url, &pids, tasks, workers, 3, 0);
    sharded.print("3 masters + 3 replicas, 3 shards", Some(("the one-slot queue", &one_slot)));
    let durable = drain(&url, &pids, tasks, workers, 3, 1);
    durable.print("the same with min_replicas 1 (WAIT)", Some(("without", &sharded)));
    println!();
    println!("  cpu: the Redis processes' and the workers' CPU time per task during the timed part, and the");
    println!("  busiest Redis process's share of one core (100 % = that process is the limit).");
    drop(cluster);
    let server = RedisServer::start();
    latency(&server);
}

/// Each capped master's share of one core.
const CAPPED_SHARE: f64 = 0.25;

/// A cgroup per process, each limited to a share of one core; removed on
/// drop (after the processes in it have ended).
struct CpuCaps {
    groups: Vec<std::path::PathBuf>,
}

impl CpuCaps {
    /// Puts each of `pids` in a cgroup of its own limited to `share` of a
    /// core, under cgroup v1's `cpu` controller or cgroup v2's `cpu.max`.
    fn new(pids: &[u32], share: f64) -> Result<CpuCaps, String> {
        let period = 10_000u64;
        let quota = (period as f64 * share) as u64;
        let v1 = std::path::Path::new("/sys/fs/cgroup/cpu");
        let v2 = std::path::Path::new("/sys/fs/cgroup");
        let (root, v1) = if v1.join("cpu.cfs_quota_us").exists() {
            (v1, true)
        } else if std::fs::read_to_string(v2.join("cgroup.subtree_control")).is_ok_and(|c| c.contains("cpu")) {
            (v2, false)
        } else {
            return Err("this machine offers no cgroup CPU controller".into());
        };
        let mut caps = CpuCaps { groups: Vec::new() };
        for (i, pid) in pids.iter().enumerate() {
            let group = root.join(format!("concur-bench-{}-{i}", std::process::id()));
            let made = std::fs::create_dir(&group).and_then(|()| {
                caps.groups.push(group.clone());
                if v1 {
                    std::fs::write(group.join("cpu.cfs_period_us"), period.to_string())?;
                    std::fs::write(group.join("cpu.cfs_quota_us"), quota.to_string())?;
                } else {
                    std::fs::write(group.join("cpu.max"), format!("{quota} {period}"))?;
                }
                // The whole process, every thread of it.
                std::fs::write(group.join("cgroup.procs"), pid.to_string())
            });
            made.map_err(|error| format!("could not make a cgroup under {}: {error}", root.display()))?;
        }
        Ok(caps)
    }
}

impl Drop for CpuCaps {
    fn drop(&mut self) {
        for group in &self.groups {
            // Its processes have ended (or it is left empty and harmless).
            let _ = std::fs::remove_dir(group);
        }
    }
}

/// What one drain measured.
struct Drained {
    /// Tasks per second.
    rate: f64,
    /// CPU time of all the Redis processes per task, in microseconds.
    redis_us: f64,
    /// CPU time of the worker processes per task, in microseconds.
    workers_us: f64,
    /// The busiest Redis process's CPU time over the wall time.
    busiest: f64,
}

impl Drained {
    fn print(&self, what: &str, versus: Option<(&str, &Drained)>) {
        let ratio = versus.map_or(String::new(), |(name, other)| format!(" ({:.2}x {name})", self.rate / other.rate));
        println!(
            "  {what:<46} {:>9.0} tasks/s{ratio}; cpu per task: redis {:.1} us, workers {:.1} us; busiest redis {:.0} %",
            self.rate,
            self.redis_us,
            self.workers_us,
            self.busiest * 100.0
        );
    }
}

fn cluster_pids(cluster: &RedisCluster) -> Vec<u32> {
    cluster.pids().into_iter().map(|(_, pid)| pid).collect()
}

/// The CPU time `pid` has used, user and system, from `/proc/PID/stat`.
fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return Duration::ZERO };
    // The fields after the parenthesised command name; utime and stime are
    // the 14th and 15th of the whole line, in clock ticks.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|t| t.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|t| t.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf(3) reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

/// Enqueues `tasks` no-ops on a fresh queue (with `shards` shards), then
/// times their drain by `workers` worker processes, reading the CPU time of
/// the Redis processes `redis` and of the workers over the timed part.
fn drain(url: &str, redis: &[u32], tasks: usize, workers: usize, shards: u32, min_replicas: u32) -> Drained {
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
    // node) and the last stragglers are left out. Looked at every 20 ms:
    // the status script is work for Redis too.
    let deadline = Instant::now() + Duration::from_secs(600);
    let total = tasks as u64;
    let (low, high) = (total / 10, total * 9 / 10);
    while client.status().expect("status").done < low {
        assert!(Instant::now() < deadline, "the drain did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = Instant::now();
    let from = client.status().expect("status").done;
    let worker_pids: Vec<u32> = children.iter().map(Child::id).collect();
    let redis_before: Vec<Duration> = redis.iter().map(|&pid| cpu_time(pid)).collect();
    let workers_before: Duration = worker_pids.iter().map(|&pid| cpu_time(pid)).sum();
    let mut to;
    loop {
        to = client.status().expect("status").done;
        if to >= high {
            break;
        }
        assert!(Instant::now() < deadline, "the drain did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed();
    let redis_spent: Vec<Duration> =
        redis.iter().zip(&redis_before).map(|(&pid, before)| cpu_time(pid).saturating_sub(*before)).collect();
    let workers_spent = worker_pids.iter().map(|&pid| cpu_time(pid)).sum::<Duration>().saturating_sub(workers_before);
    for child in &mut children {
        // SAFETY: kill(2) on the id of a child this process started and has not reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    for child in &mut children {
        let _ = child.wait();
    }
    let done = (to - from).max(1) as f64;
    Drained {
        rate: done / elapsed.as_secs_f64(),
        redis_us: redis_spent.iter().sum::<Duration>().as_secs_f64() * 1e6 / done,
        workers_us: workers_spent.as_secs_f64() * 1e6 / done,
        busiest: redis_spent.iter().max().copied().unwrap_or_default().as_secs_f64() / elapsed.as_secs_f64(),
    }
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
