//! Every state transition of the queue protocol against a real redis-server:
//! enqueue, delayed enqueue and promotion, fetch, acknowledge with result
//! storage (TTL and cap), fail → retry → dead, reject, heartbeat and reap,
//! poison detection, graceful return, recovery, retirement, status, and the
//! dead-letter operations.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{cmd, tasks, wait_until, RedisServer};
use concur_worker::protocol::{Acked, Connection, FailOutcome, Fetched, Task};
use concur_worker::{DeadKind, EnqueueOptions, QueueConfig, ResultStatus, RetryPolicy};
use serde_json::{json, Value};

const BLOCK: Duration = Duration::from_secs(2);

fn fetch_all(queue: &mut Connection, worker: &str, max: usize) -> Vec<Task> {
    tasks(queue.fetch(worker, max, Duration::ZERO).unwrap())
}

fn started(queue: &mut Connection, worker: &str) {
    queue.heartbeat(worker, Duration::from_secs(60)).unwrap();
}

fn enqueue_numbers(queue: &mut Connection, count: i64) -> Vec<String> {
    queue.enqueue_many("echo", (0..count).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap()
}

fn len(server: &RedisServer, key: &str) -> i64 {
    cmd(&mut server.raw(), &["LLEN", key])
}

#[test]
fn enqueue_fetch_ack_stores_the_result() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let id = queue.enqueue("echo", vec![json!("hi"), json!(2)], &EnqueueOptions::default()).unwrap();
    assert_eq!(len(&server, "queue"), 1);

    started(&mut queue, "w1");
    let fetched = tasks(queue.fetch("w1", 10, BLOCK).unwrap());
    assert_eq!(fetched.len(), 1);
    let task = &fetched[0];
    assert_eq!((task.id(), task.name(), task.args()), (id.as_str(), "echo", &[json!("hi"), json!(2)][..]));
    assert_eq!((task.attempt(), task.max_attempts()), (1, 5));
    assert_eq!(task.timeout(), Duration::from_secs(300));
    assert_eq!(len(&server, "queue"), 0);
    assert_eq!(len(&server, "{queue}:processing:w1"), 1);

    assert_eq!(queue.ack("w1", task, &json!({"echoed": ["hi", 2]})).unwrap(), Acked::Done);
    assert_eq!(len(&server, "{queue}:processing:w1"), 0);
    let result = queue.result(&id).unwrap().expect("the result is stored");
    assert_eq!(result.status, ResultStatus::Succeeded);
    assert_eq!(result.result, Some(json!({"echoed": ["hi", 2]})));
    assert_eq!((result.worker.as_str(), result.attempts, result.task.as_str()), ("w1", 1, "echo"));
    assert!(result.finished_at >= result.started_at);

    // A repeated acknowledgement (say, after a lost reply) changes nothing.
    assert_eq!(queue.ack("w1", task, &json!("again")).unwrap(), Acked::NotHeld);
    assert_eq!(queue.result(&id).unwrap().unwrap().result, Some(json!({"echoed": ["hi", 2]})));
    let status = queue.status().unwrap();
    assert_eq!((status.done, status.pending, status.processing(), status.results), (1, 0, 0, 1));
    assert_eq!(status.done_last_minute, 1);
}

#[test]
fn tasks_are_fetched_oldest_first_and_in_batches() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 10);
    started(&mut queue, "w1");
    let first = fetch_all(&mut queue, "w1", 4);
    let rest = fetch_all(&mut queue, "w1", 100);
    let got: Vec<&str> = first.iter().chain(&rest).map(Task::id).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!((first.len(), rest.len()), (4, 6));
    assert!(fetch_all(&mut queue, "w1", 10).is_empty());
    assert_eq!(len(&server, "{queue}:processing:w1"), 10);
    assert!(queue.fetch("w1", 0, BLOCK).unwrap().is_empty());
}

#[test]
fn a_blocking_fetch_wakes_on_a_push_and_times_out_when_none_comes() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    started(&mut queue, "w1");

    let start = Instant::now();
    assert!(queue.fetch("w1", 5, Duration::from_millis(300)).unwrap().is_empty());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(10), "waited {waited:?}");

    let url = server.url();
    let producer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let mut producer = Connection::connect(&url, QueueConfig::default()).unwrap();
        producer.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap()
    });
    let start = Instant::now();
    let fetched = tasks(queue.fetch("w1", 5, Duration::from_secs(20)).unwrap());
    let id = producer.join().unwrap();
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].id(), id);
    assert!(start.elapsed() < Duration::from_secs(10), "the push did not wake the fetch");
}

