//! What producers push: the reference's bare integers on the list `queue`,
//! full envelopes, and every kind of payload that cannot be run — each of
//! which must land in the dead-letter list with its reason while the queue
//! keeps serving.

mod common;

use std::time::Duration;

use common::{cmd, RedisServer};
use concur_worker::protocol::{parse, Acked, Connection, Fetched, MalformedReason, Task};
use concur_worker::{DeadKind, EnqueueOptions, Error, QueueConfig, SLEEP_TASK};
use serde_json::{json, Value};

fn started(queue: &mut Connection, worker: &str) {
    queue.heartbeat(worker, Duration::from_secs(60)).unwrap();
}

#[test]
fn a_bare_integer_from_redis_cli_is_the_sleep_task_on_the_default_queue() {
    let server = RedisServer::start();
    // The reference's producer: `redis-cli LPUSH queue 5`, then 3, then 1.
    let mut producer = server.raw();
    for n in ["5", "3", "1"] {
        let _: i64 = cmd(&mut producer, &["LPUSH", "queue", n]);
    }
    let mut queue = server.queue(QueueConfig::default());
    assert_eq!(queue.keys().pending(), "queue");
    started(&mut queue, "w1");
    let fetched: Vec<Task> = queue
        .fetch("w1", 10, Duration::from_secs(2))
        .unwrap()
        .into_iter()
        .map(|f| match f {
            Fetched::Task(task) => task,
            Fetched::Malformed(bad) => panic!("a bare integer was refused: {}", bad.reason),
        })
        .collect();
    let got: Vec<(&str, &[Value])> = fetched.iter().map(|t| (t.name(), t.args())).collect();
    assert_eq!(got, [(SLEEP_TASK, &[json!(5)][..]), (SLEEP_TASK, &[json!(3)][..]), (SLEEP_TASK, &[json!(1)][..])]);
    // Each gets its own id, and the processing list holds the payloads as pushed.
    assert!(fetched[0].id() != fetched[1].id() && fetched[1].id() != fetched[2].id());
    assert_eq!(fetched.iter().map(Task::payload).collect::<Vec<_>>(), ["5", "3", "1"]);
    for task in &fetched {
        assert_eq!(queue.ack("w1", task, &json!(null)).unwrap(), Acked::Done);
    }
    assert_eq!(cmd::<i64>(&mut producer, &["LLEN", "{queue}:processing:w1"]), 0);
    // Results are stored under the ids made at fetch.
    assert!(queue.result(fetched[0].id()).unwrap().is_some());
}

#[test]
fn a_failed_bare_integer_is_retried_as_a_full_envelope() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_raw(b"-3").unwrap();
    started(&mut queue, "w1");
    let Some(Fetched::Task(task)) = queue.fetch("w1", 1, Duration::ZERO).unwrap().pop() else {
        panic!("a negative number is a sleep task for the handler to judge")
    };
    assert_eq!(task.args(), [json!(-3)]);
    queue.fail("w1", &task, "a sleep cannot be negative").unwrap();
    let delayed: Vec<String> = cmd(&mut server.raw(), &["ZRANGE", "{queue}:delayed", "0", "-1"]);
    let envelope = parse(delayed[0].as_bytes(), 1 << 20).unwrap();
    assert_eq!((envelope.id.as_str(), envelope.task.as_str(), envelope.attempts), (task.id(), SLEEP_TASK, 1));
    assert_eq!(envelope.args, [json!(-3)]);
}

