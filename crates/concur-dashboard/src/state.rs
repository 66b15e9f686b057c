//! The state every handler shares.

use std::sync::Arc;
use std::time::Duration;

use crate::counters::ActionCounters;
use crate::hub::Hub;
use crate::security::Security;
use crate::store::Store;

/// What every handler may use.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) security: Arc<Security>,
    pub(crate) counters: Arc<ActionCounters>,
    /// How often live updates read Redis.
    pub(crate) refresh: Duration,
}
