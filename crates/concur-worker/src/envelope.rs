//! The task envelope: what one task looks like inside Redis, and [`parse`],
//! which reads a payload into one or says why it cannot.
//!
//! Reading is strict (unknown fields, wrong types and out-of-range values are
//! refused) because a payload that cannot be read is never run and never
//! dropped: the queue moves it to the dead-letter list with the reason.
//! `docs/PROTOCOL.md` has the full field table.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::check_task_id;

/// The task name a bare-number payload stands for.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_worker::SLEEP_TASK, "sleep");
/// ```
pub const SLEEP_TASK: &str = "sleep";

/// One task as stored in Redis: a JSON object with its id, the name of the
/// handler that runs it, the handler's arguments and its delivery bookkeeping.
///
/// ```json
/// {"id":"4f0c…","task":"resize","args":["cat.png",640],"attempts":0,
///  "max_attempts":5,"timeout":30.0,"enqueued_at":1764000000.25}
/// ```
///
/// Only `task` is required on the wire, so a producer in any language can
/// push `{"task":"echo","args":["hi"]}`; [`parse`] makes an id for a payload
/// without one, and reads a bare JSON number `n` (the reference's
/// `redis-cli LPUSH queue 5`) as the task [`SLEEP_TASK`] with the arguments
/// `[n]`. Unknown fields are refused rather than ignored, so a misspelt
/// `"arg"` fails loudly instead of running the task with no arguments.
///
/// Times are Unix times in seconds, as floats, so producers in any language
/// can write them. `None` fields are left out of the JSON.
///
/// # Examples
///
/// ```
/// use concur_worker::protocol::Envelope;
/// use serde_json::json;
///
/// let envelope = Envelope::new("echo", vec![json!("hi")]);
/// let json = envelope.to_json();
/// assert!(json.contains(r#""task":"echo""#));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The task's id: given by the producer, or made at enqueue (or, for a
    /// payload without one, at fetch).
    pub id: String,
    /// The list to notify when the task ends (acknowledged or
    /// dead-lettered): `{NAME}:reply:CLIENT` in the task's own queue (see
    /// [`Keys::reply`](crate::protocol::Keys::reply)). The scripts read it
    /// only where concur writes it, right after `id`; `None` asks for no
    /// notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// The name of the handler that runs the task.
    pub task: String,
    /// The handler's arguments.
    #[serde(default)]
    pub args: Vec<Value>,
    /// How many attempts have failed so far.
    #[serde(default)]
    pub attempts: u32,
    /// How many attempts the task gets before it is dead-lettered; `None`
    /// means the queue's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Seconds one attempt may run before it counts as failed; `None` means
    /// the queue's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// When the task was first enqueued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enqueued_at: Option<f64>,
    /// When the last failed attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<f64>,
    /// When the task is (or was) due, for a delayed task or a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    /// The error of the last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The wire form, where the id may be missing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEnvelope {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    reply: Option<String>,
    task: String,
    #[serde(default)]
    args: Vec<Value>,
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default)]
    enqueued_at: Option<f64>,
    #[serde(default)]
    started_at: Option<f64>,
    #[serde(default)]
    eta: Option<f64>,
    #[serde(default)]
    error: Option<String>,
}

impl Envelope {
    /// A new envelope with a fresh id and no bookkeeping yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = concur_worker::protocol::Envelope::new("echo", vec![]);
    /// let b = concur_worker::protocol::Envelope::new("echo", vec![]);
    /// assert_ne!(a.id, b.id);
    /// assert_eq!(a.attempts, 0);
    /// ```
    pub fn new(task: &str, args: Vec<Value>) -> Self {
        Envelope {
            id: new_id(),
            reply: None,
            task: task.to_owned(),
            args,
            attempts: 0,
            max_attempts: None,
            timeout: None,
            enqueued_at: None,
            started_at: None,
            eta: None,
            error: None,
        }
    }

    /// The envelope as compact JSON, the form stored in Redis.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = concur_worker::protocol::Envelope::new("sleep", vec![serde_json::json!(1)]);
    /// let back = concur_worker::protocol::parse(envelope.to_json().as_bytes(), 1024).unwrap();
    /// assert_eq!(back, envelope);
    /// ```
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings, numbers and `Value`s cannot fail:
        // `Value` has no non-string map keys.
        serde_json::to_string(self).expect("an envelope always serializes")
    }
}

