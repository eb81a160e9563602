//! The `kafka` endpoint plugin (SPEC §6): SUBSCRIBE opens one consumer per running subscription (consumer group =
//! subscription id) that commits per the subscription's QoS; PUBLISH shares one producer per configuration (used
//! for dead letter queues).

mod committer;
mod config;
mod context;
mod endpoint;
mod offsets;
mod producer;
mod security;
mod source;

use plugin_kit::api::{Manifest, Mode, PluginInstance, PluginKind, Qos};

/// The identifier API definitions use.
const PLUGIN_ID: &str = "kafka";

plugin_kit::export_plugin!(manifest: manifest, instantiate: instantiate);

fn manifest() -> Manifest {
    plugin_kit::manifest(
        PLUGIN_ID,
        "Kafka",
        env!("CARGO_PKG_VERSION"),
        PluginKind::EndpointConnector,
        &[Mode::Subscribe, Mode::Publish],
        &Qos::ALL,
        &[],
    )
}

fn instantiate() -> Result<PluginInstance, String> {
    endpoint::KafkaEndpoint::instance()
}
