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

/// The same, served by `webhook-advanced`.
pub fn advanced_kafka_api(id: &str, qos: &str, bootstrap: &str, topic: &str) -> Value {
    let mut api = kafka_api(id, qos, bootstrap, topic);
    api["listeners"][0]["entrypoints"][0]["type"] = json!("webhook-advanced");
    api
}

/// A mock-sourced API served by `webhook-advanced`; with `dlq_to_mock`, a second mock group `dlq` takes dead letters.
pub fn advanced_mock_api(
    id: &str,
    qos: &str,
    entrypoint_configuration: Value,
    mock: Value,
    dlq_to_mock: bool,
) -> Value {
    let mut api = mock_api(id, qos, entrypoint_configuration, mock);
    api["listeners"][0]["entrypoints"][0]["type"] = json!("webhook-advanced");
    if dlq_to_mock {
        api["listeners"][0]["entrypoints"][0]["dlq"] = json!({ "endpoint": "dlq" });
        api["endpointGroups"].as_array_mut().expect("groups").push(json!({
            "name": "dlq", "type": "mock", "endpoints": [{ "name": "dlq-mock", "type": "mock", "configuration": {} }]
        }));
    }
    api
}

/// A `webhook-advanced` subscription to `callback` with extra `entrypointConfiguration` fields.
pub fn advanced_subscription(callback: &str, extra: Value) -> Value {
    let mut body = subscription(callback);
    body["consumerConfiguration"]["entrypointId"] = json!("webhook-advanced");
    let configuration = body["consumerConfiguration"]["entrypointConfiguration"].as_object_mut().expect("object");
    for (key, value) in extra.as_object().expect("extra fields").clone() {
        configuration.insert(key, value);
    }
    body
}

/// An endpoint group `group` with one kafka endpoint `endpoint` producing to `topic` (a dead letter queue target).
pub fn kafka_producer_group(group: &str, endpoint: &str, topic: &str, bootstrap: &str) -> Value {
    json!({ "name": group, "type": "kafka",
        "sharedConfiguration": { "producer": { "enabled": true, "topics": [topic] } },
        "endpoints": [{ "name": endpoint, "type": "kafka", "inheritConfiguration": true,
                        "configuration": { "bootstrapServers": bootstrap } }] })
}

/// Gives `definition`'s entrypoint a dead letter queue: an endpoint group `dlq` producing to `topic` at `bootstrap`.
pub fn with_kafka_dlq(definition: &mut Value, topic: &str, bootstrap: &str) {
    definition["listeners"][0]["entrypoints"][0]["dlq"] = json!({ "endpoint": "dlq" });
    let groups = definition["endpointGroups"].as_array_mut().expect("endpoint groups");
    groups.push(kafka_producer_group("dlq", "dlq-kafka", topic, bootstrap));
}