/// Pushes `payload` with one good task behind it, fetches both, and returns
/// the reason the bad one was refused; checks the good one still runs and the
/// bad one sits in the dead-letter list.
fn refused(payload: &[u8]) -> (MalformedReason, concur_worker::DeadEntry) {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_raw(payload).unwrap();
    let good = queue.enqueue("echo", vec![json!("still serving")], &EnqueueOptions::default()).unwrap();
    started(&mut queue, "w1");
    let mut items = queue.fetch("w1", 10, Duration::from_secs(2)).unwrap();
    if items.len() < 2 {
        // A batch ends early after a payload of several megabytes.
        items.extend(queue.fetch("w1", 10, Duration::ZERO).unwrap());
    }
    let mut fetched = items.into_iter();
    let reason = match fetched.next() {
        Some(Fetched::Malformed(bad)) => {
            assert_eq!(bad.size, payload.len());
            bad
        }
        other => panic!("expected the payload to be refused, got {other:?}"),
    };
    match fetched.next() {
        Some(Fetched::Task(task)) => {
            assert_eq!(task.id(), good);
            assert_eq!(queue.ack("w1", &task, &json!(1)).unwrap(), Acked::Done);
        }
        other => panic!("expected the good task next, got {other:?}"),
    }
    let mut raw = server.raw();
    assert_eq!(cmd::<i64>(&mut raw, &["LLEN", "{queue}:processing:w1"]), 0, "the bad payload left processing");
    assert_eq!(cmd::<i64>(&mut raw, &["LLEN", "queue"]), 0);
    let dead = queue.dead_list(0, 10).unwrap();
    assert_eq!(dead.len(), 1);
    let entry = dead.into_iter().next().unwrap();
    assert_eq!((entry.kind, entry.id.as_str()), (DeadKind::Malformed, reason.dead_id.as_str()));
    assert_eq!(entry.error, reason.reason.to_string());
    assert_eq!(entry.payload_size, payload.len() as u64);
    assert_eq!(entry.worker.as_deref(), Some("w1"));
    (reason.reason, entry)
}

#[test]
fn a_payload_that_is_not_utf8_is_dead_lettered_with_its_bytes() {
    let payload = b"\xff\xfe\x00binary";
    let (reason, entry) = refused(payload);
    assert_eq!(reason, MalformedReason::NotUtf8 { valid_up_to: 0 });
    assert_eq!((entry.payload.as_deref(), entry.payload_hex.as_deref()), (None, Some("fffe0062696e617279")));
    assert_eq!(entry.retry_payload().as_deref(), Some(&payload[..]));
}

#[test]
fn a_payload_that_is_not_json_is_dead_lettered_as_text() {
    let (reason, entry) = refused(b"five seconds please");
    assert!(matches!(reason, MalformedReason::NotJson(_)), "{reason:?}");
    assert!(entry.error.contains("not JSON"), "{}", entry.error);
    assert_eq!(entry.payload.as_deref(), Some("five seconds please"));
}

#[test]
fn a_ten_megabyte_payload_is_dead_lettered_and_only_its_start_is_kept() {
    let payload = vec![b'7'; 10 * 1024 * 1024];
    let (reason, entry) = refused(&payload);
    assert_eq!(reason, MalformedReason::TooLarge { size: 10 * 1024 * 1024, limit: 1 << 20 });
    assert_eq!((entry.payload.as_deref(), entry.payload_hex.as_deref()), (None, None));
    let prefix = entry.payload_prefix.as_deref().expect("the start of the payload is kept");
    assert!(prefix.len() <= 256 && prefix.starts_with("777"), "{} bytes kept", prefix.len());
    assert_eq!(entry.retry_payload(), None);
}

#[test]
fn a_batch_stops_once_its_payloads_reach_four_megabytes() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { max_payload: 8 << 20, ..QueueConfig::default() });
    for _ in 0..3 {
        let args = vec![json!("x".repeat(3 << 20))];
        queue.enqueue("echo", args, &EnqueueOptions::default()).unwrap();
    }
    queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    started(&mut queue, "w1");
    // 3 MiB, then 6 MiB: past the budget, so the batch ends at two.
    assert_eq!(queue.fetch("w1", 10, Duration::ZERO).unwrap().len(), 2);
    assert_eq!(queue.fetch("w1", 10, Duration::ZERO).unwrap().len(), 2);
}

