//! Many calls on many pools at once: 100,000 calls from four submitting
//! threads across three `ThreadPool`s of 1, 3 and 8 workers, watched by
//! `wait` and `as_completed` over big subsets while they run; cancellations
//! racing the workers; a shutdown that cancels while calls are submitted;
//! and a thousand pool futures awaited together on tokio. Every result must
//! be exact: each call run once, or not at all if its future was cancelled,
//! and nothing left pending. Every wait is bounded, so a lost wake-up fails
//! the test instead of hanging CI.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{run_all, spawn, wait_until, STRESS_LIMIT as LIMIT};
use concur::executor::{Shutdown, SubmitError, ThreadPool};
use concur::futures::{as_completed, wait, ConcurrentFuture, FutureError, ReturnWhen};

/// The calls of the big run, and the submitting threads.
const CALLS: usize = 100_000;
const SUBMITTERS: usize = 4;

/// How many futures one `wait` or `as_completed` watches. Kept at 10,000
/// because both are quadratic in it for now (see
/// `wait_and_as_completed_scale_linearly`).
const SUBSET: usize = 10_000;

/// What call `i` returns: distinct for every `i`, so a mixed-up result shows.
fn value_of(i: usize) -> u64 {
    let i = i as u64;
    i * i + 7
}

/// The futures submitting threads accepted, with the number of each call.
type Accepted<T> = Arc<Mutex<Vec<(usize, ConcurrentFuture<T>)>>>;

/// Counts of how often each call ran.
fn counters(n: usize) -> Arc<Vec<AtomicU8>> {
    Arc::new((0..n).map(|_| AtomicU8::new(0)).collect())
}

#[test]
fn hundred_thousand_calls_on_three_pools_each_result_exact() {
    let pools = Arc::new([ThreadPool::new(1).unwrap(), ThreadPool::new(3).unwrap(), ThreadPool::new(8).unwrap()]);
    let runs = counters(CALLS);
    let submitted: Accepted<u64> = Arc::new(Mutex::new(Vec::with_capacity(CALLS)));
    {
        let (pools, runs, submitted) = (pools.clone(), runs.clone(), submitted.clone());
        run_all(SUBMITTERS, move |s| {
            let mut mine = Vec::with_capacity(CALLS / SUBMITTERS + 1);
            for i in (s..CALLS).step_by(SUBMITTERS) {
                let runs = runs.clone();
                let future = pools[i % 3]
                    .submit(move || {
                        runs[i].fetch_add(1, Ordering::Relaxed);
                        value_of(i)
                    })
                    .unwrap();
                mine.push((i, future));
            }
            submitted.lock().unwrap().extend(mine);
        });
    }
    let mut all = std::mem::take(&mut *submitted.lock().unwrap());
    all.sort_unstable_by_key(|(i, _)| *i);
    assert_eq!(all.len(), CALLS);
    let futures: Vec<&ConcurrentFuture<u64>> = all.iter().map(|(_, f)| f).collect();

    // While the calls run: the first to finish of the last subset, then every
    // future of the first subset, each yielded once.
    let last = &futures[CALLS - SUBSET..];
    let (done, not_done) = wait(last.iter().copied(), ReturnWhen::FirstCompleted, Some(LIMIT));
    assert!(!done.is_empty());
    assert_eq!(done.len() + not_done.len(), SUBSET);

    let mut seen = HashSet::new();
    for item in as_completed(futures[..SUBSET].iter().copied(), Some(LIMIT)) {
        let future = item.expect("every call finishes");
        assert!(future.is_done());
        assert!(seen.insert(future as *const ConcurrentFuture<u64>), "yielded twice");
    }
    assert_eq!(seen.len(), SUBSET);

    // Then everything, a subset at a time, with each way of waiting.
    for (n, chunk) in futures.chunks(SUBSET).enumerate() {
        let return_when = [ReturnWhen::AllCompleted, ReturnWhen::FirstException][n % 2];
        let (done, not_done) = wait(chunk.iter().copied(), return_when, Some(LIMIT));
        assert_eq!((done.len(), not_done.len()), (chunk.len(), 0), "{return_when:?}");
    }

    // Each result exact; each call run once.
    for (i, future) in &all {
        assert_eq!(future.result_timeout(Duration::ZERO), Ok(value_of(*i)), "call {i}");
    }
    let ran_once = runs.iter().filter(|r| r.load(Ordering::Relaxed) == 1).count();
    assert_eq!(ran_once, CALLS);
    let expected: u64 = (0..CALLS).map(value_of).sum();
    assert_eq!(all.iter().map(|(_, f)| f.result_timeout(Duration::ZERO).unwrap()).sum::<u64>(), expected);

    let pools = Arc::try_unwrap(pools).unwrap_or_else(|_| panic!("the submitters let go of the pools"));
    spawn(move || drop(pools)).join();
}

