//! The errors of the dashboard: one type for starting it ([`StartError`]),
//! and the HTTP answer for a request that cannot be served (`Refusal`).
//!
//! A refusal carries its status and a message written here, never text
//! taken from the request: a path or parameter that was not valid is not
//! echoed back, so nothing an attacker puts in a link reaches the page.

use std::net::SocketAddr;

use axum::http::StatusCode;

/// Why a dashboard could not start.
///
/// # Examples
///
/// ```
/// use concur_dashboard::{Dashboard, StartError};
///
/// let refused = Dashboard::builder().bind("0.0.0.0:7878".parse().unwrap()).build().unwrap_err();
/// assert!(matches!(refused, StartError::PublicWithoutToken { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address to listen on is not a loopback address and no token
    /// guards the dashboard.
    #[error(
        "refusing to serve the dashboard on {addr} without a token: anyone who can reach that address could retry \
         and purge tasks; give --token (at least {MIN_TOKEN_LEN} characters, or CONCUR_DASHBOARD_TOKEN), or bind to \
         127.0.0.1"
    )]
    PublicWithoutToken {
        /// The address asked for.
        addr: SocketAddr,
    },

    /// A setting is out of range or malformed.
    #[error("invalid dashboard setting: {0}")]
    InvalidSetting(String),

    /// The address could not be listened on.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },

    /// Redis could not be reached, or refused a name or the password.
    #[error(transparent)]
    Redis(#[from] concur_worker::Error),

    /// The dashboard's own threads could not be started.
    #[error("could not start the dashboard's runtime: {0}")]
    Runtime(std::io::Error),
}

impl StartError {
    /// Whether the error is in what the user gave (an address, a token, a
    /// name, the Redis URL) rather than a failure along the way; `concur
    /// dashboard` exits with status 2 for these.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_dashboard::StartError;
    ///
    /// assert!(StartError::InvalidSetting("refresh".into()).is_bad_input());
    /// ```
    pub fn is_bad_input(&self) -> bool {
        match self {
            StartError::PublicWithoutToken { .. } | StartError::InvalidSetting(_) | StartError::Bind { .. } => true,
            StartError::Redis(error) => error.is_bad_input(),
            StartError::Runtime(_) => false,
        }
    }
}

/// The shortest token accepted: shorter ones can be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// An answer other than success, with a message of the dashboard's own.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into() }
    }

    /// The page or item does not exist, or its name is not one the protocol
    /// allows: the two are not told apart, and the name is not repeated.
    pub(crate) fn not_found() -> Refusal {
        Refusal::new(StatusCode::NOT_FOUND, "There is no such page here.")
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<concur_worker::Error> for Refusal {
    /// A failure of Redis becomes 503 (it may pass) or 502 (Redis answered
    /// something unexpected); a name the library refuses is a page that does
    /// not exist.
    fn from(error: concur_worker::Error) -> Refusal {
        use concur_worker::Error;
        match &error {
            Error::InvalidName { .. } => Refusal::not_found(),
            Error::InvalidOption(_) => Refusal::bad_request(error.to_string()),
            _ if error.is_transient() || error.is_bad_input() => {
                Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("Redis cannot be reached: {error}"))
            }
            _ => Refusal::new(StatusCode::BAD_GATEWAY, format!("Redis failed: {error}")),
        }
    }
}

impl From<tokio::task::JoinError> for Refusal {
    fn from(error: tokio::task::JoinError) -> Refusal {
        tracing::error!("a Redis call of the dashboard failed: {error}");
        Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "The dashboard failed while reading Redis; see its log.")
    }
}
