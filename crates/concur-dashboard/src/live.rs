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

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::Refusal;
use crate::pages::Head;
use crate::params::{Query, QueueName};
use crate::server::AppState;
use crate::snapshot::{Overview, QueueDetail};
use crate::store::{blocking, Store};
use crate::views;

/// A view that pages follow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    Overview,
    Queue(String),
}

/// The latest JSON of a view, once read.
type Latest = Option<Arc<str>>;

/// The readers of the views pages follow.
pub(crate) struct Hub {
    store: Arc<Store>,
    refresh: Duration,
    topics: Mutex<HashMap<Topic, watch::Sender<Latest>>>,
    stopped: watch::Receiver<bool>,
    /// Reads of Redis made for live updates, by view kind: what `/metrics`
    /// shows to prove the sharing.
    pub(crate) reads: Mutex<HashMap<&'static str, u64>>,
}

impl Hub {
    pub(crate) fn new(store: Arc<Store>, refresh: Duration, stopped: watch::Receiver<bool>) -> Arc<Hub> {
        Arc::new(Hub { store, refresh, topics: Mutex::new(HashMap::new()), stopped, reads: Mutex::new(HashMap::new()) })
    }

    /// A receiver of `topic`'s updates, starting its reader if none runs.
    fn subscribe(self: &Arc<Self>, topic: Topic) -> watch::Receiver<Latest> {
        let mut topics = self.topics.lock();
        if let Some(sender) = topics.get(&topic) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        topics.insert(topic.clone(), sender.clone());
        tokio::spawn(Arc::clone(self).read_while_followed(topic, sender));
        receiver
    }

    /// Reads `topic` once per interval while any page follows it.
    async fn read_while_followed(self: Arc<Self>, topic: Topic, sender: watch::Sender<Latest>) {
        let mut stopped = self.stopped.clone();
        loop {
            let json = self.read(&topic).await;
            sender.send_replace(Some(json.into()));
            tokio::select! {
                _ = tokio::time::sleep(self.refresh) => {}
                _ = stopped.wait_for(|stop| *stop) => {}
            }
            // Under the lock, so a page subscribing now either finds this
            // reader still registered or starts a new one.
            let mut topics = self.topics.lock();
            if sender.receiver_count() == 0 || *self.stopped.borrow() {
                topics.remove(&topic);
                return;
            }
        }
    }

    /// The view's JSON now, or `{"error": …}` when Redis fails.
    async fn read(&self, topic: &Topic) -> String {
        let kind = match topic {
            Topic::Overview => "overview",
            Topic::Queue(_) => "queue",
        };
        *self.reads.lock().entry(kind).or_default() += 1;
        let outcome = match topic {
            Topic::Overview => blocking(&self.store, |store| Ok(Overview::new(&store.statuses()?)))
                .await
                .and_then(|view| to_json(&view)),
            Topic::Queue(name) => {
                let name = name.clone();
                blocking(&self.store, move |store| views::queue_detail(store, &name))
                    .await
                    .and_then(|view: QueueDetail| to_json(&view))
            }
        };
        outcome.unwrap_or_else(|refusal| serde_json::json!({ "error": refusal.message }).to_string())
    }
}

fn to_json(view: &impl serde::Serialize) -> Result<String, Refusal> {
    serde_json::to_string(view)
        .map_err(|e| Refusal::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("could not write JSON: {e}")))
}

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
