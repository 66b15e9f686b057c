//! A real Redis Cluster of three masters and three replicas: a client given
//! every seed, or just one node, follows the slot map to the master of each
//! queue's slot (`MOVED`), every transition runs there, and a worker serves
//! a queue on a master it was not pointed at.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::cluster::RedisCluster;
use common::{tasks, wait_until};
use concur_worker::protocol::{Acked, Connection};
use concur_worker::{Client, EnqueueOptions, QueueConfig, Worker};
use serde_json::json;

/// Queue names whose slots are on three different masters.
fn queues_on_every_master(cluster: &RedisCluster) -> Vec<String> {
    let mut masters = BTreeSet::new();
    let mut names = Vec::new();
    for n in 0.. {
        let name = format!("jobs{n}");
        let master = cluster.master_of(&name).expect("every slot is served");
        if masters.insert(master) {
            names.push(name);
        }
        if names.len() == 3 {
            return names;
        }
    }
    unreachable!()
}

#[test]
fn every_transition_runs_on_the_master_of_its_queue() {
    let cluster = RedisCluster::start();
    let names = queues_on_every_master(&cluster);
    // One seed is enough: the node says it is in cluster mode.
    let one_seed = format!("redis://127.0.0.1:{}", cluster.ports()[0]);
    for (url, label) in [(cluster.url(), "every seed"), (one_seed, "one seed")] {
        for name in &names {
            let mut queue = Connection::connect(&url, QueueConfig::named(name)).expect("connect");
            assert!(queue.is_cluster(), "{label}");
            let id = queue.enqueue("echo", vec![json!(name)], &EnqueueOptions::default()).unwrap();
            queue.heartbeat("w1", Duration::from_secs(30)).unwrap();
            let held = tasks(queue.fetch("w1", 10, Duration::from_millis(100)).unwrap());
            assert_eq!(held.len(), 1, "{label}: {name}");
            assert_eq!(queue.ack("w1", &held[0], &json!("done")).unwrap(), Acked::Done);
            assert_eq!(queue.result(&id).unwrap().unwrap().result, Some(json!("done")));
            let status = queue.status().unwrap();
            assert_eq!((status.done, status.pending, status.processing()), (1, 0, 0), "{label}: {name}");
            assert_eq!(queue.retire("w1").unwrap(), 0);
            // The keys are on the queue's own master, nowhere else.
            let master = cluster.master_of(name).unwrap();
            let mut node = cluster.node(master);
            let exists: i64 = redis::cmd("EXISTS").arg(format!("{{{name}}}:stats")).query(&mut node).unwrap();
            assert_eq!(exists, 1, "{name}'s keys live on its master");
            let _: () = redis::cmd("FLUSHALL").query(&mut node).unwrap();
        }
    }
}

#[test]
fn a_blocking_fetch_on_a_cluster_wakes_on_a_push_and_a_worker_serves_there() {
    let cluster = RedisCluster::start();
    let names = queues_on_every_master(&cluster);
    let name = &names[2];
    let url = cluster.url();
    let worker = Worker::builder().redis(&url).queue(name).concurrency(8).build().expect("the worker builds");
    let stop = worker.shutdown_handle();
    let running = std::thread::spawn(move || worker.run());
    let mut producer = Client::connect(&url, QueueConfig::named(name)).unwrap();
    let ids = producer.enqueue_many("echo", (0..50).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    wait_until("the worker runs the fifty", Duration::from_secs(30), || producer.status().unwrap().done == 50);
    assert!(stop.stop());
    let report = running.join().unwrap().unwrap();
    assert_eq!((report.done, report.reconnects), (50, 0));
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(producer.result(id).unwrap().unwrap().result, Some(json!([n])));
    }
    assert!(producer.status().unwrap().workers.is_empty(), "the worker retired");
}