#[test]
fn cancelled_calls_never_run_and_the_others_run_once() {
    const N: usize = 20_000;
    let pool = ThreadPool::new(2).unwrap();
    let runs = counters(N);
    // The first call of each worker waits until the cancelling has begun, so
    // that some cancellations surely win; after that, they race.
    let gate = common::Gate::new();
    let futures: Arc<Vec<ConcurrentFuture<usize>>> = Arc::new(
        (0..N)
            .map(|i| {
                let (runs, gate) = (runs.clone(), gate.clone());
                pool.submit(move || {
                    if i < 2 {
                        assert!(gate.wait());
                    }
                    runs[i].fetch_add(1, Ordering::Relaxed);
                    i
                })
                .unwrap()
            })
            .collect(),
    );
    // Two threads cancel every other call while the workers run them.
    {
        let futures = futures.clone();
        run_all(2, move |t| {
            for (n, future) in futures.iter().skip(2 * t).step_by(4).enumerate() {
                future.cancel();
                if n == 100 {
                    gate.open();
                }
            }
        });
    }
    let (done, not_done) = wait(futures.iter().take(N / 2), ReturnWhen::AllCompleted, Some(LIMIT));
    assert_eq!((done.len(), not_done.len()), (N / 2, 0));
    let (done, not_done) = wait(futures.iter().skip(N / 2), ReturnWhen::AllCompleted, Some(LIMIT));
    assert_eq!((done.len(), not_done.len()), (N / 2, 0));
    let mut cancelled = 0;
    for (i, future) in futures.iter().enumerate() {
        let ran = runs[i].load(Ordering::Relaxed);
        if future.is_cancelled() {
            cancelled += 1;
            assert_eq!(ran, 0, "call {i} was cancelled but ran");
            assert_eq!(future.result_timeout(Duration::ZERO), Err(FutureError::Cancelled));
        } else {
            assert_eq!(ran, 1, "call {i}");
            assert_eq!(future.result_timeout(Duration::ZERO), Ok(i));
        }
    }
    // Some cancellations won the race, and only even calls were cancelled.
    assert!(cancelled > 0);
    assert!(futures.iter().enumerate().all(|(i, f)| i % 2 == 0 || !f.is_cancelled()));
    spawn(move || drop(pool)).join();
}

