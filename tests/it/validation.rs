//! Bad requests: every error names its JSON path; no token, no access.

use hyper::Method;
use serde_json::{json, Value};

use crate::support::api::Reply;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::scenario::{mock_api, mock_messages, subscription};

fn assert_invalid_at(reply: &Reply, path: &str) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["httpStatus"], 400);
    assert_eq!(reply.body["technicalCode"], "validation.invalid");
    assert_eq!(reply.body["parameters"]["path"], path, "{}", reply.body);
}

async fn deploy_attempt(gateway: &Gateway, definition: &Value) -> Reply {
    gateway.api().post("/management/v2/apis", definition).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_definitions_are_refused_with_the_json_path() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let valid = mock_api("orders", "auto", json!({}), mock_messages(1, 10, "m"));

    let mut bad_qos = valid.clone();
    bad_qos["listeners"][0]["entrypoints"][0]["qos"] = json!("exactly-once");
    assert_invalid_at(&deploy_attempt(&gateway, &bad_qos).await, "listeners[0].entrypoints[0].qos");

    let mut too_many = valid.clone();
    too_many["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "http": { "maxConcurrentConnections": 21 } });
    assert_invalid_at(
        &deploy_attempt(&gateway, &too_many).await,
        "listeners[0].entrypoints[0].configuration.http.maxConcurrentConnections",
    );

    for (ordering, path) in [
        (json!({ "mode": "key", "keyHeader": "x-id", "keyJsonPointer": "/id" }), "ordering.keyJsonPointer"),
        (json!({ "mode": "key", "keyJsonPointer": "id" }), "ordering.keyJsonPointer"),
        (json!({ "mode": "strict", "keyHeader": "x-id" }), "ordering.keyHeader"),
        (json!({ "mode": "sometimes" }), "ordering.mode"),
    ] {
        let mut bad_ordering = valid.clone();
        bad_ordering["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "ordering": ordering });
        let path = format!("listeners[0].entrypoints[0].configuration.{path}");
        assert_invalid_at(&deploy_attempt(&gateway, &bad_ordering).await, &path);
    }

    let mut bad_mock = valid.clone();
    bad_mock["endpointGroups"][0]["endpoints"][0]["configuration"]["messageInterval"] = json!("often");
    assert_invalid_at(
        &deploy_attempt(&gateway, &bad_mock).await,
        "endpointGroups[0].endpoints[0].configuration.messageInterval",
    );

    let mut with_dlq = valid.clone();
    with_dlq["listeners"][0]["entrypoints"][0]["dlq"] = json!({ "endpoint": "mock" });
    let reply = deploy_attempt(&gateway, &with_dlq).await;
    assert_invalid_at(&reply, "listeners[0].entrypoints[0].dlq");
    assert!(reply.body["message"].as_str().unwrap().contains("webhook-advanced"), "{}", reply.body);

    let mut no_plugin = valid.clone();
    no_plugin["endpointGroups"][0]["type"] = json!("pulsar");
    no_plugin["endpointGroups"][0]["endpoints"][0]["type"] = json!("pulsar");
    let reply = deploy_attempt(&gateway, &no_plugin).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["technicalCode"], "api.notDeployable");
    assert!(
        reply.body["parameters"]["reasons"].to_string().contains("no plugin `pulsar` is installed"),
        "{}",
        reply.body
    );

    let not_json = gateway.api().send(Method::POST, "/management/v2/apis", None, Some("test-token")).await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.body["technicalCode"], "validation.invalidJson");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_subscriptions_are_refused_with_the_json_path() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&mock_api("orders", "auto", json!({}), mock_messages(1, 10, "m"))).await;
    let path = "/management/v2/apis/orders/subscriptions";

    let mut no_callback = subscription("http://127.0.0.1:9/");
    no_callback["consumerConfiguration"]["entrypointConfiguration"] = json!({});
    let reply = gateway.api().post(path, &no_callback).await;
    assert_invalid_at(&reply, "consumerConfiguration.entrypointConfiguration");
    assert!(reply.body["message"].as_str().unwrap().contains("callbackUrl"));

    let reply = gateway.api().post(path, &subscription("ftp://127.0.0.1/x")).await;
    assert_invalid_at(&reply, "consumerConfiguration.entrypointConfiguration.callbackUrl");

    let mut bad_header = subscription("http://127.0.0.1:9/");
    bad_header["consumerConfiguration"]["entrypointConfiguration"]["headers"] =
        json!([{ "name": "X Team", "value": "a" }]);
    assert_invalid_at(
        &gateway.api().post(path, &bad_header).await,
        "consumerConfiguration.entrypointConfiguration.headers[0].name",
    );

    let mut with_auth = subscription("http://127.0.0.1:9/");
    with_auth["consumerConfiguration"]["entrypointConfiguration"]["auth"] =
        json!({ "type": "basic", "basic": { "username": "u", "password": "p" } });
    let reply = gateway.api().post(path, &with_auth).await;
    assert_invalid_at(&reply, "consumerConfiguration.entrypointConfiguration.auth");
    assert!(reply.body["message"].as_str().unwrap().contains("webhook-advanced"));

    let mut other_entrypoint = subscription("http://127.0.0.1:9/");
    other_entrypoint["consumerConfiguration"]["entrypointId"] = json!("webhook-advanced");
    assert_invalid_at(&gateway.api().post(path, &other_entrypoint).await, "consumerConfiguration.entrypointId");

    let mut no_application = subscription("http://127.0.0.1:9/");
    no_application.as_object_mut().unwrap().remove("applicationId");
    assert_invalid_at(&gateway.api().post(path, &no_application).await, "");

    let missing_api =
        gateway.api().post("/management/v2/apis/nope/subscriptions", &subscription("http://127.0.0.1:9/")).await;
    assert_eq!(missing_api.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_plans_are_required_when_the_api_has_them() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut definition = mock_api("planned", "auto", json!({}), mock_messages(1, 10, "m"));
    definition["plans"] = json!([{ "id": "push-1", "name": "Push", "mode": "push" }]);
    gateway.api().deploy(&definition).await;
    let path = "/management/v2/apis/planned/subscriptions";
    assert_invalid_at(&gateway.api().post(path, &subscription("http://127.0.0.1:9/")).await, "planId");
    let mut wrong_plan = subscription("http://127.0.0.1:9/");
    wrong_plan["planId"] = json!("other");
    assert_invalid_at(&gateway.api().post(path, &wrong_plan).await, "planId");
    let mut right_plan = subscription("http://127.0.0.1:9/");
    right_plan["planId"] = json!("push-1");
    assert_eq!(gateway.api().post(path, &right_plan).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_api_needs_the_bearer_token() {
    let home = GatewayHome::new();
    let gateway = home.start();
    for path in ["/management/v2/apis", "/_node/plugins", "/metrics"] {
        let anonymous = gateway.api().send(Method::GET, path, None, None).await;
        assert_eq!(anonymous.status, 401, "{path}");
        assert_eq!(anonymous.body["technicalCode"], "unauthorized");
        assert_eq!(gateway.api().send(Method::GET, path, None, Some("wrong")).await.status, 401, "{path}");
    }
    assert_eq!(gateway.api().send(Method::GET, "/_node/health", None, None).await.status, 200);
    assert_eq!(gateway.api().get("/management/v2/apis").await.status, 200);
}
