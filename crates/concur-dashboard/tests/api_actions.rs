//! The actions through the API against a real Redis: retry one, the
//! selected, all; delete all; each logged (what, which queue, how many)
//! and counted in `/metrics`; bad ids refused with a 4xx.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{csrf, dead_letters, get_json, get_text, http, RedisServer, Served};
use serde_json::{json, Value};

/// What the dashboard logged, kept by a subscriber of this test process.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

async fn post(client: &reqwest::Client, served: &Served, token: &str, path: &str, body: Value) -> (u16, Value) {
    let response =
        client.post(served.url(path)).header("x-csrf-token", token).json(&body).send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn retry_one_selected_all_then_purge_each_logged_and_counted() {
    let log = Log::default();
    let writer = log.clone();
    let _ = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).try_init();

    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let ids = dead_letters(&server, "emails", "send", vec![json!(1)], "no", 6);
    let client = http();
    let token = csrf(&client, &served).await;
    let mut queue = common::connection(&server, "emails");

    let (status, one) =
        post(&client, &served, &token, "/api/queues/emails/dead/retry", json!({ "ids": [ids[0]] })).await;
    assert_eq!((status, one), (200, json!({ "touched": 1, "not_retriable": 0 })));
    let (_, two) = post(
        &client,
        &served,
        &token,
        "/api/queues/emails/dead/retry",
        json!({ "ids": [ids[1], ids[2], "no-such-id"] }),
    )
    .await;
    assert_eq!(two["touched"], 2, "an id not in the list touches nothing");
    let status = queue.status().unwrap();
    assert_eq!((status.pending, status.dead), (3, 3));

    let (_, all) = post(&client, &served, &token, "/api/queues/emails/dead/retry-all", json!({})).await;
    assert_eq!(all["touched"], 3, "the three left");
    let status = queue.status().unwrap();
    assert_eq!((status.pending, status.dead), (6, 0), "retry-all took every entry");

    dead_letters(&server, "emails", "send", vec![], "again", 2);
    let (_, purged) = post(&client, &served, &token, "/api/queues/emails/dead/purge", json!({})).await;
    assert_eq!(purged["touched"], 2);
    assert_eq!(queue.status().unwrap().dead, 0);

    let (_, metrics) = get_text(&client, &served.url("/metrics")).await;
    for line in [
        r#"concur_dashboard_actions_total{action="retry",queue="emails"} 2"#,
        r#"concur_dashboard_action_tasks_total{action="retry",queue="emails"} 3"#,
        r#"concur_dashboard_actions_total{action="retry-all",queue="emails"} 1"#,
        r#"concur_dashboard_action_tasks_total{action="retry-all",queue="emails"} 3"#,
        r#"concur_dashboard_actions_total{action="purge",queue="emails"} 1"#,
        r#"concur_dashboard_action_tasks_total{action="purge",queue="emails"} 2"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing {line}:\n{metrics}");
    }
    let logged = log.text();
    for line in [
        "dashboard action: retry on emails touched 1",
        "dashboard action: retry on emails touched 2",
        "dashboard action: retry-all on emails touched 3",
        "dashboard action: purge on emails touched 2",
    ] {
        assert!(logged.contains(line), "not logged: {line}\n{logged}");
    }
    assert!(logged.contains("queue=\"emails\"") || logged.contains("queue=emails"), "{logged}");
}

#[tokio::test]
async fn bad_action_bodies_are_refused_with_a_4xx() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    dead_letters(&server, "emails", "send", vec![], "no", 1);
    let client = http();
    let token = csrf(&client, &served).await;
    let too_many: Vec<String> = (0..501).map(|i| format!("id-{i}")).collect();
    for (body, says) in [
        (json!({}), "must be JSON of the form"),
        (json!({ "ids": [] }), "Select at least one task"),
        (json!({ "ids": ["has space"] }), "printable ASCII"),
        (json!({ "ids": ["<script>alert(1)</script>"] }), ""),
        (json!({ "ids": too_many }), "at most 500 tasks"),
        (json!({ "ids": "x" }), "must be JSON of the form"),
    ] {
        let (status, answer) = post(&client, &served, &token, "/api/queues/emails/dead/retry", body.clone()).await;
        if says.is_empty() {
            // A possible id that names nothing: accepted, touching nothing.
            assert_eq!((status, answer["touched"].clone()), (200, json!(0)), "{body}");
        } else {
            assert_eq!(status, 400, "{body}: {answer}");
            assert!(answer["error"].as_str().unwrap().contains(says), "{body}: {answer}");
        }
    }
    let (status, _) = post(&client, &served, &token, "/api/queues/nosuch/dead/purge", json!({})).await;
    assert_eq!(status, 404);
    let (_, queue) = get_json(&client, &served.url("/api/queues/emails")).await;
    assert_eq!(queue["dead"], 1, "nothing was touched");
}