#[test]
fn a_ten_megabyte_entry_costs_the_dead_letter_list_little_memory() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_raw(&vec![b'x'; 10 * 1024 * 1024]).unwrap();
    started(&mut queue, "w1");
    queue.fetch("w1", 1, Duration::ZERO).unwrap();
    let mut raw = server.raw();
    let bytes: i64 = cmd(&mut raw, &["MEMORY", "USAGE", "{queue}:dead"]);
    assert!(bytes < 4096, "the dead-letter list takes {bytes} bytes");
    let retried = queue.dead_retry_all().unwrap();
    assert_eq!((retried.retried, retried.not_retriable), (0, 1));
}

#[test]
fn unknown_fields_are_refused_not_ignored() {
    let (reason, entry) = refused(br#"{"task":"echo","arg":["typo"]}"#);
    let MalformedReason::InvalidEnvelope(detail) = &reason else { panic!("{reason:?}") };
    assert!(detail.contains("unknown field `arg`"), "{detail}");
    assert_eq!(entry.payload.as_deref(), Some(r#"{"task":"echo","arg":["typo"]}"#));
}

#[test]
fn fields_of_the_wrong_type_or_range_are_refused() {
    for payload in [
        &br#"{"task":5}"#[..],
        br#"{"task":"echo","args":"not a list"}"#,
        br#"{"task":"echo","attempts":-1}"#,
        br#"{"task":"echo","max_attempts":0}"#,
        br#"{"task":"echo","timeout":-2}"#,
        br#"{"task":""}"#,
        br#"{"id":"has space","task":"echo"}"#,
        br#"{"args":[1]}"#,
        br#""5""#,
        br#"[5]"#,
        b"null",
    ] {
        let (reason, _) = refused(payload);
        assert!(
            matches!(reason, MalformedReason::InvalidEnvelope(_)),
            "{:?} gave {reason:?}",
            String::from_utf8_lossy(payload)
        );
    }
}

#[test]
fn a_refused_payload_that_is_retried_comes_back_byte_for_byte() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_raw(b"\x80oops").unwrap();
    started(&mut queue, "w1");
    queue.fetch("w1", 1, Duration::ZERO).unwrap();
    assert_eq!(queue.dead_retry_all().unwrap().retried, 1);
    let pending: Vec<Vec<u8>> = cmd(&mut server.raw(), &["LRANGE", "queue", "0", "-1"]);
    assert_eq!(pending, [b"\x80oops".to_vec()]);
}

#[test]
fn enqueue_refuses_a_payload_over_the_limit_and_pushes_nothing() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { max_payload: 1000, ..QueueConfig::default() });
    let err = queue.enqueue("echo", vec![json!("x".repeat(2000))], &EnqueueOptions::default()).unwrap_err();
    assert!(matches!(err, Error::PayloadTooLarge { limit: 1000, .. }), "{err}");
    assert!(err.to_string().contains("more than the queue's limit of 1000"), "{err}");
    assert_eq!(cmd::<i64>(&mut server.raw(), &["LLEN", "queue"]), 0);
}

#[test]
fn envelopes_written_by_other_producers_are_read_with_defaults() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    queue.enqueue_raw(br#"{"id":"order-17","task":"echo","args":[1,"two",{"three":3}],"timeout":1.5}"#).unwrap();
    queue.enqueue_raw(br#"{"task":"noop"}"#).unwrap();
    started(&mut queue, "w1");
    let fetched = queue.fetch("w1", 10, Duration::ZERO).unwrap();
    let [Fetched::Task(first), Fetched::Task(second)] = &fetched[..] else { panic!("{fetched:?}") };
    assert_eq!((first.id(), first.args().len(), first.timeout()), ("order-17", 3, Duration::from_millis(1500)));
    assert_eq!((second.name(), second.args(), second.max_attempts()), ("noop", &[][..], 5));
    assert_eq!(queue.ack("w1", first, &json!("ok")).unwrap(), Acked::Done);
    assert_eq!(queue.result("order-17").unwrap().unwrap().result, Some(json!("ok")));
}
