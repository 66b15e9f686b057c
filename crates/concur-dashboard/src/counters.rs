//! What the dashboard counts of its own, for `/metrics`: the changes made
//! through it. (Everything else `/metrics` shows is read from Redis.)

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// The labels of the action counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActionLabels {
    pub(crate) action: &'static str,
    pub(crate) queue: String,
}

/// Changes made since the dashboard started, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct ActionCounters {
    /// Actions run.
    pub(crate) actions: Family<ActionLabels, Counter>,
    /// Tasks they touched.
    pub(crate) tasks: Family<ActionLabels, Counter>,
}