#[test]
fn delayed_tasks_wait_in_the_sorted_set_until_promoted_in_due_order() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let now = SystemTime::now();
    let late = queue
        .enqueue("echo", vec![json!("late")], &EnqueueOptions { delay: Duration::from_secs(120), ..Default::default() })
        .unwrap();
    let early = queue
        .enqueue(
            "echo",
            vec![json!("early")],
            &EnqueueOptions { eta: Some(now + Duration::from_secs(60)), ..Default::default() },
        )
        .unwrap();
    assert_eq!(len(&server, "queue"), 0);
    assert_eq!(cmd::<i64>(&mut server.raw(), &["ZCARD", "{queue}:delayed"]), 2);

    let promoted = queue.promote_due(now).unwrap();
    assert_eq!(promoted.moved, 0);
    let next = promoted.next_due.expect("two tasks are delayed");
    let ahead = next.duration_since(now).unwrap();
    assert!(ahead > Duration::from_secs(59) && ahead < Duration::from_secs(61), "next due in {ahead:?}");

    let promoted = queue.promote_due(now + Duration::from_secs(3600)).unwrap();
    assert_eq!((promoted.moved, promoted.next_due), (2, None));
    started(&mut queue, "w1");
    let fetched = fetch_all(&mut queue, "w1", 10);
    assert_eq!(fetched.iter().map(Task::id).collect::<Vec<_>>(), [early.as_str(), late.as_str()]);
    assert!(fetched[0].envelope().eta.is_some());

    let both = EnqueueOptions { delay: Duration::from_secs(1), eta: Some(now), ..Default::default() };
    assert!(queue.enqueue("echo", vec![], &both).is_err());
}

#[test]
fn a_failed_task_retries_with_backoff_then_goes_dead_with_its_error() {
    let server = RedisServer::start();
    let config = QueueConfig {
        default_max_attempts: 3,
        retry: RetryPolicy { initial: Duration::from_secs(10), max: Duration::from_secs(3600) },
        ..QueueConfig::default()
    };
    let mut queue = server.queue(config);
    let id = queue.enqueue("flaky", vec![json!(1)], &EnqueueOptions::default()).unwrap();
    started(&mut queue, "w1");
    let far = SystemTime::now() + Duration::from_secs(24 * 3600);

    for attempt in 1..=2 {
        let task = fetch_all(&mut queue, "w1", 1).pop().expect("the task is pending");
        assert_eq!(task.attempt(), attempt);
        let error = format!("boom {attempt}");
        match queue.fail("w1", &task, &error).unwrap() {
            FailOutcome::Retrying { attempt: failed, delay, .. } => {
                assert_eq!(failed, attempt);
                let (low, high) = queue.config().retry.bounds(attempt);
                assert!(delay >= low && delay <= high, "delay {delay:?} outside {low:?}..{high:?}");
            }
            other => panic!("expected a retry, got {other:?}"),
        }
        assert_eq!(len(&server, "{queue}:processing:w1"), 0);
        let delayed: Vec<String> = cmd(&mut server.raw(), &["ZRANGE", "{queue}:delayed", "0", "-1"]);
        let envelope: Value = serde_json::from_str(&delayed[0]).unwrap();
        assert_eq!((envelope["attempts"].clone(), envelope["error"].clone()), (json!(attempt), json!(error)));
        assert_eq!(envelope["id"], json!(id));
        // Not due yet: the backoff is at least five seconds.
        assert_eq!(queue.promote_due(SystemTime::now()).unwrap().moved, 0);
        assert_eq!(queue.promote_due(far).unwrap().moved, 1);
    }

    let task = fetch_all(&mut queue, "w1", 1).pop().expect("the last attempt");
    assert_eq!(task.attempt(), 3);
    assert_eq!(queue.fail("w1", &task, "boom 3").unwrap(), FailOutcome::Dead { trimmed: 0 });
    let dead = queue.dead_list(0, 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id.as_str(), dead[0].kind, dead[0].error.as_str()), (id.as_str(), DeadKind::Failed, "boom 3"));
    assert_eq!((dead[0].attempts, dead[0].task.as_deref(), dead[0].worker.as_deref()), (3, Some("flaky"), Some("w1")));
    let result = queue.result(&id).unwrap().expect("a dead task has a result record");
    assert_eq!((result.status, result.error.as_deref(), result.attempts), (ResultStatus::Dead, Some("boom 3"), 3));

    let status = queue.status().unwrap();
    assert_eq!((status.retried, status.dead_total, status.dead, status.delayed, status.pending), (2, 1, 1, 0, 0));
    // Failing a task this worker no longer holds changes nothing.
    assert_eq!(queue.fail("w1", &task, "late").unwrap(), FailOutcome::NotHeld);
    assert_eq!(queue.dead_list(0, 10).unwrap().len(), 1);
}

