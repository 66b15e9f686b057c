//! The dashboard at scale: 100 queues, one of them with 1,000,000 pending
//! tasks and 200,000 dead letters, and 20 workers, one of which holds 1,000
//! of its tasks. Each page and API view, and the retry of one dead letter
//! (`POST`, a different one each time), is requested one at a time, and for each the bench records the latency
//! (median, p95, slowest) and the Redis commands per request, seen with
//! `MONITOR` in a separate pass (it slows the server): the commands the
//! dashboard sent (round trips), and the commands Redis ran for them in
//! all, those inside the protocol's Lua scripts included.
//!
//! `cargo bench -p concur-dashboard --bench pages` runs it at full scale;
//! under `cargo test` (no `--bench` argument) it runs a small version that
//! only checks that every view answers.

#[path = "../../concur-worker/tests/common/mod.rs"]
#[allow(unreachable_pub)]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cmd, RedisServer};
use concur_dashboard::Dashboard;
use concur_worker::{EnqueueOptions, QueueConfig};
use serde_json::json;

/// How big a run is.
struct Scale {
    queues: usize,
    pending: usize,
    dead: usize,
    workers: usize,
    /// Tasks of `big` the first worker holds.
    held: usize,
    requests: usize,
}

const FULL: Scale = Scale { queues: 100, pending: 1_000_000, dead: 200_000, workers: 20, held: 1_000, requests: 40 };
const QUICK: Scale = Scale { queues: 5, pending: 2_000, dead: 500, workers: 3, held: 120, requests: 2 };

/// What one row of the table requests.
enum Call {
    Get(String),
    /// `POST {"ids": [id]}` to the path with the session's CSRF token, the
    /// id made from the request's number so each finds a dead letter.
    Post(String, Box<dyn Fn(usize) -> String>),
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = if full { FULL } else { QUICK };
    let server = RedisServer::start();
    let started = Instant::now();
    fill(&server, &scale);
    println!(
        "dashboard pages bench: {} queues, {} pending and {} dead letters in `big`, {} workers (one holding {} tasks); filled in {:.0} s",
        scale.queues + 1,
        scale.pending,
        scale.dead,
        scale.workers,
        scale.held,
        started.elapsed().as_secs_f64()
    );
    let mut names: Vec<String> = (0..scale.queues).map(|i| format!("q{i:03}")).collect();
    names.push("big".to_owned());
    let dashboard = Dashboard::builder()
        .redis(&server.url())
        .queues(&names)
        .bind("127.0.0.1:0".parse().unwrap())
        .build()
        .expect("the dashboard starts");
    let addr = dashboard.local_addr();
    let stop = dashboard.stop_handle();
    let serving = std::thread::spawn(move || dashboard.run());

