//! The one error type of the queue client.
//!
//! Every call talks to Redis, so every call can fail the same few ways: the
//! server cannot be reached, it refuses the password, the connection drops in
//! the middle of a call, or it answers with an error. One enum keeps those
//! cases in one place, each with a message that tells an operator what to do.

use std::time::Duration;

use redis::{ErrorKind, RedisError, ServerErrorKind};

/// What went wrong in a call to a [`Client`](crate::Client) or a
/// [`protocol::Connection`](crate::protocol::Connection).
///
/// # Examples
///
/// ```
/// use concur_worker::{Client, Error, QueueConfig};
///
/// let err = Client::connect("http://example.com", QueueConfig::default()).unwrap_err();
/// assert!(matches!(err, Error::InvalidUrl { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a Redis URL.
    #[error(
        "{url:?} is not a Redis URL ({reason}); write redis://[:password@]host[:port][/db], \
         or rediss://… for TLS"
    )]
    InvalidUrl {
        /// The URL as given, with any password replaced by `***`.
        url: String,
        /// What the parser objected to.
        reason: String,
    },

    /// No connection could be made: nothing listens there, the host is
    /// unknown, the TLS handshake failed, or the connect timed out.
    #[error("could not connect to Redis at {url}: {source}; check that redis-server runs there and the URL is right")]
    Unreachable {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// The underlying failure.
        source: RedisError,
    },

    /// The server refused the password (or user name) in the URL.
    #[error(
        "Redis at {url} refused the password given in the URL; check it (redis://:PASSWORD@host) or the user name"
    )]
    WrongPassword {
        /// The URL, with the password replaced by `***`.
        url: String,
    },

    /// The server needs a password and the URL has none.
    #[error("Redis at {url} requires a password and the URL has none; write it as redis://:PASSWORD@host")]
    PasswordRequired {
        /// The URL as given.
        url: String,
    },

    /// A trusted CA certificate file for `rediss://` could not be read.
    #[error("could not read the CA certificate file {path}: {source}")]
    CaFile {
        /// The file named in [`QueueConfig::tls_ca_file`](crate::QueueConfig::tls_ca_file).
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },

    /// The connection broke during a call. The call may or may not have taken
    /// effect; the next call reconnects. Every state transition of the
    /// protocol is safe to repeat, see `docs/PROTOCOL.md`.
    #[error("lost the connection to Redis at {url} during a call: {source}; it may or may not have taken effect, and the next call reconnects")]
    ConnectionLost {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// The underlying failure.
        source: RedisError,
    },

    /// Something accepted the connection but did not answer in time: another
    /// program listens at that address, or the server is stuck. A call that
    /// got no answer may or may not have taken effect; the next call
    /// reconnects.
    #[error(
        "Redis at {url} did not answer within {}: check that it is redis-server that listens there and that it \
         is not stuck",
        seconds_text(*waited)
    )]
    NoAnswer {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// How long the call waited: [`QueueConfig::connect_timeout`] for a
        /// new connection, [`QueueConfig::command_timeout`] for a call on an
        /// open one.
        ///
        /// [`QueueConfig::connect_timeout`]: crate::QueueConfig::connect_timeout
        /// [`QueueConfig::command_timeout`]: crate::QueueConfig::command_timeout
        waited: Duration,
    },

    /// The master took the write, but fewer replicas than
    /// [`QueueConfig::min_replicas`](crate::QueueConfig::min_replicas)
    /// confirmed it in time: a failover now could lose it. Repeating the
    /// call is safe; it waits again.
    #[error(
        "Redis at {url} took the write, but only {got} of the {wanted} replicas asked for confirmed it in time; a \
         failover now could lose it"
    )]
    NotReplicated {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// The replicas asked for.
        wanted: u32,
        /// The replicas that confirmed.
        got: u32,
    },

    /// The server is up but cannot serve yet: it is loading its data from
    /// disk after a restart, or a failover is under way.
    #[error("Redis at {url} cannot serve yet ({source}); it is loading its data or failing over, so retry shortly")]
    Busy {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// The server's error.
        source: RedisError,
    },

    /// The queue is paused ([`Client::pause`](crate::Client::pause)): a fetch
    /// takes nothing from it until it is resumed.
    #[error("the queue {queue} is paused; nothing is taken from it until it is resumed")]
    Paused {
        /// The queue's name.
        queue: String,
    },

    /// No worker of that id is registered on the queue (it never ran there,
    /// it stopped, or a reaper took it for dead).
    #[error("no worker {worker:?} is registered on the queue {queue}")]
    NoSuchWorker {
        /// The queue's name.
        queue: String,
        /// The worker id asked for.
        worker: String,
    },

    /// The server answered a command with an error (out of memory, a key of
    /// the wrong type, a read-only replica, …).
    #[error("Redis at {url} refused a command: {source}")]
    Redis {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// The server's error.
        source: RedisError,
    },

    /// A queue name, worker id or task id cannot be used in a key name.
    #[error("the {what} {name:?} cannot be used because {reason}")]
    InvalidName {
        /// Which kind of name: "queue name", "worker id" or "task id".
        what: &'static str,
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: String,
    },

    /// A task to enqueue is larger than [`QueueConfig::max_payload`](crate::QueueConfig::max_payload).
    #[error("the task's payload is {size} bytes, more than the queue's limit of {limit}; pass large data by reference (a path or URL) instead")]
    PayloadTooLarge {
        /// The payload's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },

    /// An enqueue option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// Redis answered with something the protocol never writes: another
    /// program changed the queue's keys.
    #[error(
        "Redis at {url} answered a queue command with {detail}; another program may have written to the queue's keys"
    )]
    Protocol {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What was unexpected.
        detail: String,
    },
}

