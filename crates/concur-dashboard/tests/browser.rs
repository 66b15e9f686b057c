//! The dashboard as a person uses it, in a real browser: Debian's
//! `chromium`, headless, driven over WebDriver by `chromedriver`, against a
//! real Redis and real workers. It opens the overview and sees the counts
//! change without a reload; retries a dead task by clicking and sees it
//! leave; sees what a bulk action will touch before it runs; pauses a
//! queue and sees a running worker stop taking from it; checks that no
//! hostile payload, error, name or address runs anything or adds an
//! element; and that a page on another origin cannot change anything.
//!
//! Each case saves a screenshot under the target directory
//! (`CARGO_TARGET_TMPDIR/screenshots/`). Install the browser with
//! `apt-get install -y chromium chromium-driver` (`scripts/test` does).

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    dead_letters, enqueue, finished_task, free_port, run_cases, RedisServer, Served, CLOSE_SCRIPT, IMG_ERROR,
    MARKUP_TASK, SCRIPT_ARG,
};
use concur_dashboard::Dashboard;
use fantoccini::{ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long any wait for the page may take before the case fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A headless chromium behind its own chromedriver, each on a free port,
/// with a fresh profile; both stopped on drop.
struct Browser {
    driver: Child,
    client: Option<fantoccini::Client>,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run chromedriver ({e}); install it: apt-get install -y chromium chromium-driver")
            });
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut options = json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        Browser { driver, client: Some(client), _profile: profile }
    }

    fn page(&self) -> &fantoccini::Client {
        self.client.as_ref().expect("an open session")
    }

    async fn goto(&self, url: &str) {
        self.page().goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The element's text. Live updates replace elements, so one found a
    /// moment ago can be stale when read: find it again until it answers.
    async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let read = match self.page().find(Locator::Css(css)).await {
                Ok(element) => element.text().await,
                Err(e) => Err(e),
            };
            match read {
                Ok(text) => return text,
                Err(e) if Instant::now() >= deadline => panic!("read {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Clicks the element, finding it again when a live update replaced it
    /// between the find and the click (a failed click did not happen).
    async fn click(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let clicked = match self.page().find(Locator::Css(css)).await {
                Ok(element) => element.click().await.map(drop),
                Err(e) => Err(e),
            };
            match clicked {
                Ok(()) => return,
                Err(e) if Instant::now() >= deadline => panic!("click {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn script(&self, script: &str) -> Value {
        self.page().execute(script, vec![]).await.unwrap_or_else(|e| panic!("run {script}: {e}"))
    }

    /// Waits until the element's text is `want`, without reloading.
    async fn until_text(&self, css: &str, want: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got = self.text(css).await;
            if got == want {
                return;
            }
            assert!(Instant::now() < deadline, "{css} shows {got:?}, never {want:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves what the browser shows as `name`.png; returns where.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.page().screenshot().await.expect("a screenshot")).expect("write the screenshot");
        path
    }

    /// Fails if the page opened a dialog, or holds an element that no
    /// template of the dashboard makes (an image, a second script) — what
    /// any of the hostile fixtures would add if they were read as markup.
    async fn assert_nothing_injected(&self, what: &str) {
        if let Ok(text) = self.page().get_alert_text().await {
            panic!("{what} opened a dialog: {text}");
        }
        let found = self
            .script(
                "return { images: document.querySelectorAll('img').length, \
                          scripts: Array.from(document.scripts).map(s => s.src), \
                          bold: document.querySelectorAll('b').length, \
                          handlers: document.querySelectorAll('[onerror],[onmouseover],[onclick],[onload]').length };",
            )
            .await;
        assert_eq!(found["images"], 0, "{what} has an injected image");
        assert_eq!(found["bold"], 0, "{what} has an injected element");
        assert_eq!(found["handlers"], 0, "{what} has an injected event handler");
        let scripts = found["scripts"].as_array().unwrap();
        assert_eq!(scripts.len(), 1, "{what} has more scripts than the dashboard's: {scripts:?}");
        assert!(scripts[0].as_str().unwrap().ends_with("/assets/app.js"), "{what}: {scripts:?}");
    }
}

impl Browser {
    /// Ends the session, which makes chromedriver quit chromium, then
    /// stops chromedriver.
    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(PATIENCE, client.close()).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Runs a case with a browser of its own on a runtime of its own, and
/// closes the browser whether the case passes or fails.
fn with_browser(case: impl AsyncFnOnce(&Browser)) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let browser = Browser::start().await;
        let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(case(&browser))).await;
        browser.close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    })
}

/// A worker running `echo` and `sleep` on `queues`, stopped on drop.
struct RunningWorker {
    stop: concur_worker::Shutdown,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningWorker {
    fn start(server: &RedisServer, queues: &str) -> RunningWorker {
        let worker = concur_worker::Worker::builder()
            .redis(&server.url())
            .queues(queues.parse().expect("queue names"))
            .concurrency(8)
            .sleep_unit(Duration::from_millis(1))
            .build()
            .expect("a worker");
        let stop = worker.shutdown_handle();
        let thread = std::thread::spawn(move || {
            worker.run().expect("the worker runs");
        });
        RunningWorker { stop, thread: Some(thread) }
    }
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn pending(server: &RedisServer, queue: &str) -> u64 {
    common::connection(server, queue).status().unwrap().pending
}

fn the_overview_counts_change_without_a_reload() {
    with_browser(async |browser| {
        let server = RedisServer::start();
        let served = Served::start(
            &server,
            Dashboard::builder().queues(["emails", "reports", "thumbnails"]).refresh(Duration::from_secs(1)),
        );
        // The dead letters first: a running worker would take their tasks.
        dead_letters(&server, "reports", "render", vec![json!("q3.pdf")], "the template is missing", 3);
        let worker = RunningWorker::start(&server, "reports,thumbnails");
        enqueue(&server, "emails", 3);
        // Some throughput to show: tasks the worker runs.
        let mut thumbnails = common::connection(&server, "thumbnails");
        for i in 0..40 {
            thumbnails.enqueue("sleep", vec![json!(i % 7)], &Default::default()).unwrap();
        }
        browser.goto(&served.url("/")).await;
        let cell = r#"td[data-queue="emails"][data-field="pending"]"#;
        assert_eq!(browser.text(cell).await, "3");
        browser.until_text(r#"td[data-queue="reports"][data-field="dead"]"#, "3").await;
        browser.until_text("#live-state", "live").await;
        // Mark this page: a reload would lose the mark.
        browser.script("window.concurTestMark = 'same page'; return null;").await;
        enqueue(&server, "emails", 4);
        browser.until_text(cell, "7").await;
        browser.until_text(r#"td[data-queue="thumbnails"][data-field="pending"]"#, "0").await;
        assert_eq!(browser.script("return window.concurTestMark;").await, "same page", "the page was reloaded");
        // The live workers table lists the running worker.
        let rows = browser.script("return document.querySelectorAll('tbody[data-rows=workers] tr').length;").await;
        assert_eq!(rows, 1);
        browser.assert_nothing_injected("the overview").await;
        // The picture in the README: the page reloaded, charts included.
        browser.goto(&served.url("/")).await;
        browser.until_text("#live-state", "live").await;
        browser.screenshot("overview").await;
        drop(worker);
    });
}

fn a_dead_task_retried_by_clicking_leaves_the_list() {
    with_browser(async |browser| {
        let server = RedisServer::start();
        let served = Served::queues(&server, &["emails"]);
        let ids = dead_letters(&server, "emails", "send", vec![json!("a@example.com")], "the mail server refused", 2);
        browser.goto(&served.url("/queues/emails")).await;
        let newest = format!(r#"tr[data-dead-id="{}"]"#, ids[1]);
        browser.page().find(Locator::Css(&newest)).await.expect("the newest dead letter is listed");
        // The first row's Retry button.
        browser.click(&format!("{newest} button[form^=retry]")).await;
        browser.until_text(".notice", "Queued 1 dead tasks again.").await;
        let left = browser.script("return document.querySelectorAll('tr[data-dead-id]').length;").await;
        assert_eq!(left, 1, "the retried task left the list");
        assert!(browser.page().find(Locator::Css(&newest)).await.is_err());
        assert_eq!(pending(&server, "emails"), 1, "it is pending again");
        browser.screenshot("dead-letter-retried").await;
    });
}

fn a_bulk_action_says_how_many_it_will_touch_before_it_runs() {
    with_browser(async |browser| {
        let server = RedisServer::start();
        let served = Served::queues(&server, &["emails"]);
        dead_letters(&server, "emails", "send", vec![], "no", 3);
        browser.goto(&served.url("/queues/emails")).await;
        // Select all, then leave one out.
        browser.click("input[data-select-all]").await;
        browser.click("tbody tr:last-child input[name=id]").await;
        browser.click("button[value=retry]").await;
        browser.until_text("#touches", "This will queue 2 selected dead tasks again on emails.").await;
        assert_eq!(pending(&server, "emails"), 0, "nothing ran before the confirmation");
        browser.screenshot("bulk-retry-confirmation").await;
        browser.click("#confirm button").await;
        browser.until_text(".notice", "Queued 2 dead tasks again.").await;
        assert_eq!(pending(&server, "emails"), 2);
        // Delete every dead letter: asked first too.
        browser.click("a.button.danger").await;
        browser
            .until_text(
                "#touches",
                "This will delete all 1 dead-letter entries of emails. They cannot be brought back.",
            )
            .await;
        browser.click("#confirm button").await;
        browser.until_text(".notice", "Deleted 1 dead-letter entries.").await;
        assert_eq!(common::connection(&server, "emails").status().unwrap().dead, 0);
    });
}

fn a_paused_queue_is_not_taken_from_by_a_running_worker() {
    with_browser(async |browser| {
        let server = RedisServer::start();
        let served = Served::start(&server, Dashboard::builder().queue("emails").refresh(Duration::from_secs(1)));
        let worker = RunningWorker::start(&server, "emails");
        browser.goto(&served.url("/queues/emails")).await;
        browser.until_text(r#"td[data-field="worker_count"]"#, "1").await;
        browser.click("#pause button").await;
        browser.until_text(".notice", "Paused: workers take nothing from this queue until it is resumed.").await;
        assert!(common::connection(&server, "emails").is_paused().unwrap());
        enqueue(&server, "emails", 5);
        // The worker runs and looks at the queue all along; it takes nothing.
        browser.until_text(r#"td[data-field="pending"]"#, "5").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(pending(&server, "emails"), 5, "a paused queue was taken from");
        assert_eq!(common::connection(&server, "emails").status().unwrap().done, 0);
        browser.screenshot("queue-paused").await;
        browser.click("#resume button").await;
        browser.until_text(".notice", "Resumed: workers take from this queue again.").await;
        browser.until_text(r#"td[data-field="pending"]"#, "0").await;
        browser.until_text(r#"td[data-field="done"]"#, "5").await;
        drop(worker);
    });
}

fn hostile_fixtures_render_as_text() {
    with_browser(async |browser| {
        let server = RedisServer::start();
        let served = Served::queues(&server, &["emails"]);
        dead_letters(&server, "emails", MARKUP_TASK, vec![json!(SCRIPT_ARG), json!(CLOSE_SCRIPT)], IMG_ERROR, 1);
        let finished = finished_task(&server, "emails", vec![json!(CLOSE_SCRIPT), json!({ "html": SCRIPT_ARG })]);
        let mut queue = common::connection(&server, "emails");
        queue.enqueue(MARKUP_TASK, vec![json!(SCRIPT_ARG)], &Default::default()).unwrap();
        let later = concur_worker::EnqueueOptions { delay: Duration::from_secs(600), ..Default::default() };
        queue.enqueue(MARKUP_TASK, vec![json!(CLOSE_SCRIPT)], &later).unwrap();
        // A worker whose id is markup (printable, no spaces: allowed).
        let evil_worker = "\"><img/src=x/onerror=alert('worker')>";
        queue.heartbeat(evil_worker, Duration::from_secs(60)).unwrap();
        let worker_page = format!("/workers/{}", percent(evil_worker));
        for (path, shows) in [
            ("/", Some(evil_worker)),
            ("/queues/emails", Some(IMG_ERROR)),
            ("/queues/emails/pending", Some(SCRIPT_ARG)),
            ("/queues/emails/delayed", Some(MARKUP_TASK)),
            (&format!("/tasks/{finished}"), Some(CLOSE_SCRIPT)),
            ("/workers", Some(evil_worker)),
            (&worker_page, Some(evil_worker)),
            ("/queues/emails/stats", None),
            ("/queues/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", None),
            ("/queues/emails%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E/pending", None),
            ("/tasks/%3Cscript%3Ealert(3)%3C%2Fscript%3E", None),
            ("/?page=%3Cscript%3Ealert(4)%3C%2Fscript%3E", None),
        ] {
            browser.goto(&served.url(path)).await;
            // Let the page's script run its first live update.
            tokio::time::sleep(Duration::from_millis(500)).await;
            browser.assert_nothing_injected(path).await;
            let text = browser.script("return document.body.textContent;").await;
            let text = text.as_str().unwrap();
            if let Some(shows) = shows {
                // JSON shows quotes escaped; compare what the page prints.
                let json_form = serde_json::to_string(shows).unwrap();
                let json_form = &json_form[1..json_form.len() - 1];
                assert!(text.contains(shows) || text.contains(json_form), "{path} does not show {shows:?} as text");
            }
            assert!(
                !text.contains("alert(1)") && !text.contains("alert(2)") && !text.contains("alert(4)"),
                "{path} echoes the address"
            );
        }
        browser.goto(&served.url("/queues/emails")).await;
        browser
            .script(
                "document.querySelectorAll('details').forEach(d => d.open = true); \
                 document.getElementById('dead').scrollIntoView(); return null;",
            )
            .await;
        browser.screenshot("hostile-fixtures-as-text").await;
    });
}

/// Percent-encodes every byte that is not a letter or digit.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn a_page_on_another_origin_cannot_change_anything() {
    with_browser(async |browser| {
        let server = RedisServer::start();
        let served = Served::queues(&server, &["emails"]);
        dead_letters(&server, "emails", "send", vec![], "no", 2);
        // A page elsewhere that posts to the dashboard as soon as it loads:
        // a form (with a made-up token), and a fetch with credentials.
        let target = served.url("");
        let evil = format!(
            r#"<!doctype html><title>evil</title>
            <form id="f" method="post" action="{target}/queues/emails/dead/purge"><input name="csrf" value="guess"></form>
            <script>
              fetch("{target}/api/queues/emails/pause", {{method: "POST", mode: "no-cors", credentials: "include"}})
                .finally(() => document.getElementById("f").submit());
            </script>"#
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let evil_port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(evil) }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        browser.goto(&format!("http://localhost:{evil_port}/")).await;
        // The form lands on the dashboard's refusal.
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = browser.page().current_url().await.unwrap();
            if url.path().ends_with("/dead/purge") {
                break;
            }
            assert!(Instant::now() < deadline, "the form was never sent (at {url})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let refusal = browser.text("p.error").await;
        assert!(refusal.contains("Refused: this request came from another site"), "{refusal}");
        browser.screenshot("cross-origin-refused").await;
        let status = common::connection(&server, "emails").status().unwrap();
        assert_eq!(status.dead, 2, "the dead letters were deleted from another origin");
        assert!(!status.paused, "the queue was paused from another origin");
    });
}

fn main() -> std::process::ExitCode {
    run_cases(&[
        ("the_overview_counts_change_without_a_reload", the_overview_counts_change_without_a_reload),
        ("a_dead_task_retried_by_clicking_leaves_the_list", a_dead_task_retried_by_clicking_leaves_the_list),
        (
            "a_bulk_action_says_how_many_it_will_touch_before_it_runs",
            a_bulk_action_says_how_many_it_will_touch_before_it_runs,
        ),
        ("a_paused_queue_is_not_taken_from_by_a_running_worker", a_paused_queue_is_not_taken_from_by_a_running_worker),
        ("hostile_fixtures_render_as_text", hostile_fixtures_render_as_text),
        ("a_page_on_another_origin_cannot_change_anything", a_page_on_another_origin_cannot_change_anything),
    ])
}
