//! The `kafka` endpoint plugin (SPEC §6): SUBSCRIBE reads each topic list once per gateway (a feed) and hands its
//! records to every subscription at the subscription's own position, committed per its QoS to its consumer group
//! (the subscription id); PUBLISH shares one producer per configuration (used for dead letter queues).

mod catch_up;
mod clients;
mod config;
mod endpoint;
mod feed;
mod group_offsets;
mod message;
mod offsets;
mod producer;
mod reader;
mod readers;
mod replay;
mod security;
mod source;
mod trouble;

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
