//! The `mock` endpoint plugin (SPEC §6): a source that generates messages at an interval, for demos, tests and the
//! out-of-the-box run, and a publisher that records what it is sent.

mod config;
mod endpoint;
mod publisher;
mod source;

use plugin_kit::api::Qos;

/// The identifier API definitions use.
const PLUGIN_ID: &str = "mock";

plugin_kit::export_plugin! {
    id: PLUGIN_ID,
    name: "Mock",
    kind: EndpointConnector,
    modes: [Subscribe, Publish],
    qos: Qos::ALL,
    features: [],
    instantiate: endpoint::MockEndpoint::instance,
}
