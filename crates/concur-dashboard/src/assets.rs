//! The pages' one script and one style sheet, written for this crate and
//! compiled into it: no CDN, no build step, nothing fetched at run time.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// `GET /assets/app.js`.
pub(crate) async fn script() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../assets/app.js"))
}

/// `GET /assets/app.css`.
pub(crate) async fn style() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../assets/app.css"))
}
