//! Many producers and consumers on every queue kind, threads and async tasks
//! mixed, and async gets cancelled by the thousand while items flow: the
//! exact multiset of items must come out — nothing lost, nothing doubled.
//! Every wait is bounded, so a lost wake-up fails the test instead of
//! hanging CI.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use concur::queue::{LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue};

mod common;

use common::{run_all, STRESS_LIMIT as LIMIT};

/// The blocking calls every kind has, so one stress routine serves all four.
trait Kind: Send + Sync + 'static {
    fn make() -> Self;
    fn put(&self, item: u32) -> Result<(), ShutDown<u32>>;
    fn get(&self) -> Result<u32, ShutDown>;
    fn shutdown(&self);
}

macro_rules! kind {
    ($ty:ty, $make:expr) => {
        impl Kind for $ty {
            fn make() -> Self {
                $make
            }
            fn put(&self, item: u32) -> Result<(), ShutDown<u32>> {
                <$ty>::put(self, item)
            }
            fn get(&self) -> Result<u32, ShutDown> {
                <$ty>::get(self)
            }
            fn shutdown(&self) {
                <$ty>::shutdown(self)
            }
        }
    };
}

kind!(Queue<u32>, Queue::bounded(1024).unwrap());
kind!(LifoQueue<u32>, LifoQueue::bounded(1024).unwrap());
kind!(PriorityQueue<u32>, PriorityQueue::bounded(1024).unwrap());
kind!(SimpleQueue<u32>, SimpleQueue::new());

/// A tally of which items came out, and how often.
struct Tally(Vec<AtomicU8>);

impl Tally {
    fn new(items: usize) -> Tally {
        Tally((0..items).map(|_| AtomicU8::new(0)).collect())
    }
    fn see(&self, item: u32) {
        self.0[item as usize].fetch_add(1, Ordering::Relaxed);
    }
    fn assert_each_once(&self) {
        let wrong: Vec<(usize, u8)> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n.load(Ordering::Relaxed)))
            .filter(|&(_, n)| n != 1)
            .take(5)
            .collect();
        assert!(wrong.is_empty(), "items not seen exactly once (item, times): {wrong:?}");
    }
}

/// 8 producers and 8 consumers move `ITEMS` items; consumers run until the
/// queue is shut down after the producers finish.
fn eight_by_eight<K: Kind>() {
    const ITEMS: u32 = 1_000_000;
    const SIDE: u32 = 8;
    let queue = Arc::new(K::make());
    let tally = Arc::new(Tally::new(ITEMS as usize));
    let producers_left = Arc::new(AtomicUsize::new(SIDE as usize));
    let (q, t, left) = (queue.clone(), tally.clone(), producers_left.clone());
    run_all(2 * SIDE as usize, move |i| {
        let i = i as u32;
        if i < SIDE {
            for item in (i..ITEMS).step_by(SIDE as usize) {
                q.put(item).unwrap();
            }
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                q.shutdown(); // the last producer out ends the consumers' loops
            }
        } else {
            while let Ok(item) = q.get() {
                t.see(item);
            }
        }
    });
    tally.assert_each_once();
}

#[test]
fn queue_8p_8c_one_million() {
    eight_by_eight::<Queue<u32>>();
}

#[test]
fn lifo_queue_8p_8c_one_million() {
    eight_by_eight::<LifoQueue<u32>>();
}

#[test]
fn priority_queue_8p_8c_one_million() {
    eight_by_eight::<PriorityQueue<u32>>();
}

#[test]
fn simple_queue_8p_8c_one_million() {
    eight_by_eight::<SimpleQueue<u32>>();
}

