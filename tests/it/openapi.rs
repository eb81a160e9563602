//! The management API's OpenAPI document: served without a token, true to every route (each answers a documented
//! status, every error in the documented shape), and schemathesis finds nothing against a live gateway.

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::python;
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages, subscription};

/// A gateway with an API (`documented`), a subscription to it, and the document it serves.
async fn documented_gateway(home: &GatewayHome, receiver: &Receiver) -> (Gateway, String, Value) {
    let gateway = home.start();
    let configuration = json!({ "logging": { "enabled": true } });
    gateway.api().deploy(&mock_api("documented", "auto", configuration, mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("documented", &subscription(&receiver.url("/hook"))).await;
    let document = gateway.api().send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(document.status, 200, "served without a token");
    (gateway, id, document.body)
}

/// Asserts the documented error shape.
fn assert_error_shape(body: &Value, context: &str) {
    assert!(body["httpStatus"].is_u64(), "{context}: {body}");
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()), "{context}: {body}");
    assert!(body["technicalCode"].is_string(), "{context}: {body}");
    assert!(body["parameters"].is_object(), "{context}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_answers_as_documented() {
    let home = GatewayHome::new();
    let receiver = Receiver::answering(200).await;
    let (gateway, id, document) = documented_gateway(&home, &receiver).await;
    assert!(receiver.wait_for(3, Duration::from_secs(15)).await);
    let definition = mock_api("documented", "auto", json!({}), mock_messages(3, 10, "m"));
    let update = subscription(&receiver.url("/hook"));
    let paths = document["paths"].as_object().expect("paths");
    let mut called = 0;
    // Deletions last: the rest needs the API and its subscription.
    let mut operations: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| *key != "parameters")
                .map(|method| (path.clone(), method.clone()))
        })
        .collect();
    operations.sort_by_key(|(path, method)| {
        (method == "delete", path.len() as isize * if method == "delete" { -1 } else { 1 })
    });
    for (template, method) in operations {
        let path = template
            .replace("{apiId}", "documented")
            .replace("{subscriptionId}", &id)
            .replace("{action}", "_pause")
            .replace("{requestId}", "no-such-entry")
            .replace("{replayId}", "no-such-replay")
            .replace("{planId}", "no-such-plan")
            .replace("{organizationId}", "DEFAULT")
            .replace("{environmentId}", "DEFAULT")
            .replace("{applicationId}", "no-such-application");
        let body = match (method.as_str(), template.as_str()) {
            ("post", "/management/v2/apis" | "/management/v2/apis/_import/definition") => {
                Some(json!({ "id": "another", "name": "x" }))
            }
            ("put", "/management/v2/apis/{apiId}" | "/management/v2/apis/{apiId}/_import/definition") => {
                Some(definition.clone())
            }
            ("post", "/management/v2/apis/{apiId}/subscriptions") => Some(subscription(&receiver.url("/other"))),
            ("post", "/management/organizations/{organizationId}/environments/{environmentId}/applications") => {
                Some(json!({ "name": "documented team" }))
            }
            ("put", _) => Some(json!({ "consumerConfiguration": update["consumerConfiguration"] })),
            _ => None,
        };
        let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let reply = gateway.api().send(verb, &path, body.as_ref(), Some("test-token")).await;
        let documented = &document["paths"][&template][&method]["responses"];
        assert!(
            documented.get(reply.status.to_string()).is_some(),
            "{method} {path} answered {} which is not documented: {}",
            reply.status,
            reply.body
        );
        if reply.status >= 400 {
            assert_error_shape(&reply.body, &format!("{method} {path}"));
        }
        called += 1;
    }
    assert!(called >= 36, "every operation was called: {called}");

    // What the document does not have is refused in the same shape.
    let unknown = gateway.api().get("/management/v2/nothing-here").await;
    assert_eq!(unknown.status, 404);
    assert_error_shape(&unknown.body, "an unknown path");
    let patch = gateway.api().send(Method::PATCH, "/management/v2/apis", Some(&json!({})), Some("test-token")).await;
    assert_eq!(patch.status, 405);
    assert_error_shape(&patch.body, "an unknown method");
    let bad_query = gateway.api().get("/management/v2/apis/documented/webhook-logs?page=zero").await;
    assert_eq!(bad_query.status, 400);
    assert_error_shape(&bad_query.body, "a bad query");
    let huge = json!({ "id": "x".repeat(3 * 1024 * 1024) });
    let too_large = gateway.api().post("/management/v2/apis", &huge).await;
    assert_eq!(too_large.status, 413);
    assert_error_shape(&too_large.body, "a body over the limit");
    assert_eq!(gateway.api().get("/_node/health").await.status, 200, "the next request on a fresh connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_off_the_document() {
    let home = GatewayHome::new();
    let receiver = Receiver::answering(200).await;
    let (gateway, _, _) = documented_gateway(&home, &receiver).await;
    let base = gateway.api().base().to_string();
    // Every check but "positive data acceptance": the request schemas describe the shape of a definition or a
    // subscription, not what makes one deployable here (plugins, endpoints), which no JSON schema can say.
    let args = [
        "run",
        &format!("{base}/openapi.json"),
        "-H",
        "Authorization: Bearer test-token",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        // A bounded run: fuzzing and stateful phases repeat until the time budget is spent.
        "--max-examples",
        "40",
        "--workers",
        "1",
        "--max-time",
        "40",
        "--seed",
        "1",
    ];
    let said = python::schemathesis(args.iter().map(ToString::to_string).collect()).await;
    assert!(said.contains("generated"), "{said}");
    assert_eq!(gateway.api().get("/_node/health").await.status, 200, "the gateway outlived it");
}
