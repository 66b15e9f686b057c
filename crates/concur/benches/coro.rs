//! A generator's `send` round trip, and creating and finishing a short
//! generator. `bench/python/generators.py` times the same in Python.
//! Results: the engine table in the `concur::coro` module docs.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use concur::coro::{Generator, State};

fn send_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator");
    let mut echo = Generator::with_input(|co| async move {
        let mut n: u64 = 0;
        loop {
            n = co.yield_(n + 1).await?;
        }
    });
    let _: State<u64, ()> = echo.start().unwrap();
    group.bench_function("send round trip", |b| b.iter(|| echo.send(black_box(7)).unwrap()));
    group.bench_function("create, start, finish", |b| {
        b.iter(|| {
            let mut short = Generator::with_input(|co| async move {
                let n: u64 = co.yield_(1).await?;
                Ok(n)
            });
            short.start().unwrap();
            black_box(short.send(2).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, send_round_trip);
criterion_main!(benches);
