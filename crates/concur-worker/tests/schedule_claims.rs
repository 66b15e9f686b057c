//! Schedules against a real redis-server: each tick is enqueued exactly once
//! however many workers claim it, missed ticks follow the schedule's policy,
//! status shows the last and next tick, and three workers running an
//! every-second schedule for twenty seconds — one of them restarted in the
//! middle — enqueue each tick once.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{cmd, RedisServer};
use concur_worker::protocol::Claim;
use concur_worker::{Missed, QueueConfig, Schedule, Worker};
use serde_json::{json, Value};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The ticks (as whole seconds) of the tasks waiting in `queue`.
fn pending_ticks(server: &RedisServer, queue: &str) -> Vec<u64> {
    let raw: Vec<String> = cmd(&mut server.raw(), &["LRANGE", queue, "0", "-1"]);
    let mut ticks: Vec<u64> = raw
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).expect("an envelope")["eta"].as_f64().expect("a tick") as u64)
        .collect();
    ticks.sort_unstable();
    ticks
}

#[test]
fn each_tick_is_enqueued_once_and_missed_ticks_follow_the_policy() {
    let server = RedisServer::start();
    let mut a = server.queue(QueueConfig::named("jobs"));
    let mut b = server.queue(QueueConfig::named("jobs"));
    let every = Schedule::every("tick", Duration::from_secs(60), "echo").unwrap().args(vec![json!("hi")]);

    // A schedule never claimed before, late on its first tick: recorded only.
    assert_eq!(a.claim_tick(&every, at(6000), at(6000 + 90)).unwrap(), Claim::Recorded);
    // On time: one of two claimers enqueues, the other finds it taken.
    assert_eq!(a.claim_tick(&every, at(6060), at(6060)).unwrap(), Claim::Enqueued);
    assert_eq!(b.claim_tick(&every, at(6060), at(6061)).unwrap(), Claim::Taken);
    // An older tick is taken too.
    assert_eq!(b.claim_tick(&every, at(6000), at(6061)).unwrap(), Claim::Taken);
    assert_eq!(pending_ticks(&server, "jobs"), [6060]);

    // Everyone down for an hour: on return the latest tick runs once.
    assert_eq!(a.claim_tick(&every, at(9600), at(9600 + 100)).unwrap(), Claim::Enqueued);
    assert_eq!(pending_ticks(&server, "jobs"), [6060, 9600]);
    // A schedule that skips missed ticks only records it.
    let skips = Schedule::every("skips", Duration::from_secs(60), "echo").unwrap().missed(Missed::Skip);
    assert_eq!(a.claim_tick(&skips, at(6060), at(6060)).unwrap(), Claim::Enqueued);
    assert_eq!(a.claim_tick(&skips, at(9600), at(9700)).unwrap(), Claim::Recorded);
    assert_eq!(pending_ticks(&server, "jobs"), [6060, 6060, 9600]);

    let schedules = a.schedules().unwrap();
    let names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["skips", "tick"]);
    let tick = &schedules[1];
    assert_eq!((tick.spec.as_str(), tick.task.as_str()), ("every 60s", "echo"));
    assert_eq!((tick.last, tick.next, tick.enqueued), (Some(9600.0), Some(9660.0), Some(9600.0)));
    assert_eq!(schedules[0].enqueued, Some(6060.0));
}

#[test]
fn three_workers_on_an_every_second_schedule_enqueue_each_tick_once_through_a_restart() {
    let server = RedisServer::start();
    let start = |server: &RedisServer| {
        let worker = Worker::builder()
            .redis(&server.url())
            .queue("work")
            .schedule(Schedule::every("beat", Duration::from_secs(1), "echo").unwrap().queue("ticks"))
            .build()
            .expect("the worker builds");
        let stop = worker.shutdown_handle();
        (stop, std::thread::spawn(move || worker.run().expect("the worker runs")))
    };
    let began = SystemTime::now();
    let mut workers: Vec<_> = (0..3).map(|_| start(&server)).collect();
    std::thread::sleep(Duration::from_secs(9));
    // One worker stops and a new one takes its place two seconds later.
    let (stop, thread) = workers.remove(0);
    stop.stop();
    thread.join().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    workers.push(start(&server));
    std::thread::sleep(Duration::from_secs(9));
    for (stop, thread) in workers {
        stop.stop();
        thread.join().unwrap();
    }
    let ended = SystemTime::now();

    let ticks = pending_ticks(&server, "ticks");
    let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
    for tick in &ticks {
        *counts.entry(*tick).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, &n)| n > 1).collect();
    assert!(doubled.is_empty(), "ticks enqueued twice: {doubled:?}");
    let first = counts.keys().next().copied().expect("some ticks");
    let last = counts.keys().last().copied().expect("some ticks");
    assert_eq!(counts.len() as u64, last - first + 1, "every second in between has its tick: {ticks:?}");
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let expected = secs(ended) - secs(began);
    assert!(
        (expected - 1..=expected + 1).contains(&(counts.len() as u64)),
        "{} ticks over {expected} s: {ticks:?}",
        counts.len()
    );
}
