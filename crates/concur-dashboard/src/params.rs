//! What a request may ask for, checked before anything is read: the queue
//! in the path, and every number in the query, each within bounds the
//! server sets.
//!
//! A queue in the path must follow the protocol's name rules
//! ([`Keys::new`]) and be one of the queues the dashboard shows; anything
//! else is a 404 that does not repeat the name. A number out of its range
//! is a 400 naming the parameter and its range, never the value given.
//! Parameters the dashboard does not know are ignored.

use std::ops::RangeInclusive;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::Response;
use concur_worker::protocol::Keys;

use crate::error::Refusal;
pub(crate) use crate::paging::{Paging, Range};
use crate::respond::refuse_parts;
use crate::state::AppState;

/// Rows per page of a listing, unless the request says otherwise.
pub(crate) const DEFAULT_PAGE_SIZE: u64 = 50;
/// The most rows a page may have.
pub(crate) const MAX_PAGE_SIZE: u64 = 500;
/// The deepest page that may be asked for.
pub(crate) const MAX_PAGE: u64 = 1_000_000;
/// The most ids one action may name.
pub(crate) const MAX_IDS: usize = MAX_PAGE_SIZE as usize;

/// A queue named in the path, known to be one the dashboard shows.
#[derive(Debug, Clone)]
pub(crate) struct QueueName(pub(crate) String);

impl FromRequestParts<AppState> for QueueName {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| not_found(parts))?;
        let name = params.iter().find(|(key, _)| *key == "queue").map(|(_, value)| value.to_owned());
        match name {
            Some(name) if Keys::new(&name).is_ok() && state.store.knows(&name) => Ok(QueueName(name)),
            _ => Err(not_found(parts)),
        }
    }
}

fn not_found(parts: &Parts) -> Response {
    refuse_parts(parts, Refusal::not_found())
}

/// The query string's parameters, for the bounded readers below.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Query {
        Query(form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    /// The first value of `name`, if given and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The whole number `name`, `default` when absent, within `range`.
    pub(crate) fn number(&self, name: &str, default: u64, range: RangeInclusive<u64>) -> Result<u64, Refusal> {
        let Some(text) = self.get(name) else { return Ok(default) };
        match text.parse::<u64>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(Refusal::bad_request(format!(
                "The parameter {name} must be a whole number from {} to {}.",
                range.start(),
                range.end()
            ))),
        }
    }

    /// `minutes` (1 to 60) and `hours` (1 to 720, thirty days), as kept by
    /// the workers.
    pub(crate) fn range(&self) -> Result<Range, Refusal> {
        let minutes = concur_worker::MINUTES_KEPT as u64;
        let hours = concur_worker::HOURS_KEPT as u64;
        Ok(Range {
            minutes: self.number("minutes", minutes, 1..=minutes)? as usize,
            hours: self.number("hours", hours, 1..=hours)? as usize,
        })
    }

    /// `page` and `size`, bounded.
    pub(crate) fn paging(&self) -> Result<Paging, Refusal> {
        Ok(Paging {
            page: self.number("page", 1, 1..=MAX_PAGE)?,
            size: self.number("size", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Query::parse(parts.uri.query()))
    }
}

/// A task id from the path, checked by the protocol's rule for task ids;
/// anything else is a 404 that does not repeat it.
pub(crate) struct TaskId(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for TaskId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| refuse_parts(parts, Refusal::not_found()))?;
        match params.iter().find(|(key, _)| *key == "id") {
            Some((_, id)) if is_task_id(id) => Ok(TaskId(id.to_owned())),
            _ => Err(refuse_parts(parts, Refusal::not_found())),
        }
    }
}

/// The worker id in the path, decoded; `None` for a path that does not
/// decode (answered as a 404, without axum's message, which would repeat
/// it).
pub(crate) fn path_id(params: Result<RawPathParams, RawPathParamsRejection>) -> Option<String> {
    params.ok()?.iter().find(|(key, _)| *key == "id").map(|(_, id)| id.to_owned())
}

/// Whether `id` may be a task id: the protocol's rule, 1 to 128 printable
/// ASCII characters (no space).
pub(crate) fn is_task_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic())
}

/// The ids named by a request: at least one, at most [`MAX_IDS`], each a
/// possible task id (the protocol's rule: 1 to 128 printable ASCII
/// characters, no space).
pub(crate) fn checked_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !is_task_id(id) {
            return Err(Refusal::bad_request("A task id must be 1 to 128 printable ASCII characters without spaces."));
        }
        if !out.iter().any(|known| known == id) {
            out.push(id.to_owned());
        }
        if out.len() > MAX_IDS {
            return Err(Refusal::bad_request(format!("One action may name at most {MAX_IDS} tasks.")));
        }
    }
    if out.is_empty() {
        return Err(Refusal::bad_request("Select at least one task."));
    }
    Ok(out)
}
