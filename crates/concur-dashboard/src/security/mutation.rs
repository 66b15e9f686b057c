//! The guard in front of every route that changes something.
//!
//! Cross-site request forgery is a page elsewhere making the operator's
//! browser send a request here, with the credentials the browser holds.
//! Browsers say where a request comes from: `Sec-Fetch-Site` (every
//! current browser) and `Origin` (on every POST). So:
//!
//! - `Sec-Fetch-Site` present: it must be `same-origin`. Behind a reverse
//!   proxy this still holds, since the browser compares the page's origin
//!   with the request's, both the proxy's.
//! - else `Origin` present: its host and port must be the ones the request
//!   was addressed to (`Host`, or `X-Forwarded-Host` from a proxy) or one
//!   of the origins given with `--origin`. A page elsewhere cannot set
//!   either header on a request it makes (a custom header would need a
//!   CORS preflight, which this server never grants).
//! - else (a program; browsers always send one of the two): the request
//!   must carry the CSRF token, as the header `X-CSRF-Token` or the form
//!   field `csrf`. Pages include it in their forms; programs read it from
//!   `GET /api/session`, which no other origin can read.
//!
//! Before any of that, a dashboard started with `--read-only` refuses
//! every change, whatever its pages show.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::Security;
use crate::error::Refusal;
use crate::respond::refuse;

/// The largest form a mutation may send: a page of ids and the token.
pub(crate) const MAX_FORM_BYTES: usize = 256 * 1024;

/// Why a change was refused, for the log and the answer.
fn refusal(message: &str) -> Refusal {
    Refusal::forbidden(message.to_owned())
}

/// Where the request says it comes from, judged without its body.
enum Verdict {
    Allowed,
    Refused(&'static str),
    /// No browser header: the CSRF token decides.
    NeedsToken,
}

fn judge(security: &Security, headers: &HeaderMap) -> Verdict {
    if let Some(site) = headers.get("sec-fetch-site") {
        return if site.as_bytes().eq_ignore_ascii_case(b"same-origin") {
            Verdict::Allowed
        } else {
            Verdict::Refused("Refused: this request came from another site, not from the dashboard's own pages.")
        };
    }
    let Some(origin) = headers.get(ORIGIN) else { return Verdict::NeedsToken };
    let Ok(origin) = origin.to_str() else { return Verdict::Refused("Refused: the request's Origin is not readable.") };
    let origin = origin.trim().to_ascii_lowercase();
    if security.origins.contains(&origin) {
        return Verdict::Allowed;
    }
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    let addressed = [headers.get(HOST), headers.get("x-forwarded-host")];
    let matches = authority.is_some_and(|authority| {
        addressed.iter().flatten().filter_map(|value| value.to_str().ok()).any(|host| {
            // A proxy may list several hosts; the first is the client's.
            let host = host.split(',').next().unwrap_or_default().trim();
            host.eq_ignore_ascii_case(authority)
        })
    });
    if matches {
        Verdict::Allowed
    } else {
        Verdict::Refused("Refused: this request came from another origin than the dashboard's.")
    }
}

/// Whether `given` is the CSRF token, compared in constant time.
fn is_token(security: &Security, given: &[u8]) -> bool {
    given.len() == security.csrf.len() && bool::from(given.ct_eq(security.csrf.as_bytes()))
}

/// The guard itself: a middleware on the routes that change things.
pub(crate) async fn guard(State(security): State<Arc<Security>>, request: Request, next: Next) -> Response {
    // Other methods go on to the router's 405: a GET never changes anything,
    // and says so rather than "forbidden".
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    if security.read_only {
        return refused(&request, &path, refusal("This dashboard runs read-only (--read-only): it changes nothing."));
    }
    match judge(&security, request.headers()) {
        Verdict::Allowed => next.run(request).await,
        Verdict::Refused(why) => refused(&request, &path, refusal(why)),
        Verdict::NeedsToken => {
            if let Some(given) = request.headers().get("x-csrf-token") {
                return if is_token(&security, given.as_bytes()) {
                    next.run(request).await
                } else {
                    refused(
                        &request,
                        &path,
                        refusal("Refused: the CSRF token is wrong; read it again from /api/session."),
                    )
                };
            }
            let is_form = request
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !is_form {
                return refused(
                    &request,
                    &path,
                    refusal(
                        "Refused: a request from outside a browser must carry the CSRF token (header X-CSRF-Token, \
                         from GET /api/session).",
                    ),
                );
            }
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
                let request = Request::from_parts(parts, Body::empty());
                return refused(
                    &request,
                    &path,
                    Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "The form is larger than the dashboard accepts."),
                );
            };
            let valid = form_urlencoded::parse(&bytes).any(|(k, v)| k == "csrf" && is_token(&security, v.as_bytes()));
            let request = Request::from_parts(parts, Body::from(bytes));
            if valid {
                next.run(request).await
            } else {
                refused(&request, &path, refusal("Refused: the form does not carry the dashboard's CSRF token."))
            }
        }
    }
}

fn refused(request: &Request, path: &str, refusal: Refusal) -> Response {
    tracing::warn!(path, status = refusal.status.as_u16(), "refused a change: {}", refusal.message);
    refuse(request, refusal)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{judge, Verdict};
    use crate::security::Security;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn verdict(security: &Security, pairs: &[(&'static str, &str)]) -> &'static str {
        match judge(security, &headers(pairs)) {
            Verdict::Allowed => "allowed",
            Verdict::Refused(_) => "refused",
            Verdict::NeedsToken => "token",
        }
    }

    #[test]
    fn browsers_are_judged_by_fetch_metadata_then_origin() {
        let security = Security::new(None, None, false, vec!["https://ops.example.com".into()]);
        let host = ("host", "127.0.0.1:7878");
        assert_eq!(verdict(&security, &[host, ("sec-fetch-site", "same-origin")]), "allowed");
        assert_eq!(verdict(&security, &[host, ("sec-fetch-site", "same-site")]), "refused");
        assert_eq!(verdict(&security, &[host, ("sec-fetch-site", "cross-site")]), "refused");
        assert_eq!(verdict(&security, &[host, ("sec-fetch-site", "none")]), "refused");
        // Fetch metadata wins over a matching Origin.
        assert_eq!(
            verdict(&security, &[host, ("sec-fetch-site", "cross-site"), ("origin", "http://127.0.0.1:7878")]),
            "refused"
        );
        assert_eq!(verdict(&security, &[host, ("origin", "http://127.0.0.1:7878")]), "allowed");
        assert_eq!(verdict(&security, &[host, ("origin", "http://127.0.0.1:7879")]), "refused");
        assert_eq!(verdict(&security, &[host, ("origin", "null")]), "refused");
        assert_eq!(verdict(&security, &[host, ("origin", "http://evil.example")]), "refused");
        // Behind a proxy: the forwarded host, or an origin given at start.
        assert_eq!(
            verdict(
                &security,
                &[host, ("x-forwarded-host", "dash.example.org"), ("origin", "https://dash.example.org")]
            ),
            "allowed"
        );
        assert_eq!(verdict(&security, &[host, ("origin", "https://ops.example.com")]), "allowed");
        assert_eq!(verdict(&security, &[host]), "token");
    }
}
