//! `task_done` and `join`: waiting until the work is finished, not merely
//! taken.
//!
//! Three producer threads put numbered parcels on one bounded `Queue`. Three
//! consumer threads take them in `for parcel in &queue` loops, and one async
//! task takes them with `get_async` on a tokio runtime in its own thread: the
//! same queue serves both kinds of consumer. Every consumer records the parcel
//! and only then calls `task_done`.
//!
//! The main thread waits for the producers, then calls `join`, which returns
//! once every parcel put has been marked done, so at that moment the tally is
//! already complete. Then `shutdown(false)` ends the consumers' loops (a
//! queue left open would keep them waiting for ever) and refuses any later
//! `put`, handing the item back.
//!
//! Python's `queue.Queue` has the same `task_done` / `join`, and
//! `shutdown` since 3.13; it has no `get_async`, so there a coroutine cannot
//! share a queue with threads.
//!
//! Run with `cargo run -p concur --example task_done_join`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use concur::queue::{Queue, ShutDown};
use concur::thread::{Builder, JoinHandle};

const PRODUCERS: u64 = 3;
const PARCELS_EACH: u64 = 2_000;
const THREAD_CONSUMERS: usize = 3;

/// What the consumers have handled so far, shared by all of them.
#[derive(Default)]
struct Tally {
    count: AtomicU64,
    sum: AtomicU64,
}

impl Tally {
    fn record(&self, parcel: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(parcel, Ordering::Relaxed);
    }
}

fn spawn(name: String, f: impl FnOnce() -> u64 + Send + 'static) -> JoinHandle<u64> {
    Builder::new().name(name).spawn(f).expect("the OS starts a thread")
}

fn main() {
    let queue = Arc::new(Queue::bounded(16).unwrap());
    let tally = Arc::new(Tally::default());

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let queue = queue.clone();
            spawn(format!("producer-{p}"), move || {
                for i in 0..PARCELS_EACH {
                    queue.put(p * PARCELS_EACH + i).expect("the queue is open while producers run");
                }
                PARCELS_EACH
            })
        })
        .collect();

    let mut consumers: Vec<_> = (0..THREAD_CONSUMERS)
        .map(|c| {
            let (queue, tally) = (queue.clone(), tally.clone());
            spawn(format!("consumer-{c}"), move || {
                let mut mine = 0;
                for parcel in &*queue {
                    tally.record(parcel);
                    mine += 1;
                    queue.task_done().expect("one task_done per parcel taken");
                }
                mine
            })
        })
        .collect();

    consumers.push({
        let (queue, tally) = (queue.clone(), tally.clone());
        spawn("async-consumer".to_owned(), move || {
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a tokio runtime starts");
            runtime.block_on(async {
                let mut mine = 0;
                while let Ok(parcel) = queue.get_async().await {
                    tally.record(parcel);
                    mine += 1;
                    queue.task_done().expect("one task_done per parcel taken");
                }
                mine
            })
        })
    });

    let produced: u64 = producers.into_iter().map(|p| p.join().expect("a producer does not panic")).sum();
    println!("{PRODUCERS} producers put {produced} parcels");

    queue.join();
    let handled = tally.count.load(Ordering::Relaxed);
    println!("join() returned with {handled} of {produced} parcels handled, {} left in the queue", queue.len());

    queue.shutdown();
    if let Err(ShutDown(parcel)) = queue.put(produced) {
        println!("put after shutdown refused, parcel {parcel} handed back");
    }
    let taken: u64 = consumers.into_iter().map(|c| c.join().expect("a consumer does not panic")).sum();
    println!("{THREAD_CONSUMERS} consumer threads and 1 async consumer stopped after taking {taken} parcels");

    let expected_sum = produced * (produced - 1) / 2;
    let sum = tally.sum.load(Ordering::Relaxed);
    println!("sum of parcel numbers: {sum} (expected {expected_sum})");
    assert_eq!((handled, taken, sum), (produced, produced, expected_sum));
}
