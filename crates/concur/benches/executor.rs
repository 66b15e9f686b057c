//! Executors beside their peers.
//!
//! - `ThreadPool` with 4 workers: submit 100,000 trivial calls, then take
//!   every result, beside a 4-thread `rayon::ThreadPool` doing the same with
//!   `spawn` and a channel for the results (what a rayon user writes to get
//!   a value back from each call). `bench/python/executor.py` runs Python's
//!   `ThreadPoolExecutor(4)` the same way.
//!
//! - `ProcessPool` with one worker per core on CPU-bound calls (naive
//!   Fibonacci), beside the same calls run one after another on one thread,
//!   and on a `ThreadPool` of the same size (no interpreter lock here, so
//!   threads scale too).
//!
//! The CPU-bound calls are measured first in alternating pairs with the
//! serial run (20 by default, `CONCUR_BENCH_CPU_PAIRS`; `-- pairs` runs
//! them alone), see `pairs`.
//!
//! The pool's workers are this bench executable started again, so `main` is
//! written out instead of `criterion_main!`: it serves as a worker first.
//! Results are in `docs/BENCHMARKS.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

use concur::executor::{Function, ProcessPool, Registry, ThreadPool};

mod support;

const CALLS: u64 = 100_000;
const WORKERS: usize = 4;

fn submit_and_result(c: &mut Criterion) {
    let mut group = c.benchmark_group("submit + result, 100,000 trivial calls, 4 workers");
    group.throughput(Throughput::Elements(CALLS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));

    let pool = ThreadPool::new(WORKERS).unwrap();
    group.bench_function("concur::ThreadPool", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..CALLS).map(|n| pool.submit(move || black_box(n) * 2).unwrap()).collect();
            let sum: u64 = futures.into_iter().map(|f| f.into_result().unwrap()).sum();
            assert_eq!(sum, CALLS * (CALLS - 1));
        })
    });

    let rayon = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().unwrap();
    group.bench_function("rayon::ThreadPool spawn + channel", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::unbounded();
            for n in 0..CALLS {
                let tx = tx.clone();
                rayon.spawn(move || tx.send(black_box(n) * 2).unwrap());
            }
            drop(tx);
            let sum: u64 = rx.iter().sum();
            assert_eq!(sum, CALLS * (CALLS - 1));
        })
    });
    group.finish();
}

fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// Each call is about 25 ms of CPU here; twice as many calls as cores.
const FIB: u32 = 35;

fn cpu_bound(c: &mut Criterion, fib_in_worker: &Function<u32, u64>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let calls = 2 * cores;
    let mut group = c.benchmark_group(format!("{calls} calls of fib({FIB}), {cores} cores"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("serial", |b| b.iter(|| (0..calls).map(|_| fib(black_box(FIB))).sum::<u64>()));
    let processes = ProcessPool::new(cores).unwrap();
    group.bench_function("concur::ProcessPool", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..calls).map(|_| processes.submit(fib_in_worker, FIB).unwrap()).collect();
            futures.into_iter().map(|f| f.into_result().unwrap()).sum::<u64>()
        })
    });
    let threads = ThreadPool::new(cores).unwrap();
    group.bench_function("concur::ThreadPool", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..calls).map(|_| threads.submit(|| fib(black_box(FIB))).unwrap()).collect();
            futures.into_iter().map(|f| f.into_result().unwrap()).sum::<u64>()
        })
    });
    group.finish();
}

/// Alternating pairs of the serial calls and the same calls on each pool
/// (which goes first alternates too): a speed-up is a ratio of two runs,
/// and this machine's two cores run in one of two states for seconds at a
/// time (see the queue bench), so criterion's one-function-at-a-time runs
/// can time the serial calls in one and the pool in the other. Prints each
/// pool's median speed-up over the serial run.
fn pairs(fib_in_worker: &Function<u32, u64>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let calls = 2 * cores;
    let count = support::pair_count("CONCUR_BENCH_CPU_PAIRS", 20);
    let group = format!("{calls} calls of fib({FIB}), {cores} cores");
    let serial = || timed(|| (0..calls).map(|_| fib(black_box(FIB))).sum::<u64>());
    let processes = ProcessPool::new(cores).unwrap();
    let on_processes = || {
        timed(|| {
            let futures: Vec<_> = (0..calls).map(|_| processes.submit(fib_in_worker, FIB).unwrap()).collect();
            futures.into_iter().map(|f| f.into_result().unwrap()).sum::<u64>()
        })
    };
    // A first call starts the workers, which the criterion rows do not time
    // either (their warm-up does it).
    on_processes();
    let threads = ThreadPool::new(cores).unwrap();
    let on_threads = || {
        timed(|| {
            let futures: Vec<_> = (0..calls).map(|_| threads.submit(|| fib(black_box(FIB))).unwrap()).collect();
            futures.into_iter().map(|f| f.into_result().unwrap()).sum::<u64>()
        })
    };
    for (name, pool) in
        [("concur::ProcessPool", &on_processes as &dyn Fn() -> f64), ("concur::ThreadPool", &on_threads)]
    {
        let times = support::in_pairs(count, pool, serial);
        support::print_pairs(&format!("{group}/{name} vs serial"), &times, 1.0, 1e3, "ms", &format!("{calls} calls"));
    }
}

/// Seconds `f` takes.
fn timed<T>(f: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    black_box(f());
    start.elapsed().as_secs_f64()
}

criterion_group!(thread_benches, submit_and_result);

fn main() {
    let mut registry = Registry::new();
    let fib_in_worker = registry.register("fib", fib);
    registry.serve_if_worker();

    // `cargo test --benches` runs this without `--bench`: no pairs then.
    if support::selects("pairs") {
        pairs(&fib_in_worker);
    }
    thread_benches();
    let mut criterion = Criterion::default().configure_from_args();
    cpu_bound(&mut criterion, &fib_in_worker);
    criterion.final_summary();
}
