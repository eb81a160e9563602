//! Where every run of a subscription reports: its API's webhook logs, its delivery metrics, the count of its spans,
//! and the events the operator is notified of.

use std::sync::Arc;

use abi_stable::std_types::RArc;
use plugin_api::{DeliveryLogBox, DeliveryMetrics};

use crate::deploy::DeployedApi;
use crate::logs::WebhookLogs;
use crate::metrics::history::History;
use crate::metrics::Metrics;
use crate::notifications::Notifications;
use crate::observability::traces::SpanCounters;

/// The webhook logs and the metrics of the gateway.
pub struct Telemetry {
    /// Webhook logs.
    pub webhook_logs: Arc<WebhookLogs>,
    /// Delivery metrics.
    pub metrics: Arc<Metrics>,
    /// The last points of each subscription's counters, for the console's plots.
    pub history: Arc<History>,
    /// Spans exported and dropped.
    pub spans: Arc<SpanCounters>,
    /// Where lifecycle events go (operational webhooks).
    pub notifications: Arc<Notifications>,
}

impl Telemetry {
    /// The delivery log (sampled as `api` says) and the counters of one run of `subscription_id`.
    pub fn for_run(&self, api: &DeployedApi, subscription_id: &str) -> (DeliveryLogBox, RArc<DeliveryMetrics>) {
        (self.webhook_logs.delivery_log(api.sampling), self.metrics.subscription(api.id(), subscription_id))
    }
}
