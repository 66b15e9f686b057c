//! Live updates: server-sent events that carry a view's JSON whenever it is
//! read again.
//!
//! Each view (the overview, or one queue) has at most one reader: the
//! first page that subscribes starts a task that reads the view from Redis
//! once per refresh interval and publishes it on a `watch` channel; every
//! other page of that view, in any tab, receives the same value. When the
//! last page goes, the task ends. So ten open tabs cost Redis what one
//! does, and a closed dashboard costs nothing.
//!
//! A page may ask to be sent updates less often (`?every=SECONDS`, 1 to
//! 60); it cannot make the server read Redis more often than its refresh
//! interval.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use tokio::time::Instant;

use crate::error::Refusal;
use crate::hub::{Hub, Topic};
use crate::params::{Query, QueueName};
use crate::respond::Head;
use crate::state::AppState;

/// The events of `topic`, no more often than every `every`, until the
/// page goes or the dashboard stops.
fn events(hub: &Arc<Hub>, topic: Topic, every: Duration) -> impl Stream<Item = Result<Event, Infallible>> {
    let mut receiver = hub.subscribe(topic);
    // The value already there (another page's read) goes out at once.
    receiver.mark_changed();
    let stopped = hub.stopped.clone();
    stream::unfold((receiver, stopped, None::<Instant>), move |(mut receiver, mut stopped, last)| async move {
        if let Some(last) = last {
            tokio::select! {
                _ = tokio::time::sleep_until(last + every) => {}
                _ = stopped.wait_for(|stop| *stop) => return None,
            }
        }
        loop {
            tokio::select! {
                changed = receiver.changed() => changed.ok()?,
                _ = stopped.wait_for(|stop| *stop) => return None,
            }
            let latest = receiver.borrow_and_update().clone();
            if let Some(json) = latest {
                let event = Event::default().data(&*json);
                return Some((Ok(event), (receiver, stopped, Some(Instant::now()))));
            }
        }
    })
}

/// How often this page wants updates: `?every=`, 1 to 60 seconds, never
/// below the server's interval.
fn every(query: &Query, refresh: Duration) -> Result<Duration, Refusal> {
    let seconds = query.number("every", refresh.as_secs().max(1), 1..=60)?;
    Ok(Duration::from_secs(seconds).max(refresh))
}

fn stream_response(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// `GET /events/overview`: the overview's JSON (as `GET /api/overview`).
pub(crate) async fn overview_events(State(state): State<AppState>, head: Head, query: Query) -> Response {
    head.answer(every(&query, state.refresh).map(|every| stream_response(events(&state.hub, Topic::Overview, every))))
}

/// `GET /events/queues/{queue}`: the queue's JSON (as `GET /api/queues/{queue}`).
pub(crate) async fn queue_events(
    State(state): State<AppState>,
    head: Head,
    QueueName(queue): QueueName,
    query: Query,
) -> Response {
    head.answer(
        every(&query, state.refresh).map(|every| stream_response(events(&state.hub, Topic::Queue(queue), every))),
    )
}
