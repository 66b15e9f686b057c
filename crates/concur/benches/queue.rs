//! Queue throughput beside the channels of the Rust ecosystem.
//!
//! - `Queue` (capacity 1024) moving 1,000,000 items from P producers to C
//!   consumers, 1P/1C and 2P/2C, beside `crossbeam_channel::bounded`,
//!   `flume::bounded` and `std::sync::mpsc::sync_channel` at the same
//!   capacity;
//! - `SimpleQueue` and an unbounded `Queue` doing the same beside
//!   `crossbeam_channel::unbounded`;
//! - `PriorityQueue` put + get beside a `BinaryHeap` under a
//!   `parking_lot::Mutex`.
//!
//! Between two cores, a transfer runs in one of two states for seconds at a
//! time — producer and consumer in step, a cache line crossing for nearly
//! every item, or apart, a line's worth at a time — two to three times
//! apart in speed, for every queue alike. Criterion measures one function
//! for seconds and then the next, so the state a function happened to get
//! can decide a ratio. So the run first measures *alternating pairs*: one
//! transfer of concur's, one of the peer's, in turn (which goes first
//! alternates too), 100 pairs by default (`CONCUR_BENCH_PAIRS`), and prints
//! the median of the pairs' ratios with its range. `scripts/compare` takes
//! its queue ratios from those lines; `-- pairs` runs them alone.
//!
//! `bench/python/queues.py` runs the same in Python. Results are in
//! `docs/BENCHMARKS.md`.

use std::collections::BinaryHeap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

use concur::queue::{PriorityQueue, Queue, SimpleQueue};

mod support;

const ITEMS: u64 = 1_000_000;
const CAPACITY: usize = 1024;

/// A bounded channel as the benchmark sees it: a cloneable sending and
/// receiving side.
trait Channel: Send + Sync + 'static {
    type Tx: Send + 'static;
    type Rx: Send + 'static;
    fn make() -> (Self::Tx, Self::Rx);
    fn tx_clone(tx: &Self::Tx) -> Self::Tx;
    fn rx_clone(rx: &Self::Rx) -> Self::Rx;
    fn send(tx: &Self::Tx, item: u64);
    fn recv(rx: &Self::Rx) -> u64;
}

/// A concur queue behind an `Arc`, shared by both sides.
macro_rules! concur_queue {
    ($name:ident, $queue:ty, $make:expr) => {
        struct $name;
        impl Channel for $name {
            type Tx = Arc<$queue>;
            type Rx = Arc<$queue>;
            fn make() -> (Self::Tx, Self::Rx) {
                let q = Arc::new($make);
                (q.clone(), q)
            }
            fn tx_clone(tx: &Self::Tx) -> Self::Tx {
                tx.clone()
            }
            fn rx_clone(rx: &Self::Rx) -> Self::Rx {
                rx.clone()
            }
            fn send(tx: &Self::Tx, item: u64) {
                tx.put(item).unwrap();
            }
            fn recv(rx: &Self::Rx) -> u64 {
                rx.get().unwrap()
            }
        }
    };
}

concur_queue!(ConcurQueue, Queue<u64>, Queue::bounded(CAPACITY).unwrap());
concur_queue!(ConcurUnbounded, Queue<u64>, Queue::unbounded());
concur_queue!(ConcurSimple, SimpleQueue<u64>, SimpleQueue::new());

/// crossbeam-channel and flume share one API shape: `bounded`, `send`,
/// `recv`, cloneable ends.
macro_rules! channel_crate {
    ($name:ident, $krate:ident, $make:expr) => {
        struct $name;
        impl Channel for $name {
            type Tx = $krate::Sender<u64>;
            type Rx = $krate::Receiver<u64>;
            fn make() -> (Self::Tx, Self::Rx) {
                $make
            }
            fn tx_clone(tx: &Self::Tx) -> Self::Tx {
                tx.clone()
            }
            fn rx_clone(rx: &Self::Rx) -> Self::Rx {
                rx.clone()
            }
            fn send(tx: &Self::Tx, item: u64) {
                tx.send(item).unwrap();
            }
            fn recv(rx: &Self::Rx) -> u64 {
                rx.recv().unwrap()
            }
        }
    };
}

