//! The readers behind live updates: each view (the overview, or one
//! queue) that any page follows is read from Redis by one task, once per
//! refresh interval, and its JSON published on a `watch` channel that every
//! page of that view receives. When the last page goes, the task ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::error::Refusal;
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
pub(crate) type Latest = Option<Arc<str>>;

/// The readers of the views pages follow.
pub(crate) struct Hub {
    store: Arc<Store>,
    refresh: Duration,
    topics: Mutex<HashMap<Topic, watch::Sender<Latest>>>,
    pub(crate) stopped: watch::Receiver<bool>,
    /// Reads of Redis made for live updates, by view kind: what `/metrics`
    /// shows to prove the sharing.
    pub(crate) reads: Mutex<HashMap<&'static str, u64>>,
}

impl Hub {
    pub(crate) fn new(store: Arc<Store>, refresh: Duration, stopped: watch::Receiver<bool>) -> Arc<Hub> {
        Arc::new(Hub { store, refresh, topics: Mutex::new(HashMap::new()), stopped, reads: Mutex::new(HashMap::new()) })
    }

    /// A receiver of `topic`'s updates, starting its reader if none runs.
    pub(crate) fn subscribe(self: &Arc<Self>, topic: Topic) -> watch::Receiver<Latest> {
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
            Topic::Overview => blocking(&self.store, |store| Ok(Overview::new(store.statuses_with_shards()?)))
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
