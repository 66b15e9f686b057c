//! `ThreadLocal::with` beside the peers it must keep up with.
//!
//! - one object, value already made: `concur::local::ThreadLocal::with` vs the
//!   `thread_local` crate's `ThreadLocal::get_or` and a `std::thread_local!`
//!   `RefCell` borrowed for a read;
//! - 2, 8 and 32 objects used in turn by one thread, vs the same with the
//!   crate: concur's per-thread cache holds an entry for every object, the
//!   first 16 in a fixed array and the rest (here, half of the 32) in a
//!   growable one behind a `RefCell`.
//!
//! Run with `cargo bench -p concur --bench local`.

use std::cell::{Cell, RefCell};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use concur::local::ThreadLocal;

std::thread_local! {
    static STD_LOCAL: RefCell<u64> = const { RefCell::new(7) };
}

fn one_object(c: &mut Criterion) {
    let mut group = c.benchmark_group("get, value made");

    let concur_local = ThreadLocal::new(|| Cell::new(7_u64));
    concur_local.with(|_| ());
    group.bench_function("concur::local::ThreadLocal::with", |b| b.iter(|| black_box(&concur_local).with(Cell::get)));

    let crate_local = thread_local::ThreadLocal::new();
    crate_local.get_or(|| Cell::new(7_u64));
    group.bench_function("thread_local::ThreadLocal::get_or", |b| {
        b.iter(|| black_box(&crate_local).get_or(|| Cell::new(7_u64)).get())
    });

    group.bench_function("std::thread_local! RefCell", |b| {
        b.iter(|| black_box(&STD_LOCAL).with(|value| *value.borrow()))
    });
    group.finish();
}

/// `with` on each of `objects` in turn: one call of the closure is one pass.
fn in_turn(c: &mut Criterion, objects: usize) {
    let mut group = c.benchmark_group(format!("get, {objects} objects in turn (per pass)"));

    let concur_locals: Vec<_> = (0..objects).map(|_| ThreadLocal::new(|| Cell::new(7_u64))).collect();
    for local in &concur_locals {
        local.with(|_| ());
    }
    group.bench_function("concur::local::ThreadLocal::with", |b| {
        b.iter(|| black_box(&concur_locals).iter().map(|local| local.with(Cell::get)).sum::<u64>())
    });

    let crate_locals: Vec<_> = (0..objects).map(|_| thread_local::ThreadLocal::new()).collect();
    for local in &crate_locals {
        local.get_or(|| Cell::new(7_u64));
    }
    group.bench_function("thread_local::ThreadLocal::get_or", |b| {
        b.iter(|| black_box(&crate_locals).iter().map(|local| local.get_or(|| Cell::new(7_u64)).get()).sum::<u64>())
    });
    group.finish();
}

fn many_objects(c: &mut Criterion) {
    for objects in [2, 8, 32] {
        in_turn(c, objects);
    }
}

criterion_group!(benches, one_object, many_objects);
criterion_main!(benches);