    let last_dead = (scale.dead as u64).div_ceil(50);
    let last_pending = (scale.pending as u64).div_ceil(50);
    let last_held = (scale.held as u64).div_ceil(50);
    let known_task = known_id(&server);
    let dead = scale.dead;
    let mut views: Vec<(String, Call)> = [
        ("overview page `/`".to_owned(), "/".to_owned()),
        ("`/api/overview`".to_owned(), "/api/overview".to_owned()),
        ("queue page, dead letters page 1".to_owned(), "/queues/big".to_owned()),
        (format!("queue page, dead letters page {last_dead} (the last)"), format!("/queues/big?page={last_dead}")),
        ("pending page 1".to_owned(), "/queues/big/pending".to_owned()),
        (
            format!("pending page {} (the middle)", last_pending / 2),
            format!("/queues/big/pending?page={}", last_pending / 2),
        ),
        (format!("pending page {last_pending} (the last)"), format!("/queues/big/pending?page={last_pending}")),
        ("delayed page 1".to_owned(), "/queues/big/delayed".to_owned()),
        ("`/api/queues/big/dead?size=500`".to_owned(), "/api/queues/big/dead?size=500".to_owned()),
        ("task by id, finished (in the first queue)".to_owned(), format!("/tasks/{known_task}")),
        ("task by id, unknown (every queue asked)".to_owned(), "/tasks/no-such-task".to_owned()),
        ("workers page".to_owned(), "/workers".to_owned()),
        ("task names, all queues".to_owned(), "/stats".to_owned()),
        ("`/metrics`".to_owned(), "/metrics".to_owned()),
        (format!("worker page, in flight page 1 of {last_held}"), "/workers/bench-worker-0?queue=big".to_owned()),
        (
            format!("worker page, in flight page {last_held} (the last)"),
            format!("/workers/bench-worker-0?queue=big&page={last_held}"),
        ),
        (
            format!("confirm \"retry all\" ({dead} dead letters counted)"),
            "/queues/big/confirm?action=retry-all".to_owned(),
        ),
        ("confirm \"retry\" of one selected".to_owned(), "/queues/big/confirm?action=retry&id=dead-0".to_owned()),
        ("task names, queue `big`".to_owned(), "/queues/big/stats".to_owned()),
    ]
    .into_iter()
    .map(|(name, path)| (name, Call::Get(path)))
    .collect();
    // Last, since each takes a dead letter away and queues it again: one
    // an operator finds on the first page, and one on the last.
    let retry_route = "/api/queues/big/dead/retry".to_owned();
    views.push((
        "retry one dead letter, the newest (`POST`)".to_owned(),
        Call::Post(retry_route.clone(), Box::new(move |k| format!("dead-{}", dead - 1 - k))),
    ));
    views.push((
        format!("retry one dead letter, the oldest of {dead} (`POST`)"),
        Call::Post(retry_route, Box::new(|k| format!("dead-{k}"))),
    ));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    println!();
    println!("| view | requests | median | p95 | slowest | commands sent | commands run in Redis |");
    println!("|---|---|---|---|---|---|---|");
    let csrf = runtime.block_on(session_token(&client, &format!("http://{addr}/api/session")));
    let monitor = Monitor::start(&server);
    for (name, call) in &views {
        let send = |k: usize| match call {
            Call::Get(path) => runtime.block_on(request(&client, &format!("http://{addr}{path}"))),
            Call::Post(path, id) => runtime.block_on(retry(&client, &format!("http://{addr}{path}"), &csrf, &id(k))),
        };
        // One request under MONITOR to count its commands, which also warms
        // the connection pool; then the timed ones, without.
        monitor.resume();
        send(0);
        let (sent, run) = monitor.pause(&server);
        let mut times = Vec::with_capacity(scale.requests);
        for k in 1..=scale.requests {
            let start = Instant::now();
            send(k);
            times.push(start.elapsed());
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "| {name} | {} | {} | {} | {} | {sent} | {run} |",
            times.len(),
            ms(at(0.5)),
            ms(at(0.95)),
            ms(*times.last().unwrap())
        );
    }
    stop.stop();
    serving.join().unwrap().unwrap();
}

