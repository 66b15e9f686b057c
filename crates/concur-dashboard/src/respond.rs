//! How a handler answers: a page rendered from its template, or a refusal
//! in the form its route calls for (JSON under `/api/`, a page elsewhere),
//! with the request's nonce.

use askama::Template;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

use crate::error::Refusal;
use crate::security::headers::Nonce;
use crate::state::AppState;

/// What every page has: its title, its nonce, the CSRF token for its forms,
/// whether actions are shown, and where its live updates come from.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) title: String,
    pub(crate) nonce: String,
    pub(crate) csrf: String,
    pub(crate) read_only: bool,
    /// The server-sent events this page follows, if any.
    pub(crate) live: Option<String>,
}

impl Page {
    pub(crate) fn new(state: &AppState, nonce: &Nonce, title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            nonce: nonce.0.clone(),
            csrf: state.security.csrf.clone(),
            read_only: state.security.read_only,
            live: None,
        }
    }

    pub(crate) fn live(mut self, events: String) -> Page {
        self.live = Some(events);
        self
    }
}

/// Renders a template into a page.
pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!("a page could not be rendered: {error}");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered; see the dashboard's log.")
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    status: String,
    message: String,
}

/// The answer for a refusal: JSON under `/api/`, a page elsewhere.
fn refusal_response(path: &str, nonce: Option<&Nonce>, refusal: Refusal) -> Response {
    if path.starts_with("/api/") || path == "/metrics" || path.starts_with("/events/") {
        return (refusal.status, Json(serde_json::json!({ "error": refusal.message }))).into_response();
    }
    let page = Page {
        title: refusal.status.canonical_reason().unwrap_or("Error").to_owned(),
        nonce: nonce.map(|n| n.0.clone()).unwrap_or_default(),
        csrf: String::new(),
        read_only: false,
        live: None,
    };
    let status = format!("{} {}", refusal.status.as_u16(), refusal.status.canonical_reason().unwrap_or_default());
    let mut response = render(&ErrorPage { page, status, message: refusal.message });
    *response.status_mut() = refusal.status;
    response
}

/// The answer for a refusal of `request`.
pub(crate) fn refuse(request: &Request, refusal: Refusal) -> Response {
    refusal_response(request.uri().path(), request.extensions().get::<Nonce>(), refusal)
}

/// The answer for a refusal of the request whose head is `parts`.
pub(crate) fn refuse_parts(parts: &Parts, refusal: Refusal) -> Response {
    refusal_response(parts.uri.path(), parts.extensions.get::<Nonce>(), refusal)
}

/// The head of a request, as handlers receive it to answer refusals in
/// the right form.
pub(crate) struct Head {
    pub(crate) path: String,
    pub(crate) nonce: Nonce,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Head {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Head {
            path: parts.uri.path().to_owned(),
            nonce: parts.extensions.get::<Nonce>().cloned().unwrap_or(Nonce(String::new())),
        })
    }
}

impl Head {
    /// The answer: the page or JSON, or the refusal in the form this
    /// request's path calls for.
    pub(crate) fn answer(&self, outcome: Result<Response, Refusal>) -> Response {
        outcome.unwrap_or_else(|refusal| refusal_response(&self.path, Some(&self.nonce), refusal))
    }
}

/// The fallback: any address the dashboard does not serve, without
/// repeating it.
pub(crate) async fn not_found(request: Request) -> Response {
    refuse(&request, Refusal::not_found())
}