#[tokio::test]
async fn delete_dead_letters_run_or_delete_delayed_tasks_pause_and_control_workers() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let client = http();
    let token = csrf(&client, &served).await;
    let mut queue = common::connection(&server, "emails");

    let dead = dead_letters(&server, "emails", "send", vec![], "no", 3);
    let (_, deleted) =
        post(&client, &served, &token, "/api/queues/emails/dead/delete", json!({ "ids": [dead[0], dead[2]] })).await;
    assert_eq!(deleted["touched"], 2);
    let (_, left) = get_json(&client, &served.url("/api/queues/emails/dead")).await;
    assert_eq!(left["entries"].as_array().unwrap().len(), 1);
    assert_eq!(left["entries"][0]["id"], dead[1]);

    let later = concur_worker::EnqueueOptions { delay: std::time::Duration::from_secs(3600), ..Default::default() };
    let delayed: Vec<String> = (0..3).map(|i| queue.enqueue("echo", vec![json!(i)], &later).unwrap()).collect();
    let (status, page) = get_json(&client, &served.url("/api/queues/emails/delayed")).await;
    assert_eq!((status, page["total"].clone()), (200, json!(3)));
    assert!(page["entries"][0]["due"].as_f64().unwrap() > 1.0e9);
    let (_, ran) =
        post(&client, &served, &token, "/api/queues/emails/delayed/run-now", json!({ "ids": [delayed[0]] })).await;
    assert_eq!(ran["touched"], 1);
    let (_, dropped) =
        post(&client, &served, &token, "/api/queues/emails/delayed/delete", json!({ "ids": [delayed[1]] })).await;
    assert_eq!(dropped["touched"], 1);
    let status = queue.status().unwrap();
    assert_eq!((status.pending, status.delayed), (1, 1));
    let (_, pending) = get_json(&client, &served.url("/api/queues/emails/pending")).await;
    assert_eq!(pending["entries"][0]["envelope"]["id"], delayed[0]);

    let (_, paused) = post(&client, &served, &token, "/api/queues/emails/pause", json!({})).await;
    assert_eq!(paused["touched"], 1);
    assert!(queue.is_paused().unwrap());
    let (_, again) = post(&client, &served, &token, "/api/queues/emails/pause", json!({})).await;
    assert_eq!(again["touched"], 0, "already paused");
    let (_, overview) = get_json(&client, &served.url("/api/overview")).await;
    assert_eq!(overview["queues"][0]["paused"], true);
    let (_, resumed) = post(&client, &served, &token, "/api/queues/emails/resume", json!({})).await;
    assert_eq!(resumed["touched"], 1);
    assert!(!queue.is_paused().unwrap());

    queue.heartbeat("w-9", std::time::Duration::from_secs(30)).unwrap();
    let (status, quiet) = post(&client, &served, &token, "/api/control/quiet", json!({ "id": "w-9" })).await;
    assert_eq!((status, quiet["touched"].clone()), (200, json!(1)));
    let (_, worker) = get_json(&client, &served.url("/api/workers/w-9")).await;
    assert_eq!(worker["control"], "quiet");
    post(&client, &served, &token, "/api/control/stop", json!({ "id": "w-9" })).await;
    let (_, worker) = get_json(&client, &served.url("/api/workers/w-9")).await;
    assert_eq!(worker["control"], "stop");
    let (status, _) = post(&client, &served, &token, "/api/control/stop", json!({ "id": "nobody" })).await;
    assert_eq!(status, 404);
    let (status, _) = post(&client, &served, &token, "/api/control/stop", json!({})).await;
    assert_eq!(status, 400);

    let (_, metrics) = get_text(&client, &served.url("/metrics")).await;
    for line in [
        r#"concur_dashboard_actions_total{action="delete",queue="emails"} 1"#,
        r#"concur_dashboard_action_tasks_total{action="delete",queue="emails"} 2"#,
        r#"concur_dashboard_actions_total{action="run-now",queue="emails"} 1"#,
        r#"concur_dashboard_actions_total{action="pause",queue="emails"} 2"#,
        r#"concur_dashboard_actions_total{action="quiet",queue="emails"} 1"#,
        r#"concur_dashboard_actions_total{action="stop",queue="emails"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing {line}:\n{metrics}");
    }
}