#[test]
fn max_attempts_in_the_envelope_overrides_the_default() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let options = EnqueueOptions { max_attempts: Some(1), timeout: Some(Duration::from_secs(7)), ..Default::default() };
    queue.enqueue("once", vec![], &options).unwrap();
    started(&mut queue, "w1");
    let task = fetch_all(&mut queue, "w1", 1).pop().unwrap();
    assert_eq!((task.max_attempts(), task.timeout()), (1, Duration::from_secs(7)));
    assert_eq!(queue.fail("w1", &task, "no").unwrap(), FailOutcome::Dead { trimmed: 0 });
}

#[test]
fn a_rejected_task_goes_dead_without_a_retry() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let id = queue.enqueue("nobody-handles-this", vec![], &EnqueueOptions::default()).unwrap();
    started(&mut queue, "w1");
    let task = fetch_all(&mut queue, "w1", 1).pop().unwrap();
    assert_eq!(queue.reject("w1", &task, "no handler").unwrap(), FailOutcome::Dead { trimmed: 0 });
    let dead = queue.dead_list(0, 10).unwrap();
    assert_eq!((dead.len(), dead[0].kind, dead[0].id.as_str()), (1, DeadKind::Rejected, id.as_str()));
    assert_eq!(queue.status().unwrap().delayed, 0);
}

#[test]
fn the_reaper_returns_the_tasks_of_a_worker_whose_heartbeat_expired() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 5);

    queue.heartbeat("dying", Duration::from_millis(200)).unwrap();
    let held = fetch_all(&mut queue, "dying", 3);
    assert_eq!(held.iter().map(Task::id).collect::<Vec<_>>(), ids[..3].iter().map(String::as_str).collect::<Vec<_>>());
    started(&mut queue, "alive");
    let alive_task = fetch_all(&mut queue, "alive", 1).pop().unwrap();

    // While the heartbeat lives, nothing is reaped.
    assert_eq!(queue.reap(Duration::from_millis(200)).unwrap().returned, 0);
    let mut raw = server.raw();
    wait_until("the heartbeat expires", Duration::from_secs(10), || {
        cmd::<i64>(&mut raw, &["EXISTS", "{queue}:heartbeat:dying"]) == 0
    });
    let status = queue.status().unwrap();
    let dying = status.workers.iter().find(|w| w.id == "dying").unwrap();
    assert_eq!((dying.processing, dying.heartbeat), (3, None));

    let reaped = common::reap_twice(&mut queue, Duration::from_millis(200));
    assert_eq!((reaped.returned, reaped.dead), (3, 0));
    assert_eq!(len(&server, "{queue}:processing:dying"), 0);
    assert_eq!(len(&server, "{queue}:processing:alive"), 1);
    let members: Vec<String> = cmd(&mut raw, &["SMEMBERS", "{queue}:workers"]);
    assert_eq!(members, ["alive"]);

    // The returned tasks are next, in their order, ahead of the one never fetched.
    let again = fetch_all(&mut queue, "alive", 10);
    let order: Vec<&str> = again.iter().map(Task::id).collect();
    assert_eq!(order, [&ids[0], &ids[1], &ids[2], &ids[4]].map(String::as_str));
    // The dead worker, should it wake, finds it no longer holds them.
    assert_eq!(queue.ack("dying", &held[0], &json!(null)).unwrap(), Acked::Reaped);
    assert_eq!(queue.fail("dying", &held[1], "late").unwrap(), FailOutcome::Reaped);
    assert_eq!(queue.ack("alive", &again[0], &json!(null)).unwrap(), Acked::Done);
    assert_eq!(queue.ack("alive", &alive_task, &json!(null)).unwrap(), Acked::Done);
    assert_eq!(queue.status().unwrap().reaped, 3);
    assert_eq!(queue.reap(Duration::from_millis(200)).unwrap(), Default::default());
    // Should it wake and beat, it learns that it was taken for dead.
    assert!(queue.heartbeat("dying", Duration::from_secs(5)).unwrap().reaped_at.is_some());
}