async fn request(client: &reqwest::Client, url: &str) {
    let response = client.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let body = response.bytes().await.expect("a body");
    // An unknown task is a 404 page, and is measured like any other.
    let unknown = url.ends_with("/no-such-task") && status == reqwest::StatusCode::NOT_FOUND;
    assert!(status.is_success() || unknown, "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
}

/// The session's CSRF token, which a program sends with a change.
async fn session_token(client: &reqwest::Client, url: &str) -> String {
    let session: serde_json::Value = client.get(url).send().await.expect("a session").json().await.expect("JSON");
    session["csrf"].as_str().expect("a CSRF token").to_owned()
}

/// Retries the dead letter `id`, which must be there.
async fn retry(client: &reqwest::Client, url: &str, csrf: &str, id: &str) {
    let response = client
        .post(url)
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "ids": [id] }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status();
    let body = response.text().await.expect("a body");
    assert!(status.is_success(), "POST {url} ({id}): {status}: {body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["touched"], 1, "POST {url} ({id}): {body}");
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Counts what `MONITOR` reports between `resume` and `pause`: commands
/// clients sent, and commands run inside scripts (`[0 lua]`).
struct Monitor {
    counting: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    in_scripts: Arc<AtomicU64>,
    marker_seen: Arc<AtomicU64>,
}

impl Monitor {
    fn start(server: &RedisServer) -> Monitor {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect for MONITOR");
        stream.write_all(b"MONITOR\r\n").unwrap();
        let monitor = Monitor {
            counting: Arc::new(AtomicBool::new(false)),
            sent: Arc::new(AtomicU64::new(0)),
            in_scripts: Arc::new(AtomicU64::new(0)),
            marker_seen: Arc::new(AtomicU64::new(0)),
        };
        let (counting, sent, in_scripts, marker) = (
            Arc::clone(&monitor.counting),
            Arc::clone(&monitor.sent),
            Arc::clone(&monitor.in_scripts),
            Arc::clone(&monitor.marker_seen),
        );
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if let Some(n) = line.split("\"bench-marker-").nth(1) {
                    marker.store(n.trim_end_matches('"').parse().unwrap_or(0), Ordering::SeqCst);
                } else if counting.load(Ordering::SeqCst) && line.starts_with('+') && line != "+OK" {
                    if line.contains(" lua] ") { &in_scripts } else { &sent }.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        monitor
    }

    fn resume(&self) {
        self.sent.store(0, Ordering::SeqCst);
        self.in_scripts.store(0, Ordering::SeqCst);
        self.counting.store(true, Ordering::SeqCst);
    }

    /// Stops counting once MONITOR has shown everything before now (a
    /// marker command sent after the request has come through); returns
    /// (sent, sent + run inside scripts).
    fn pause(&self, server: &RedisServer) -> (u64, u64) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let _: String = cmd(&mut server.raw(), &["ECHO", &format!("bench-marker-{n}")]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.marker_seen.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "MONITOR never showed the marker");
            std::thread::sleep(Duration::from_millis(5));
        }
        self.counting.store(false, Ordering::SeqCst);
        let sent = self.sent.load(Ordering::SeqCst);
        (sent, sent + self.in_scripts.load(Ordering::SeqCst))
    }
}

/// A task whose result is kept in the first queue.
fn known_id(server: &RedisServer) -> String {
    let ids: Vec<String> = cmd(&mut server.raw(), &["LRANGE", "{q000}:results", "0", "0"]);
    ids.into_iter().next().expect("a result in q000")
}

/// The queues: each small one with a few pending tasks, a finished one and
/// a dead one; `big` with the pending tasks and dead letters of the scale,
/// delayed tasks, and the workers registered on every queue.
fn fill(server: &RedisServer, scale: &Scale) {
    let mut raw = server.raw();
    let mut small = Vec::new();
    for i in 0..scale.queues {
        let name = format!("q{i:03}");
        let mut queue = server.queue(QueueConfig::named(&name));
        queue.enqueue_many("echo", (0..10).map(|n| vec![json!(n)]), &EnqueueOptions::default()).expect("enqueue");
        // One task run and acknowledged, one rejected: a result and a dead letter.
        for fetched in queue.fetch("filler", 2, Duration::from_secs(1)).expect("fetch") {
            if let concur_worker::protocol::Fetched::Task(task) = fetched {
                if task.args()[0] == json!(0) {
                    queue.ack("filler", &task, &json!("done")).expect("ack");
                } else {
                    queue.reject("filler", &task, "the bench rejects it").expect("reject");
                }
            }
        }
        queue.retire("filler").expect("retire");
        small.push(queue);
    }
    let mut big = server.queue(QueueConfig { dead_cap: scale.dead + 1, ..QueueConfig::named("big") });
    let batch = |size: usize| (0..size).map(|n| vec![json!(format!("photo-{n}.jpg")), json!(640)]);
    for _ in 0..scale.pending / 1000 {
        big.enqueue_many("resize", batch(1000), &EnqueueOptions::default()).expect("enqueue");
    }
    let later = EnqueueOptions { delay: Duration::from_secs(3600), ..Default::default() };
    big.enqueue_many("resize", batch(100), &later).expect("delayed");
    // Dead letters as a worker writes them (docs/PROTOCOL.md), pushed in
    // bulk: running 200,000 tasks to their death one by one would only
    // make the bench slower.
    let mut pipe = redis::pipe();
    for n in 0..scale.dead {
        let payload = json!({"id": format!("dead-{n}"), "task": "send", "args": [format!("user{n}@example.com")],
                             "attempts": 5, "max_attempts": 5, "error": "the mail server timed out"})
        .to_string();
        let entry = json!({"id": format!("dead-{n}"), "kind": "failed", "error": "the mail server timed out",
                           "worker": "bench-worker", "died_at": 1_764_000_000.0 + n as f64, "task": "send",
                           "attempts": 5, "payload_size": payload.len(), "payload": payload});
        pipe.cmd("LPUSH").arg("{big}:dead").arg(entry.to_string()).ignore();
        if n % 10_000 == 9_999 {
            pipe.query::<()>(&mut raw).expect("push dead letters");
            pipe = redis::pipe();
        }
    }
    // A count that is a multiple of the chunk leaves nothing to send (and
    // Redis refuses an empty pipeline).
    if !scale.dead.is_multiple_of(10_000) {
        pipe.query::<()>(&mut raw).expect("push dead letters");
    }
    for w in 0..scale.workers {
        let id = format!("bench-worker-{w}");
        for queue in &mut small {
            queue.heartbeat(&id, Duration::from_secs(3600)).unwrap();
        }
        big.heartbeat(&id, Duration::from_secs(3600)).unwrap();
    }
    // The first worker holds `held` tasks, queued for it so that `big`
    // keeps the pending count of the scale.
    big.enqueue_many("resize", batch(scale.held), &EnqueueOptions::default()).expect("enqueue");
    let mut held = 0;
    while held < scale.held {
        let fetched = big.fetch("bench-worker-0", scale.held - held, Duration::from_secs(1)).expect("fetch");
        assert!(!fetched.is_empty(), "the worker's tasks were not fetched");
        held += fetched.len();
    }
}
