//! The gateway's parts, wired once at start and shared by the management API.

use std::sync::Arc;

use crate::deploy::{ApiCatalog, ApiService};
use crate::dispatch::{Dispatcher, SubscriptionService};
use crate::management::reference::ReferenceIds;
use crate::management::users::Users;
use crate::plugins::PluginRegistry;
use crate::replay::Replays;
use crate::store::Store;
use crate::telemetry::Telemetry;

/// Everything the management API works with.
pub struct App {
    /// Loaded and refused plugins.
    pub registry: Arc<PluginRegistry>,
    /// Deployed and refused APIs.
    pub catalog: Arc<ApiCatalog>,
    /// Running subscriptions.
    pub dispatcher: Arc<Dispatcher>,
    /// API operations.
    pub apis: ApiService,
    /// Subscription operations.
    pub subscriptions: SubscriptionService,
    /// Replays of dead letters.
    pub replays: Arc<Replays>,
    /// The store, for webhook log queries.
    pub store: Arc<dyn Store>,
    /// Webhook logs and metrics.
    pub telemetry: Arc<Telemetry>,
    /// The management API's bearer token.
    pub token: String,
    /// Who may sign in with Basic authentication.
    pub users: Arc<Users>,
    /// The environment and organization ids the reference product's paths accept.
    pub reference_ids: ReferenceIds,
}
