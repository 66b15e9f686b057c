//! CPU-bound work three ways: one call after another, in a `ProcessPool`
//! (one worker process per core), and in a `ThreadPool` of the same size.
//!
//! In Python only the process pool would scale: threads share one
//! interpreter lock. Here there is no such lock, so threads scale as well;
//! processes add isolation — a worker that crashes takes only its own call
//! with it, as the last part shows.
//!
//! The worker processes are this program started again: `main` registers
//! the functions they may run and calls `serve_if_worker` before anything
//! else.
//!
//! Run with `cargo run -p concur --example process_pool`.

use std::time::Instant;

use concur::executor::{ProcessPool, Registry, ThreadPool};
use concur::futures::FutureError;

/// How many primes are below `limit`, by trial division: slow on purpose.
fn count_primes(limit: u64) -> u64 {
    (2..limit).filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)).count() as u64
}

fn crash(_: ()) -> u64 {
    std::process::abort()
}

const LIMITS: [u64; 8] = [150_000, 160_000, 170_000, 180_000, 190_000, 200_000, 210_000, 220_000];

fn main() {
    let mut registry = Registry::new();
    let count_in_worker = registry.register("count_primes", count_primes);
    let crash_in_worker = registry.register("crash", crash);
    registry.serve_if_worker();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{} calls, {cores} cores", LIMITS.len());

    let started = Instant::now();
    let serial: Vec<u64> = LIMITS.iter().map(|&limit| count_primes(limit)).collect();
    let serial_time = started.elapsed();
    println!("one after another: {serial_time:.2?}");

    // `available_parallelism` is at least 1, so the pool has a worker.
    let processes = ProcessPool::new(cores).unwrap();
    let started = Instant::now();
    let in_processes: Vec<u64> = processes.map(&count_in_worker, LIMITS).unwrap().map(Result::unwrap).collect();
    let process_time = started.elapsed();
    println!(
        "ProcessPool({cores}): {process_time:.2?}, {:.1}x",
        serial_time.as_secs_f64() / process_time.as_secs_f64()
    );

    let threads = ThreadPool::new(cores).unwrap();
    let started = Instant::now();
    let in_threads: Vec<u64> = threads.map(count_primes, LIMITS).unwrap().map(Result::unwrap).collect();
    let thread_time = started.elapsed();
    println!("ThreadPool({cores}): {thread_time:.2?}, {:.1}x", serial_time.as_secs_f64() / thread_time.as_secs_f64());

    assert_eq!(serial, in_processes);
    assert_eq!(serial, in_threads);
    println!("all three agree: primes below {} = {}", LIMITS[0], serial[0]);

    // A worker that aborts fails only its own call; the pool replaces it.
    let crashed = processes.submit(&crash_in_worker, ()).unwrap();
    match crashed.result() {
        Err(FutureError::Failed(why)) => println!("a crashing call: {why}"),
        other => println!("unexpected: {other:?}"),
    }
    let after = processes.submit(&count_in_worker, 1_000).unwrap().result().unwrap();
    println!("the pool goes on: primes below 1000 = {after}");
}
