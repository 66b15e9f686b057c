//! `concur dashboard` and `concur worker --metrics` as an operator runs
//! them: refused at start with status 2 when unsafe or wrong (a public
//! address without a token, a short token, an unreachable Redis), serving
//! pages and metrics on loopback, guarded by a token from the environment,
//! and stopped cleanly by SIGTERM.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{concur, expect, free_port, RedisServer, Scratch, WorkerProcess};

/// `GET path` on 127.0.0.1:`port` with optional headers: (status, body).
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// Waits until `GET path` answers, failing after 60 s.
fn answered(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(answer) = get(port, path, headers) {
            return answer;
        }
        assert!(Instant::now() < deadline, "nothing answered on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn unsafe_or_wrong_settings_exit_2_and_listen_on_nothing() {
    let server = RedisServer::start();
    let url = server.url();
    let port = free_port();
    let public = format!("0.0.0.0:{port}");
    expect(
        &concur(&["dashboard", "--redis", &url, "--bind", &public]),
        2,
        &format!("refusing to serve the dashboard on {public} without a token"),
    );
    expect(&concur(&["worker", "--redis", &url, "--metrics", &public]), 2, "--metrics: refusing to serve");
    expect(&concur(&["dashboard", "--redis", &url, "--token", "short"]), 2, "at least 16 printable ASCII characters");
    expect(&concur(&["dashboard", "--redis", &url, "--refresh", "61"]), 2, "from 1 to 60 seconds");
    expect(&concur(&["dashboard", "--redis", &url, "--queue", "a{b}"]), 2, "queue name");
    expect(&concur(&["dashboard", "--redis", &url, "--bind", "nowhere"]), 2, "invalid value 'nowhere'");
    expect(&concur(&["dashboard", "--redis", &url, "--origin", "ops.example.com"]), 2, "https://host[:port]");
    let unreachable = format!("redis://127.0.0.1:{}", free_port());
    expect(&concur(&["dashboard", "--redis", &unreachable]), 2, "could not connect to Redis");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "something listens after a refused start");
}

#[test]
fn the_dashboard_serves_behind_its_token_and_stops_on_sigterm() {
    let server = RedisServer::start();
    let scratch = Scratch::new("dashboard");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let token = "a-token-from-the-environment-32ch";
    let process = WorkerProcess::run(
        &["dashboard", "--redis", &server.url(), "--queue", "emails,reports", "--bind", &bind],
        &[("CONCUR_DASHBOARD_TOKEN", token)],
        &scratch.path("dashboard.log"),
    );
    let (status, _) = answered(port, "/", &[]);
    assert_eq!(status, 401, "no token, no page");
    let bearer = format!("Bearer {token}");
    let (status, page) = answered(port, "/", &[("Authorization", &bearer)]);
    assert_eq!(status, 200);
    assert!(page.contains("/queues/emails") && page.contains("/queues/reports"), "{page}");
    let (status, metrics) = answered(port, "/metrics", &[("Authorization", &bearer)]);
    assert_eq!(status, 200);
    assert!(metrics.contains("concur_redis_up 1"), "{metrics}");
    let log = process.stop();
    assert!(log.contains(&format!("the dashboard serves http://{bind}/")), "{log}");
    assert!(!log.contains(token), "the token was logged: {log}");
}

#[test]
fn a_worker_serves_its_own_metrics() {
    let server = RedisServer::start();
    let scratch = Scratch::new("worker-metrics");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let process = WorkerProcess::start(
        &["--redis", &server.url(), "--queue", "emails", "--metrics", &bind],
        &scratch.path("worker.log"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let (status, text) = answered(port, "/metrics", &[]);
        assert_eq!(status, 200);
        if text.contains("concur_worker_alive{queue=\"emails\"") {
            break text;
        }
        assert!(Instant::now() < deadline, "the worker never showed up in its metrics:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(metrics.contains("concur_redis_up 1"), "{metrics}");
    assert!(metrics.lines().filter(|l| l.starts_with("concur_worker_alive{")).count() == 1, "only its own: {metrics}");
    assert!(!metrics.contains("concur_queue_pending"), "queue-wide figures are the dashboard's: {metrics}");
    let (status, _) = answered(port, "/", &[]);
    assert_eq!(status, 404);
    process.stop();
}
