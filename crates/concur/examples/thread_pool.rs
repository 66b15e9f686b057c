//! Thread pools: `ThreadPool` for everyday work, and the pool it saves you
//! from writing — worker threads fed from a `Queue` and stopped by sentinels.
//!
//! Part one walks through `ThreadPool`, Python's `ThreadPoolExecutor`:
//! `submit` hands back a `ConcurrentFuture` at once; `is_done()` (Python's
//! `done()`) is false while the call waits behind a closed gate and true
//! once `result()` has returned; `map`
//! gives its results in the order of its items even when the later items
//! finish first; `as_completed` gives the futures in the order they finish,
//! which here is the reverse of the order they were submitted in.
//!
//! Part two builds a pool by hand, as one does in Python with `queue.Queue`
//! and `threading.Thread`: a few worker threads loop on `get()`, run each job
//! they take and call `task_done`, and stop when they take `None`, the stop
//! sentinel. The main thread puts one sentinel per worker — a worker takes
//! one and leaves, so each worker gets exactly one — then `join`s the queue
//! and the threads. The same work then goes through `ThreadPool::map` in one
//! line, and both give the same answers.
//!
//! Every order printed here is fixed by the program (a gate, a relay of done
//! callbacks, sorting by job number), not by timing, so the output is the
//! same on every run.
//!
//! Run with `cargo run -p concur --example thread_pool`.

use std::sync::Arc;
use std::time::Duration;

use concur::executor::ThreadPool;
use concur::futures::as_completed;
use concur::queue::Queue;
use concur::sync::Event;
use concur::thread::{Builder, JoinHandle};

/// How long any wait in this example may take before it counts as a bug.
const PATIENCE: Duration = Duration::from_secs(10);

/// Threads in each pool.
const WORKERS: usize = 3;

/// The jobs for both pools: count the primes below each limit.
const LIMITS: [u32; 8] = [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000];

/// A job for the hand-made pool: any call that can move to another thread.
type Job = Box<dyn FnOnce() + Send>;

fn count_primes_below(limit: u32) -> usize {
    (2..limit).filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)).count()
}

fn join_list<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|item| item.to_string()).collect::<Vec<_>>().join(", ")
}

/// `submit`, `done`, `result`, `map` and `as_completed` on one pool.
fn executor_tour() {
    println!("== ThreadPool({WORKERS}): submit, done, result, map, as_completed ==");
    let pool = ThreadPool::new(WORKERS).unwrap();

    // The calls wait for the gate, so none can be done before it opens.
    let gate = Arc::new(Event::new());
    let sums: Vec<_> = [10_u64, 100, 1_000]
        .into_iter()
        .map(|n| {
            let gate = gate.clone();
            pool.submit(move || {
                assert!(gate.wait_timeout(PATIENCE), "the gate opens");
                (1..=n).sum::<u64>()
            })
            .expect("the pool is open")
        })
        .collect();
    println!("submitted 3 calls; is_done() at once: {}", join_list(sums.iter().map(|f| f.is_done())));
    gate.set();
    let values = sums.iter().map(|f| f.result().expect("the call does not panic"));
    println!("gate opened; result() of 1+..+n for n = 10, 100, 1000: {}", join_list(values));
    println!("is_done() after result(): {}", join_list(sums.iter().map(|f| f.is_done())));

    // The smaller the number, the longer the call sleeps: the last item
    // finishes first, yet `map` hands the results back in input order.
    let squares = pool
        .map(
            |n: u64| {
                std::thread::sleep(Duration::from_millis(80 - 8 * n));
                n * n
            },
            [1, 4, 8],
        )
        .expect("the pool is open");
    let squares = squares.map(|r| r.expect("the call does not panic"));
    println!("map(n * n) over 1, 4, 8 (8 finishes first): {}", join_list(squares));

    // A relay fixes the finishing order without trusting sleeps: each call
    // waits for its turn, and a done callback hands the turn on once the
    // call before it has finished. The first turn is given only after
    // `as_completed` is watching, so every finish is seen as it happens.
    let dishes = ["eggs", "tea", "toast"];
    let turns: Vec<Arc<Event>> = dishes.iter().map(|_| Arc::new(Event::new())).collect();
    let orders: Vec<_> = dishes
        .into_iter()
        .zip(&turns)
        .map(|(dish, turn)| {
            let turn = turn.clone();
            pool.submit(move || {
                assert!(turn.wait_timeout(PATIENCE), "the call gets its turn");
                dish
            })
            .expect("the pool is open")
        })
        .collect();
    let relay = [2, 1, 0]; // toast, then tea, then eggs
    for pair in relay.windows(2) {
        let next = turns[pair[1]].clone();
        orders[pair[0]].add_done_callback(move |_| next.set());
    }
    let finishing = as_completed(&orders, Some(PATIENCE));
    turns[relay[0]].set();
    let finished = finishing.map(|f| f.expect("all finish in time").result().expect("the call does not panic"));
    println!("as_completed over {} (submitted in that order): {}", join_list(dishes), join_list(finished));
}

