//! Live updates over server-sent events, against a real Redis: a page sees
//! counts change without a reload; ten pages of one view cost Redis one
//! read per interval, not ten; no page, no reads; a stop ends the streams.

mod common;

use std::time::{Duration, Instant};

use common::{cmd, enqueue, get_text, http, RedisServer, Served};
use concur_dashboard::Dashboard;
use serde_json::Value;

/// A stream of server-sent events read as a browser's EventSource does.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(client: &reqwest::Client, url: &str) -> Events {
        let response = client.get(url).send().await.expect("answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events { response, buffer: String::new() }
    }

    /// The next event's data as JSON; `None` when the stream ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: Vec<&str> = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some(serde_json::from_str(&data.join("\n")).expect("JSON data"));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.response.chunk())
                .await
                .expect("an event within 30 s")
                .expect("the stream reads")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// Waits for an event whose view satisfies `check`.
    async fn until(&mut self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "no event showed {what}");
            let view = self.next().await.expect("the stream goes on");
            if check(&view) {
                return view;
            }
        }
    }
}

fn live_reads(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("concur_dashboard_live_reads_total{view=\"overview\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .map(|n| n.parse().unwrap())
        .unwrap_or(0)
}

fn scripts_run(server: &RedisServer) -> u64 {
    let info: String = cmd(&mut server.raw(), &["INFO", "commandstats"]);
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| l.split("calls=").nth(1)?.split(',').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn counts_change_without_a_reload() {
    let server = RedisServer::start();
    let served =
        Served::start(&server, Dashboard::builder().queues(["emails", "reports"]).refresh(Duration::from_secs(1)));
    let client = http();
    let mut overview = Events::open(&client, &served.url("/events/overview")).await;
    let first = overview.next().await.unwrap();
    assert_eq!(first["queues"][0]["pending"], 0);
    enqueue(&server, "emails", 5);
    overview.until("5 pending", |v| v["queues"][0]["pending"] == 5).await;

    let mut queue = Events::open(&client, &served.url("/events/queues/reports")).await;
    let view = queue.next().await.unwrap();
    assert_eq!(view["name"], "reports");
    enqueue(&server, "reports", 2);
    queue.until("2 pending", |v| v["pending"] == 2).await;
}

#[tokio::test]
async fn ten_pages_cost_redis_what_one_does() {
    let server = RedisServer::start();
    let served = Served::start(&server, Dashboard::builder().queue("emails").refresh(Duration::from_secs(1)));
    let client = http();
    let window = Duration::from_secs(4);

    let before = scripts_run(&server);
    let mut pages = Vec::new();
    for _ in 0..10 {
        pages.push(Events::open(&client, &served.url("/events/overview")).await);
    }
    let started = Instant::now();
    let mut received = 0;
    while started.elapsed() < window {
        for page in &mut pages {
            page.next().await.expect("an event");
            received += 1;
        }
    }
    let scripts = scripts_run(&server) - before;
    let (_, metrics) = get_text(&client, &served.url("/metrics")).await;
    let reads = live_reads(&metrics);
    // One read per second, whatever the pages: about five in the window
    // (ten pages reading on their own would make about fifty).
    assert!(received >= 20, "the pages got {received} events");
    assert!((2..=8).contains(&reads), "{reads} live reads for ten pages over {window:?}");
    // Each read is one status script on this one queue; the scrape above
    // added one more.
    assert!(scripts <= reads + 2, "Redis ran {scripts} scripts for {reads} reads");

    // No page left: the reader stops by itself.
    drop(pages);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, metrics) = get_text(&client, &served.url("/metrics")).await;
    let settled = live_reads(&metrics);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, metrics) = get_text(&client, &served.url("/metrics")).await;
    assert_eq!(live_reads(&metrics), settled, "Redis is still read with no page open");
}

#[tokio::test]
async fn a_page_may_ask_for_fewer_updates_not_more_reads() {
    let server = RedisServer::start();
    let served = Served::start(&server, Dashboard::builder().queue("emails").refresh(Duration::from_secs(1)));
    let client = http();
    let mut slow = Events::open(&client, &served.url("/events/overview?every=3")).await;
    slow.next().await.unwrap();
    let started = Instant::now();
    slow.next().await.unwrap();
    slow.next().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(5500), "two updates came in {:?}", started.elapsed());
}

#[tokio::test]
async fn stopping_the_dashboard_ends_the_streams() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let client = http();
    let mut page = Events::open(&client, &served.url("/events/overview")).await;
    page.next().await.unwrap();
    let stopped = std::thread::spawn(move || drop(served));
    let deadline = Instant::now() + Duration::from_secs(30);
    while page.next().await.is_some() {
        assert!(Instant::now() < deadline, "the stream did not end");
    }
    stopped.join().unwrap();
}
