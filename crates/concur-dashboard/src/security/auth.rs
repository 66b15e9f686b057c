//! The token: required on every request when the dashboard has one.
//!
//! It is accepted as `Authorization: Bearer TOKEN` (programs, Prometheus'
//! `authorization` setting) or as the password of HTTP basic auth with any
//! user name (a browser asks for it and remembers it for the tab's life;
//! `curl -u :TOKEN`). Both sides are hashed with SHA-256 and the digests
//! compared with `subtle`, in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;

use super::{digest, Security};

/// The secret a request carries, if any: the bearer token, or the password
/// of basic auth.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(rest.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        text.split_once(':').map(|(_, password)| password.to_owned())
    } else {
        None
    }
}

/// Whether the request carries one of `accepted`: every candidate is
/// compared, so the time taken does not tell which one (if any) matched.
fn carries(headers: &HeaderMap, accepted: &[&[u8; 32]]) -> bool {
    let Some(secret) = presented(headers) else { return false };
    let given = digest(&secret);
    accepted.iter().fold(subtle::Choice::from(0), |any, wanted| any | given.ct_eq(*wanted)).into()
}

fn unauthorized() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "This dashboard needs its token: send it as a bearer token, or as the password of basic auth.",
    )
        .into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"concur dashboard\", charset=\"UTF-8\""));
    response
}

/// Every route but `/metrics`: the main token, when there is one.
pub(crate) async fn require_token(State(security): State<Arc<Security>>, request: Request, next: Next) -> Response {
    match &security.token {
        Some(token) if !carries(request.headers(), &[token]) => unauthorized(),
        _ => next.run(request).await,
    }
}

/// `/metrics`: its own token or the main one, whichever are set; open when
/// neither is.
pub(crate) async fn require_metrics_token(
    State(security): State<Arc<Security>>,
    request: Request,
    next: Next,
) -> Response {
    let accepted: Vec<&[u8; 32]> = security.token.iter().chain(security.metrics_token.iter()).collect();
    if accepted.is_empty() || carries(request.headers(), &accepted) {
        next.run(request).await
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{carries, presented};
    use crate::security::digest;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_and_basic_carry_the_token() {
        assert_eq!(presented(&with("Bearer abc")).as_deref(), Some("abc"));
        // "anyone:abc:def" — the password may hold colons.
        assert_eq!(presented(&with("Basic YW55b25lOmFiYzpkZWY=")).as_deref(), Some("abc:def"));
        assert_eq!(presented(&with("Basic !!!")), None);
        assert_eq!(presented(&with("Digest abc")), None);
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn only_an_exact_token_passes() {
        let token = digest("correct horse battery");
        assert!(carries(&with("Bearer correct horse battery"), &[&token]));
        assert!(!carries(&with("Bearer correct horse batter"), &[&token]));
        assert!(!carries(&with("Bearer correct horse battery!"), &[&token]));
        assert!(!carries(&HeaderMap::new(), &[&token]));
        let other = digest("another one entirely");
        assert!(carries(&with("Bearer another one entirely"), &[&token, &other]));
    }
}
