//! Which node runs a subscription. A Kafka-fed subscription runs on every node of a cluster: the feed groups of the
//! kafka endpoint share its partitions between them. A source that cannot be shared (the mock emits its own
//! sequence) must run on exactly one live node: a [`Placement`] says whether this node is the one.

use std::sync::Arc;

use crate::deploy::DeployedApi;

/// The endpoints whose records the nodes of a cluster share through consumer groups.
const SHARED_BY_GROUPS: &[&str] = &["kafka"];

/// Whether this node runs a subscription whose source cannot be shared.
pub trait Placement: Send + Sync {
    /// Whether `subscription_id` runs here.
    fn holds(&self, subscription_id: &str) -> bool;
}

/// One gateway: everything runs here.
pub struct Alone;

impl Placement for Alone {
    fn holds(&self, _subscription_id: &str) -> bool {
        true
    }
}

/// Whether subscriptions of `api` run here: always when their source is shared between nodes, else as `placement`
/// says.
pub fn runs_here(placement: &Arc<dyn Placement>, api: &DeployedApi, subscription_id: &str) -> bool {
    SHARED_BY_GROUPS.contains(&api.source.plugin.manifest.id.as_str()) || placement.holds(subscription_id)
}
