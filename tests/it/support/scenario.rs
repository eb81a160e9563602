//! Definitions and subscriptions the tests start from.

use serde_json::{json, Value};

/// An API whose source is the mock endpoint, with one `webhook` entrypoint.
pub fn mock_api(id: &str, qos: &str, entrypoint_configuration: Value, mock: Value) -> Value {
    json!({
        "id": id, "name": id, "type": "message", "definitionVersion": "4.0.0",
        "listeners": [{ "type": "subscription", "entrypoints": [{
            "type": "webhook", "qos": qos, "configuration": entrypoint_configuration
        }] }],
        "endpointGroups": [{ "name": "source", "type": "mock",
            "endpoints": [{ "name": "mock", "type": "mock", "configuration": mock }] }]
    })
}

/// A mock source of `count` messages, `interval_ms` apart.
pub fn mock_messages(count: u64, interval_ms: u64, content: &str) -> Value {
    json!({ "messageCount": count, "messageInterval": interval_ms, "messageContent": content })
}

/// A `webhook` subscription to `callback` for application `app-1`.
pub fn subscription(callback: &str) -> Value {
    json!({ "applicationId": "app-1", "consumerConfiguration": {
        "entrypointId": "webhook", "entrypointConfiguration": { "callbackUrl": callback } } })
}

/// An API whose source is the topic `topic` of the broker at `bootstrap`, read from the earliest offset, with one
/// `webhook` entrypoint.
pub fn kafka_api(id: &str, qos: &str, bootstrap: &str, topic: &str) -> Value {
    json!({
        "id": id, "name": id, "type": "message", "definitionVersion": "4.0.0",
        "listeners": [{ "type": "subscription", "entrypoints": [{ "type": "webhook", "qos": qos, "configuration": {} }] }],
        "endpointGroups": [{ "name": "source", "type": "kafka",
            "sharedConfiguration": { "security": { "protocol": "PLAINTEXT" },
                "consumer": { "enabled": true, "topics": [topic], "autoOffsetReset": "earliest" } },
            "endpoints": [{ "name": "kafka", "type": "kafka", "inheritConfiguration": true,
                "configuration": { "bootstrapServers": bootstrap } }] }]
    })
}
