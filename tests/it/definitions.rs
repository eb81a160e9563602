//! Definitions exported from the reference product load unchanged: what is not run becomes a warning.

use std::time::Duration;

use serde_json::json;

use crate::support::gateway::GatewayHome;
use crate::support::receiver::Receiver;
use crate::support::scenario::subscription;

/// An export as the reference product writes it: wrapped in `api`, extra listeners, flows, no plans.
fn exported_definition() -> serde_json::Value {
    json!({
        "export": { "date": "2026-10-01T10:00:00Z", "apimVersion": "4.8.2" },
        "api": {
            "id": "exported", "name": "Exported events", "apiVersion": "1.0", "definitionVersion": "4.0.0",
            "type": "message",
            "listeners": [
                { "type": "http", "paths": [{ "path": "/events/" }],
                  "entrypoints": [{ "type": "sse", "configuration": { "heartbeatIntervalInMs": 5000 } },
                                  { "type": "http-get", "qos": "auto" }] },
                { "type": "subscription", "entrypoints": [{ "type": "webhook" }] }
            ],
            "endpointGroups": [{ "name": "default", "type": "mock", "sharedConfiguration": {},
                "endpoints": [{ "name": "default", "type": "mock", "weight": 1, "inheritConfiguration": false,
                    "configuration": { "messageInterval": 10, "messageCount": 3, "messageContent": "exported" } }] }],
            "flows": [{ "name": "all", "enabled": true, "selectors": [{ "type": "channel", "channel": "/" }],
                        "publish": [], "subscribe": [{ "name": "Transform", "policy": "json-xml", "configuration": {} }] }],
            "analytics": { "enabled": true },
            "properties": [{ "key": "team", "value": "billing" }],
            "resources": [],
            "tags": ["internal"],
            "lifecycleState": "PUBLISHED", "visibility": "PRIVATE"
        },
        "members": [], "pages": [], "metadata": []
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_definition_deploys_with_warnings_and_delivers() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let deployed = gateway.api().deploy(&exported_definition()).await;
    assert_eq!(deployed["state"], "DEPLOYED");
    let warnings: Vec<&str> = deployed["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(
        warnings,
        [
            "properties: not used by this gateway",
            "tags: ignored; this gateway serves every API it is given",
            "api.flows[0].subscribe[0]: policy `json-xml` is not run by this gateway; messages pass the step unchanged",
            "listener http: entrypoint sse has no plugin; not served",
            "listener http: entrypoint http-get has no plugin; not served",
        ]
    );

    let receiver = Receiver::answering(200).await;
    let id = gateway.api().subscribe("exported", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(3, Duration::from_secs(15)).await);
    receiver.assert_stays_at(3, Duration::from_millis(300)).await;
    assert!(gateway.api().subscription("exported", &id).await.get("planId").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_definitions_folder_is_deployed_at_start() {
    let home = GatewayHome::new();
    home.write_definition("exported.json", &exported_definition());
    let gateway = home.start();
    let api = gateway.api().get("/management/v2/apis/exported").await;
    assert_eq!(api.status, 200);
    assert_eq!(api.body["state"], "DEPLOYED");
    assert_eq!(api.body["warnings"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_definition_keeps_one_id_when_created_twice_or_redeployed() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&exported_definition()).await;
    let again = gateway.api().post("/management/v2/apis", &exported_definition()).await;
    assert_eq!(again.status, 400, "a second creation of the wrapped API is refused: {}", again.body);
    assert!(again.body["message"].as_str().unwrap().contains("already exists"), "{}", again.body);

    let mut renamed = exported_definition();
    renamed["api"]["id"] = json!("another");
    let reply = gateway.api().put("/management/v2/apis/exported", &renamed).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"]["path"], "api.id");

    let mut unnamed = exported_definition();
    unnamed["api"].as_object_mut().unwrap().remove("id");
    let reply = gateway.api().put("/management/v2/apis/exported", &unnamed).await;
    assert_eq!(reply.status, 200, "the path's id goes into the wrapper: {}", reply.body);
    assert_eq!(reply.body["id"], "exported");
    let listed = gateway.api().get("/management/v2/apis").await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
}
