//! What a dashboard reads and changes, against a real Redis: the location
//! index through every transition, pages of each list, a task by id, the
//! throughput history, per-task-name statistics, and the actions on
//! delayed and dead tasks.

mod common;

use std::time::{Duration, SystemTime};

use common::{cmd, tasks, RedisServer};
use concur_worker::protocol::{Connection, Fetched};
use concur_worker::{EnqueueOptions, Error, QueueConfig, RetryPolicy, TaskLocation, MAX_PAGE};
use serde_json::json;

fn config() -> QueueConfig {
    QueueConfig {
        default_max_attempts: 2,
        retry: RetryPolicy { initial: Duration::from_secs(3600), max: Duration::from_secs(3600) },
        dead_cap: 100_000,
        ..QueueConfig::named("jobs")
    }
}

fn later(seconds: u64) -> EnqueueOptions {
    EnqueueOptions { delay: Duration::from_secs(seconds), ..EnqueueOptions::default() }
}

fn index_len(server: &RedisServer) -> u64 {
    cmd(&mut server.raw(), &["HLEN", "{jobs}:where"])
}

#[test]
fn the_location_index_follows_a_task_through_every_transition() {
    let server = RedisServer::start();
    let mut queue = server.queue(config());
    let worker = "w1";
    queue.heartbeat(worker, Duration::from_secs(30)).unwrap();

    // Delayed: found with its due time and its payload.
    let id = queue.enqueue("echo", vec![json!(1)], &later(600)).unwrap();
    match queue.find_task(&id).unwrap() {
        TaskLocation::Delayed { due, task } => {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64();
            assert!((due - now - 600.0).abs() < 5.0, "due {due}, now {now}");
            assert_eq!(task.unwrap().envelope.unwrap().id, id);
        }
        other => panic!("expected delayed, found {other:?}"),
    }

    // Run now: pending, which is not indexed.
    assert_eq!(queue.delayed_run_now(&[&id]).unwrap(), 1);
    assert_eq!(queue.delayed_run_now(&[&id]).unwrap(), 0, "a second run-now finds nothing");
    assert_eq!(queue.find_task(&id).unwrap(), TaskLocation::NotFound);
    assert_eq!(index_len(&server), 0);

    // Fetched: running on the worker.
    let task = tasks(queue.fetch(worker, 10, Duration::ZERO).unwrap()).remove(0);
    assert_eq!(task.id(), id);
    assert_eq!(queue.find_task(&id).unwrap(), TaskLocation::Running { worker: worker.into() });

    // A failure with attempts left: delayed for the retry.
    queue.fail(worker, &task, "boom").unwrap();
    assert!(matches!(queue.find_task(&id).unwrap(), TaskLocation::Delayed { task: Some(_), .. }));

    // Promoted, fetched, failed for good: dead, with a result record.
    queue.promote_due(SystemTime::now() + Duration::from_secs(7200)).unwrap();
    assert_eq!(index_len(&server), 0);
    let task = tasks(queue.fetch(worker, 10, Duration::ZERO).unwrap()).remove(0);
    queue.fail(worker, &task, "boom again").unwrap();
    match queue.find_task(&id).unwrap() {
        TaskLocation::Finished(result) => assert_eq!(result.error.as_deref(), Some("boom again")),
        other => panic!("expected a result, found {other:?}"),
    }
    assert_eq!(index_len(&server), 0);

    // Acknowledged, returned, recovered, retired: each forgets the task.
    let ids: Vec<String> =
        queue.enqueue_many("echo", (0..4).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    let held = tasks(queue.fetch(worker, 4, Duration::ZERO).unwrap());
    assert_eq!(index_len(&server), 4);
    queue.ack(worker, &held[0], &json!("ok")).unwrap();
    queue.return_to_pending(worker, &[&held[1]]).unwrap();
    queue.recover(worker, &[&held[3]]).unwrap(); // held[2] was never seen: back to pending
    assert_eq!(index_len(&server), 1, "only the task still held stays indexed");
    assert_eq!(queue.find_task(&ids[3]).unwrap(), TaskLocation::Running { worker: worker.into() });
    queue.retire(worker).unwrap();
    assert_eq!(index_len(&server), 0);
}

#[test]
fn a_reaped_worker_and_a_blocking_fetch_keep_the_index_true() {
    let server = RedisServer::start();
    let mut queue = server.queue(config());
    let ttl = Duration::from_millis(300);
    queue.heartbeat("dies", ttl).unwrap();
    let id = queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    tasks(queue.fetch("dies", 1, Duration::ZERO).unwrap());
    assert_eq!(queue.find_task(&id).unwrap(), TaskLocation::Running { worker: "dies".into() });
    std::thread::sleep(ttl * 2);
    common::reap_twice(&mut queue, ttl);
    assert_eq!(queue.find_task(&id).unwrap(), TaskLocation::NotFound);
    assert_eq!(index_len(&server), 0);

    // A blocking fetch indexes what it takes.
    let mut other = server.queue(config());
    other.heartbeat("w2", Duration::from_secs(30)).unwrap();
    tasks(other.fetch("w2", 1, Duration::ZERO).unwrap()); // the reaped task
    let blocked = std::thread::spawn(move || {
        other.heartbeat("w3", Duration::from_secs(30)).unwrap();
        tasks(other.fetch("w3", 1, Duration::from_secs(5)).unwrap())
    });
    std::thread::sleep(Duration::from_millis(200));
    let late = queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    let got = blocked.join().unwrap();
    assert_eq!(got[0].id(), late);
    assert_eq!(queue.find_task(&late).unwrap(), TaskLocation::Running { worker: "w3".into() });
}

#[test]
fn pages_come_in_the_order_tasks_run_and_are_bounded() {
    let server = RedisServer::start();
    let mut queue = server.queue(config());
    let ids = queue.enqueue_many("echo", (0..25).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    let page = queue.pending_page(0, 10).unwrap();
    let first: Vec<String> = page.iter().map(|t| t.envelope.clone().unwrap().id).collect();
    assert_eq!(first, ids[..10], "the next to run comes first");
    let last = queue.pending_page(20, 10).unwrap();
    assert_eq!(last.len(), 5);
    assert_eq!(last[4].envelope.as_ref().unwrap().id, ids[24]);
    assert!(queue.pending_page(1_000_000, 10).unwrap().is_empty());
    assert!(queue.pending_page(usize::MAX, MAX_PAGE).unwrap().is_empty());
    assert!(matches!(queue.pending_page(0, MAX_PAGE + 1), Err(Error::InvalidOption(_))));

    // A payload that is not a task is listed, unparsed.
    queue.enqueue_raw(b"<script>alert(1)</script>").unwrap();
    let newest = queue.pending_page(25, 1).unwrap();
    assert_eq!((newest[0].raw.as_str(), newest[0].envelope.is_none()), ("<script>alert(1)</script>", true));

    // Processing, the first fetched first.
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    let held = tasks(queue.fetch("w1", 3, Duration::ZERO).unwrap());
    let page = queue.processing_page("w1", 0, 10).unwrap();
    let page_ids: Vec<String> = page.iter().map(|t| t.envelope.clone().unwrap().id).collect();
    let held_ids: Vec<String> = held.iter().map(|t| t.id().to_owned()).collect();
    assert_eq!(page_ids, held_ids);
    assert!(matches!(queue.processing_page("bad id", 0, 1), Err(Error::InvalidName { .. })));

    // Delayed, the soonest first, with due times.
    let late = queue.enqueue("echo", vec![], &later(900)).unwrap();
    let soon = queue.enqueue("echo", vec![], &later(60)).unwrap();
    let page = queue.delayed_page(0, 10).unwrap();
    let order: Vec<String> = page.iter().map(|t| t.envelope.clone().unwrap().id).collect();
    assert_eq!(order, [soon.clone(), late.clone()]);
    assert!(page[0].due.unwrap() < page[1].due.unwrap());
    assert_eq!(queue.delayed_delete(&[&late, "no-such-id"]).unwrap(), 1);
    assert_eq!(queue.status().unwrap().delayed, 1);
    assert!(matches!(queue.delayed_delete(&["bad id"]), Err(Error::InvalidName { .. })));
}

#[test]
fn many_delayed_tasks_due_at_once_are_each_found_by_id() {
    let server = RedisServer::start();
    let mut queue = server.queue(config());
    let due = EnqueueOptions { eta: Some(SystemTime::now() + Duration::from_secs(3600)), ..EnqueueOptions::default() };
    let ids = queue.enqueue_many("echo", (0..450).map(|n| vec![json!(n)]), &due).unwrap();
    // Same score for all: the search reads the members of that score in chunks.
    let picked: Vec<&str> = [0, 199, 200, 449].iter().map(|&i| ids[i].as_str()).collect();
    assert_eq!(queue.delayed_run_now(&picked).unwrap(), 4);
    let pending: Vec<String> = queue.pending_page(0, 10).unwrap().into_iter().map(|t| t.envelope.unwrap().id).collect();
    let mut expected: Vec<String> = picked.iter().map(|id| id.to_string()).collect();
    expected.sort();
    let mut got = pending.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(index_len(&server), 446);
}

/// Fetches every pending task as worker "w1" and fails it: with one attempt
/// allowed, each becomes a dead letter, oldest first.
fn fail_everything(queue: &mut Connection) {
    while let Ok(batch) = queue.fetch("w1", 1000, Duration::ZERO) {
        if batch.is_empty() {
            break;
        }
        for item in batch {
            let Fetched::Task(task) = item else { panic!("a malformed payload") };
            queue.fail("w1", &task, "no").unwrap();
        }
    }
}

#[test]
fn dead_letters_are_retried_and_deleted_by_id_past_the_first_chunk() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { default_max_attempts: 1, ..config() });
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    let ids = queue.enqueue_many("echo", (0..2500).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    fail_everything(&mut queue);
    assert_eq!(queue.status().unwrap().dead, 2500);
    // ids[0] died first: it is the oldest entry, 2,500 from the newest end.
    let retried = queue.dead_retry(&[&ids[0], &ids[1300]]).unwrap();
    assert_eq!(retried.retried, 2);
    assert_eq!(queue.dead_delete(&[&ids[5], &ids[2499], "missing"]).unwrap(), 2);
    let status = queue.status().unwrap();
    assert_eq!((status.dead, status.pending), (2496, 2));
    // Everything else, oldest first: the oldest runs first again.
    let all = queue.dead_retry_all().unwrap();
    assert_eq!(all.retried, 2496);
    assert_eq!(queue.status().unwrap().dead, 0);
    let next = queue.pending_page(0, 4).unwrap();
    let mut next: Vec<String> = next.into_iter().map(|t| t.envelope.unwrap().id).collect();
    next[..2].sort();
    let mut by_id = [ids[0].clone(), ids[1300].clone()];
    by_id.sort();
    assert_eq!(next[..2], by_id, "those retried by id first");
    assert_eq!(next[2..], [ids[1].clone(), ids[2].clone()], "then the rest, oldest first");
}

// A retry or delete of a few ids has Redis look for them a window at a time
// (DEAD_FIND): the oldest of 12,000 entries is past the first window, and a
// task whose arguments name another task's id is not taken for it.
#[test]
fn dead_letters_deep_in_a_long_list_are_found_by_id_and_only_they() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { default_max_attempts: 1, ..config() });
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    let ids = queue.enqueue_many("echo", (0..12_000).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    let decoy = queue
        .enqueue_many(
            "echo",
            [vec![json!({ "id": ids[0] }), json!(format!("\"id\":\"{}\"", ids[1]))]],
            &EnqueueOptions::default(),
        )
        .unwrap()
        .remove(0);
    fail_everything(&mut queue);
    assert_eq!(queue.status().unwrap().dead, 12_001);
    assert_eq!(queue.dead_retry(&[&ids[0]]).unwrap().retried, 1, "the oldest, past the first window");
    assert_eq!(queue.dead_delete(&[&ids[1], &ids[6000]]).unwrap(), 2);
    let status = queue.status().unwrap();
    assert_eq!((status.dead, status.pending), (11_998, 1));
    let pending: Vec<String> = queue.pending_page(0, 10).unwrap().into_iter().map(|t| t.envelope.unwrap().id).collect();
    assert_eq!(pending, [ids[0].clone()], "the decoy naming it stayed dead");
    let newest = queue.dead_list(0, 1).unwrap();
    assert_eq!(newest[0].id, decoy, "the decoy naming ids[0] and ids[1] is still the newest dead letter");
}

