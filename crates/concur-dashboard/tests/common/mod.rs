//! A dashboard of the test's own, in this process, on a free loopback port,
//! beside a `redis-server` of its own (the worker crate's harness, shared),
//! and the fixtures the tests read: tasks, dead letters and results made
//! through the worker library as a producer and a worker would make them.

#![allow(dead_code)] // Each test file uses a different part of the harness.

#[path = "../../../concur-worker/tests/common/mod.rs"]
mod redis_harness;

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use concur_dashboard::{Dashboard, DashboardBuilder, Stop};
use concur_worker::protocol::{Connection, Fetched};
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::{json, Value};

#[allow(unused_imports)] // Each test file uses a different part of the harness.
pub(crate) use redis_harness::{cmd, free_port, run_cases, wait_until, Ready, RedisServer};

/// A task argument that would run a script if a page took it for markup.
pub(crate) const SCRIPT_ARG: &str = "<script>alert('arg')</script>";
/// An error that would add an element running a script.
pub(crate) const IMG_ERROR: &str = "\"><img src=x onerror=alert('error')>";
/// A value that would close a script element holding JSON.
pub(crate) const CLOSE_SCRIPT: &str = "</script><script>alert('json')</script>";
/// A task name with markup.
pub(crate) const MARKUP_TASK: &str = "<b onmouseover=alert('task')>bold</b>";

/// A running dashboard, stopped and joined on drop.
pub(crate) struct Served {
    pub(crate) addr: SocketAddr,
    stop: Stop,
    thread: Option<JoinHandle<()>>,
}

impl Served {
    /// Builds and runs `builder` (with Redis at `server` and a free port)
    /// on a thread of its own.
    pub(crate) fn start(server: &RedisServer, builder: DashboardBuilder) -> Served {
        let dashboard = builder
            .redis(&server.url())
            .bind("127.0.0.1:0".parse().expect("an address"))
            .build()
            .expect("the dashboard starts");
        let addr = dashboard.local_addr();
        let stop = dashboard.stop_handle();
        let thread = std::thread::spawn(move || dashboard.run().expect("the dashboard runs"));
        Served { addr, stop, thread: Some(thread) }
    }

    /// The dashboard of the queues `queues`, with defaults otherwise.
    pub(crate) fn queues(server: &RedisServer, queues: &[&str]) -> Served {
        Served::start(server, Dashboard::builder().queues(queues))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP client as a program (not a browser) is: no Origin, no fetch
/// metadata, no redirects followed, every call bounded in time.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// A worker-side connection to `queue`.
pub(crate) fn connection(server: &RedisServer, queue: &str) -> Connection {
    server.queue(QueueConfig::named(queue))
}

/// Enqueues `n` `echo` tasks onto `queue`; returns their ids.
pub(crate) fn enqueue(server: &RedisServer, queue: &str, n: usize) -> Vec<String> {
    let mut producer = connection(server, queue);
    (0..n).map(|i| producer.enqueue("echo", vec![json!(i)], &EnqueueOptions::default()).expect("enqueue")).collect()
}

/// Makes `n` dead letters on `queue` as a worker does — enqueued, fetched
/// and rejected with `error` — and returns their ids, oldest first.
pub(crate) fn dead_letters(
    server: &RedisServer,
    queue: &str,
    task: &str,
    args: Vec<Value>,
    error: &str,
    n: usize,
) -> Vec<String> {
    let mut conn = connection(server, queue);
    let worker = "fixture-worker";
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(conn.enqueue(task, args.clone(), &EnqueueOptions::default()).expect("enqueue"));
    }
    let mut left = n;
    while left > 0 {
        let fetched = conn.fetch(worker, left, Duration::from_secs(1)).expect("fetch");
        assert!(!fetched.is_empty(), "the fixture's tasks were not fetched");
        for f in fetched {
            match f {
                Fetched::Task(task) => {
                    conn.reject(worker, &task, error).expect("reject");
                }
                Fetched::Malformed(bad) => panic!("unexpected malformed payload: {}", bad.reason),
            }
            left -= 1;
        }
    }
    conn.retire(worker).expect("retire");
    ids
}

/// Runs one `echo` task with `args` to completion on `queue`, as a worker
/// does, so its result record is stored; returns its id.
pub(crate) fn finished_task(server: &RedisServer, queue: &str, args: Vec<Value>) -> String {
    let mut conn = connection(server, queue);
    let id = conn.enqueue("echo", args.clone(), &EnqueueOptions::default()).expect("enqueue");
    let worker = "fixture-worker";
    for f in conn.fetch(worker, 1, Duration::from_secs(1)).expect("fetch") {
        if let Fetched::Task(task) = f {
            assert_eq!(task.id(), id, "the fixture ran another task: give it an empty queue");
            conn.ack(worker, &task, &json!(args)).expect("ack");
        }
    }
    conn.retire(worker).expect("retire");
    id
}

/// `GET url` as JSON, with its status.
pub(crate) async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.expect("the request is answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

/// `GET url` as text, with its status.
pub(crate) async fn get_text(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.expect("the request is answered");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// The dashboard's CSRF token, as a program reads it.
pub(crate) async fn csrf(client: &reqwest::Client, served: &Served) -> String {
    let (status, session) = get_json(client, &served.url("/api/session")).await;
    assert_eq!(status, 200);
    session["csrf"].as_str().expect("a token").to_owned()
}
