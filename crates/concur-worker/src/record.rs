//! What the queue keeps about finished tasks: result records and dead-letter
//! entries, both JSON in Redis so `redis-cli` can read them too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a task ended.
///
/// # Examples
///
/// ```
/// use concur_worker::ResultStatus;
/// assert_eq!(serde_json::to_string(&ResultStatus::Succeeded).unwrap(), r#""succeeded""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// A handler returned a value.
    Succeeded,
    /// The task was moved to the dead-letter list.
    Dead,
}

/// The stored outcome of one task, kept for [`QueueConfig::result_ttl`] and
/// among the newest [`QueueConfig::results_cap`].
///
/// [`QueueConfig::result_ttl`]: crate::QueueConfig::result_ttl
/// [`QueueConfig::results_cap`]: crate::QueueConfig::results_cap
///
/// # Examples
///
/// ```
/// use concur_worker::{ResultStatus, TaskResult};
///
/// let json = r#"{"id":"a1","task":"echo","status":"succeeded","result":["hi"],
///                "worker":"w1","attempts":1,"started_at":1.0,"finished_at":2.0}"#;
/// let record: TaskResult = serde_json::from_str(json).unwrap();
/// assert_eq!(record.status, ResultStatus::Succeeded);
/// assert_eq!(record.error, None);
/// ```
///
/// # Python
///
/// What `concurrent.futures.Future.result()` / `.exception()` give for a local
/// call, kept in Redis so any process can ask for it by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// The task's id.
    pub id: String,
    /// The task's name.
    pub task: String,
    /// How it ended.
    pub status: ResultStatus,
    /// The handler's return value, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The last error, when it died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker that ran the last attempt.
    pub worker: String,
    /// Attempts made, the last one included.
    pub attempts: u32,
    /// When the last attempt started (Unix seconds).
    pub started_at: f64,
    /// When it ended (Unix seconds).
    pub finished_at: f64,
}

/// Why a task is in the dead-letter list.
///
/// # Examples
///
/// ```
/// use concur_worker::DeadKind;
/// assert_eq!(serde_json::to_string(&DeadKind::Malformed).unwrap(), r#""malformed""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadKind {
    /// Every attempt failed (an error or a timeout each time).
    Failed,
    /// The worker refused it without retrying: an unknown task name or
    /// arguments the handler cannot take.
    Rejected,
    /// The payload could not be read as a task.
    Malformed,
    /// It was in flight on more dead workers than
    /// [`QueueConfig::max_reaps`](crate::QueueConfig::max_reaps) allows: it
    /// probably kills the process that runs it.
    Poison,
}

/// One entry of the dead-letter list.
///
/// The payload is kept so the task can be retried: as text in `payload` when
/// it is UTF-8, as hexadecimal in `payload_hex` when it is not. A payload over
/// the size limit keeps only its first bytes, in `payload_prefix`, and cannot
/// be retried: it would be refused again.
///
/// # Examples
///
/// ```
/// use concur_worker::{DeadEntry, DeadKind};
///
/// let entry = DeadEntry::from_json(r#"{"id":"d1","kind":"malformed","error":"not JSON",
///                                      "died_at":5.0,"payload":"{oops","payload_size":5}"#);
/// assert_eq!(entry.kind, DeadKind::Malformed);
/// assert_eq!(entry.retry_payload(), Some(b"{oops".to_vec()));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadEntry {
    /// The task's id, or a fresh id when the payload had none that could be read.
    pub id: String,
    /// Why it died.
    pub kind: DeadKind,
    /// The reason, as a sentence.
    pub error: String,
    /// The worker that gave up on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// When (Unix seconds).
    pub died_at: f64,
    /// The task's name, when the payload could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Attempts made.
    #[serde(default)]
    pub attempts: u32,
    /// The payload, when it is UTF-8 and within the size limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The payload in hexadecimal, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
    /// The first bytes of a payload too large to keep, lossily decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_prefix: Option<String>,
    /// The payload's size in bytes.
    #[serde(default)]
    pub payload_size: u64,
    /// The entry exactly as stored, which removing it from the list needs.
    #[serde(skip)]
    pub(crate) raw: String,
}