/// Why a payload could not be read as a task.
///
/// # Examples
///
/// ```
/// use concur_worker::protocol::{parse, MalformedReason};
///
/// let reason = parse(b"{not json", 1024).unwrap_err();
/// assert!(matches!(reason, MalformedReason::NotJson(_)));
/// assert!(reason.to_string().contains("not JSON"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedReason {
    /// The payload is not UTF-8 text.
    #[error("the payload is not UTF-8 text (invalid byte at offset {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// The payload is text but not JSON.
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    /// The payload is larger than the queue accepts.
    #[error("the payload is {size} bytes, more than the queue's limit of {limit}")]
    TooLarge {
        /// The payload's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The payload is JSON but not a task: not an object or a number, a
    /// missing `task`, an unknown field, or a field of the wrong type or range.
    #[error("the payload is not a valid task: {0}")]
    InvalidEnvelope(String),
}

/// Reads a payload taken from a queue.
///
/// A JSON object is an [`Envelope`] (an id is made if it has none); a bare
/// JSON number `n` is the task `sleep` with the arguments `[n]`. Anything
/// larger than `limit` bytes is refused before it is read.
///
/// # Errors
///
/// The [`MalformedReason`] the payload cannot be run for.
///
/// # Examples
///
/// ```
/// use concur_worker::protocol::parse;
/// use serde_json::json;
///
/// let bare = parse(b"5", 1024).unwrap();
/// assert_eq!((bare.task.as_str(), bare.args.clone()), ("sleep", vec![json!(5)]));
///
/// let full = parse(br#"{"task":"echo","args":["hi"]}"#, 1024).unwrap();
/// assert_eq!(full.args, vec![json!("hi")]);
///
/// assert!(parse(br#"{"task":"echo","arg":["hi"]}"#, 1024).is_err());
/// ```
///
/// # Python
///
/// The reference calls `int(msg)` on what it pops and crashes its consumer
/// thread on anything else; here a bad payload is an error value.
pub fn parse(payload: &[u8], limit: usize) -> Result<Envelope, MalformedReason> {
    if payload.len() > limit {
        return Err(MalformedReason::TooLarge { size: payload.len(), limit });
    }
    let text = std::str::from_utf8(payload).map_err(|e| MalformedReason::NotUtf8 { valid_up_to: e.valid_up_to() })?;
    let value: Value = serde_json::from_str(text).map_err(|e| MalformedReason::NotJson(e.to_string()))?;
    match value {
        Value::Number(n) => Ok(Envelope::new(SLEEP_TASK, vec![Value::Number(n)])),
        Value::Object(_) => {
            let wire: WireEnvelope =
                serde_json::from_value(value).map_err(|e| MalformedReason::InvalidEnvelope(e.to_string()))?;
            from_wire(wire)
        }
        other => Err(MalformedReason::InvalidEnvelope(format!(
            "expected a JSON object or a bare number, found {}",
            json_kind(&other)
        ))),
    }
}

fn from_wire(wire: WireEnvelope) -> Result<Envelope, MalformedReason> {
    let invalid = |msg: String| Err(MalformedReason::InvalidEnvelope(msg));
    if let Some(id) = &wire.id {
        if let Err(e) = check_task_id(id) {
            return invalid(e.to_string());
        }
    }
    if let Some(reply) = &wire.reply {
        if reply.is_empty() || reply.len() > 512 || reply.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid(format!(
                "the field `reply` is {reply:?}; it must be a key name of at most 512 bytes without spaces"
            ));
        }
    }
    if wire.task.is_empty() {
        return invalid("the field `task` is empty".into());
    }
    if wire.max_attempts == Some(0) {
        return invalid("the field `max_attempts` is 0; a task needs at least one attempt".into());
    }
    if let Some(t) = wire.timeout {
        if !(t.is_finite() && t > 0.0) {
            return invalid(format!("the field `timeout` is {t}; it must be a positive number of seconds"));
        }
    }
    for (field, value) in [("enqueued_at", wire.enqueued_at), ("started_at", wire.started_at), ("eta", wire.eta)] {
        if value.is_some_and(|v| !v.is_finite()) {
            return invalid(format!("the field `{field}` is not a finite number"));
        }
    }
    Ok(Envelope {
        id: wire.id.unwrap_or_else(new_id),
        reply: wire.reply,
        task: wire.task,
        args: wire.args,
        attempts: wire.attempts,
        max_attempts: wire.max_attempts,
        timeout: wire.timeout,
        enqueued_at: wire.enqueued_at,
        started_at: wire.started_at,
        eta: wire.eta,
        error: wire.error,
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A fresh random task id (a UUID v4 in its hyphenated form).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