/// One worker of the hand-made pool: runs jobs until it takes a sentinel;
/// returns how many jobs it ran.
fn worker(jobs: &Queue<Option<Job>>) -> usize {
    let mut ran = 0;
    loop {
        let taken = jobs.get().expect("the jobs queue is never shut down");
        // `task_done` for the sentinel too: `join` counts every item put.
        let Some(job) = taken else {
            jobs.task_done().expect("one task_done per item taken");
            return ran;
        };
        job();
        ran += 1;
        jobs.task_done().expect("one task_done per item taken");
    }
}

/// The hand-made pool; returns the prime counts in the order of `LIMITS`.
fn hand_made_pool() -> Vec<usize> {
    println!("== a hand-made pool: {WORKERS} threads, a Queue<Option<Job>>, one None per worker ==");
    // Bounded like the workers' number: the main thread waits for room
    // instead of queueing everything at once.
    let jobs: Arc<Queue<Option<Job>>> = Arc::new(Queue::bounded(WORKERS).unwrap());
    let answers: Arc<Queue<(usize, usize)>> = Arc::new(Queue::unbounded());

    let workers: Vec<JoinHandle<usize>> = (0..WORKERS)
        .map(|w| {
            let jobs = jobs.clone();
            Builder::new().name(format!("worker-{w}")).spawn(move || worker(&jobs)).expect("the OS starts a thread")
        })
        .collect();

    for (index, limit) in LIMITS.into_iter().enumerate() {
        let answers = answers.clone();
        let job: Job = Box::new(move || {
            answers.put((index, count_primes_below(limit))).expect("the answers queue is never shut down");
        });
        jobs.put(Some(job)).expect("the jobs queue is never shut down");
    }
    for _ in 0..WORKERS {
        jobs.put(None).expect("the jobs queue is never shut down");
    }
    println!("put {} jobs and {WORKERS} stop sentinels", LIMITS.len());

    jobs.join();
    println!("join() returned: {} items unfinished", jobs.unfinished_tasks());
    let mut ran = 0;
    for handle in workers {
        let name = handle.name().to_owned();
        ran += handle.join().expect("a worker does not panic");
        println!("{name} took its sentinel and stopped");
    }
    println!("the workers ran {ran} jobs in all");

    // Answers arrive in finishing order; the job number puts them back.
    let mut found: Vec<(usize, usize)> = answers.drain().collect();
    found.sort_unstable();
    found.into_iter().map(|(_, count)| count).collect()
}

fn main() {
    executor_tour();
    println!();

    let by_hand = hand_made_pool();
    for (limit, count) in LIMITS.iter().zip(&by_hand) {
        println!("primes below {limit}: {count}");
    }
    println!();

    println!("== the same work through ThreadPool({WORKERS}).map ==");
    let pool = ThreadPool::new(WORKERS).unwrap();
    let by_pool: Vec<usize> = pool
        .map(count_primes_below, LIMITS)
        .expect("the pool is open")
        .map(|r| r.expect("the call does not panic"))
        .collect();
    println!("primes below {}: {}", join_list(LIMITS), join_list(&by_pool));
    println!("both pools agree: {}", by_hand == by_pool);
    assert_eq!(by_hand, by_pool);
}