#[test]
fn task_done_and_join_under_load() {
    const ITEMS: u32 = 100_000;
    let queue = Arc::new(Queue::bounded(64).unwrap());
    let handled = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let (q, h) = (queue.clone(), handled.clone());
            std::thread::spawn(move || {
                for _item in q.iter() {
                    h.fetch_add(1, Ordering::Relaxed);
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    let (q, _) = (queue.clone(), ());
    run_all(4, move |p| {
        for item in (p as u32..ITEMS).step_by(4) {
            q.put(item).unwrap();
        }
    });
    assert!(queue.join_timeout(LIMIT), "join did not return: a task_done was lost");
    assert_eq!(handled.load(Ordering::Relaxed), ITEMS as usize);
    assert!(queue.task_done().is_err(), "every task was already done");
    queue.shutdown();
    for c in consumers {
        c.join().unwrap();
    }
}

#[test]
fn threads_and_async_tasks_share_one_queue() {
    const ITEMS: u32 = 200_000;
    const PER_SIDE: u32 = 4; // of each: thread producers, task producers, thread consumers, task consumers
    let queue = Arc::new(Queue::bounded(256).unwrap());
    let tally = Arc::new(Tally::new(ITEMS as usize));
    let producers_left = Arc::new(AtomicUsize::new(2 * PER_SIDE as usize));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // Producers: every fourth block of items goes to a task producer.
    let stride = 2 * PER_SIDE;
    let finish = {
        let (queue, left) = (queue.clone(), producers_left.clone());
        move || {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                queue.shutdown();
            }
        }
    };
    let mut tasks = Vec::new();
    for p in 0..PER_SIDE {
        let (q, finish) = (queue.clone(), finish.clone());
        tasks.push(runtime.spawn(async move {
            for item in (p..ITEMS).step_by(stride as usize) {
                q.put_async(item).await.unwrap();
            }
            finish();
        }));
    }
    for _ in 0..PER_SIDE {
        let (q, t) = (queue.clone(), tally.clone());
        tasks.push(runtime.spawn(async move {
            while let Ok(item) = q.get_async().await {
                t.see(item);
            }
        }));
    }
    let (q, t, finish) = (queue.clone(), tally.clone(), finish.clone());
    run_all(2 * PER_SIDE as usize, move |i| {
        let i = i as u32;
        if i < PER_SIDE {
            for item in (PER_SIDE + i..ITEMS).step_by(stride as usize) {
                q.put(item).unwrap();
            }
            finish();
        } else {
            while let Ok(item) = q.get() {
                t.see(item);
            }
        }
    });
    runtime.block_on(async {
        for task in tasks {
            tokio::time::timeout(LIMIT, task).await.expect("an async task did not finish").unwrap();
        }
    });
    tally.assert_each_once();
}

#[test]
fn cancelled_async_gets_lose_no_item() {
    const ITEMS: u32 = 50_000;
    const IMPATIENT: usize = 8;
    let queue = Arc::new(Queue::bounded(32).unwrap());
    let tally = Arc::new(Tally::new(ITEMS as usize));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // Impatient consumers give up on most gets after a few microseconds,
    // dropping the pending future — often right after it was woken.
    let mut tasks = Vec::new();
    for n in 0..IMPATIENT {
        let (q, t, c) = (queue.clone(), tally.clone(), cancelled.clone());
        tasks.push(runtime.spawn(async move {
            let mut round = n as u64;
            loop {
                round += 1;
                let patience = Duration::from_micros(1 + round % 50);
                tokio::select! {
                    got = q.get_async() => match got {
                        Ok(item) => t.see(item),
                        Err(ShutDown(())) => break,
                    },
                    () = tokio::time::sleep(patience) => {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // One steady thread consumer too, so a wake-up lost to a cancelled
    // future would strand items only if it was passed to nobody.
    let steady = {
        let (q, t) = (queue.clone(), tally.clone());
        std::thread::spawn(move || {
            while let Ok(item) = q.get_timeout(LIMIT) {
                t.see(item);
            }
        })
    };
    let q = queue.clone();
    run_all(2, move |p| {
        for item in (p as u32..ITEMS).step_by(2) {
            q.put(item).unwrap();
            if item % 64 == 0 {
                // Let the consumers drain, so gets wait and get cancelled.
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    // Every item must be taken before the shutdown: wait for the queue to
    // empty, bounded.
    let deadline = std::time::Instant::now() + LIMIT;
    while !queue.is_empty() {
        assert!(std::time::Instant::now() < deadline, "items stranded in the queue");
        std::thread::sleep(Duration::from_millis(1));
    }
    queue.shutdown();
    runtime.block_on(async {
        for task in tasks {
            tokio::time::timeout(LIMIT, task).await.expect("a consumer task did not finish").unwrap();
        }
    });
    steady.join().unwrap();
    tally.assert_each_once();
    assert!(cancelled.load(Ordering::Relaxed) >= 1_000, "too few gets were cancelled to test anything");
}
