//! What keeps the dashboard safe on a network: the layers every request
//! passes, outermost first.
//!
//! 1. [`headers`]: every answer — pages, JSON, errors, 404s — carries a
//!    Content-Security-Policy whose only scripts and styles are those with
//!    this answer's fresh nonce, `X-Content-Type-Options: nosniff`,
//!    `Cache-Control: no-store`, `Referrer-Policy: no-referrer` and no
//!    frame may embed it. No CORS header is ever sent, so no other origin
//!    may read an answer.
//! 2. [`auth`]: with a token, every request must carry it (as a bearer
//!    token, or as the password of HTTP basic auth, which browsers ask for);
//!    tokens are compared in constant time. `/metrics` may have a token of
//!    its own.
//! 3. [`mutation`]: a request that changes anything is a POST (a GET of its
//!    address answers 405), is refused when the dashboard runs read-only,
//!    and must come from the dashboard's own pages: the browser's
//!    `Sec-Fetch-Site` must say `same-origin`, or else its `Origin` must be
//!    the dashboard's, or else (a program, not a browser) it must carry the
//!    CSRF token.
//!
//! A non-loopback address without a token is refused at start
//! ([`StartError::PublicWithoutToken`](crate::StartError::PublicWithoutToken)).
//!
//! Why hand-written: these are a few header checks; the crates that offer
//! them (tower-http, axum-csrf) would each cover one of the three and bring
//! session storage the dashboard does not want — it keeps no state.

pub(crate) mod auth;
pub(crate) mod headers;
pub(crate) mod mutation;

use sha2::{Digest, Sha256};

/// The security settings of one running dashboard.
#[derive(Debug)]
pub(crate) struct Security {
    /// SHA-256 of the token, when one is required.
    pub(crate) token: Option<[u8; 32]>,
    /// SHA-256 of the token `/metrics` accepts besides the main one.
    pub(crate) metrics_token: Option<[u8; 32]>,
    /// The token a request from outside a browser shows to change anything;
    /// drawn at start, shown on every page and at `GET /api/session`.
    pub(crate) csrf: String,
    pub(crate) read_only: bool,
    /// Origins (`scheme://host[:port]`, lowercase) that may change things
    /// besides the one the request was addressed to: the public address of
    /// a reverse proxy that rewrites `Host`.
    pub(crate) origins: Vec<String>,
}

impl Security {
    pub(crate) fn new(
        token: Option<&str>,
        metrics_token: Option<&str>,
        read_only: bool,
        origins: Vec<String>,
    ) -> Security {
        Security {
            token: token.map(digest),
            metrics_token: metrics_token.map(digest),
            csrf: random_hex(32),
            read_only,
            origins,
        }
    }
}

/// SHA-256 of a secret: compared digests have the same length whatever the
/// secret's, so the comparison reveals nothing about it.
pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// `bytes` random bytes from the thread's cryptographic generator, in
/// hexadecimal (which is also valid base64, as a CSP nonce must be).
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::fill(raw.as_mut_slice());
    raw.iter().map(|b| format!("{b:02x}")).collect()
}
