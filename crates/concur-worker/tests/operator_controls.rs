//! An operator steering running workers through Redis: pausing a queue
//! stops every worker taking from it (one blocked waiting for a task
//! included) until it is resumed; a worker asked to quiet takes no new
//! tasks and says so; one asked to stop stops. Workers record per-task
//! statistics on the way.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{wait_until, RedisServer};
use concur::aio;
use concur_worker::{
    Client, EnqueueOptions, Error, Job, QueueConfig, RunReport, Shutdown, TaskError, Worker, WorkerControl, WorkerError,
};
use serde_json::json;

fn start(server: &RedisServer, ran: &Arc<AtomicU64>) -> (Worker, Shutdown) {
    let ran = ran.clone();
    let worker = Worker::builder()
        .redis(&server.url())
        .queue("jobs")
        .concurrency(2)
        .handler("work", move |job: Job| {
            let ran = ran.clone();
            async move {
                let (ms,): (u64,) = job.args_as()?;
                aio::sleep(Duration::from_millis(ms)).await?;
                ran.fetch_add(1, Ordering::SeqCst);
                Ok::<_, TaskError>(())
            }
        })
        .build()
        .unwrap();
    let stop = worker.shutdown_handle();
    (worker, stop)
}

fn run(worker: Worker) -> JoinHandle<Result<RunReport, WorkerError>> {
    std::thread::spawn(move || worker.run())
}

fn enqueue(client: &mut Client, n: usize, ms: u64) {
    client.enqueue_many("work", (0..n).map(|_| vec![json!(ms)]), &EnqueueOptions::default()).unwrap();
}

#[test]
fn a_paused_queue_is_not_taken_from_until_it_is_resumed() {
    let server = RedisServer::start();
    let mut client = Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap();
    let ran = Arc::new(AtomicU64::new(0));
    let (worker, stop) = start(&server, &ran);
    let thread = run(worker);
    enqueue(&mut client, 4, 1);
    wait_until("the first four ran", Duration::from_secs(20), || ran.load(Ordering::SeqCst) == 4);

    // The worker is idle, blocked waiting for a task, when the pause comes.
    std::thread::sleep(Duration::from_millis(300));
    assert!(client.pause().unwrap());
    assert!(!client.pause().unwrap(), "a second pause changes nothing");
    enqueue(&mut client, 5, 1);
    std::thread::sleep(Duration::from_millis(1500));
    let status = client.status().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 4, "nothing ran while paused");
    assert_eq!((status.pending, status.processing(), status.paused), (5, 0, true));
    assert!(client.is_paused().unwrap());

    assert!(client.resume().unwrap());
    let resumed = Instant::now();
    wait_until("the five ran after the resume", Duration::from_secs(20), || ran.load(Ordering::SeqCst) == 9);
    assert!(resumed.elapsed() < Duration::from_secs(10));
    assert!(!client.is_paused().unwrap());
    stop.stop();
    let report = thread.join().unwrap().unwrap();
    assert_eq!(report.done, 9);

    // The worker's statistics reached Redis by the time it stopped.
    let stats = client.task_stats(60).unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!((stats[0].name.as_str(), stats[0].count, stats[0].failed), ("work", 9, 0));
    assert_eq!(stats[0].run.count(), 9);
    assert!(stats[0].wait.quantile(0.99).unwrap() > 1.0, "five tasks waited out the pause");
}

#[test]
fn a_quieted_worker_finishes_what_it_runs_takes_nothing_more_and_stops_when_asked() {
    let server = RedisServer::start();
    let mut client = Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap();
    let ran = Arc::new(AtomicU64::new(0));
    let (worker, _stop) = start(&server, &ran);
    let id = worker.id().to_owned();
    let thread = run(worker);
    enqueue(&mut client, 2, 1500);
    wait_until("both are running", Duration::from_secs(20), || client.status().unwrap().processing() == 2);

    client.control_worker(&id, WorkerControl::Quiet).unwrap();
    enqueue(&mut client, 3, 1);
    wait_until("the worker says it is quiet", Duration::from_secs(10), || {
        client.status().unwrap().workers.iter().any(|w| w.state.as_deref() == Some("quiet"))
    });
    wait_until("the running two finished", Duration::from_secs(20), || ran.load(Ordering::SeqCst) == 2);
    std::thread::sleep(Duration::from_millis(1200));
    let status = client.status().unwrap();
    assert_eq!((ran.load(Ordering::SeqCst), status.pending), (2, 3), "a quiet worker takes nothing");
    let me = status.workers.iter().find(|w| w.id == id).expect("still registered");
    assert_eq!(me.control, Some(WorkerControl::Quiet));
    assert!(me.heartbeat.is_some(), "and keeps its heartbeat");

    client.control_worker(&id, WorkerControl::Stop).unwrap();
    let report = thread.join().unwrap().unwrap();
    assert_eq!(report.done, 2);
    assert_eq!(client.status().unwrap().workers.len(), 0, "it left the queue");
    assert_eq!(client.status().unwrap().pending, 3, "and left the rest to others");
}

#[test]
fn a_stop_asked_of_a_busy_worker_lets_its_tasks_finish() {
    let server = RedisServer::start();
    let mut client = Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap();
    let ran = Arc::new(AtomicU64::new(0));
    let (worker, _stop) = start(&server, &ran);
    let id = worker.id().to_owned();
    let thread = run(worker);
    enqueue(&mut client, 2, 800);
    wait_until("both are running", Duration::from_secs(20), || client.status().unwrap().processing() == 2);
    client.control_worker(&id, WorkerControl::Stop).unwrap();
    // A quiet after a stop does not undo it.
    client.control_worker(&id, WorkerControl::Quiet).unwrap();
    let report = thread.join().unwrap().unwrap();
    assert_eq!((report.done, report.returned), (2, 0));
}

#[test]
fn asking_an_unknown_worker_is_an_error_that_names_it() {
    let server = RedisServer::start();
    let mut client = Client::connect(&server.url(), QueueConfig::named("jobs")).unwrap();
    match client.control_worker("nobody", WorkerControl::Quiet) {
        Err(error @ Error::NoSuchWorker { .. }) => {
            assert_eq!(error.to_string(), "no worker \"nobody\" is registered on the queue jobs");
        }
        other => panic!("expected NoSuchWorker, got {other:?}"),
    }
    assert!(matches!(client.control_worker("two words", WorkerControl::Stop), Err(Error::InvalidName { .. })));
    // Nothing was written for the unknown worker.
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut server.raw()).unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}
