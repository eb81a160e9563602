//! The `webhook-advanced` entrypoint plugin: the `webhook` plugin's schema and delivery engine unchanged, plus
//! dead letter queues (`dlq` feature), secured callbacks (`auth`: basic, token, oauth2) and retries (`retry`).

mod auth;
mod dlq;
mod edition;

use plugin_kit::api::{Manifest, Mode, PluginInstance, PluginKind, Qos};
use webhook_core::WebhookEntrypoint;

/// The identifier API definitions use.
const PLUGIN_ID: &str = "webhook-advanced";

plugin_kit::export_plugin!(manifest: manifest, instantiate: instantiate);

fn manifest() -> Manifest {
    plugin_kit::manifest(
        PLUGIN_ID,
        "Webhook Advanced",
        env!("CARGO_PKG_VERSION"),
        PluginKind::EntrypointConnector,
        &[Mode::Subscribe],
        &Qos::ALL,
        &["dlq"],
    )
}

fn instantiate() -> Result<PluginInstance, String> {
    WebhookEntrypoint::instance(PLUGIN_ID, edition::Advanced)
}
