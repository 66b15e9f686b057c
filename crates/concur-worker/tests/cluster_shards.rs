//! Sharded queues: a queue declared with three shards spreads over the three
//! masters of a real cluster, producers spread tasks over the shards,
//! workers serve every shard and the queue itself, and status, results and
//! dead letters see them all.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::cluster::RedisCluster;
use common::{wait_until, RedisServer};
use concur_worker::{Client, EnqueueOptions, QueueConfig, Worker};
use serde_json::json;

fn run_worker(url: &str, queue: &str, until: impl FnMut() -> bool) -> concur_worker::RunReport {
    let worker = Worker::builder().redis(url).queue(queue).concurrency(16).build().expect("the worker builds");
    let stop = worker.shutdown_handle();
    let running = std::thread::spawn(move || worker.run());
    wait_until("the worker is done", Duration::from_secs(60), until);
    stop.stop();
    running.join().unwrap().unwrap()
}

#[test]
fn a_queue_with_three_shards_spreads_over_three_masters_and_is_served_whole() {
    let cluster = RedisCluster::start();
    let url = cluster.url();
    let mut admin = Client::connect(&url, QueueConfig::named("jobs")).unwrap();
    admin.set_shards(3).unwrap();
    let shards: Vec<String> = admin.shards().map(str::to_owned).collect();
    let masters: BTreeSet<u16> = shards.iter().map(|shard| cluster.master_of(shard).unwrap()).collect();
    assert_eq!(masters.len(), 3, "one shard on each master: {shards:?}");

    // A producer connected after the declaration spreads its tasks.
    let mut producer = Client::connect(&url, QueueConfig::named("jobs")).unwrap();
    assert_eq!(producer.shards().count(), 3);
    let ids = producer.enqueue_many("echo", (0..300).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    for shard in &shards {
        let mut node = cluster.node(cluster.master_of(shard).unwrap());
        let pending: u64 = redis::cmd("LLEN").arg(shard).query(&mut node).unwrap();
        assert_eq!(pending, 100, "{shard}");
    }
    // The reference's plain push to the queue itself is served too.
    let mut base = cluster.node(cluster.master_of("jobs").unwrap());
    let _: i64 = redis::cmd("LPUSH").arg("jobs").arg("0").query(&mut base).unwrap();
    // And a task no worker knows lands in a shard's dead-letter list.
    producer.enqueue("nope", vec![], &EnqueueOptions::default()).unwrap();
    assert_eq!(producer.status().unwrap().pending, 302);

    let report = run_worker(&url, "jobs", || producer.status().unwrap().done == 301);
    assert_eq!(report.done, 301);
    let status = producer.status().unwrap();
    assert_eq!((status.pending, status.processing(), status.dead), (0, 0, 1));
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(producer.result(id).unwrap().unwrap().result, Some(json!([n])), "task {n}");
    }
    let dead = producer.dead_list(0, 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(producer.dead_retry_all().unwrap().retried, 1);
    assert_eq!(producer.status().unwrap().pending, 1);
    assert_eq!(producer.dead_purge().unwrap(), 0);

    // The number of shards cannot change while a shard holds a task.
    let err = admin.set_shards(6).unwrap_err();
    assert!(err.to_string().contains("drain them"), "{err}");
}

#[test]
fn shards_work_on_a_single_server_too() {
    let server = RedisServer::start();
    let mut admin = Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap();
    admin.set_shards(4).unwrap();
    let mut producer = Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap();
    producer.enqueue_many("echo", (0..40).map(|n| vec![json!(n)]), &EnqueueOptions::default()).unwrap();
    let report = run_worker(&server.url(), "jobs", || producer.status().unwrap().done == 40);
    assert_eq!(report.done, 40);
    admin.set_shards(0).unwrap();
    assert_eq!(Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap().shards().count(), 0);
}
