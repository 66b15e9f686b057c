//! Redis Cluster: every key of a queue hashes to one slot, and every script
//! of the protocol runs on a cluster node without a cross-slot error.

mod common;

use std::time::{Duration, SystemTime};

use common::{cmd, wait_until, Ready, RedisServer};
use concur_worker::protocol::{Acked, FailOutcome, Fetched, Keys, Task};
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::json;

/// A one-node cluster that owns all 16384 slots.
fn cluster_node() -> RedisServer {
    let server = RedisServer::start_with(
        &["--cluster-enabled", "yes", "--cluster-config-file", "{dir}/nodes.conf"],
        Ready::Ping,
    );
    let mut raw = server.raw();
    let _: () = cmd(&mut raw, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    wait_until("the cluster is up", Duration::from_secs(20), || {
        cmd::<String>(&mut raw, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
    });
    server
}

fn slot(raw: &mut redis::Connection, key: &str) -> i64 {
    cmd(raw, &["CLUSTER", "KEYSLOT", key])
}

#[test]
fn every_key_of_a_queue_is_in_the_slot_of_its_pending_list() {
    let server = cluster_node();
    let mut raw = server.raw();
    for name in ["queue", "emails", "a.b:c-d_e"] {
        let keys = Keys::new(name).unwrap();
        let expected = slot(&mut raw, keys.pending());
        let mut all = keys.fixed();
        all.extend([
            keys.processing("w1"),
            keys.processing("odd{worker}"),
            keys.heartbeat("w1"),
            keys.result("3f1e2d4c-5b6a-4a57-9a8e-0b6c5f5e0d1c"),
            keys.result("{other}"),
            keys.done_in_second(1_764_000_000),
            keys.done_in_minute(29_400_000),
            keys.done_in_hour(490_000),
            keys.task_stats(29_400_000),
            keys.worker_info("w1"),
        ]);
        for key in all {
            assert_eq!(slot(&mut raw, &key), expected, "{key} is not in the slot of {name}");
        }
    }
    // Different queues spread over the cluster instead of sharing one slot.
    assert_ne!(slot(&mut raw, "queue"), slot(&mut raw, "emails"));
}

#[test]
fn every_transition_runs_on_a_cluster_node() {
    let server = cluster_node();
    let mut queue = server.queue(QueueConfig { default_max_attempts: 2, ..QueueConfig::named("jobs") });
    let ok = queue.enqueue("echo", vec![json!(1)], &EnqueueOptions::default()).unwrap();
    let flaky = queue.enqueue("flaky", vec![], &EnqueueOptions::default()).unwrap();
    queue.enqueue("later", vec![], &EnqueueOptions { delay: Duration::from_secs(60), ..Default::default() }).unwrap();
    queue.enqueue_raw(b"not json").unwrap();

    queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
    let fetched = queue.fetch("w1", 10, Duration::from_millis(100)).unwrap();
    assert_eq!(fetched.len(), 3);
    assert!(matches!(fetched[2], Fetched::Malformed(_)));
    let tasks: Vec<&Task> =
        fetched.iter().filter_map(|f| if let Fetched::Task(t) = f { Some(t) } else { None }).collect();
    assert_eq!(queue.ack("w1", tasks[0], &json!("done")).unwrap(), Acked::Done);
    assert!(matches!(queue.fail("w1", tasks[1], "first failure").unwrap(), FailOutcome::Retrying { .. }));
    assert_eq!(queue.promote_due(SystemTime::now() + Duration::from_secs(3600)).unwrap().moved, 2);
    let again = queue.fetch("w1", 10, Duration::ZERO).unwrap();
    let again: Vec<&Task> =
        again.iter().filter_map(|f| if let Fetched::Task(t) = f { Some(t) } else { None }).collect();
    assert_eq!(again.len(), 2);
    let retried = again.iter().find(|t| t.id() == flaky).unwrap();
    assert_eq!(queue.fail("w1", retried, "second failure").unwrap(), FailOutcome::Dead { trimmed: 0 });
    let later = again.iter().find(|t| t.id() != flaky).unwrap();
    assert_eq!(queue.return_to_pending("w1", &[later]).unwrap(), 1);
    assert_eq!(queue.recover("w1", &[]).unwrap(), 0);

    queue.heartbeat("gone", Duration::from_millis(20)).unwrap();
    assert_eq!(queue.fetch("gone", 1, Duration::ZERO).unwrap().len(), 1);
    let mut raw = server.raw();
    wait_until("the heartbeat expires", Duration::from_secs(10), || {
        cmd::<i64>(&mut raw, &["EXISTS", "{jobs}:heartbeat:gone"]) == 0
    });
    assert_eq!(common::reap_twice(&mut queue, Duration::from_millis(20)).returned, 1);

    let status = queue.status().unwrap();
    assert_eq!((status.pending, status.dead, status.done, status.results), (1, 2, 1, 2));
    assert_eq!(queue.result(&ok).unwrap().unwrap().result, Some(json!("done")));
    assert_eq!(queue.dead_retry(&[&flaky]).unwrap().retried, 1);
    assert_eq!(queue.dead_purge().unwrap(), 1);

    // What the dashboard reads and changes runs there too.
    assert!(queue.pause().unwrap());
    assert!(matches!(queue.fetch("w1", 1, Duration::ZERO), Err(concur_worker::Error::Paused { .. })));
    assert!(queue.resume().unwrap());
    queue.control_worker("w1", concur_worker::WorkerControl::Quiet).unwrap();
    assert_eq!(queue.check_control("w1", "quiet").unwrap(), Some(concur_worker::WorkerControl::Quiet));
    let delayed = queue
        .enqueue("later", vec![], &EnqueueOptions { delay: Duration::from_secs(60), ..Default::default() })
        .unwrap();
    assert!(matches!(queue.find_task(&delayed).unwrap(), concur_worker::TaskLocation::Delayed { task: Some(_), .. }));
    assert_eq!(queue.delayed_page(0, 10).unwrap().len(), 1);
    assert_eq!(queue.delayed_run_now(&[&delayed]).unwrap(), 1);
    assert_eq!(queue.pending_page(0, 10).unwrap().len(), 3);
    assert_eq!(queue.done_per_minute(60).unwrap().iter().map(|(_, n)| n).sum::<u64>(), 1);
    assert_eq!(queue.done_per_hour(24).unwrap().iter().map(|(_, n)| n).sum::<u64>(), 1);
    let mut stats = concur_worker::TaskStats::default();
    stats.name = "echo".into();
    stats.count = 1;
    queue.record_task_stats(&[stats]).unwrap();
    assert_eq!(queue.task_stats(60).unwrap()[0].count, 1);
    assert_eq!(queue.dead_delete(&["nothing"]).unwrap(), 0);
    assert_eq!(queue.retire("w1").unwrap(), 0);
}
