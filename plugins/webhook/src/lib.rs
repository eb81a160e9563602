//! The `webhook` entrypoint plugin (OSS): pushes each message of a stream to the consumer's callback URL with the
//! QoS, timeouts, concurrency and interrupt flags of SPEC §3–§5. Dead letter queues, secured callbacks and retries
//! are `webhook-advanced`'s; this plugin refuses them with an error that says so.

mod edition;

use plugin_kit::api::{EgressSettings, PluginInstance, Qos};
use webhook_core::WebhookEntrypoint;

/// The identifier API definitions use.
const PLUGIN_ID: &str = "webhook";

plugin_kit::export_plugin! {
    id: PLUGIN_ID,
    name: "Webhook",
    kind: EntrypointConnector,
    modes: [Subscribe],
    qos: Qos::ALL,
    features: [],
    instantiate: instantiate,
}

fn instantiate(egress: &EgressSettings) -> Result<PluginInstance, String> {
    WebhookEntrypoint::instance(PLUGIN_ID, edition::OpenSource, egress)
}