#[test]
fn shutdown_with_cancel_futures_while_threads_submit() {
    const PER_SUBMITTER: usize = 5_000;
    let pool = Arc::new(ThreadPool::new(4).unwrap());
    let runs = counters(3 * PER_SUBMITTER);
    let accepted: Accepted<usize> = Arc::default();
    let started = Arc::new(AtomicUsize::new(0));
    let submitters = {
        let (pool, runs, accepted, started) = (pool.clone(), runs.clone(), accepted.clone(), started.clone());
        thread::spawn(move || {
            run_all(3, move |s| {
                started.fetch_add(1, Ordering::SeqCst);
                let mut mine = Vec::new();
                for i in (s * PER_SUBMITTER)..((s + 1) * PER_SUBMITTER) {
                    let runs = runs.clone();
                    match pool.submit(move || {
                        runs[i].fetch_add(1, Ordering::Relaxed);
                        i
                    }) {
                        Ok(future) => mine.push((i, future)),
                        Err(SubmitError::ShutDown) => break,
                        Err(other) => panic!("{other}"),
                    }
                }
                accepted.lock().unwrap().extend(mine);
            })
        })
    };
    wait_until("the submitters started", || started.load(Ordering::SeqCst) == 3);
    thread::sleep(Duration::from_millis(5));
    {
        let pool = pool.clone();
        spawn(move || pool.shutdown(Shutdown::wait().cancel_futures())).join();
    }
    submitters.join().unwrap();
    let accepted = std::mem::take(&mut *accepted.lock().unwrap());
    // Nothing accepted is left pending.
    for chunk in accepted.chunks(SUBSET) {
        let (_, not_done) = wait(chunk.iter().map(|(_, f)| f), ReturnWhen::AllCompleted, Some(LIMIT));
        assert!(not_done.is_empty(), "{} accepted calls never finished", not_done.len());
    }
    for (i, future) in &accepted {
        let ran = runs[*i].load(Ordering::Relaxed);
        if future.is_cancelled() {
            assert_eq!(ran, 0, "call {i} was cancelled but ran");
        } else {
            assert_eq!((ran, future.result_timeout(Duration::ZERO)), (1, Ok(*i)), "call {i}");
        }
    }
    // A call that was refused never ran.
    let accepted_ids: HashSet<usize> = accepted.iter().map(|(i, _)| *i).collect();
    assert!((0..3 * PER_SUBMITTER).filter(|i| !accepted_ids.contains(i)).all(|i| runs[i].load(Ordering::Relaxed) == 0));
    let pool = Arc::try_unwrap(pool).unwrap_or_else(|_| panic!("the submitters let go of the pool"));
    spawn(move || drop(pool)).join();
}

#[test]
fn a_thousand_pool_futures_awaited_together_on_tokio() {
    const N: u64 = 1_000;
    let pool = ThreadPool::new(3).unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let futures: Vec<ConcurrentFuture<u64>> = (0..N)
        .map(|i| {
            let release = release.clone();
            pool.submit(move || {
                // The first calls finish only after every task awaits.
                while i < 3 && !release.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(1));
                }
                i * 3
            })
            .unwrap()
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let total = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for future in futures {
            tasks.spawn(future);
        }
        tokio::task::yield_now().await;
        release.store(true, Ordering::SeqCst);
        tokio::time::timeout(LIMIT, async {
            let mut total = 0;
            while let Some(joined) = tasks.join_next().await {
                total += joined.expect("no task panics").expect("no call fails");
            }
            total
        })
        .await
        .expect("every awaited future woke its task")
    });
    assert_eq!(total, (0..N).map(|i| i * 3).sum::<u64>());
    spawn(move || drop(pool)).join();
}

/// The fastest of three runs of `wait` and `as_completed` over `n` finished
/// futures.
fn watch_time(n: usize) -> Duration {
    let futures: Vec<ConcurrentFuture<u32>> = (0..n)
        .map(|_| {
            let future = ConcurrentFuture::new();
            future.set_result(1).unwrap();
            future
        })
        .collect();
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let (done, _) = wait(&futures, ReturnWhen::AllCompleted, Some(LIMIT));
            assert_eq!(done.len(), n);
            assert_eq!(as_completed(&futures, Some(LIMIT)).count(), n);
            start.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn wait_and_as_completed_scale_linearly() {
    let small = watch_time(4_000);
    let big = watch_time(32_000);
    // 8 times the futures: about 8 times the time if linear, 64 if quadratic.
    assert!(big < small * 24, "4,000 futures took {small:?}, 32,000 took {big:?}");
}
