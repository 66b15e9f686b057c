//! The sync primitives beside the crates they are measured against.
//!
//! - uncontended acquire + release: `Lock` vs `parking_lot::Mutex<()>` and
//!   `std::sync::Mutex<()>`; `RLock` vs `parking_lot::ReentrantMutex<()>`;
//! - `Event` ping-pong between two threads vs the same protocol on a pair of
//!   `parking_lot` Mutex + Condvar.
//!
//! The ping-pong and `Lock::guard` against `parking_lot::Mutex` are
//! measured first in alternating pairs (100 by default,
//! `CONCUR_BENCH_PAIRS`; `-- pairs` runs them alone), see `pairs`.
//!
//! Run twice to see the lock-order checker's cost: `cargo bench --bench sync`
//! (checker off) and `cargo bench --bench sync --features lock-order`; the
//! group names say which. `bench/python/primitives.py` runs the same loops in
//! Python. Results are in `docs/BENCHMARKS.md`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};

use concur::sync::{lock_order, Event, Lock, RLock};

mod support;

fn checker() -> &'static str {
    if lock_order::is_enabled() {
        "checker on"
    } else {
        "checker off"
    }
}

/// The group of the uncontended rows, which says whether the checker is on.
fn checker_group() -> String {
    format!("acquire+release ({})", checker())
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group(checker_group());

    let lock = Lock::new();
    group.bench_function("concur::Lock guard", |b| b.iter(|| drop(black_box(&lock).guard())));
    group.bench_function("concur::Lock acquire/release", |b| {
        b.iter(|| {
            let lock = black_box(&lock);
            lock.acquire();
            lock.release()
        })
    });
    let mutex = parking_lot::Mutex::new(());
    group.bench_function("parking_lot::Mutex", |b| b.iter(|| drop(black_box(&mutex).lock())));
    let std_mutex = std::sync::Mutex::new(());
    group.bench_function("std::sync::Mutex", |b| b.iter(|| drop(black_box(&std_mutex).lock())));

    let rlock = RLock::new();
    group.bench_function("concur::RLock guard", |b| b.iter(|| drop(black_box(&rlock).guard())));
    let reentrant = parking_lot::ReentrantMutex::new(());
    group.bench_function("parking_lot::ReentrantMutex", |b| b.iter(|| drop(black_box(&reentrant).lock())));
    group.finish();
}

/// One side of a ping-pong: `set` wakes the other side, `wait_and_clear`
/// sleeps until this side is woken.
trait Signal: Send + Sync + 'static {
    fn new() -> Self;
    fn set(&self);
    fn wait_and_clear(&self);
}

impl Signal for Event {
    fn new() -> Self {
        Event::new()
    }
    fn set(&self) {
        Event::set(self);
    }
    fn wait_and_clear(&self) {
        self.wait();
        self.clear();
    }
}

/// The hand-made peer: a flag under a parking_lot mutex plus a condvar.
struct CondvarPair {
    flag: parking_lot::Mutex<bool>,
    changed: parking_lot::Condvar,
}

impl Signal for CondvarPair {
    fn new() -> Self {
        CondvarPair { flag: parking_lot::Mutex::new(false), changed: parking_lot::Condvar::new() }
    }
    fn set(&self) {
        *self.flag.lock() = true;
        self.changed.notify_all();
    }
    fn wait_and_clear(&self) {
        let mut flag = self.flag.lock();
        while !*flag {
            self.changed.wait(&mut flag);
        }
        *flag = false;
    }
}

/// Times `rounds` round trips: this thread sets `ping` and waits for `pong`,
/// a partner thread waits for `ping` and sets `pong`.
fn ping_pong<S: Signal>(rounds: u64) -> Duration {
    let ping = Arc::new(S::new());
    let pong = Arc::new(S::new());
    let partner = {
        let (ping, pong) = (ping.clone(), pong.clone());
        std::thread::spawn(move || {
            for _ in 0..rounds {
                ping.wait_and_clear();
                pong.set();
            }
        })
    };
    let start = Instant::now();
    for _ in 0..rounds {
        ping.set();
        pong.wait_and_clear();
    }
    let elapsed = start.elapsed();
    partner.join().unwrap();
    elapsed
}

fn event_ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping-pong round trip");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("concur::Event", |b| b.iter_custom(ping_pong::<Event>));
    group.bench_function("parking_lot Mutex+Condvar pair", |b| b.iter_custom(ping_pong::<CondvarPair>));
    group.finish();
}

/// Alternating pairs of runs, concur's and the peer's in turn (which goes
/// first alternates too), as the queue bench does for its transfers and for
/// the same reason: this machine runs in one of two states for seconds at a
/// time, and criterion's one-function-at-a-time runs can land each side in
/// a different one. Prints, for the ping-pong and for an uncontended
/// `Lock::guard`, the median ratio of the peer's time over concur's.
fn pairs() {
    const ROUNDS: u64 = 5_000;
    const GUARDS: u64 = 500_000;
    let count = support::pair_count("CONCUR_BENCH_PAIRS", 100);
    let ping = support::in_pairs(
        count,
        || ping_pong::<Event>(ROUNDS).as_secs_f64(),
        || ping_pong::<CondvarPair>(ROUNDS).as_secs_f64(),
    );
    let name = "ping-pong round trip/concur::Event vs parking_lot Mutex+Condvar pair";
    support::print_pairs(name, &ping, ROUNDS as f64, 1e6, "µs", "round trip");
    let lock = Lock::new();
    let mutex = parking_lot::Mutex::new(());
    let guards = support::in_pairs(
        count,
        || time(GUARDS, || drop(black_box(&lock).guard())),
        || time(GUARDS, || drop(black_box(&mutex).lock())),
    );
    let name = format!("{}/concur::Lock guard vs parking_lot::Mutex", checker_group());
    support::print_pairs(&name, &guards, GUARDS as f64, 1e9, "ns", "acquire+release");
}

/// Seconds `times` calls of `f` take.
fn time(times: u64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..times {
        f();
    }
    start.elapsed().as_secs_f64()
}

criterion_group!(benches, uncontended, event_ping_pong);

fn main() {
    // `cargo test --benches` runs this without `--bench`: no pairs then.
    if support::selects("pairs") {
        pairs();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
