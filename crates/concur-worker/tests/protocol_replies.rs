//! The result notification at the protocol level: every way a task ends
//! (acknowledged alone, with the next fetch, dead after its attempts,
//! rejected, buried as poison by a reaper) pushes its id onto the reply list
//! its envelope names, with a TTL; a reply key outside the queue's hash tag,
//! or one that only appears inside the arguments, is ignored, and one of the
//! wrong type never fails the step it rides on.

mod common;

use std::time::Duration;

use common::{cmd, tasks, wait_until, RedisServer};
use concur_worker::protocol::{Acked, Connection, Envelope, FailOutcome, Task, REPLY_TTL_SECS};
use concur_worker::QueueConfig;
use serde_json::json;

/// Pushes an envelope whose `reply` is `reply`, as a `RemotePool` writes it.
fn push(server: &RedisServer, task: &str, reply: &str, args: Vec<serde_json::Value>) -> String {
    let mut envelope = Envelope::new(task, args);
    envelope.reply = Some(reply.to_owned());
    let json = envelope.to_json();
    assert!(json.starts_with(&format!(r#"{{"id":"{}","reply":"#, envelope.id)), "{json}");
    cmd::<i64>(&mut server.raw(), &["LPUSH", "queue", &json]);
    envelope.id
}

fn fetch_one(queue: &mut Connection, worker: &str) -> Task {
    queue.heartbeat(worker, Duration::from_secs(60)).unwrap();
    let mut fetched = tasks(queue.fetch(worker, 1, Duration::ZERO).unwrap());
    assert_eq!(fetched.len(), 1);
    fetched.remove(0)
}

fn replies(server: &RedisServer, key: &str) -> Vec<String> {
    cmd(&mut server.raw(), &["LRANGE", key, "0", "-1"])
}

#[test]
fn an_acknowledgement_notifies_the_reply_list_with_a_ttl() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    let reply = "{queue}:reply:c1";
    let id = push(&server, "echo", reply, vec![json!(1)]);
    let task = fetch_one(&mut queue, "w1");
    assert_eq!(queue.ack("w1", &task, &json!(1)).unwrap(), Acked::Done);
    assert_eq!(replies(&server, reply), std::slice::from_ref(&id));
    let ttl: i64 = cmd(&mut server.raw(), &["TTL", reply]);
    assert!(ttl > 0 && ttl <= REPLY_TTL_SECS as i64, "ttl {ttl}");
    // A repeated acknowledgement changes nothing, and notifies nobody again.
    assert_eq!(queue.ack("w1", &task, &json!(1)).unwrap(), Acked::NotHeld);
    assert_eq!(replies(&server, reply).len(), 1);
    // The acknowledgement that also fetches notifies too.
    let second = push(&server, "echo", reply, vec![]);
    let task = fetch_one(&mut queue, "w1");
    let (acked, _) = queue.ack_and_fetch("w1", &[(&task, &json!(null))], 1).unwrap();
    assert_eq!(acked, [Acked::Done]);
    assert_eq!(replies(&server, reply), [second, id]);
}

#[test]
fn dead_letters_notify_whether_failed_rejected_or_poison() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig { max_reaps: 1, ..QueueConfig::default() });
    let reply = "{queue}:reply:c2";
    // Out of attempts: the retry keeps the reply key, the last failure notifies.
    let mut envelope = Envelope::new("flaky", vec![]);
    envelope.reply = Some(reply.to_owned());
    envelope.max_attempts = Some(2);
    cmd::<i64>(&mut server.raw(), &["LPUSH", "queue", &envelope.to_json()]);
    let task = fetch_one(&mut queue, "w1");
    assert!(matches!(queue.fail("w1", &task, "first").unwrap(), FailOutcome::Retrying { .. }));
    assert!(replies(&server, reply).is_empty(), "a retry is not an end");
    let delayed: Vec<String> = cmd(&mut server.raw(), &["ZRANGE", "{queue}:delayed", "0", "-1"]);
    cmd::<i64>(&mut server.raw(), &["DEL", "{queue}:delayed"]);
    cmd::<i64>(&mut server.raw(), &["LPUSH", "queue", &delayed[0]]);
    let task = fetch_one(&mut queue, "w1");
    assert!(matches!(queue.fail("w1", &task, "second").unwrap(), FailOutcome::Dead { .. }));
    assert_eq!(replies(&server, reply), std::slice::from_ref(&envelope.id));
    // Rejected.
    let rejected = push(&server, "bad", reply, vec![]);
    let task = fetch_one(&mut queue, "w1");
    queue.reject("w1", &task, "no").unwrap();
    assert_eq!(replies(&server, reply)[0], rejected);
    // Buried as poison by a reaper after its worker died twice.
    let poison = push(&server, "crash", reply, vec![]);
    let mut raw = server.raw();
    for round in 1..=2 {
        let worker = format!("victim-{round}");
        queue.heartbeat(&worker, Duration::from_millis(50)).unwrap();
        assert_eq!(tasks(queue.fetch(&worker, 1, Duration::ZERO).unwrap()).len(), 1);
        let heartbeat = format!("{{queue}}:heartbeat:{worker}");
        wait_until("the heartbeat expires", Duration::from_secs(10), || {
            cmd::<i64>(&mut raw, &["EXISTS", &heartbeat]) == 0
        });
        common::reap_twice(&mut queue, Duration::from_millis(50));
    }
    assert_eq!(replies(&server, reply)[0], poison);
    assert_eq!(replies(&server, reply).len(), 3);
}

#[test]
fn foreign_or_hidden_reply_keys_are_ignored_and_a_wrong_type_fails_nothing() {
    let server = RedisServer::start();
    let mut queue = server.queue(QueueConfig::default());
    // Another queue's tag: on a cluster another slot, so never written.
    push(&server, "echo", "{other}:reply:c3", vec![]);
    // A reply key inside the arguments is not the envelope's.
    let mut hidden = Envelope::new("echo", vec![json!({"reply": "{queue}:reply:c4"})]);
    hidden.reply = None;
    cmd::<i64>(&mut server.raw(), &["LPUSH", "queue", &hidden.to_json()]);
    // A reply key that holds a string.
    cmd::<()>(&mut server.raw(), &["SET", "{queue}:reply:c5", "not a list"]);
    push(&server, "echo", "{queue}:reply:c5", vec![]);
    for _ in 0..3 {
        let task = fetch_one(&mut queue, "w1");
        assert_eq!(queue.ack("w1", &task, &json!(null)).unwrap(), Acked::Done);
    }
    let keys: Vec<String> = cmd(&mut server.raw(), &["KEYS", "*reply*"]);
    assert_eq!(keys, ["{queue}:reply:c5"]);
    assert_eq!(queue.status().unwrap().done, 3);
}
