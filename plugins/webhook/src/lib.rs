//! The `webhook` entrypoint plugin (OSS): pushes each message of a stream to the consumer's callback URL with the
//! QoS, timeouts, concurrency and interrupt flags of SPEC §3–§5. Dead letter queues, secured callbacks and retries
//! are `webhook-advanced`'s; this plugin refuses them with an error that says so.

mod edition;

use plugin_kit::api::{Manifest, Mode, PluginInstance, PluginKind, Qos};
use webhook_core::WebhookEntrypoint;

/// The identifier API definitions use.
const PLUGIN_ID: &str = "webhook";

plugin_kit::export_plugin!(manifest: manifest, instantiate: instantiate);

fn manifest() -> Manifest {
    plugin_kit::manifest(
        PLUGIN_ID,
        "Webhook",
        env!("CARGO_PKG_VERSION"),
        PluginKind::EntrypointConnector,
        &[Mode::Subscribe],
        &Qos::ALL,
        &[],
    )
}

fn instantiate() -> Result<PluginInstance, String> {
    WebhookEntrypoint::instance(PLUGIN_ID, edition::OpenSource)
}
