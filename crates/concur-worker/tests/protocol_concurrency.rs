//! Atomicity under concurrency: clients racing on one queue never get the
//! same task, every task is fetched exactly once, and a task whose worker is
//! reaped mid-run is acknowledged exactly once in the end.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{tasks, RedisServer};
use concur_worker::protocol::{Acked, Task};
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::json;

/// Every stress loop here stops by this deadline, so a bug fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn two_clients_fetching_from_one_queue_never_get_the_same_task() {
    let server = RedisServer::start();
    let mut producer = server.queue(QueueConfig::default());
    let ids: HashSet<String> = producer
        .enqueue_many("noop", (0..2000).map(|n| vec![json!(n)]), &EnqueueOptions::default())
        .unwrap()
        .into_iter()
        .collect();

    let handles: Vec<_> = (0..2)
        .map(|n| {
            let mut queue = producer.try_clone().unwrap();
            thread::spawn(move || {
                let worker = format!("w{n}");
                queue.heartbeat(&worker, Duration::from_secs(120)).unwrap();
                let mut got = Vec::new();
                let start = Instant::now();
                // Batch sizes vary so the two clients' scripts interleave at many points.
                for max in (1..=7).cycle() {
                    let batch = tasks(queue.fetch(&worker, max, Duration::ZERO).unwrap());
                    if batch.is_empty() {
                        break;
                    }
                    got.extend(batch.iter().map(|t| t.id().to_owned()));
                    assert!(start.elapsed() < LIMIT, "fetching took too long");
                }
                got
            })
        })
        .collect();
    let results: Vec<Vec<String>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let first: HashSet<&String> = results[0].iter().collect();
    let second: HashSet<&String> = results[1].iter().collect();
    assert!(first.is_disjoint(&second), "a task was handed to both clients");
    assert_eq!(first.len() + second.len(), 2000);
    assert_eq!(results[0].len() + results[1].len(), 2000, "a client got a task twice");
    let union: HashSet<String> = results.into_iter().flatten().collect();
    assert_eq!(union, ids);
}

#[test]
fn ten_thousand_tasks_fetched_by_four_threads_each_arrive_exactly_once() {
    const TOTAL: usize = 10_000;
    let server = RedisServer::start();
    let mut producer = server.queue(QueueConfig::default());
    let fetched = Arc::new(AtomicUsize::new(0));

    // The consumers start first and block in BLMOVE while the producer pushes,
    // so both the blocking and the batched path race.
    let consumers: Vec<_> = (0..4)
        .map(|n| {
            let mut queue = producer.try_clone().unwrap();
            let fetched = Arc::clone(&fetched);
            thread::spawn(move || {
                let worker = format!("w{n}");
                queue.heartbeat(&worker, Duration::from_secs(300)).unwrap();
                let mut got = Vec::new();
                let start = Instant::now();
                while fetched.load(Ordering::SeqCst) < TOTAL {
                    assert!(
                        start.elapsed() < LIMIT,
                        "only {} of {TOTAL} tasks arrived",
                        fetched.load(Ordering::SeqCst)
                    );
                    let batch = tasks(queue.fetch(&worker, 50, Duration::from_millis(100)).unwrap());
                    fetched.fetch_add(batch.len(), Ordering::SeqCst);
                    let done: Vec<(&Task, &serde_json::Value)> =
                        batch.iter().map(|t| (t, &serde_json::Value::Null)).collect();
                    assert!(queue.ack_many(&worker, &done).unwrap().iter().all(|&acked| acked == Acked::Done));
                    got.extend(batch.iter().map(|t| t.id().to_owned()));
                }
                got
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(TOTAL);
    for chunk in 0..10 {
        let args = (0..TOTAL / 10).map(|n| vec![json!(chunk * 1000 + n)]);
        ids.extend(producer.enqueue_many("noop", args, &EnqueueOptions::default()).unwrap());
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for consumer in consumers {
        for id in consumer.join().unwrap() {
            *seen.entry(id).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "{} tasks arrived more than once, e.g. {:?}", twice.len(), twice.first());
    assert_eq!(seen.len(), TOTAL);
    assert!(ids.iter().all(|id| seen.contains_key(id)), "a task never arrived");
    let status = producer.status().unwrap();
    assert_eq!((status.pending, status.processing(), status.done), (0, 0, TOTAL as u64));
}

#[test]
fn a_task_reaped_while_it_runs_is_acknowledged_exactly_once() {
    const TOTAL: usize = 300;
    let server = RedisServer::start();
    // No poison limit: the same task may be reaped from the slow worker many times.
    let config = QueueConfig { results_cap: 0, max_reaps: 0, ..QueueConfig::default() };
    let mut producer = server.queue(config);
    producer.enqueue_many("noop", (0..TOTAL).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();

    // A slow worker whose heartbeat lapses for longer than the reapers'
    // second look while it runs its tasks, so the reaper keeps taking them,
    // and a healthy worker that reaps.
    let mut slow_queue = producer.try_clone().unwrap();
    let slow = thread::spawn(move || {
        let mut acks = Vec::new();
        let start = Instant::now();
        loop {
            slow_queue.heartbeat("slow", Duration::from_millis(30)).unwrap();
            let batch = tasks(slow_queue.fetch("slow", 5, Duration::ZERO).unwrap());
            if batch.is_empty() || start.elapsed() > LIMIT {
                break acks;
            }
            thread::sleep(Duration::from_millis(120));
            for task in &batch {
                acks.push((task.id().to_owned(), slow_queue.ack("slow", task, &json!(null)).unwrap()));
            }
        }
    });
    let mut queue = producer.try_clone().unwrap();
    let mut acks = Vec::new();
    queue.heartbeat("healthy", Duration::from_secs(300)).unwrap();
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < LIMIT, "the tasks were not all done in time");
        queue.reap(Duration::from_millis(30)).unwrap();
        let batch = tasks(queue.fetch("healthy", 3, Duration::from_millis(20)).unwrap());
        for task in &batch {
            acks.push((task.id().to_owned(), queue.ack("healthy", task, &json!(null)).unwrap()));
        }
        let status = queue.status().unwrap();
        if batch.is_empty() && status.pending == 0 && status.processing() == 0 && slow.is_finished() {
            break;
        }
    }
    acks.extend(slow.join().unwrap());
    let mut held_acks: HashMap<String, usize> = HashMap::new();
    for (id, held) in &acks {
        let count = held_acks.entry(id.clone()).or_default();
        if *held == Acked::Done {
            *count += 1;
        }
    }
    assert_eq!(held_acks.len(), TOTAL, "some tasks were never run");
    let wrong: Vec<_> = held_acks.iter().filter(|(_, &n)| n != 1).collect();
    assert!(wrong.is_empty(), "tasks not acknowledged exactly once: {wrong:?}");
    let status = queue.status().unwrap();
    assert_eq!(status.done, TOTAL as u64);
    assert!(status.reaped > 0, "the test never made the reaper take a task");
    assert!(acks.iter().any(|(_, acked)| *acked == Acked::Reaped), "no acknowledgement came after a reap");
    assert!(acks.iter().all(|(_, acked)| *acked != Acked::NotHeld), "a task vanished without a reap");
}