impl DeadEntry {
    /// Reads an entry of the dead-letter list. An entry some other program
    /// wrote in another form is shown as a malformed entry holding that text,
    /// so listing never fails on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let entry = concur_worker::DeadEntry::from_json("junk");
    /// assert_eq!(entry.payload.as_deref(), Some("junk"));
    /// ```
    pub fn from_json(raw: &str) -> DeadEntry {
        match serde_json::from_str::<DeadEntry>(raw) {
            Ok(mut entry) => {
                entry.raw = raw.to_owned();
                entry
            }
            Err(e) => DeadEntry {
                id: String::new(),
                kind: DeadKind::Malformed,
                error: format!("this dead-letter entry is not in concur's format ({e})"),
                worker: None,
                died_at: 0.0,
                task: None,
                attempts: 0,
                payload: Some(raw.to_owned()),
                payload_hex: None,
                payload_prefix: None,
                payload_size: raw.len() as u64,
                raw: raw.to_owned(),
            },
        }
    }

    /// The bytes to push back to the queue to retry the task, or `None` when
    /// the payload was too large to keep.
    ///
    /// # Examples
    ///
    /// ```
    /// let entry = concur_worker::DeadEntry::from_json(
    ///     r#"{"id":"d","kind":"malformed","error":"e","died_at":0,"payload_hex":"ff00"}"#);
    /// assert_eq!(entry.retry_payload(), Some(vec![0xff, 0x00]));
    /// ```
    pub fn retry_payload(&self) -> Option<Vec<u8>> {
        if let Some(text) = &self.payload {
            return Some(text.clone().into_bytes());
        }
        self.payload_hex.as_deref().and_then(from_hex)
    }

    /// Builds the entry for a payload, keeping it in the form that fits.
    pub(crate) fn for_payload(
        id: String,
        kind: DeadKind,
        error: String,
        worker: &str,
        payload: &[u8],
        limit: usize,
    ) -> DeadEntry {
        const PREFIX: usize = 256;
        let (text, hex, prefix) = if payload.len() > limit {
            (None, None, Some(String::from_utf8_lossy(&payload[..payload.len().min(PREFIX)]).into_owned()))
        } else {
            match std::str::from_utf8(payload) {
                Ok(text) => (Some(text.to_owned()), None, None),
                Err(_) => (None, Some(to_hex(payload)), None),
            }
        };
        DeadEntry {
            id,
            kind,
            error,
            worker: Some(worker.to_owned()),
            died_at: unix_seconds(SystemTime::now()),
            task: None,
            attempts: 0,
            payload: text,
            payload_hex: hex,
            payload_prefix: prefix,
            payload_size: payload.len() as u64,
            raw: String::new(),
        }
    }

    pub(crate) fn to_json(&self) -> String {
        // Only strings and numbers: serialization cannot fail.
        serde_json::to_string(self).expect("a dead-letter entry always serializes")
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Seconds since the Unix epoch, as the protocol writes times.
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// The inverse of [`unix_seconds`]; a negative or unrepresentable time gives the epoch.
pub(crate) fn from_unix_seconds(seconds: f64) -> SystemTime {
    Duration::try_from_secs_f64(seconds).ok().and_then(|d| UNIX_EPOCH.checked_add(d)).unwrap_or(UNIX_EPOCH)
}

/// Serializes an optional duration as whole milliseconds, or `null`.
pub(crate) fn serialize_millis<S: serde::Serializer>(
    duration: &Option<std::time::Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(d) => serializer.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        None => serializer.serialize_none(),
    }
}

/// Serializes a duration as seconds, a number with a fraction.
pub(crate) fn serialize_secs<S: serde::Serializer>(
    duration: &std::time::Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}
