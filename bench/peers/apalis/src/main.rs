//! apalis with apalis-redis, the Rust peer of `concur worker`, driven by
//! `bench/peers/peers.py`: the same no-op tasks on the same redis-server.
//!
//! ```text
//! apalis-peer enqueue URL QUEUE COUNT
//! apalis-peer work URL QUEUE CONCURRENCY LOCK_TASKS BATCH POLL_MS
//! apalis-peer produce URL QUEUE
//! ```
//!
//! - `enqueue` pushes COUNT no-op tasks with apalis's own producer
//!   (`push_bulk`, a thousand at a time), then exits.
//! - `work` runs one worker process of CONCURRENCY until SIGTERM or SIGINT:
//!   `Config::default()` but for `lock_tasks` (`true` is apalis's default;
//!   `false` the tuning for throughput) and `batch_size` (10 is the
//!   default). An idle worker looks for tasks every POLL_MS milliseconds
//!   (`poll_with_interval`): apalis-redis 1.0 files every pushed task in its
//!   schedule (`batch_push.lua` sets `run_at` to now at the least), so no
//!   push publishes the pub/sub "available" signal that
//!   `RedisStorageFactory` listens for, and without an interval an idle
//!   worker wakes only at its heartbeat (every 30 s). apalis's own example
//!   polls every second; the driver passes a shorter interval, the setting
//!   a user who cares for latency would pick, and says which.
//! - `produce` is the producer of the pickup-latency samples: for each line
//!   read on standard input it pushes one task carrying the time of the
//!   push; the worker's handler answers with how long after it it started
//!   (an `RPUSH` to `bench:latency`, after its clock was read), which the
//!   driver waits for. The driver paces the pushes, as it does for the
//!   other peers.
//!
//! A task is a `u64`: 0 is a no-op, anything else the Unix time in
//! nanoseconds of its push.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncBufReadExt;

use apalis::prelude::*;
use apalis_redis::{Config, ConnectionManager, RedisStorage};

/// The list a stamped task's handler pushes its pickup latency to.
const LATENCY_LIST: &str = "bench:latency";

/// The connection the handler answers stamped tasks on.
static ANSWERS: OnceLock<ConnectionManager> = OnceLock::new();

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_nanos() as u64
}

async fn handle(pushed_ns: u64) -> Result<(), BoxDynError> {
    if pushed_ns != 0 {
        let started = now_ns();
        let mut answers = ANSWERS.get().expect("the connection is made before the worker runs").clone();
        redis::cmd("RPUSH")
            .arg(LATENCY_LIST)
            .arg(started.saturating_sub(pushed_ns))
            .query_async::<()>(&mut answers)
            .await?;
    }
    Ok(())
}

fn usage() -> ! {
    eprintln!(
        "usage: apalis-peer enqueue URL QUEUE COUNT\n       apalis-peer work URL QUEUE CONCURRENCY \
         LOCK_TASKS BATCH POLL_MS\n       apalis-peer produce URL QUEUE"
    );
    std::process::exit(2)
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> T {
    text.parse().unwrap_or_else(|_| {
        eprintln!("apalis-peer: {what} must be a number, not {text:?}");
        std::process::exit(2)
    })
}

async fn storage(url: &str, config: Config) -> RedisStorage<u64, ConnectionManager> {
    let client = redis::Client::open(url).unwrap_or_else(|e| {
        eprintln!("apalis-peer: {url:?} is not a Redis URL: {e}");
        std::process::exit(2)
    });
    let conn = client.get_connection_manager().await.expect("redis connects");
    RedisStorage::new(conn).with_config(config)
}

async fn enqueue(url: &str, queue: &str, count: usize) {
    let mut storage = storage(url, Config::default().queue(queue)).await;
    let mut left = count;
    while left > 0 {
        let n = left.min(1000);
        storage.push_bulk(vec![0u64; n]).await.expect("apalis-redis accepts the tasks");
        left -= n;
    }
}

async fn work(url: &str, queue: &str, concurrency: usize, lock_tasks: bool, batch: usize, poll: Duration) {
    let config = Config::default().queue(queue).lock_tasks(lock_tasks).batch_size(batch);
    let storage = storage(url, config).await.poll_with_interval(poll);
    let client = redis::Client::open(url).expect("storage() has opened this URL");
    let answers = client.get_connection_manager().await.expect("redis connects");
    ANSWERS.set(answers).unwrap_or_else(|_| unreachable!("set once, before the worker"));
    let name = format!("apalis-peer-{}", std::process::id());
    let worker = WorkerBuilder::new(name).backend(storage).concurrency(concurrency).build(handle);
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
        Ok::<(), std::io::Error>(())
    };
    worker.run_until(stop).await.expect("the worker runs");
}

async fn produce(url: &str, queue: &str) {
    let mut storage = storage(url, Config::default().queue(queue)).await;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(_line) = lines.next_line().await.expect("standard input reads") {
        storage.push(now_ns()).await.expect("apalis-redis accepts the task");
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["enqueue", url, queue, count] => enqueue(url, queue, number(count, "COUNT")).await,
        ["work", url, queue, concurrency, lock_tasks, batch, poll_ms] => {
            work(
                url,
                queue,
                number(concurrency, "CONCURRENCY"),
                number(lock_tasks, "LOCK_TASKS"),
                number(batch, "BATCH"),
                Duration::from_millis(number(poll_ms, "POLL_MS")),
            )
            .await
        }
        ["produce", url, queue] => produce(url, queue).await,
        _ => usage(),
    }
}
