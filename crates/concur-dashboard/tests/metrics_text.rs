//! `/metrics` against a real Redis: per-queue gauges and counters and
//! per-worker gauges, read fresh at each scrape, in the text format
//! Prometheus reads.

mod common;

use std::time::Duration;

use common::{dead_letters, enqueue, finished_task, get_text, http, RedisServer, Served};
use serde_json::json;

#[tokio::test]
async fn a_scrape_shows_every_queue_and_worker() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails", "reports"]);
    finished_task(&server, "emails", vec![json!(1)]);
    enqueue(&server, "emails", 4);
    dead_letters(&server, "reports", "send", vec![], "no", 2);
    common::connection(&server, "reports").heartbeat("w-7", Duration::from_secs(30)).unwrap();
    let client = http();

    let response = client.get(served.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
    let text = response.text().await.unwrap();
    for line in [
        "concur_redis_up 1",
        r#"concur_queue_pending{queue="emails"} 4"#,
        r#"concur_queue_pending{queue="reports"} 0"#,
        r#"concur_queue_dead{queue="reports"} 2"#,
        r#"concur_queue_done_total{queue="emails"} 1"#,
        r#"concur_queue_dead_letters_total{queue="reports"} 2"#,
        r#"concur_queue_results{queue="emails"} 1"#,
        r#"concur_queue_workers{queue="reports"} 1"#,
        r#"concur_worker_alive{queue="reports",worker="w-7"} 1"#,
        r#"concur_worker_in_flight{queue="reports",worker="w-7"} 0"#,
        "# TYPE concur_queue_done counter",
        "# TYPE concur_queue_pending gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with(r#"concur_worker_heartbeat_seconds{queue="reports",worker="w-7"} "#)));
    // Within the 30 s the heartbeat lasts, by Redis's clock.
    let age = text
        .lines()
        .find_map(|l| l.strip_prefix(r#"concur_worker_heartbeat_age_seconds{queue="reports",worker="w-7"} "#))
        .unwrap_or_else(|| panic!("no heartbeat age for w-7:\n{text}"));
    assert!(age.parse::<u64>().is_ok_and(|s| s <= 30), "age {age}");
    assert_eq!(text.lines().last(), Some("# EOF"));
    // Every sample is `name{labels} value` with a number for a value.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        assert!(name.starts_with("concur_"), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }

    // Fresh at each scrape.
    enqueue(&server, "reports", 3);
    let (_, again) = get_text(&client, &served.url("/metrics")).await;
    assert!(again.lines().any(|l| l == r#"concur_queue_pending{queue="reports"} 3"#), "{again}");
}

#[tokio::test]
async fn task_names_are_histograms_from_what_workers_recorded() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let worker = concur_worker::Worker::builder().redis(&server.url()).queue("emails").concurrency(4).build().unwrap();
    let stop = worker.shutdown_handle();
    let running = std::thread::spawn(move || worker.run());
    enqueue(&server, "emails", 5);
    let mut queue = common::connection(&server, "emails");
    // Workers add their figures every few seconds.
    common::wait_until("the worker reported its five attempts", Duration::from_secs(60), || {
        queue.task_stats_total().unwrap().iter().any(|s| s.name == "echo" && s.count == 5)
    });
    let client = http();
    let (_, text) = get_text(&client, &served.url("/metrics")).await;
    stop.stop();
    running.join().unwrap().unwrap();
    for line in [
        r#"concur_task_attempts_total{queue="emails",task="echo"} 5"#,
        r#"concur_task_failures_total{queue="emails",task="echo"} 0"#,
        r#"concur_task_run_seconds_count{queue="emails",task="echo"} 5"#,
        r#"concur_task_run_seconds_bucket{le="+Inf",queue="emails",task="echo"} 5"#,
        r#"concur_task_wait_seconds_count{queue="emails",task="echo"} 5"#,
        "# TYPE concur_task_run_seconds histogram",
        "# UNIT concur_task_run_seconds seconds",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
    // Buckets are cumulative: never fewer below a larger bound.
    let buckets: Vec<u64> = text
        .lines()
        .filter(|l| l.starts_with("concur_task_run_seconds_bucket{") && l.contains("task=\"echo\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), concur_worker::DURATION_BOUNDS.len() + 1);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
}