#[test]
fn the_history_and_the_statistics_count_what_workers_report() {
    let server = RedisServer::start();
    let mut queue = server.queue(config());
    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    queue.enqueue_many("echo", (0..7).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    let held = tasks(queue.fetch("w1", 7, Duration::ZERO).unwrap());
    let ok = json!(null);
    let done: Vec<_> = held.iter().map(|t| (t, &ok)).collect();
    queue.ack_many("w1", &done).unwrap();

    let minutes = queue.done_per_minute(60).unwrap();
    assert_eq!(minutes.len(), 60);
    assert_eq!(minutes.iter().map(|(_, n)| n).sum::<u64>(), 7);
    assert!(minutes.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
    assert_eq!(queue.done_per_hour(720).unwrap().iter().map(|(_, n)| n).sum::<u64>(), 7);
    assert!(matches!(queue.done_per_minute(61), Err(Error::InvalidOption(_))));
    assert!(matches!(queue.done_per_hour(721), Err(Error::InvalidOption(_))));
    assert!(queue.done_per_minute(0).unwrap().is_empty());
    // Both at once, as of one reading of the server's clock.
    let now = queue.server_time().unwrap();
    let (per_minute, per_hour) = queue.done_history_at(60, 720, now).unwrap();
    assert_eq!((per_minute.len(), per_hour.len()), (60, 720));
    assert_eq!(per_minute.iter().map(|(_, n)| n).sum::<u64>(), 7);
    assert_eq!(per_hour.iter().map(|(_, n)| n).sum::<u64>(), 7);
    assert!(per_minute.last().unwrap().0 <= now && now < per_minute.last().unwrap().0 + Duration::from_secs(60));
    assert!(matches!(queue.done_history_at(61, 1, now), Err(Error::InvalidOption(_))));
    assert!(matches!(queue.done_history_at(1, 721, now), Err(Error::InvalidOption(_))));
    assert_eq!(queue.done_history_at(0, 0, now).unwrap(), (vec![], vec![]));

    // Statistics as a worker records them; names past the cap fold into one.
    let mut stats = concur_worker::TaskStats::default();
    stats.name = "email".into();
    stats.count = 3;
    stats.failed = 1;
    for ms in [5, 7, 900] {
        stats.run.record(Duration::from_millis(ms));
        stats.wait.record(Duration::from_millis(1));
    }
    queue.record_task_stats(&[stats.clone()]).unwrap();
    queue.record_task_stats(&[stats.clone()]).unwrap();
    let read = queue.task_stats(60).unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!((read[0].name.as_str(), read[0].count, read[0].failed), ("email", 6, 2));
    assert_eq!(read[0].run.count(), 6);
    let p50 = read[0].run.quantile(0.5).unwrap();
    assert!((0.005..=0.01).contains(&p50), "p50 {p50}");
    assert_eq!(queue.task_stats_total().unwrap(), read);
    let ttl: i64 = cmd(&mut server.raw(), &["TTL", &minute_key(&mut server.raw())]);
    assert!((7000..=7200).contains(&ttl), "the minute's hash expires in two hours, not {ttl} s");
}

fn minute_key(raw: &mut redis::Connection) -> String {
    let (secs, _): (u64, u64) = redis::cmd("TIME").query(raw).unwrap();
    format!("{{jobs}}:tstats:{}", secs / 60)
}

#[test]
fn statistics_keep_at_most_the_cap_of_names() {
    let server = RedisServer::start();
    let mut queue: Connection = server.queue(config());
    let many: Vec<concur_worker::TaskStats> = (0..concur_worker::MAX_TASK_NAMES + 5)
        .map(|n| {
            let mut stats = concur_worker::TaskStats::default();
            stats.name = format!("task{n}");
            stats.count = 1;
            stats
        })
        .collect();
    queue.record_task_stats(&many).unwrap();
    let read = queue.task_stats_total().unwrap();
    assert_eq!(read.len(), concur_worker::MAX_TASK_NAMES + 1);
    let other = read.iter().find(|s| s.name == concur_worker::OTHER_TASKS).unwrap();
    assert_eq!(other.count, 5);
}

#[test]
fn a_sharded_status_gives_each_shard_its_own_counts_and_their_sum() {
    let server = RedisServer::start();
    let mut client = concur_worker::Client::connect(&server.url(), QueueConfig::named("orders")).unwrap();
    client.set_shards(2).unwrap();
    let shards: Vec<String> = client.shards().map(str::to_owned).collect();
    let mut first = server.queue(QueueConfig::named(&shards[0]));
    first.enqueue("echo", vec![json!(1)], &EnqueueOptions::default()).unwrap();
    first.enqueue("echo", vec![json!(2)], &later(600)).unwrap();
    let mut second = server.queue(QueueConfig::named(&shards[1]));
    second.heartbeat("w1", Duration::from_secs(30)).unwrap();
    second.enqueue("echo", vec![json!(3)], &EnqueueOptions::default()).unwrap();
    assert_eq!(second.fetch("w1", 1, Duration::from_secs(1)).unwrap().len(), 1);

    let (total, parts) = client.status_with_shards().unwrap();
    assert_eq!((total.pending, total.delayed, total.processing()), (1, 1, 1));
    let seen: Vec<_> =
        parts.iter().map(|s| (s.name.as_str(), s.status.pending, s.status.delayed, s.status.processing())).collect();
    assert_eq!(seen, [(shards[0].as_str(), 1, 1, 0), (shards[1].as_str(), 0, 0, 1)]);
    let again = client.status().unwrap();
    assert_eq!((again.pending, again.delayed, again.processing()), (1, 1, 1), "status is the same total");
    let plain =
        concur_worker::Client::connect(&server.url(), QueueConfig::named("plain")).unwrap().status_with_shards();
    assert!(plain.unwrap().1.is_empty(), "a queue that is not sharded has no shard part");

    // The worker's heartbeat: its TTL, as its beat recorded it, less the
    // time left is how long ago it beat.
    let worker = &parts[1].status.workers[0];
    assert_eq!(worker.heartbeat_ttl, Some(Duration::from_secs(30)));
    let age = worker.heartbeat_age().unwrap();
    assert!(age < Duration::from_secs(10), "it beat just now, not {age:?} ago");
    assert_eq!(age + worker.heartbeat.unwrap(), Duration::from_secs(30));
}
