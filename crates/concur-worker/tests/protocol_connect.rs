//! Connecting: clear errors for an unreachable server, a wrong or missing
//! password and a bad URL; a failed start touches no data; a lost connection
//! comes back by itself; `rediss://` works with a private CA.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{cmd, free_port, Ready, RedisServer};
use concur_worker::protocol::{Connection, Fetched};
use concur_worker::{EnqueueOptions, Error, QueueConfig};
use serde_json::json;

fn quick() -> QueueConfig {
    QueueConfig { connect_timeout: Duration::from_secs(2), ..QueueConfig::default() }
}

#[test]
fn an_unreachable_server_is_named_in_the_error() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let err = Connection::connect(&url, quick()).unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.is_transient());
    let message = err.to_string();
    assert!(message.contains("could not connect") && message.contains(&url), "{message}");
}

#[test]
fn a_wrong_password_is_reported_as_such_without_echoing_it() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"], Ready::Ping);
    let url = format!("redis://:hunter2@127.0.0.1:{}", server.port);
    let err = Connection::connect(&url, quick()).unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err:?}");
    assert!(!err.is_transient());
    let message = err.to_string();
    assert!(message.contains("refused the password"), "{message}");
    assert!(!message.contains("hunter2") && message.contains(":***@"), "{message}");
}

#[test]
fn a_missing_password_is_reported_as_such() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"], Ready::Ping);
    let err = Connection::connect(&server.url(), quick()).unwrap_err();
    assert!(matches!(err, Error::PasswordRequired { .. }), "{err:?}");
    assert!(err.to_string().contains("requires a password"), "{err}");
}

#[test]
fn the_right_password_works_and_failed_starts_leave_the_data_alone() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"], Ready::Ping);
    let good = format!("redis://:s3cret@127.0.0.1:{}", server.port);
    let mut queue = Connection::connect(&good, quick()).unwrap();
    let id = queue.enqueue("echo", vec![json!(1)], &EnqueueOptions::default()).unwrap();
    let before: Vec<String> = cmd(&mut redis_with_password(&good), &["LRANGE", "queue", "0", "-1"]);

    assert!(Connection::connect(&server.url(), quick()).is_err());
    assert!(Connection::connect(&format!("redis://:nope@127.0.0.1:{}", server.port), quick()).is_err());
    assert!(Connection::connect(&good, QueueConfig { dead_cap: 0, ..quick() }).is_err());

    let after: Vec<String> = cmd(&mut redis_with_password(&good), &["LRANGE", "queue", "0", "-1"]);
    assert_eq!(before, after);
    let keys: Vec<String> = cmd(&mut redis_with_password(&good), &["KEYS", "*"]);
    assert_eq!(keys, ["queue"]);
    queue.heartbeat("w1", Duration::from_secs(10)).unwrap();
    let fetched = queue.fetch("w1", 1, Duration::ZERO).unwrap();
    assert!(matches!(&fetched[..], [Fetched::Task(task)] if task.id() == id));
}

fn redis_with_password(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection_with_timeout(Duration::from_secs(5)).unwrap()
}

#[test]
fn bad_urls_and_names_are_refused_before_any_connection() {
    for url in ["http://127.0.0.1:6379", "redis://127.0.0.1:notaport", "127.0.0.1:6379"] {
        let err = Connection::connect(url, quick()).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains("redis://[:password@]host"), "{err}");
    }
    let err = Connection::connect("redis://127.0.0.1:1", QueueConfig::named("a{b}")).unwrap_err();
    assert!(matches!(err, Error::InvalidName { what: "queue name", .. }), "{err:?}");
    assert!(err.to_string().contains("'{'"), "{err}");
}

#[test]
fn a_lost_connection_is_reported_then_reopened_by_the_next_call() {
    let mut server = RedisServer::start();
    let port = server.port;
    let mut queue = server.queue(quick());
    queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    server.kill();
    let err = queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let err = queue.ping().unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");

    let _restarted = RedisServer::start_on(port, &[], Ready::Ping);
    queue.ping().expect("the next call reconnects");
    queue.enqueue("echo", vec![], &EnqueueOptions::default()).unwrap();
    assert_eq!(queue.status().unwrap().pending, 1);
}

/// Makes a CA and a server certificate for 127.0.0.1 in `dir` with the
/// openssl tool; `None` if openssl is missing.
fn make_certificates(dir: &Path) -> Option<()> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let steps: [&[&str]; 4] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=concur test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ],
        &["version"],
    ];
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").ok()?;
    steps.iter().all(|args| run(args)).then_some(())
}

#[test]
fn rediss_urls_connect_over_tls_with_a_private_ca() {
    let certs = std::env::temp_dir().join(format!("concur-worker-tls-{}", std::process::id()));
    std::fs::create_dir_all(&certs).unwrap();
    if make_certificates(&certs).is_none() {
        eprintln!("skipped: the openssl tool is not installed, so no test certificates can be made");
        return;
    }
    let file = |name: &str| certs.join(name).display().to_string();
    let (cert, key, ca) = (file("server.crt"), file("server.key"), file("ca.crt"));
    let server = RedisServer::start_with(
        &["--tls-cert-file", &cert, "--tls-key-file", &key, "--tls-ca-cert-file", &ca, "--tls-auth-clients", "no"],
        Ready::Listening,
    );
    let url = format!("rediss://127.0.0.1:{}", server.port);

    let config = QueueConfig { tls_ca_file: Some(ca.clone().into()), ..quick() };
    let mut queue = Connection::connect(&url, config).expect("TLS with the private CA");
    let id = queue.enqueue("echo", vec![json!("over tls")], &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(10)).unwrap();
    let fetched = queue.fetch("w1", 1, Duration::from_secs(1)).unwrap();
    assert!(matches!(&fetched[..], [Fetched::Task(task)] if task.id() == id));

    // Without the CA the server's certificate is not trusted.
    let err = Connection::connect(&url, quick()).unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    // A plain client on the TLS port gets no answer it can use.
    assert!(Connection::connect(&format!("redis://127.0.0.1:{}", server.port), quick()).is_err());
    let missing = QueueConfig { tls_ca_file: Some(certs.join("missing.pem")), ..quick() };
    assert!(matches!(Connection::connect(&url, missing).unwrap_err(), Error::CaFile { .. }));
    let _ = std::fs::remove_dir_all(&certs);
}
