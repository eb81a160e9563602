//! The `webhook-advanced` entrypoint plugin: the `webhook` plugin's schema and delivery engine unchanged, plus
//! dead letter queues (`dlq` feature), secured callbacks (`auth`: basic, token, oauth2) and retries (`retry`).

mod auth;
mod dlq;
mod edition;

use plugin_kit::api::{EgressSettings, PluginInstance, Qos};
use webhook_core::WebhookEntrypoint;

/// The identifier API definitions use.
const PLUGIN_ID: &str = "webhook-advanced";

plugin_kit::export_plugin! {
    id: PLUGIN_ID,
    name: "Webhook Advanced",
    kind: EntrypointConnector,
    modes: [Subscribe],
    qos: Qos::ALL,
    features: ["dlq"],
    instantiate: instantiate,
}

fn instantiate(egress: &EgressSettings) -> Result<PluginInstance, String> {
    WebhookEntrypoint::instance(PLUGIN_ID, edition::Advanced, egress)
}
