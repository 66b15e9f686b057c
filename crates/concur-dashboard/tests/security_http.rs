//! The security layers over HTTP, against a real Redis: the headers every
//! answer carries, GET never changing anything, changes refused from
//! another origin and accepted from the dashboard's own, the CSRF token
//! for programs, read-only mode, the token (bearer and basic, constant-time
//! compared), `/metrics`' own token, and the settings refused at start.

mod common;

use base64::Engine;
use common::{csrf, dead_letters, get_text, http, RedisServer, Served};
use concur_dashboard::{Dashboard, StartError};

const CHANGES: [&str; 22] = [
    "/queues/emails/dead/retry",
    "/queues/emails/dead/retry-all",
    "/queues/emails/dead/purge",
    "/queues/emails/dead/delete",
    "/queues/emails/delayed/run-now",
    "/queues/emails/delayed/delete",
    "/queues/emails/pause",
    "/queues/emails/resume",
    "/control/quiet",
    "/control/stop",
    "/api/queues/emails/dead/retry",
    "/api/queues/emails/dead/retry-all",
    "/api/queues/emails/dead/purge",
    "/api/queues/emails/dead/delete",
    "/api/queues/emails/delayed/run-now",
    "/api/queues/emails/delayed/delete",
    "/api/queues/emails/pause",
    "/api/queues/emails/resume",
    "/api/control/quiet",
    "/api/control/stop",
    // Not a queue shown: still 405 to a GET, never a 404 that would tell.
    "/queues/other/pause",
    "/api/queues/other/resume",
];

fn dead_count(server: &RedisServer) -> u64 {
    common::connection(server, "emails").status().unwrap().dead
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = RedisServer::start();
    let served = Served::queues(&server, &["emails"]);
    let client = http();
    let mut nonces = Vec::new();
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/api/overview"),
        ("GET", "/metrics"),
        ("GET", "/assets/app.js"),
        ("GET", "/no/such/page"),
        ("GET", "/queues/emails/dead/purge"),
        ("POST", "/api/queues/emails/dead/purge"),
        ("OPTIONS", "/api/queues/emails/dead/purge"),
    ] {
        let response = client
            .request(method.parse().unwrap(), served.url(path))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none'; script-src 'nonce-"), "{path}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("base-uri 'none'"), "{path}");
        nonces.push(policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned());
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(!headers.contains_key("access-control-allow-origin"), "{path} allows another origin");
        assert!(!headers.contains_key("access-control-allow-credentials"), "{path}");
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 8, "each answer has a fresh nonce");
    // The page's script and style carry that answer's nonce.
    let response = client.get(served.url("/")).send().await.unwrap();
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!("<script src=\"/assets/app.js\" nonce=\"{nonce}\"")), "{page}");
    assert!(page.contains(&format!("href=\"/assets/app.css\" nonce=\"{nonce}\"")));
}

#[tokio::test]
async fn a_get_never_changes_anything() {
    let server = RedisServer::start();
    dead_letters(&server, "emails", "send", vec![], "no", 2);
    let served = Served::queues(&server, &["emails"]);
    let client = http();
    for path in CHANGES {
        let response = client.get(served.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "GET {path}");
        assert_eq!(response.headers()["allow"], "POST", "GET {path}");
    }
    assert_eq!(dead_count(&server), 2);
}

