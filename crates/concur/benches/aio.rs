//! The event loop beside raw tokio and Python's asyncio.
//!
//! - create_task + gather of 100,000 trivial tasks on one `EventLoop`,
//!   beside raw tokio on a current-thread runtime: `tokio::spawn` of each,
//!   then awaiting every `JoinHandle` (and the same through a `LocalSet`
//!   with `spawn_local`, which is what the loop is built on).
//!   `bench/python/aio.py` runs `asyncio.create_task` + `gather` the same way.
//! - 100,000 concurrent `sleep(1 s)`: wall time and peak memory. Measured
//!   in a child process (this bench run again with `CONCUR_BENCH_SLEEPERS`
//!   set), so that the peak is the sleepers' alone.
//!
//! `main` is written out instead of `criterion_main!` for the child.
//! Results are in `docs/BENCHMARKS.md`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

use concur::aio::{self, EventLoop};

const TASKS: usize = 100_000;
const SLEEPERS_ENV: &str = "CONCUR_BENCH_SLEEPERS";

fn spawn_and_gather(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_task + gather, 100,000 trivial tasks");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));

    let lp = EventLoop::new().unwrap();
    group.bench_function("concur::aio", |b| {
        b.iter(|| {
            let values = lp
                .run_until_complete(async {
                    let tasks: Vec<_> = (0..TASKS).map(|n| aio::create_task(async move { n })).collect();
                    aio::gather(tasks).await.unwrap()
                })
                .unwrap();
            assert_eq!(values.len(), TASKS);
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    group.bench_function("tokio current-thread spawn + join", |b| {
        b.iter(|| {
            // Spawned inside the runtime's context, as the loop's tasks are.
            let count =
                rt.block_on(async { join_each((0..TASKS).map(|n| tokio::spawn(async move { n })).collect()).await });
            assert_eq!(count, TASKS);
        })
    });

    let local = tokio::task::LocalSet::new();
    group.bench_function("tokio LocalSet spawn_local + join", |b| {
        b.iter(|| {
            let count = local.block_on(&rt, async {
                join_each((0..TASKS).map(|n| tokio::task::spawn_local(async move { n })).collect()).await
            });
            assert_eq!(count, TASKS);
        })
    });
    group.finish();
}

/// Awaits tokio's handles in order, as `gather` does its tasks; returns how
/// many finished.
async fn join_each<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> usize {
    let mut count = 0;
    for handle in handles {
        handle.await.unwrap();
        count += 1;
    }
    count
}

/// Peak resident memory of this process so far, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The child: `count` tasks each sleeping one second at once.
fn sleepers(count: usize) {
    let start = Instant::now();
    let woke = aio::run(async move {
        let tasks: Vec<_> =
            (0..count).map(|_| aio::create_task(async { aio::sleep(Duration::from_secs(1)).await.is_ok() })).collect();
        aio::gather(tasks).await.unwrap().into_iter().filter(|&woke| woke).count()
    })
    .unwrap();
    let wall = start.elapsed();
    assert_eq!(woke, count);
    println!("{} {:.3} {}", count, wall.as_secs_f64(), peak_rss().unwrap_or(0));
}

fn measure_sleepers() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .env(SLEEPERS_ENV, TASKS.to_string())
        .output()
        .expect("the bench runs itself for the sleepers");
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    if let [count, wall, peak] = fields[..] {
        let peak_mib = peak.parse::<f64>().unwrap_or(0.0) / (1024.0 * 1024.0);
        println!("aio/{count} concurrent sleep(1 s): wall {wall} s, peak RSS {peak_mib:.1} MiB");
    } else {
        println!("aio sleepers: the child failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

criterion_group!(benches, spawn_and_gather);

fn main() {
    if let Ok(count) = std::env::var(SLEEPERS_ENV) {
        sleepers(count.parse().expect("a count of sleepers"));
        return;
    }
    // `cargo test --benches` runs this with `--bench` absent: keep it quick.
    if std::env::args().any(|arg| arg == "--bench") {
        measure_sleepers();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