channel_crate!(Crossbeam, crossbeam_channel, crossbeam_channel::bounded(CAPACITY));
channel_crate!(CrossbeamUnbounded, crossbeam_channel, crossbeam_channel::unbounded());
channel_crate!(Flume, flume, flume::bounded(CAPACITY));

/// std's receiver cannot be cloned; consumers share it behind a mutex, as
/// they must.
struct StdSync;
impl Channel for StdSync {
    type Tx = std::sync::mpsc::SyncSender<u64>;
    type Rx = Arc<parking_lot::Mutex<std::sync::mpsc::Receiver<u64>>>;
    fn make() -> (Self::Tx, Self::Rx) {
        let (tx, rx) = std::sync::mpsc::sync_channel(CAPACITY);
        (tx, Arc::new(parking_lot::Mutex::new(rx)))
    }
    fn tx_clone(tx: &Self::Tx) -> Self::Tx {
        tx.clone()
    }
    fn rx_clone(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
    fn send(tx: &Self::Tx, item: u64) {
        tx.send(item).unwrap();
    }
    fn recv(rx: &Self::Rx) -> u64 {
        rx.lock().recv().unwrap()
    }
}

/// Moves `ITEMS` items from `producers` threads to `consumers` threads,
/// `rounds` times; returns the time taken and checks the sum.
fn transfer<C: Channel>(producers: u64, consumers: u64, rounds: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let (tx, rx) = C::make();
        let start = Instant::now();
        let senders: Vec<_> = (0..producers)
            .map(|p| {
                let tx = C::tx_clone(&tx);
                std::thread::spawn(move || {
                    for i in (p..ITEMS).step_by(producers as usize) {
                        C::send(&tx, i);
                    }
                })
            })
            .collect();
        let receivers: Vec<_> = (0..consumers)
            .map(|c| {
                let rx = C::rx_clone(&rx);
                let share = ITEMS / consumers + u64::from(c < ITEMS % consumers);
                std::thread::spawn(move || (0..share).map(|_| C::recv(&rx)).sum::<u64>())
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
        let sum: u64 = receivers.into_iter().map(|r| r.join().unwrap()).sum();
        total += start.elapsed();
        assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    }
    total
}

fn throughput(c: &mut Criterion) {
    for (producers, consumers) in [(1, 1), (2, 2)] {
        let mut group = c.benchmark_group(format!("{producers}P/{consumers}C, capacity {CAPACITY}"));
        group.throughput(Throughput::Elements(ITEMS));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        group.bench_function("concur::Queue", |b| b.iter_custom(|n| transfer::<ConcurQueue>(producers, consumers, n)));
        group.bench_function("crossbeam_channel::bounded", |b| {
            b.iter_custom(|n| transfer::<Crossbeam>(producers, consumers, n))
        });
        group.bench_function("flume::bounded", |b| b.iter_custom(|n| transfer::<Flume>(producers, consumers, n)));
        group.bench_function("std::sync::mpsc::sync_channel", |b| {
            b.iter_custom(|n| transfer::<StdSync>(producers, consumers, n))
        });
        group.finish();
    }
}

/// The unbounded kinds: `SimpleQueue` (no task tracking) and `Queue`
/// (counting every put for `join`) beside crossbeam's unbounded channel.
fn unbounded(c: &mut Criterion) {
    for (producers, consumers) in [(1, 1), (2, 2)] {
        let mut group = c.benchmark_group(format!("{producers}P/{consumers}C, unbounded"));
        group.throughput(Throughput::Elements(ITEMS));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        group.bench_function("concur::SimpleQueue", |b| {
            b.iter_custom(|n| transfer::<ConcurSimple>(producers, consumers, n))
        });
        group.bench_function("concur::Queue", |b| {
            b.iter_custom(|n| transfer::<ConcurUnbounded>(producers, consumers, n))
        });
        group.bench_function("crossbeam_channel::unbounded", |b| {
            b.iter_custom(|n| transfer::<CrossbeamUnbounded>(producers, consumers, n))
        });
        group.finish();
    }
}

/// Put 1,000 items then get them on one thread: the work of a put and a
/// get with no other thread to wait for, which a busy machine disturbs
/// far less than the transfers above.
fn one_thread(c: &mut Criterion) {
    const BATCH: u64 = 1000;
    let mut group = c.benchmark_group("put+get (1000 items, one thread)");
    group.throughput(Throughput::Elements(BATCH));
    fn round<C: Channel>(tx: &C::Tx, rx: &C::Rx) {
        for i in 0..BATCH {
            C::send(tx, i);
        }
        for _ in 0..BATCH {
            black_box(C::recv(rx));
        }
    }
    macro_rules! side {
        ($name:literal, $channel:ty) => {{
            let (tx, rx) = <$channel>::make();
            group.bench_function($name, |b| b.iter(|| round::<$channel>(&tx, &rx)));
        }};
    }
    side!("concur::Queue (capacity 1024)", ConcurQueue);
    side!("crossbeam_channel::bounded", Crossbeam);
    side!("concur::SimpleQueue", ConcurSimple);
    side!("concur::Queue (unbounded)", ConcurUnbounded);
    side!("crossbeam_channel::unbounded", CrossbeamUnbounded);
    group.finish();
}

fn priority(c: &mut Criterion) {
    const BATCH: u64 = 1000;
    let mut group = c.benchmark_group("priority put+get (1000 items, one thread)");
    group.throughput(Throughput::Elements(BATCH));
    // A fixed scramble so both sides sort the same keys.
    let keys: Vec<u64> = (0..BATCH).map(|i| (i * 7919) % BATCH).collect();
    let queue = PriorityQueue::unbounded();
    group.bench_function("concur::PriorityQueue", |b| {
        b.iter(|| {
            for &k in &keys {
                queue.put(k).unwrap();
            }
            for _ in 0..BATCH {
                black_box(queue.try_get().unwrap());
            }
        })
    });
    let heap = parking_lot::Mutex::new(BinaryHeap::new());
    group.bench_function("BinaryHeap under parking_lot::Mutex", |b| {
        b.iter(|| {
            for &k in &keys {
                heap.lock().push(std::cmp::Reverse(k));
            }
            for _ in 0..BATCH {
                black_box(heap.lock().pop().unwrap());
            }
        })
    });
    // The same heap made stable as `PriorityQueue` is, by an arrival
    // number beside each key: what Python's order among equals costs the
    // bare heap.
    let stable = parking_lot::Mutex::new((BinaryHeap::new(), 0u64));
    group.bench_function("BinaryHeap of (key, arrival) under parking_lot::Mutex", |b| {
        b.iter(|| {
            for &k in &keys {
                let mut held = stable.lock();
                let arrival = held.1;
                held.1 += 1;
                held.0.push(std::cmp::Reverse((k, arrival)));
            }
            for _ in 0..BATCH {
                black_box(stable.lock().0.pop().unwrap());
            }
        })
    });
    group.finish();
}

/// One transfer of `ITEMS` items, in seconds.
fn once<C: Channel>(producers: u64, consumers: u64) -> f64 {
    transfer::<C>(producers, consumers, 1).as_secs_f64()
}

/// Alternating pairs of transfers, concur's and the peer's (see the module
/// docs); prints the median ratio of the peer's time over concur's.
fn pairs() {
    let count = support::pair_count("CONCUR_BENCH_PAIRS", 100);
    type Transfer = fn(u64, u64) -> f64;
    let comparisons: [(&str, &str, Transfer, &str, Transfer); 3] = [
        ("capacity 1024", "concur::Queue", once::<ConcurQueue>, "crossbeam_channel::bounded", once::<Crossbeam>),
        (
            "unbounded",
            "concur::SimpleQueue",
            once::<ConcurSimple>,
            "crossbeam_channel::unbounded",
            once::<CrossbeamUnbounded>,
        ),
        (
            "unbounded",
            "concur::Queue",
            once::<ConcurUnbounded>,
            "crossbeam_channel::unbounded",
            once::<CrossbeamUnbounded>,
        ),
    ];
    for (producers, consumers) in [(1, 1), (2, 2)] {
        for (kind, ours_name, ours, theirs_name, theirs) in comparisons {
            let times = support::in_pairs(count, || ours(producers, consumers), || theirs(producers, consumers));
            let name = format!("{producers}P/{consumers}C, {kind}/{ours_name} vs {theirs_name}");
            support::print_pairs(&name, &times, 1.0, 1e3, "ms", &format!("{ITEMS} items"));
        }
    }
}

criterion_group!(benches, throughput, unbounded, one_thread, priority);

fn main() {
    // `cargo test --benches` runs this without `--bench`: no pairs then.
    if support::selects("pairs") {
        pairs();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
