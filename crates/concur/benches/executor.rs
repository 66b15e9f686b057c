//! Executors beside their peers.
//!
//! - `ThreadPool` with 4 workers: submit 100,000 trivial calls, then take
//!   every result, beside a 4-thread `rayon::ThreadPool` doing the same with
//!   `spawn` and a channel for the results (what a rayon user writes to get
//!   a value back from each call). `bench/python/executor.py` runs Python's
//!   `ThreadPoolExecutor(4)` the same way.
//!
//! Results are in `docs/BENCHMARKS.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use concur::executor::ThreadPool;

const CALLS: u64 = 100_000;
const WORKERS: usize = 4;

fn submit_and_result(c: &mut Criterion) {
    let mut group = c.benchmark_group("submit + result, 100,000 trivial calls, 4 workers");
    group.throughput(Throughput::Elements(CALLS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));

    let pool = ThreadPool::new(WORKERS);
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

criterion_group!(benches, submit_and_result);
criterion_main!(benches);
