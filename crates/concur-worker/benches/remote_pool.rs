//! One registered function called from one client three ways, in one run:
//! on a local `ProcessPool` of two processes, and through Redis on two
//! `concur worker` processes with a `RemotePool` — the same `Function`
//! handle and the same futures.
//!
//! For each: **batch** — submit every call, then wait for all (the futures'
//! throughput, submit to the last result) — and **one at a time** — submit,
//! wait for the result, submit the next (the round trip of one call). The
//! function squares a number, so the figures are the cost of the plumbing.
//!
//! ```text
//! cargo bench -p concur-worker --bench remote_pool
//! ```
//!
//! `CONCUR_BENCH_CALLS` sets the calls of a batch run (default 20,000, and
//! 500 for the check `cargo test --benches` makes; a
//! tenth of it one at a time). Worker processes of both pools are this
//! executable, re-run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::RedisServer;
use concur::executor::{ProcessPool, Registry, Shutdown};
use concur::futures::{wait, ConcurrentFuture, ReturnWhen};
use concur_worker::{QueueConfig, RemotePool, Worker};

const CHILD_URL: &str = "CONCUR_BENCH_REMOTE_WORKER_URL";
const WORKERS: usize = 2;
const PATIENCE: Duration = Duration::from_secs(600);

fn main() {
    let mut registry = Registry::new();
    let square = registry.register("square", |n: u64| n * n);
    registry.serve_if_worker();
    if let Ok(url) = std::env::var(CHILD_URL) {
        let worker = Worker::builder().redis(&url).registry(&registry).build().expect("the bench worker builds");
        common::stop_on_signals(&worker);
        worker.run().expect("the bench worker runs");
        return;
    }
    let calls = common::bench_size("CALLS", 20_000, 500);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "remote pool bench: {calls} calls a batch, {} one at a time, {WORKERS} workers, {cores} cores",
        calls / 10
    );
    println!("load average before: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    println!();

    let local = ProcessPool::new(WORKERS).expect("the bench's pool has workers");
    // Start the processes before timing: both sides are measured warm.
    let _ = local.map(&square, 0..WORKERS as u64 * 4).expect("the pool takes calls").count();
    let local_batch = batch(calls, |n| local.submit(&square, n).unwrap());
    let local_serial = serial(calls / 10, |n| local.submit(&square, n).unwrap());
    local.shutdown(Shutdown::wait());

    let server = RedisServer::start();
    let workers: Vec<Child> = (0..WORKERS).map(|_| start_worker(&server.url())).collect();
    let remote = RemotePool::connect(&server.url(), QueueConfig::default()).expect("the pool connects");
    let warm: Vec<_> = (0..WORKERS as u64 * 4).map(|n| remote.submit(&square, n).unwrap()).collect();
    all_done(&warm);
    let remote_batch = batch(calls, |n| remote.submit(&square, n).unwrap());
    let remote_map = {
        let started = Instant::now();
        let results: Vec<_> = remote.map(&square, 0..calls as u64).unwrap().collect();
        assert!(results.iter().all(Result::is_ok));
        calls as f64 / started.elapsed().as_secs_f64()
    };
    let remote_serial = serial(calls / 10, |n| remote.submit(&square, n).unwrap());
    remote.shutdown(Shutdown::wait());
    stop(workers);

    println!("{:<34} {:>14} {:>18}", "", "batch calls/s", "one at a time");
    let row = |what: &str, batch: f64, serial: Option<Duration>| {
        let serial = serial.map_or(String::new(), |d| format!("{:.0} µs/call", d.as_secs_f64() * 1e6));
        println!("{what:<34} {batch:>14.0} {serial:>18}");
    };
    row(&format!("ProcessPool({WORKERS}) submit"), local_batch, Some(local_serial));
    row(&format!("RemotePool, {WORKERS} workers, submit"), remote_batch, Some(remote_serial));
    row(&format!("RemotePool, {WORKERS} workers, map"), remote_map, None);
    println!();
    println!(
        "RemotePool / ProcessPool: batch {:.2}x, one at a time {:.2}x the time per call",
        remote_batch / local_batch,
        remote_serial.as_secs_f64() / local_serial.as_secs_f64()
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
}

/// Calls per second: every call submitted, then every result awaited.
fn batch(calls: usize, submit: impl Fn(u64) -> ConcurrentFuture<u64>) -> f64 {
    let started = Instant::now();
    let futures: Vec<_> = (0..calls as u64).map(&submit).collect();
    all_done(&futures);
    let rate = calls as f64 / started.elapsed().as_secs_f64();
    for (n, future) in futures.iter().enumerate() {
        assert_eq!(future.result(), Ok((n * n) as u64));
    }
    rate
}

/// The mean time of one call, submitted only once the last one returned.
fn serial(calls: usize, submit: impl Fn(u64) -> ConcurrentFuture<u64>) -> Duration {
    let started = Instant::now();
    for n in 0..calls as u64 {
        assert_eq!(submit(n).result_timeout(PATIENCE), Ok(n * n));
    }
    started.elapsed() / calls as u32
}

fn all_done<T>(futures: &[ConcurrentFuture<T>]) {
    let (_, pending) = wait(futures, ReturnWhen::AllCompleted, Some(PATIENCE));
    assert!(pending.is_empty(), "{} calls still pending after {PATIENCE:?}", pending.len());
}

fn start_worker(url: &str) -> Child {
    Command::new(std::env::current_exe().expect("the bench's own executable"))
        .env(CHILD_URL, url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a worker process starts")
}

fn stop(workers: Vec<Child>) {
    for mut worker in workers {
        // SAFETY: kill(2) on a child of this process that has not been reaped yet.
        unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
        let _ = worker.wait();
    }
}
