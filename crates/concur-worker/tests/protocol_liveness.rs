//! How the protocol tells a dead worker from a live one whose heartbeat key
//! vanished (a `FLUSHALL`, an eviction), and how a late call learns which of
//! the two happened; and the count of dead-letter entries trimmed at the cap.

mod common;

use std::time::Duration;

use common::{cmd, tasks, RedisServer};
use concur_worker::protocol::{Acked, FailOutcome};
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::json;

#[test]
fn a_missing_heartbeat_is_only_a_suspicion_until_it_stays_missing_a_whole_ttl() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let mut raw = server.raw();
    let ttl = Duration::from_secs(2);
    queue.enqueue("echo", vec![json!(1)], &EnqueueOptions::default()).unwrap();
    queue.heartbeat("live", ttl).unwrap();
    let held = tasks(queue.fetch("live", 1, Duration::ZERO).unwrap());
    assert_eq!(held.len(), 1);

    // The key vanishes under a live worker: the first look only notes it.
    let _: i64 = cmd(&mut raw, &["DEL", "{queue}:heartbeat:live"]);
    assert_eq!(queue.reap(ttl).unwrap().returned, 0);
    let since: Option<String> = cmd(&mut raw, &["HGET", "{queue}:worker:live", "missing_since"]);
    assert!(since.is_some(), "the first look records when it found the heartbeat missing");

    // The worker's next beat finds the key gone, puts it back and clears
    // the suspicion; a look after that, even a whole TTL later, takes nothing.
    let beat = queue.heartbeat("live", ttl).unwrap();
    assert!(!beat.key_was_there && beat.reaped_at.is_none(), "{beat:?}");
    let since: Option<String> = cmd(&mut raw, &["HGET", "{queue}:worker:live", "missing_since"]);
    assert_eq!(since, None);
    std::thread::sleep(ttl / 2);
    assert_eq!(queue.reap(ttl).unwrap().returned, 0);
    assert_eq!(queue.ack("live", &held[0], &json!("done")).unwrap(), Acked::Done);

    // A worker that really stays silent is reaped at the second look.
    queue.enqueue("echo", vec![json!(2)], &EnqueueOptions::default()).unwrap();
    let held = tasks(queue.fetch("live", 1, Duration::ZERO).unwrap());
    let _: i64 = cmd(&mut raw, &["DEL", "{queue}:heartbeat:live"]);
    let reaped = common::reap_twice(&mut queue, ttl);
    assert_eq!(reaped.returned, 1);
    assert_eq!(queue.status().unwrap().pending, 1);
    let ttl_left: i64 = cmd(&mut raw, &["PTTL", "{queue}:worker:live"]);
    assert!(ttl_left > 0, "a reaped worker's record expires by itself");
    // Its late acknowledgement learns why it no longer holds the task.
    assert_eq!(queue.ack("live", &held[0], &json!("late")).unwrap(), Acked::Reaped);
    let beat = queue.heartbeat("live", ttl).unwrap();
    assert!(beat.reaped_at.is_some(), "{beat:?}");
    let ttl_left: i64 = cmd(&mut raw, &["PTTL", "{queue}:worker:live"]);
    assert_eq!(ttl_left, -1, "a worker that beats again keeps its record");
}

#[test]
fn a_task_gone_without_a_reap_is_not_taken_for_reaped() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let mut raw = server.raw();
    queue.enqueue_many("echo", (0..3).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    let beat = queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    assert!(!beat.key_was_there, "nothing was there before the first beat");
    assert!(queue.heartbeat("w1", Duration::from_secs(30)).unwrap().key_was_there);
    let held = tasks(queue.fetch("w1", 3, Duration::ZERO).unwrap());
    assert_eq!(held.len(), 3);

    // Someone deletes the processing list (as FLUSHALL would).
    let _: i64 = cmd(&mut raw, &["DEL", "{queue}:processing:w1"]);
    let ok = json!("ok");
    assert_eq!(queue.ack_many("w1", &[(&held[0], &ok)]).unwrap(), [Acked::NotHeld]);
    assert_eq!(queue.fail("w1", &held[1], "boom").unwrap(), FailOutcome::NotHeld);
    assert_eq!(queue.reject("w1", &held[2], "no").unwrap(), FailOutcome::NotHeld);
    let status = queue.status().unwrap();
    assert_eq!((status.done, status.dead, status.reaped), (0, 0, 0));
}

#[test]
fn dead_letters_trimmed_at_the_cap_are_counted() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { dead_cap: 3, ..QueueConfig::default() });
    queue.enqueue_many("nope", (0..5).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    let held = tasks(queue.fetch("w1", 5, Duration::ZERO).unwrap());
    let outcomes: Vec<FailOutcome> = held.iter().map(|task| queue.reject("w1", task, "no handler").unwrap()).collect();
    let trimmed: Vec<u64> = outcomes
        .iter()
        .map(|outcome| match outcome {
            FailOutcome::Dead { trimmed } => *trimmed,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(trimmed, [0, 0, 0, 1, 1]);
    // A payload that is not a task is dead-lettered by the fetch itself.
    queue.enqueue_raw(b"{not json").unwrap();
    let fetched = queue.fetch("w1", 1, Duration::ZERO).unwrap();
    let concur_worker::protocol::Fetched::Malformed(bad) = &fetched[0] else { panic!("{fetched:?}") };
    assert_eq!(bad.dead_trimmed, 1);
    let status = queue.status().unwrap();
    assert_eq!((status.dead, status.dead_total, status.dead_trimmed), (3, 6, 3));
}