impl Error {
    /// Whether the failure may pass by itself — Redis cannot be reached, the
    /// connection dropped, or the server is still loading — so a worker should
    /// reconnect with backoff rather than stop. Configuration errors (a bad
    /// URL or password) are not transient.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::Error;
    ///
    /// let err = Error::InvalidOption("max_attempts must be at least 1".into());
    /// assert!(!err.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::ConnectionLost { .. }
                | Error::NoAnswer { .. }
                | Error::Busy { .. }
                | Error::NotReplicated { .. }
        )
    }

    /// Whether the call may have taken effect although it failed: it was
    /// sent, and the connection broke or went silent before the reply came.
    /// Every finishing call of the protocol is safe to repeat; this tells a
    /// caller how to read the repeat's answer.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::Error;
    ///
    /// let err = Error::InvalidOption("max_attempts must be at least 1".into());
    /// assert!(!err.may_have_taken_effect());
    /// ```
    pub fn may_have_taken_effect(&self) -> bool {
        matches!(self, Error::ConnectionLost { .. } | Error::NoAnswer { .. } | Error::NotReplicated { .. })
    }

    /// Whether the error is in what the user gave — the URL, the password,
    /// a name, a limit — rather than a failure along the way. An unreachable
    /// or silent server counts: at start, it is most often a wrong host or
    /// port. The `concur` commands exit with status 2 for these.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::{Client, QueueConfig};
    ///
    /// let err = Client::connect("http://example.com", QueueConfig::default()).unwrap_err();
    /// assert!(err.is_bad_input());
    /// ```
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidUrl { .. }
                | Error::Unreachable { .. }
                | Error::NoAnswer { .. }
                | Error::WrongPassword { .. }
                | Error::PasswordRequired { .. }
                | Error::CaFile { .. }
                | Error::InvalidName { .. }
                | Error::InvalidOption(_)
                | Error::PayloadTooLarge { .. }
        )
    }

    /// Sorts a failure of a command on an open connection that waited up to
    /// `waited` for its reply.
    pub(crate) fn from_command(url: &str, source: RedisError, waited: Duration) -> Self {
        let url = url.to_owned();
        if source.is_timeout() {
            Error::NoAnswer { url, waited }
        } else if source.code() == Some("NOAUTH") {
            Error::PasswordRequired { url }
        } else if source.code() == Some("WRONGPASS") || source.kind() == ErrorKind::AuthenticationFailed {
            Error::WrongPassword { url }
        } else if source.is_io_error() || source.is_connection_dropped() || source.is_unrecoverable_error() {
            Error::ConnectionLost { url, source }
        } else if matches!(
            source.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::ReadOnly
            )
        ) {
            Error::Busy { url, source }
        } else {
            Error::Redis { url, source }
        }
    }

    /// Sorts a failure to open a connection: to connect, or to get the first
    /// answer, within `waited`.
    pub(crate) fn from_connect(url: &str, source: RedisError, waited: Duration) -> Self {
        match Error::from_command(url, source, waited) {
            Error::ConnectionLost { url, source } => Error::Unreachable { url, source },
            other => other,
        }
    }
}

/// A duration as an operator wrote it: `10 s`, `0.3 s`, `1.25 s`.
pub(crate) fn seconds_text(duration: Duration) -> String {
    let text = format!("{:.3}", duration.as_secs_f64());
    format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Replaces the password of a Redis URL with `***`, so errors and logs can
/// show the URL.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_owned() };
    let user_info = &rest[..at];
    let redacted = match user_info.find(':') {
        Some(colon) => format!("{}:***", &user_info[..colon]),
        None => user_info.to_owned(),
    };
    format!("{}{}{}", &url[..scheme_end + 3], redacted, &rest[at..])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{redact_url, seconds_text};

    #[test]
    fn seconds_read_as_written() {
        assert_eq!(seconds_text(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds_text(Duration::from_millis(300)), "0.3 s");
        assert_eq!(seconds_text(Duration::from_millis(1250)), "1.25 s");
        assert_eq!(seconds_text(Duration::ZERO), "0 s");
    }

    #[test]
    fn redaction_hides_only_the_password() {
        assert_eq!(redact_url("redis://:secret@host:6379/0"), "redis://:***@host:6379/0");
        assert_eq!(redact_url("rediss://user:pw@h"), "rediss://user:***@h");
        assert_eq!(redact_url("redis://user@h"), "redis://user@h");
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
