//! The `mock` endpoint plugin (SPEC §6): a source that generates messages at an interval, for demos, tests and the
//! out-of-the-box run, and a publisher that records what it is sent.

mod config;
mod endpoint;
mod publisher;
mod source;

use plugin_kit::api::{Manifest, Mode, PluginInstance, PluginKind, Qos};

/// The identifier API definitions use.
const PLUGIN_ID: &str = "mock";

plugin_kit::export_plugin!(manifest: manifest, instantiate: instantiate);

fn manifest() -> Manifest {
    plugin_kit::manifest(
        PLUGIN_ID,
        "Mock",
        env!("CARGO_PKG_VERSION"),
        PluginKind::EndpointConnector,
        &[Mode::Subscribe, Mode::Publish],
        &Qos::ALL,
        &[],
    )
}

fn instantiate() -> Result<PluginInstance, String> {
    endpoint::MockEndpoint::instance()
}
