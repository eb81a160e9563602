//! The `kafka` endpoint plugin (SPEC §6): SUBSCRIBE opens one consumer per running subscription (consumer group =
//! subscription id) that commits per the subscription's QoS; PUBLISH shares one producer per configuration (used
//! for dead letter queues).

mod committer;
mod config;
mod context;
mod endpoint;
mod lag;
mod message;
mod offsets;
mod poller;
mod producer;
mod replay;
mod security;
mod source;

use plugin_kit::api::Qos;

/// The identifier API definitions use.
const PLUGIN_ID: &str = "kafka";

plugin_kit::export_plugin! {
    id: PLUGIN_ID,
    name: "Kafka",
    kind: EndpointConnector,
    modes: [Subscribe, Publish],
    qos: Qos::ALL,
    features: [],
    instantiate: endpoint::KafkaEndpoint::instance,
}