#[test]
fn a_task_reaped_more_than_max_reaps_times_is_dead_lettered_as_poison() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { max_reaps: 2, ..QueueConfig::default() });
    let id = queue.enqueue("crashes-its-worker", vec![json!("x")], &EnqueueOptions::default()).unwrap();
    let mut raw = server.raw();
    for round in 1..=3 {
        let worker = format!("victim-{round}");
        queue.heartbeat(&worker, Duration::from_millis(50)).unwrap();
        let held = fetch_all(&mut queue, &worker, 1);
        assert_eq!(held.len(), 1, "round {round}");
        let heartbeat = format!("{{queue}}:heartbeat:{worker}");
        wait_until("the heartbeat expires", Duration::from_secs(10), || {
            cmd::<i64>(&mut raw, &["EXISTS", &heartbeat]) == 0
        });
        let reaped = common::reap_twice(&mut queue, Duration::from_millis(50));
        if round < 3 {
            assert_eq!((reaped.returned, reaped.dead), (1, 0), "round {round}");
        } else {
            assert_eq!((reaped.returned, reaped.dead), (0, 1), "round {round}");
        }
    }
    assert_eq!(len(&server, "queue"), 0);
    let dead = queue.dead_list(0, 10).unwrap();
    assert_eq!((dead.len(), dead[0].kind, dead[0].id.as_str()), (1, DeadKind::Poison, id.as_str()));
    assert_eq!(dead[0].task.as_deref(), Some("crashes-its-worker"));
    assert!(dead[0].error.contains("3 workers"), "{}", dead[0].error);
    // The payload survives (as hex) and can be queued again.
    let payload = String::from_utf8(dead[0].retry_payload().unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&payload).unwrap()["id"], json!(id));
    assert_eq!(queue.dead_retry(&[&id]).unwrap().retried, 1);
    assert_eq!(len(&server, "queue"), 1);
    assert_eq!(cmd::<i64>(&mut raw, &["EXISTS", "{queue}:reaped"]), 0);
}

#[test]
fn unstarted_tasks_return_to_the_front_of_pending_in_order() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 5);
    started(&mut queue, "w1");
    let batch = fetch_all(&mut queue, "w1", 5);
    let later = enqueue_numbers(&mut queue, 2);

    let unstarted: Vec<&Task> = batch[1..].iter().collect();
    assert_eq!(queue.return_to_pending("w1", &unstarted).unwrap(), 4);
    assert_eq!(len(&server, "{queue}:processing:w1"), 1);
    // A task it no longer holds is skipped.
    assert_eq!(queue.return_to_pending("w1", &unstarted[..1]).unwrap(), 0);

    started(&mut queue, "w2");
    let next = fetch_all(&mut queue, "w2", 10);
    let order: Vec<&str> = next.iter().map(Task::id).collect();
    let expected: Vec<&str> = ids[1..].iter().chain(&later).map(String::as_str).collect();
    assert_eq!(order, expected);
}

#[test]
fn recover_returns_what_a_worker_holds_without_knowing() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 3);
    started(&mut queue, "w1");
    let batch = fetch_all(&mut queue, "w1", 3);
    // As if the replies for the last two had been lost with the connection.
    assert_eq!(queue.recover("w1", &[&batch[0]]).unwrap(), 2);
    let kept: Vec<String> = cmd(&mut server.raw(), &["LRANGE", "{queue}:processing:w1", "0", "-1"]);
    assert_eq!(kept, [batch[0].payload()]);
    let again = fetch_all(&mut queue, "w1", 10);
    assert_eq!(again.iter().map(Task::id).collect::<Vec<_>>(), [&ids[1], &ids[2]].map(String::as_str));
}

