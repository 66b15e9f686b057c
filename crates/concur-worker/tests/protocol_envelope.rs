//! The task envelope without a server: bare numbers, defaults, ids, and the
//! checks that send a payload to the dead-letter list.

use concur_worker::protocol::{parse, Envelope, MalformedReason};
use concur_worker::SLEEP_TASK;
use serde_json::json;

const LIMIT: usize = 1 << 20;

#[test]
fn a_bare_number_is_the_sleep_task_with_that_argument() {
    for (payload, arg) in [("5", json!(5)), (" 3\n", json!(3)), ("2.5", json!(2.5)), ("-1", json!(-1)), ("0", json!(0))]
    {
        let envelope = parse(payload.as_bytes(), LIMIT).unwrap();
        assert_eq!((envelope.task.as_str(), envelope.args), (SLEEP_TASK, vec![arg]), "payload {payload:?}");
        assert_eq!((envelope.attempts, envelope.max_attempts, envelope.timeout), (0, None, None));
    }
}

#[test]
fn a_payload_without_an_id_gets_a_fresh_one_each_time() {
    let a = parse(br#"{"task":"echo"}"#, LIMIT).unwrap();
    let b = parse(br#"{"task":"echo"}"#, LIMIT).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.id.len(), 36, "a hyphenated UUID: {}", a.id);
    assert_eq!(parse(br#"{"id":"x1","task":"echo"}"#, LIMIT).unwrap().id, "x1");
}

#[test]
fn an_envelope_survives_a_round_trip() {
    let mut envelope = Envelope::new("resize", vec![json!("cat.png"), json!({"width": 640})]);
    envelope.attempts = 2;
    envelope.max_attempts = Some(4);
    envelope.timeout = Some(12.5);
    envelope.enqueued_at = Some(1_764_000_000.25);
    envelope.started_at = Some(1_764_000_001.5);
    envelope.eta = Some(1_764_000_009.0);
    envelope.error = Some("disk full".into());
    assert_eq!(parse(envelope.to_json().as_bytes(), LIMIT).unwrap(), envelope);
    // Fields left at None are left out, so the JSON stays small.
    let bare = Envelope::new("noop", vec![]).to_json();
    assert!(!bare.contains("timeout") && !bare.contains("eta") && !bare.contains("error"), "{bare}");
}

#[test]
fn the_size_limit_is_checked_before_anything_else() {
    let payload = vec![0xffu8; 11];
    assert_eq!(parse(&payload, 10), Err(MalformedReason::TooLarge { size: 11, limit: 10 }));
    assert!(matches!(parse(&payload, 11), Err(MalformedReason::NotUtf8 { valid_up_to: 0 })));
}

#[test]
fn every_refusal_names_its_cause() {
    let cases: [(&[u8], &str); 8] = [
        (b"ab\xffcd", "offset 2"),
        (b"{", "not JSON"),
        (br#"{"task":"e","extra":1}"#, "unknown field `extra`"),
        (br#"{"task":"e","args":{}}"#, "invalid type"),
        (br#"{"task":"e","max_attempts":0}"#, "max_attempts"),
        (br#"{"task":"e","timeout":0}"#, "timeout"),
        (br#"{"task":"e","id":""}"#, "task id"),
        (br#"true"#, "a boolean"),
    ];
    for (payload, cause) in cases {
        let reason = parse(payload, LIMIT).unwrap_err().to_string();
        assert!(
            reason.contains(cause),
            "{:?}: {reason:?} does not mention {cause:?}",
            String::from_utf8_lossy(payload)
        );
    }
}

#[test]
fn the_public_types_cross_threads() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    // A worker moves its queue client into the thread that fetches.
    send::<concur_worker::Client>();
    send::<concur_worker::protocol::Connection>();
    send_sync::<concur_worker::protocol::Task>();
    send_sync::<concur_worker::protocol::Fetched>();
    send_sync::<concur_worker::Error>();
    send_sync::<concur_worker::Status>();
    send_sync::<concur_worker::DeadEntry>();
    send_sync::<concur_worker::TaskResult>();
    send_sync::<concur_worker::QueueConfig>();
}
