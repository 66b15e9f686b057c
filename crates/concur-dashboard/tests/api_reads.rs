//! The JSON API's reads against a real Redis: every endpoint, and every bad
//! input — an unknown queue, a name with markup, a bad id, a page out of
//! range — answered with a clear 4xx, never a 500, and never echoing what
//! was wrong.

mod common;

use common::{
    dead_letters, enqueue, finished_task, get_json, get_text, http, RedisServer, Served, IMG_ERROR, SCRIPT_ARG,
};
use serde_json::json;

#[tokio::test]
async fn every_read_endpoint_answers_from_redis() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails", "reports"]);
    let done = finished_task(&server, "emails", vec![json!("hi")]);
    enqueue(&server, "emails", 3);
    let dead = dead_letters(&server, "reports", "send", vec![json!(SCRIPT_ARG)], IMG_ERROR, 2);
    let client = http();

    let (status, overview) = get_json(&client, &served.url("/api/overview")).await;
    assert_eq!(status, 200);
    let queues = overview["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 2);
    assert_eq!(queues[0]["name"], "emails");
    assert_eq!(queues[0]["pending"], 3);
    assert_eq!(queues[0]["done"], 1);
    assert_eq!(queues[1]["dead"], 2);
    assert!(overview["generated_at"].as_f64().unwrap() > 1.0e9);

    let (_, names) = get_json(&client, &served.url("/api/queues")).await;
    assert_eq!(names, json!({ "queues": ["emails", "reports"] }));

    let (status, queue) = get_json(&client, &served.url("/api/queues/reports")).await;
    assert_eq!(status, 200);
    assert_eq!((queue["name"].clone(), queue["dead"].clone()), (json!("reports"), json!(2)));
    assert!(queue["workers"].is_array() && queue["schedules"].is_array() && queue["shards"].is_array());

    let (status, page) = get_json(&client, &served.url("/api/queues/reports/dead?page=1&size=1")).await;
    assert_eq!(status, 200);
    assert_eq!((page["total"].clone(), page["last_page"].clone()), (json!(2), json!(2)));
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], dead[1], "newest first");
    assert_eq!(entries[0]["error"], IMG_ERROR);
    assert_eq!(entries[0]["kind"], "rejected");
    assert!(entries[0]["payload"].as_str().unwrap().contains(SCRIPT_ARG));
    let (_, second) = get_json(&client, &served.url("/api/queues/reports/dead?page=2&size=1")).await;
    assert_eq!(second["entries"][0]["id"], dead[0]);

    let (status, task) = get_json(&client, &served.url(&format!("/api/tasks/{done}"))).await;
    assert_eq!(status, 200);
    assert_eq!((task["queue"].clone(), task["status"].clone()), (json!("emails"), json!("succeeded")));
    assert_eq!(task["result"], json!(["hi"]));
    let (status, _) = get_json(&client, &served.url(&format!("/api/queues/emails/tasks/{done}"))).await;
    assert_eq!(status, 200);
    let (status, _) = get_json(&client, &served.url(&format!("/api/queues/reports/tasks/{done}"))).await;
    assert_eq!(status, 404, "looked for in the named queue only");

    // A dead task has a result record too.
    let (status, gone) = get_json(&client, &served.url(&format!("/api/tasks/{}", dead[0]))).await;
    assert_eq!((status, gone["status"].clone()), (200, json!("dead")));

    let (_, workers) = get_json(&client, &served.url("/api/workers")).await;
    assert_eq!(workers, json!({ "workers": [] }));

    let (status, pending) = get_json(&client, &served.url("/api/queues/emails/pending?size=2")).await;
    assert_eq!((status, pending["total"].clone(), pending["last_page"].clone()), (200, json!(3), json!(2)));
    assert_eq!(pending["entries"][0]["envelope"]["task"], "echo");
    assert_eq!(pending["entries"][0]["envelope"]["args"], json!([0]), "the next to run first");
    let (status, delayed) = get_json(&client, &served.url("/api/queues/emails/delayed")).await;
    assert_eq!((status, delayed["total"].clone()), (200, json!(0)));

    let (status, history) = get_json(&client, &served.url("/api/throughput?minutes=5&hours=3")).await;
    assert_eq!(status, 200);
    assert_eq!(history["per_minute"].as_array().unwrap().len(), 5);
    assert_eq!(history["per_hour"].as_array().unwrap().len(), 3);
    let done_last_minutes: u64 =
        history["per_minute"].as_array().unwrap().iter().map(|p| p["done"].as_u64().unwrap()).sum();
    assert_eq!(done_last_minutes, 1, "the one finished task");
    let (status, _) = get_json(&client, &served.url("/api/queues/reports/throughput")).await;
    assert_eq!(status, 200);
    let (status, stats) = get_json(&client, &served.url("/api/stats?minutes=10")).await;
    assert_eq!((status, stats["minutes"].clone()), (200, json!(10)));
    assert!(stats["tasks"].is_array());
    let (status, _) = get_json(&client, &served.url("/api/queues/emails/stats")).await;
    assert_eq!(status, 200);

    let (_, session) = get_json(&client, &served.url("/api/session")).await;
    assert_eq!(session["read_only"], false);
    assert_eq!(session["csrf"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn pages_render_every_view() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let dead = dead_letters(&server, "emails", "send", vec![json!(1)], "it failed", 1);
    let done = finished_task(&server, "emails", vec![json!(2)]);
    let client = http();
    for (path, holds) in [
        ("/".to_owned(), "emails"),
        ("/queues/emails".to_owned(), "it failed"),
        ("/queues/emails/confirm?action=retry-all".to_owned(), "Retry 1 tasks"),
        ("/queues/emails/confirm?action=purge".to_owned(), "Delete 1 entries"),
        (format!("/queues/emails/confirm?action=retry&id={}", dead[0]), "1 selected dead tasks"),
        (format!("/tasks/{done}"), "succeeded"),
        (format!("/tasks?id={done}"), "succeeded"),
        (format!("/queues/emails/tasks/{done}"), "succeeded"),
        ("/workers".to_owned(), "No worker is registered."),
        ("/queues/emails/pending".to_owned(), "Nothing here."),
        ("/queues/emails/delayed".to_owned(), "Nothing here."),
        ("/queues/emails/stats".to_owned(), "No attempt ended in that time."),
        ("/stats".to_owned(), "Every queue shown, together."),
        ("/assets/app.js".to_owned(), "textContent"),
        ("/assets/app.css".to_owned(), "concur dashboard"),
    ] {
        let (status, body) = get_text(&client, &served.url(&path)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(holds), "{path} lacks {holds:?}: {body}");
    }
}

#[tokio::test]
async fn a_registered_worker_has_its_page() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let mut conn = common::connection(&server, "emails");
    conn.heartbeat("w-1", std::time::Duration::from_secs(30)).unwrap();
    let client = http();
    let (status, worker) = get_json(&client, &served.url("/api/workers/w-1")).await;
    assert_eq!(status, 200);
    assert_eq!(worker["id"], "w-1");
    assert_eq!(worker["queues"][0]["queue"], "emails");
    assert!(worker["heartbeat_ms"].as_u64().unwrap() > 20_000);
    // Its heartbeat's age: the 30 s TTL its beat recorded, less the time left.
    let beat_age = worker["heartbeat_age_ms"].as_u64().unwrap();
    assert!(beat_age < 10_000, "it beat just now, not {beat_age} ms ago");
    assert_eq!(beat_age + worker["heartbeat_ms"].as_u64().unwrap(), 30_000);
    let (status, page) = get_text(&client, &served.url("/workers/w-1")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Worker <span class=\"name\">w-1</span>"));
    assert!(page.contains("last beat ") && page.contains(" s ago"), "{page}");
    let (_, overview) = get_text(&client, &served.url("/")).await;
    assert!(overview.contains("last beat "), "{overview}");
    // The tasks it holds, paged, and where a task it holds is.
    let id = conn.enqueue("echo", vec![json!("held")], &concur_worker::EnqueueOptions::default()).unwrap();
    conn.fetch("w-1", 1, std::time::Duration::from_secs(1)).unwrap();
    let (status, held) = get_json(&client, &served.url("/api/workers/w-1/tasks?queue=emails")).await;
    assert_eq!((status, held["total"].clone()), (200, json!(1)));
    assert_eq!(held["entries"][0]["envelope"]["id"], id);
    let (_, page) = get_text(&client, &served.url("/workers/w-1")).await;
    assert!(page.contains(&id), "{page}");
    let (status, found) = get_json(&client, &served.url(&format!("/api/tasks/{id}"))).await;
    assert_eq!((status, found["where"].clone(), found["worker"].clone()), (200, json!("running"), json!("w-1")));
    let (_, page) = get_text(&client, &served.url(&format!("/tasks/{id}"))).await;
    assert!(page.contains("Running: a worker holds it."), "{page}");
    let (status, _) = get_json(&client, &served.url("/api/workers/w-1/tasks?queue=reports")).await;
    assert_eq!(status, 404, "not registered there");
    let (status, _) = get_text(&client, &served.url("/workers/w-2")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_sharded_queue_shows_each_shard_under_it() {
    let server = RedisServer::start();
    let mut client =
        concur_worker::Client::connect(&server.url(), concur_worker::QueueConfig::named("orders")).unwrap();
    client.set_shards(3).unwrap();
    let shards: Vec<String> = client.shards().map(str::to_owned).collect();
    // Shard 0: two pending. Shard 1: one pending, one delayed. Shard 2: one
    // dead letter, one held by a worker.
    enqueue(&server, &shards[0], 2);
    enqueue(&server, &shards[1], 1);
    let later = concur_worker::EnqueueOptions { delay: std::time::Duration::from_secs(3600), ..Default::default() };
    common::connection(&server, &shards[1]).enqueue("echo", vec![], &later).unwrap();
    dead_letters(&server, &shards[2], "send", vec![], "no", 1);
    let mut worker = common::connection(&server, &shards[2]);
    worker.heartbeat("w-s", std::time::Duration::from_secs(30)).unwrap();
    enqueue(&server, &shards[2], 1);
    assert_eq!(worker.fetch("w-s", 1, std::time::Duration::from_secs(1)).unwrap().len(), 1);
    let served = Served::queues(&server, &["orders"]);
    let http = http();

    let (status, overview) = get_json(&http, &served.url("/api/overview")).await;
    assert_eq!(status, 200);
    let queue = &overview["queues"][0];
    let totals = ["pending", "processing", "delayed", "dead"].map(|field| queue[field].clone());
    assert_eq!(totals, [json!(3), json!(1), json!(1), json!(1)], "the queue adds up its shards");
    let listed: Vec<_> = queue["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let counts = ["pending", "processing", "delayed", "dead"].map(|field| s[field].as_u64().unwrap());
            (s["name"].as_str().unwrap().to_owned(), counts)
        })
        .collect();
    assert_eq!(
        listed,
        [(shards[0].clone(), [2, 0, 0, 0]), (shards[1].clone(), [1, 0, 1, 0]), (shards[2].clone(), [0, 1, 0, 1]),]
    );
    assert!(queue["shards"][0]["oldest_pending_age_ms"].is_u64());
    assert!(queue["shards"][2]["oldest_pending_age_ms"].is_null(), "nothing pending there");
    assert_eq!(overview["workers"][0]["queues"][0], json!({ "queue": "orders", "processing": 1 }));

    let (status, page) = get_text(&http, &served.url("/")).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr class=\"shard\">").count(), 3, "{page}");
    for shard in &shards {
        assert!(page.contains(&format!("data-queue=\"{shard}\" data-field=\"pending\"")), "{shard}: {page}");
    }

    let (status, detail) = get_json(&http, &served.url("/api/queues/orders")).await;
    assert_eq!(status, 200);
    let field = |view: &serde_json::Value, name: &str| -> Vec<serde_json::Value> {
        view["shards"].as_array().unwrap().iter().map(|s| s[name].clone()).collect()
    };
    assert_eq!(field(&detail, "name"), field(queue, "name"), "the queue's view and the overview agree");
    assert_eq!(field(&detail, "delayed"), [json!(0), json!(1), json!(0)]);

    // An unsharded queue lists no shards.
    let (_, overview) = get_json(&http, &Served::queues(&server, &["plain"]).url("/api/overview")).await;
    assert_eq!(overview["queues"][0]["shards"], json!([]));
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_that_does_not_echo_it() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    dead_letters(&server, "emails", "send", vec![], "no", 3);
    let client = http();
    for (path, status, says) in [
        ("/queues/nosuch", 404, "no such page"),
        ("/api/queues/nosuch", 404, "no such page"),
        ("/queues/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, "no such page"),
        ("/api/queues/a%7Bb%7D/dead", 404, "no such page"),
        ("/queues/emails%22%3E%3Cimg%20src%3Dx%3E", 404, "no such page"),
        ("/workers/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", 404, "no such page"),
        ("/api/workers/nobody", 404, "no such page"),
        ("/tasks/has%20space", 404, "no such page"),
        ("/api/tasks/%3Cscript%3E", 404, "not known as finished"),
        ("/api/tasks/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 404, "no such page"),
        ("/tasks?id=", 404, "no such page"),
        ("/no/such/page/%3Cscript%3E", 404, "no such page"),
        ("/api/queues/emails/dead?page=0", 400, "page must be a whole number from 1 to 1000000"),
        ("/api/queues/emails/dead?page=-1", 400, "page must be a whole number"),
        ("/api/queues/emails/dead?page=9999999999999999999999", 400, "page must be a whole number"),
        ("/api/queues/emails/dead?page=%3Cb%3E", 400, "page must be a whole number"),
        ("/api/queues/emails/dead?size=501", 400, "size must be a whole number from 1 to 500"),
        ("/api/queues/emails/dead?size=0", 400, "size must be"),
        ("/api/queues/emails/dead?page=2", 404, "past the last"),
        ("/queues/emails?page=1000000", 404, "past the last"),
        ("/events/overview?every=61", 400, "every must be a whole number from 1 to 60"),
        ("/events/overview?every=0", 400, "every must be"),
        ("/queues/emails/confirm?action=explode", 400, "must be retry, delete, retry-all, purge"),
        ("/queues/emails/confirm?action=retry", 400, "Select at least one task"),
        ("/queues/emails/confirm?action=retry&id=a%20b", 400, "printable ASCII"),
        ("/api/throughput?minutes=61", 400, "minutes must be a whole number from 1 to 60"),
        ("/api/throughput?hours=721", 400, "hours must be a whole number from 1 to 720"),
        ("/api/queues/emails/throughput?hours=0", 400, "hours must be"),
        ("/api/stats?minutes=0", 400, "minutes must be"),
        ("/queues/emails/stats?minutes=1000", 400, "minutes must be"),
        ("/?hours=99999", 400, "hours must be"),
        ("/api/queues/emails/pending?page=2", 404, "past the last"),
        ("/api/queues/emails/delayed?size=1001", 400, "size must be"),
        ("/api/workers/nobody/tasks", 404, "no such page"),
        ("/queues/emails/confirm?action=pause", 400, "must be retry, delete"),
    ] {
        let (got, body) = get_text(&client, &served.url(path)).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body.to_lowercase().contains(&says.to_lowercase()), "{path} does not say {says:?}: {body}");
        for echoed in ["<script>", "<img", "<b>", "nosuch", "nobody", "has space", "explode"] {
            assert!(!body.contains(echoed), "{path} echoes {echoed:?}: {body}");
        }
    }
}

#[tokio::test]
async fn redis_going_away_is_a_503_and_coming_back_serves_again() {
    let mut server = RedisServer::start();
    let port = server.port;
    let served = Served::queues(&server, &["emails"]);
    let client = http();
    assert_eq!(get_json(&client, &served.url("/api/overview")).await.0, 200);
    server.kill();
    for path in ["/api/overview", "/api/queues/emails", "/api/queues/emails/dead", "/"] {
        let (status, body) = get_text(&client, &served.url(path)).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert!(body.contains("Redis cannot be reached"), "{path}: {body}");
    }
    let (status, metrics) = get_text(&client, &served.url("/metrics")).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("concur_redis_up 0"), "{metrics}");
    let _again = RedisServer::start_on(port, &[], common::Ready::Ping);
    let (status, _) = get_json(&client, &served.url("/api/overview")).await;
    assert_eq!(status, 200, "the dashboard reconnects by itself");
}
