//! One worker, several queues: strict order drains the first queue before
//! the next, weighted order never starves a queue of weight 1, and the
//! worker says which queues it serves.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{wait_until, RedisServer};
use concur_worker::{Client, EnqueueOptions, Job, QueueConfig, QueueSet, TaskError, Worker};
use serde_json::json;

/// Which queue each task came from, in the order the handler ran them.
type Ran = Arc<Mutex<Vec<String>>>;

fn start(server: &RedisServer, queues: &str, ran: &Ran) -> (concur_worker::Shutdown, std::thread::JoinHandle<()>) {
    let ran = ran.clone();
    let worker = Worker::builder()
        .redis(&server.url())
        .queues(queues.parse::<QueueSet>().unwrap())
        .concurrency(1)
        .handler("note", move |job: Job| {
            let ran = ran.clone();
            async move {
                let (queue,): (String,) = job.args_as()?;
                ran.lock().unwrap().push(queue);
                Ok::<_, TaskError>(())
            }
        })
        .build()
        .unwrap();
    let stop = worker.shutdown_handle();
    let thread = std::thread::spawn(move || {
        worker.run().unwrap();
    });
    (stop, thread)
}

fn fill(server: &RedisServer, names: &[&str], each: usize) {
    for name in names {
        let mut client = server.queue(QueueConfig::named(name));
        client.enqueue_many("note", (0..each).map(|_| vec![json!(name)]), &EnqueueOptions::default()).unwrap();
    }
}

fn done(server: &RedisServer, names: &[&str]) -> u64 {
    names.iter().map(|name| server.queue(QueueConfig::named(name)).status().unwrap().done).sum()
}

#[test]
fn strict_order_drains_each_queue_before_the_next() {
    let server = RedisServer::start();
    let names = ["critical", "default", "low"];
    fill(&server, &names, 30);
    let ran: Ran = Arc::default();
    let (stop, thread) = start(&server, "critical,default,low", &ran);
    wait_until("all ninety are done", Duration::from_secs(30), || done(&server, &names) == 90);
    stop.stop();
    thread.join().unwrap();
    let ran = ran.lock().unwrap();
    let expected: Vec<&str> = names.iter().flat_map(|name| std::iter::repeat_n(*name, 30)).collect();
    assert_eq!(*ran, expected);
}

#[test]
fn weighted_order_never_starves_a_queue_of_weight_one() {
    let server = RedisServer::start();
    let names = ["critical", "default", "low"];
    fill(&server, &names, 400);
    let ran: Ran = Arc::default();
    let (stop, thread) = start(&server, "critical:5,default:2,low:1", &ran);
    wait_until("four hundred are done", Duration::from_secs(60), || ran.lock().unwrap().len() >= 400);
    stop.stop();
    thread.join().unwrap();
    let ran = ran.lock().unwrap();
    let count = |name: &str| ran[..400].iter().filter(|q| *q == name).count();
    let (critical, default, low) = (count("critical"), count("default"), count("low"));
    // Expected about 250, 100 and 50; the bounds are many deviations wide.
    assert!(low >= 15, "the weight-1 queue was starved: {critical}, {default}, {low}");
    assert!(critical > default && default > low, "{critical}, {default}, {low}");
}

#[test]
fn status_shows_the_queues_a_worker_serves() {
    let server = RedisServer::start();
    let ran: Ran = Arc::default();
    let (stop, thread) = start(&server, "a:3,b:1", &ran);
    let mut a = Client::connect(&server.url(), QueueConfig::named("a")).unwrap();
    let mut b = a.for_queue("b").unwrap();
    wait_until("the worker registers on both queues", Duration::from_secs(10), || {
        a.status().unwrap().workers.len() == 1 && b.status().unwrap().workers.len() == 1
    });
    for status in [a.status().unwrap(), b.status().unwrap()] {
        assert_eq!(status.workers[0].serves.as_deref(), Some("a:3,b:1"));
        assert_eq!(status.workers[0].concurrency, Some(1));
    }
    stop.stop();
    thread.join().unwrap();
    assert!(a.status().unwrap().workers.is_empty() && b.status().unwrap().workers.is_empty(), "retired from both");
}