#[tokio::test]
async fn changes_from_another_origin_are_refused() {
    let server = RedisServer::start();
    dead_letters(&server, "emails", "send", vec![], "no", 2);
    let served = Served::queues(&server, &["emails"]);
    let client = http();
    let token = csrf(&client, &served).await;
    for path in CHANGES {
        for headers in [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("origin", "http://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "http://127.0.0.1:1")],
            // A token does not make a request from elsewhere acceptable.
            vec![("origin", "http://evil.example"), ("x-csrf-token", token.as_str())],
            // Nothing at all: a program without the token.
            vec![],
            vec![("x-csrf-token", "0000")],
        ] {
            let mut request =
                client.post(served.url(path)).header("content-type", "application/json").body("{\"ids\":[\"x\"]}");
            for (name, value) in &headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "POST {path} with {headers:?}");
        }
        // A form without the token, from no browser.
        let response = client
            .post(served.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("id=x&csrf=wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "POST {path} with a wrong form token");
    }
    assert_eq!(dead_count(&server), 2, "nothing was retried or deleted");
    assert!(!common::connection(&server, "emails").is_paused().unwrap(), "nothing was paused");
}

#[tokio::test]
async fn changes_from_the_dashboards_own_pages_and_programs_are_accepted() {
    let server = RedisServer::start();
    let ids = dead_letters(&server, "emails", "send", vec![], "no", 5);
    let served = Served::start(&server, Dashboard::builder().queue("emails").origin("https://ops.example.com/"));
    let client = http();
    let token = csrf(&client, &served).await;
    let host = served.addr.to_string();
    let retry = served.url("/api/queues/emails/dead/retry");
    let accepted = [
        vec![("sec-fetch-site", "same-origin".to_owned())],
        vec![("origin", format!("http://{host}"))],
        // Behind a reverse proxy: the host it was addressed to, or the origin given at start.
        vec![("origin", "https://dash.example.org".to_owned()), ("x-forwarded-host", "dash.example.org".to_owned())],
        vec![("origin", "https://ops.example.com".to_owned())],
        vec![("x-csrf-token", token.clone())],
    ];
    for (headers, id) in accepted.iter().zip(&ids) {
        let mut request =
            client.post(&retry).header("content-type", "application/json").body(format!("{{\"ids\":[\"{id}\"]}}"));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "with {headers:?}: {}", response.text().await.unwrap());
    }
    assert_eq!(dead_count(&server), 0);
    // A page's form: the token in the form, answered with a redirect back.
    dead_letters(&server, "emails", "send", vec![], "no", 1);
    let response = client
        .post(served.url("/queues/emails/dead/purge"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/queues/emails?done=purge&n=1&skipped=0#dead");
    assert_eq!(dead_count(&server), 0);
}

#[tokio::test]
async fn read_only_refuses_changes_in_the_api_itself() {
    let server = RedisServer::start();
    dead_letters(&server, "emails", "send", vec![], "no", 2);
    let served = Served::start(&server, Dashboard::builder().queue("emails").read_only());
    let client = http();
    let token = csrf(&client, &served).await;
    for path in CHANGES {
        let response = client
            .post(served.url(path))
            .header("sec-fetch-site", "same-origin")
            .header("x-csrf-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(response.text().await.unwrap().contains("read-only"));
    }
    assert_eq!(dead_count(&server), 2);
    assert!(!common::connection(&server, "emails").is_paused().unwrap());
    let (_, page) = get_text(&client, &served.url("/queues/emails")).await;
    assert!(page.contains("read-only") && !page.contains("Retry all") && !page.contains("method=\"post\""), "{page}");
    let (status, _) = get_text(&client, &served.url("/queues/emails/confirm?action=purge")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_token_guards_every_route() {
    let server = RedisServer::start();
    let token = "a-token-of-thirty-two-characters";
    let served = Served::start(
        &server,
        Dashboard::builder().queue("emails").token(token).metrics_token("only-for-the-prometheus-scraper"),
    );
    let client = http();
    let basic = |user: &str, password: &str| {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
    };
    for path in ["/", "/api/overview", "/queues/emails", "/no/such/page", "/events/overview", "/assets/app.js"] {
        let response = client.get(served.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic realm="));
        for wrong in [
            "Bearer a-token-of-thirty-two-character".to_owned(),
            "Bearer a-token-of-thirty-two-characters!".to_owned(),
            "Bearer only-for-the-prometheus-scraper".to_owned(),
            basic("admin", "wrong"),
            "Digest a-token-of-thirty-two-characters".to_owned(),
        ] {
            let response = client.get(served.url(path)).header("authorization", &wrong).send().await.unwrap();
            assert_eq!(response.status(), 401, "{path} with {wrong}");
        }
    }
    for auth in [format!("Bearer {token}"), basic("", token), basic("anyone", token)] {
        let response = client.get(served.url("/api/overview")).header("authorization", &auth).send().await.unwrap();
        assert_eq!(response.status(), 200, "{auth}");
    }
    // /metrics: its own token or the main one.
    assert_eq!(client.get(served.url("/metrics")).send().await.unwrap().status(), 401);
    for auth in ["Bearer only-for-the-prometheus-scraper".to_owned(), format!("Bearer {token}")] {
        let response = client.get(served.url("/metrics")).header("authorization", &auth).send().await.unwrap();
        assert_eq!(response.status(), 200, "{auth}");
    }
}

#[test]
fn unsafe_settings_are_refused_at_start() {
    // Checked before Redis is reached: no server is needed for these.
    let public = Dashboard::builder().bind("0.0.0.0:7878".parse().unwrap()).build().unwrap_err();
    assert!(matches!(public, StartError::PublicWithoutToken { .. }));
    assert!(public.to_string().contains("refusing to serve the dashboard on 0.0.0.0:7878 without a token"), "{public}");
    assert!(public.is_bad_input());
    let v6 = Dashboard::builder().bind("[::]:7878".parse().unwrap()).build().unwrap_err();
    assert!(matches!(v6, StartError::PublicWithoutToken { .. }));
    for (builder, says) in [
        (Dashboard::builder().token("short"), "at least 16"),
        (Dashboard::builder().token("has a space in the token"), "without spaces"),
        (Dashboard::builder().metrics_token("short"), "--metrics-token"),
        (Dashboard::builder().queue("a{b}"), "queue name"),
        (Dashboard::builder().queue(".."), "step in the path"),
        (Dashboard::builder().refresh(std::time::Duration::from_secs(61)), "from 1 to 60 seconds"),
        (Dashboard::builder().refresh(std::time::Duration::from_millis(10)), "from 1 to 60 seconds"),
        (Dashboard::builder().origin("ops.example.com"), "https://host[:port]"),
        (Dashboard::builder().origin("https://ops.example.com/path"), "no path"),
    ] {
        let error = builder.build().unwrap_err();
        assert!(matches!(error, StartError::InvalidSetting(_)), "{error}");
        assert!(error.to_string().contains(says), "{error} does not say {says:?}");
    }
    // A non-loopback bind with a token passes the check (and then needs Redis).
    let unreachable = format!("redis://127.0.0.1:{}", common::free_port());
    let error = Dashboard::builder()
        .redis(&unreachable)
        .token("a-token-of-thirty-two-characters")
        .bind("0.0.0.0:0".parse().unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(error, StartError::Redis(_)), "{error}");
    assert!(error.is_bad_input());
}
