//! A `tracing` subscriber that keeps what it is told, for the tests of what
//! the library reports: each event with its level, target, fields, and the
//! spans it happened in.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One span an event happened in: its name and fields as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordedSpan {
    pub(crate) name: &'static str,
    pub(crate) fields: BTreeMap<String, String>,
}

/// One `tracing` event.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) level: tracing::Level,
    pub(crate) target: String,
    pub(crate) fields: BTreeMap<String, String>,
    /// The spans entered when it happened, outermost first.
    pub(crate) spans: Vec<RecordedSpan>,
}

impl Recorded {
    pub(crate) fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }

    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The innermost span it happened in.
    pub(crate) fn span(&self) -> Option<&RecordedSpan> {
        self.spans.last()
    }
}

#[derive(Default)]
struct State {
    events: Vec<Recorded>,
    spans: HashMap<u64, RecordedSpan>,
    /// Entered spans, innermost last. One stack serves: `capture` makes the
    /// recorder the default of one thread only.
    entered: Vec<u64>,
}

/// Records every event and the spans around it.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    state: Arc<Mutex<State>>,
    next_span: Arc<AtomicU64>,
}

impl Recorder {
    /// Runs `f` with this subscriber as the thread's default, then returns
    /// what it recorded.
    pub(crate) fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<Recorded>) {
        let recorder = Recorder::default();
        let state = recorder.state.clone();
        let value = tracing::subscriber::with_default(recorder, || {
            // A call site another test thread hit first, while no subscriber
            // of its own was set, may have cached "never": ask again now
            // that this one is set.
            tracing::callsite::rebuild_interest_cache();
            f()
        });
        let events = std::mem::take(&mut state.lock().unwrap().events);
        (value, events)
    }
}

struct FieldText<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for FieldText<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = self.next_span.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = BTreeMap::new();
        span.record(&mut FieldText(&mut fields));
        self.state.lock().unwrap().spans.insert(id, RecordedSpan { name: span.metadata().name(), fields });
        tracing::span::Id::from_u64(id)
    }

    fn record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        if let Some(span) = self.state.lock().unwrap().spans.get_mut(&id.into_u64()) {
            values.record(&mut FieldText(&mut span.fields));
        }
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldText(&mut fields));
        let mut state = self.state.lock().unwrap();
        let spans = state.entered.iter().filter_map(|id| state.spans.get(id).cloned()).collect();
        state.events.push(Recorded {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
            spans,
        });
    }

    fn enter(&self, id: &tracing::span::Id) {
        self.state.lock().unwrap().entered.push(id.into_u64());
    }

    fn exit(&self, id: &tracing::span::Id) {
        let mut state = self.state.lock().unwrap();
        if let Some(at) = state.entered.iter().rposition(|entered| *entered == id.into_u64()) {
            state.entered.remove(at);
        }
    }
}
