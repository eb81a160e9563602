//! Where every run of a subscription reports: its API's webhook logs and its delivery metrics.

use std::sync::Arc;

use abi_stable::std_types::RArc;
use plugin_api::{DeliveryLogBox, DeliveryMetrics};

use crate::deploy::DeployedApi;
use crate::logs::WebhookLogs;
use crate::metrics::Metrics;

/// The webhook logs and the metrics of the gateway.
pub struct Telemetry {
    /// Webhook logs.
    pub webhook_logs: Arc<WebhookLogs>,
    /// Delivery metrics.
    pub metrics: Arc<Metrics>,
}

impl Telemetry {
    /// The delivery log (sampled as `api` says) and the counters of one run of `subscription_id`.
    pub fn for_run(&self, api: &DeployedApi, subscription_id: &str) -> (DeliveryLogBox, RArc<DeliveryMetrics>) {
        (self.webhook_logs.delivery_log(api.sampling), self.metrics.subscription(api.id(), subscription_id))
    }
}