#[test]
fn a_retiring_worker_returns_everything_and_unregisters() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 3);
    started(&mut queue, "w1");
    let _held = fetch_all(&mut queue, "w1", 3);
    assert_eq!(queue.retire("w1").unwrap(), 3);
    let mut raw = server.raw();
    assert_eq!(cmd::<i64>(&mut raw, &["EXISTS", "{queue}:heartbeat:w1", "{queue}:processing:w1"]), 0);
    assert_eq!(cmd::<i64>(&mut raw, &["SCARD", "{queue}:workers"]), 0);
    started(&mut queue, "w2");
    let again = fetch_all(&mut queue, "w2", 10);
    assert_eq!(again.iter().map(Task::id).collect::<Vec<_>>(), ids.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn status_counts_every_state() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    enqueue_numbers(&mut queue, 6);
    queue.enqueue("later", vec![], &EnqueueOptions { delay: Duration::from_secs(600), ..Default::default() }).unwrap();
    started(&mut queue, "w1");
    started(&mut queue, "w2");
    let a = fetch_all(&mut queue, "w1", 2);
    let b = fetch_all(&mut queue, "w2", 1);
    queue.ack("w1", &a[0], &json!(1)).unwrap();
    queue.reject("w2", &b[0], "bad").unwrap();
    let status = queue.status().unwrap();
    assert_eq!((status.pending, status.delayed, status.dead, status.results), (3, 1, 1, 2));
    let workers: Vec<(&str, u64)> = status.workers.iter().map(|w| (w.id.as_str(), w.processing)).collect();
    assert_eq!(workers, [("w1", 1), ("w2", 0)]);
    assert!(status.workers.iter().all(|w| w.heartbeat.is_some_and(|t| t <= Duration::from_secs(60))));
    assert_eq!((status.done, status.dead_total, status.done_last_minute), (1, 1, 1));
    assert_eq!(status.processing(), 1);
}

#[test]
fn dead_letters_can_be_listed_retried_and_purged() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 3);
    queue.enqueue_raw(b"{not json").unwrap();
    started(&mut queue, "w1");
    let fetched = queue.fetch("w1", 10, Duration::ZERO).unwrap();
    for item in &fetched {
        if let Fetched::Task(task) = item {
            queue.reject("w1", task, "rejected for the test").unwrap();
        }
    }
    let dead = queue.dead_list(0, 100).unwrap();
    assert_eq!(dead.len(), 4);
    assert_eq!(queue.dead_list(1, 2).unwrap(), dead[1..3].to_vec());
    // Newest first: the last rejected is first.
    assert_eq!(dead[0].id, ids[2]);

    let retried = queue.dead_retry(&[&ids[0]]).unwrap();
    assert_eq!((retried.retried, retried.not_retriable), (1, 0));
    assert_eq!(queue.dead_list(0, 100).unwrap().len(), 3);
    let task = fetch_all(&mut queue, "w1", 10).pop().expect("the retried task is pending");
    assert_eq!((task.id(), task.attempt(), task.envelope().error.clone()), (ids[0].as_str(), 1, None));

    assert_eq!(queue.dead_retry_all().unwrap().retried, 3);
    assert_eq!(len(&server, "queue"), 3);
    assert!(queue.dead_list(0, 100).unwrap().is_empty());

    for item in queue.fetch("w1", 10, Duration::ZERO).unwrap() {
        if let Fetched::Task(task) = item {
            queue.reject("w1", &task, "again").unwrap();
        }
    }
    assert_eq!(queue.dead_purge().unwrap(), 3);
    assert_eq!(queue.dead_purge().unwrap(), 0);
    assert_eq!(queue.status().unwrap().dead, 0);
}

#[test]
fn the_dead_letter_list_keeps_only_the_newest_entries() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { dead_cap: 2, ..QueueConfig::default() });
    let ids = enqueue_numbers(&mut queue, 3);
    started(&mut queue, "w1");
    for task in fetch_all(&mut queue, "w1", 3) {
        queue.reject("w1", &task, "no").unwrap();
    }
    let dead: Vec<String> = queue.dead_list(0, 10).unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(dead, [ids[2].clone(), ids[1].clone()]);
}

#[test]
fn results_expire_after_their_ttl() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { result_ttl: Duration::from_millis(500), ..QueueConfig::default() });
    let id = queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    started(&mut queue, "w1");
    let task = fetch_all(&mut queue, "w1", 1).pop().unwrap();
    queue.ack("w1", &task, &json!("kept briefly")).unwrap();
    let mut raw = server.raw();
    let ttl: i64 = cmd(&mut raw, &["PTTL", &format!("{{queue}}:result:{id}")]);
    assert!(ttl > 0 && ttl <= 500, "pttl {ttl}");
    let index_ttl: i64 = cmd(&mut raw, &["PTTL", "{queue}:results"]);
    assert!(index_ttl > 0 && index_ttl <= 500, "index pttl {index_ttl}");
    wait_until("the result expires", Duration::from_secs(10), || queue.result(&id).unwrap().is_none());
    wait_until("the index expires", Duration::from_secs(10), || {
        cmd::<i64>(&mut raw, &["EXISTS", "{queue}:results"]) == 0
    });
}

#[test]
fn only_the_newest_results_are_kept() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { results_cap: 3, ..QueueConfig::default() });
    let ids = enqueue_numbers(&mut queue, 5);
    started(&mut queue, "w1");
    let batch = fetch_all(&mut queue, "w1", 5);
    // One at a time and then together: the cap holds on both paths.
    queue.ack("w1", &batch[0], &json!(0)).unwrap();
    let rest: Vec<(&Task, Value)> = batch[1..].iter().map(|t| (t, t.args()[0].clone())).collect();
    let pairs: Vec<(&Task, &Value)> = rest.iter().map(|(t, v)| (*t, v)).collect();
    assert_eq!(queue.ack_many("w1", &pairs).unwrap(), [Acked::Done; 4]);
    for (n, id) in ids.iter().enumerate() {
        let stored = queue.result(id).unwrap();
        assert_eq!(stored.is_some(), n >= 2, "result {n}");
    }
    assert_eq!(len(&server, "{queue}:results"), 3);
    assert_eq!(queue.status().unwrap().results, 3);
}

#[test]
fn no_results_are_stored_when_the_cap_is_zero() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { results_cap: 0, ..QueueConfig::default() });
    let id = queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    started(&mut queue, "w1");
    let task = fetch_all(&mut queue, "w1", 1).pop().unwrap();
    assert_eq!(queue.ack("w1", &task, &json!(1)).unwrap(), Acked::Done);
    assert!(queue.result(&id).unwrap().is_none());
    assert_eq!(queue.status().unwrap().done, 1);
}

#[test]
fn queues_with_different_names_do_not_share_tasks() {
    let server = RedisServer::start();
    let mut emails = server.queue(QueueConfig::named("emails"));
    let mut images = server.queue(QueueConfig::named("images"));
    emails.enqueue("send", vec![], &EnqueueOptions::default()).unwrap();
    started(&mut images, "w1");
    assert!(fetch_all(&mut images, "w1", 10).is_empty());
    started(&mut emails, "w1");
    assert_eq!(fetch_all(&mut emails, "w1", 10).len(), 1);
    assert_eq!(len(&server, "emails"), 0);
    assert_eq!(len(&server, "{emails}:processing:w1"), 1);
}

#[test]
fn an_acknowledgement_can_fetch_the_next_tasks_in_the_same_script() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let ids = enqueue_numbers(&mut queue, 5);
    started(&mut queue, "w1");
    let first = fetch_all(&mut queue, "w1", 1);
    let ok = json!("ok");
    let (acked, next) = queue.ack_and_fetch("w1", &[(&first[0], &ok)], 2).unwrap();
    assert_eq!(acked, [Acked::Done]);
    let next = tasks(next);
    let next_ids: Vec<&str> = next.iter().map(Task::id).collect();
    assert_eq!(next_ids, [ids[1].as_str(), ids[2].as_str()], "the oldest next, in order");
    assert_eq!(queue.result(&ids[0]).unwrap().unwrap().result, Some(json!("ok")));
    let status = queue.status().unwrap();
    assert_eq!((status.done, status.pending, status.processing()), (1, 2, 2));
    assert_eq!(
        queue.find_task(&ids[1]).unwrap(),
        concur_worker::TaskLocation::Running { worker: "w1".into() },
        "indexed as a plain fetch would"
    );

    // Paused: the acknowledgement goes through, nothing is fetched.
    queue.pause().unwrap();
    let (acked, more) = queue.ack_and_fetch("w1", &[(&next[0], &ok)], 5).unwrap();
    assert_eq!((acked, more.len()), (vec![Acked::Done], 0));
    queue.resume().unwrap();

    // A task not held: nothing is fetched, so the worker can look first.
    let (acked, more) = queue.ack_and_fetch("w1", &[(&next[0], &ok)], 5).unwrap();
    assert_eq!((acked, more.len()), (vec![Acked::NotHeld], 0));
    // Asking for none fetches none.
    let (acked, more) = queue.ack_and_fetch("w1", &[(&next[1], &ok)], 0).unwrap();
    assert_eq!((acked, more.len()), (vec![Acked::Done], 0));
    assert_eq!(queue.status().unwrap().pending, 2);
}
