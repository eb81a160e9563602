//! The reference product's own automation, replayed request by request as its public collection sends them ("V4 API
//! Management", "04 - Event Consumption - Webhook": the Webhook and Message Filtering requests; the sequence and
//! bodies written here in our own code): Basic authentication, an API created without an id through a trailing
//! slash (`STOPPED`), a push plan created and published, started, deployed, two subscriptions with
//! `metadata.feature` under the reference's `message-filtering` flow, records produced to the real broker reaching
//! each subscriber per its filter with its headers; `_stop` delivers nothing and `_start` goes on from the position;
//! an edit not deployed leaves the old definition running until `deployments`; two applications, whose names the
//! subscriptions show.

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{produce, Record};
use crate::support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(60);
const ENV: &str = "/management/v2/environments/DEFAULT";
const USER: (&str, &str) = ("admin", "admin-password-from-vault");
const APPLICATIONS: &str = "/management/organizations/DEFAULT/environments/DEFAULT/applications";

/// A request as the reference's client sends it: Basic credentials.
async fn call(gateway: &Gateway, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let reply = gateway.api().send_basic(method, &format!("{ENV}{path}"), body, USER).await;
    (reply.status, reply.body)
}

/// The collection's `CreateApiV4`: a message API, a webhook entrypoint, a Kafka endpoint, a filtering flow.
fn create_api_v4(bootstrap: &str, topic: &str) -> Value {
    json!({
        "name": "Webhook message filtering", "apiVersion": "1.0", "definitionVersion": "V4", "type": "MESSAGE",
        "description": "Webhook entrypoint, Kafka endpoint",
        "listeners": [{ "type": "SUBSCRIPTION", "entrypoints": [{ "type": "webhook", "qos": "AUTO", "configuration": {} }] }],
        "endpointGroups": [{ "name": "Default Kafka group", "type": "kafka",
            "sharedConfiguration": { "security": { "protocol": "PLAINTEXT" },
                "consumer": { "enabled": true, "topics": [topic], "autoOffsetReset": "earliest" } },
            "endpoints": [{ "name": "Default Kafka", "type": "kafka", "weight": 1, "inheritConfiguration": true,
                "configuration": { "bootstrapServers": bootstrap } }] }],
        "flows": [{ "name": "Message filtering", "enabled": true,
            "selectors": [{ "type": "CHANNEL", "channel": "/", "channelOperator": "STARTS_WITH", "operations": ["SUBSCRIBE"] }],
            "subscribe": [{ "name": "Message Filtering", "enabled": true, "policy": "message-filtering",
                "configuration": { "filter": "{#jsonPath(#message.content, '$.feature') == #subscription.metadata.feature}" } }] }]
    })
}

/// A record of feature `feature`.
fn record(index: usize, feature: &str) -> Record {
    Record::new(&format!("k{index}"), &json!({ "feature": feature, "n": index }).to_string())
}

/// The features of the bodies `receiver` got.
fn features(receiver: &Receiver) -> Vec<String> {
    receiver
        .requests()
        .iter()
        .map(|request| serde_json::from_slice::<Value>(&request.body).unwrap()["feature"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_collection_creates_plans_starts_deploys_and_subscribes() {
    let broker = Broker::start();
    broker.create_topic("automation", 1).await;
    let home = GatewayHome::new();
    let gateway =
        home.start_with_env(&[("GATEWAY_MANAGEMENT_USERNAME", USER.0), ("GATEWAY_MANAGEMENT_PASSWORD", USER.1)]);
    let wrong = gateway.api().send_basic(Method::GET, &format!("{ENV}/apis"), None, (USER.0, "guess")).await;
    assert_eq!(wrong.status, 401);

    // Create: no id, a trailing slash; the API is STOPPED.
    let (status, api) =
        call(&gateway, Method::POST, "/apis/", Some(&create_api_v4(&broker.bootstrap(), "automation"))).await;
    assert_eq!(status, 201, "{api}");
    let api_id = api["id"].as_str().expect("an id is made").to_string();
    assert_eq!((api["state"].as_str(), api["definitionVersion"].as_str()), (Some("STOPPED"), Some("V4")), "{api}");

    // A push plan, created in STAGING and published.
    let plan_body = json!({ "name": "Push plan", "definitionVersion": "V4", "mode": "PUSH", "validation": "AUTO" });
    let (status, plan) = call(&gateway, Method::POST, &format!("/apis/{api_id}/plans/"), Some(&plan_body)).await;
    assert_eq!((status, plan["status"].as_str()), (201, Some("STAGING")), "{plan}");
    let plan_id = plan["id"].as_str().unwrap().to_string();
    let (status, published) =
        call(&gateway, Method::POST, &format!("/apis/{api_id}/plans/{plan_id}/_publish"), None).await;
    assert_eq!((status, published["status"].as_str()), (200, Some("PUBLISHED")), "{published}");
    let (_, shown) = call(&gateway, Method::GET, &format!("/apis/{api_id}"), None).await;
    assert_eq!(shown["deploymentState"], "NEED_REDEPLOY", "{shown}");

    // Start and deploy.
    assert_eq!(call(&gateway, Method::POST, &format!("/apis/{api_id}/_start"), None).await.0, 204);
    assert_eq!(call(&gateway, Method::POST, &format!("/apis/{api_id}/_start"), None).await.0, 400, "already started");
    assert_eq!(call(&gateway, Method::POST, &format!("/apis/{api_id}/deployments"), Some(&json!({}))).await.0, 202);
    let (_, shown) = call(&gateway, Method::GET, &format!("/apis/{api_id}"), None).await;
    assert_eq!(
        (shown["state"].as_str(), shown["deploymentState"].as_str()),
        (Some("STARTED"), Some("DEPLOYED")),
        "{shown}"
    );

    // Two applications, where the reference keeps them (its first API).
    let mut applications = Vec::new();
    for feature in ["search", "payments"] {
        let body = json!({ "name": format!("{feature} team"), "description": "subscribes by webhook",
                           "settings": { "app": { "type": "web", "client_id": format!("{feature}-client") } } });
        let reply = gateway.api().send_basic(Method::POST, APPLICATIONS, Some(&body), USER).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        applications.push(reply.body["id"].as_str().unwrap().to_string());
    }
    let listed = gateway.api().send_basic(Method::GET, APPLICATIONS, None, USER).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2), "{}", listed.body);
    let read = gateway.api().send_basic(Method::GET, &format!("{APPLICATIONS}/{}", applications[0]), None, USER).await;
    assert_eq!(read.body["name"], "search team", "{}", read.body);

    // Two subscriptions, each with its feature and its headers.
    let (search, payments) = (Receiver::answering(200).await, Receiver::answering(200).await);
    for ((receiver, feature), application) in
        [(&search, "search"), (&payments, "payments")].into_iter().zip(&applications)
    {
        let body = json!({
            "applicationId": application, "planId": plan_id, "channel": "/",
            "consumerConfiguration": { "entrypointId": "webhook", "channel": "/",
                "entrypointConfiguration": { "callbackUrl": receiver.url("/hook"),
                    "headers": [{ "name": "X-Feature", "value": feature }] } },
            "metadata": { "feature": feature }
        });
        let (status, created) =
            call(&gateway, Method::POST, &format!("/apis/{api_id}/subscriptions"), Some(&body)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["application"]["name"], format!("{feature} team"), "{created}");
    }
    let records: Vec<Record> =
        (0..20).map(|index| record(index, if index % 2 == 0 { "search" } else { "payments" })).collect();
    produce(&broker.bootstrap(), "automation", &records).await;
    assert!(search.wait_for(10, WAIT).await && payments.wait_for(10, WAIT).await);
    search.assert_stays_at(10, Duration::from_millis(300)).await;
    assert!(features(&search).iter().all(|feature| feature == "search"), "{:?}", features(&search));
    assert!(features(&payments).iter().all(|feature| feature == "payments"));
    let header = |receiver: &Receiver| receiver.requests()[0].headers["x-feature"].to_str().unwrap().to_string();
    assert_eq!((header(&search), header(&payments)), ("search".to_string(), "payments".to_string()));

    // Stopped, it delivers nothing; started, it goes on from its position.
    assert_eq!(call(&gateway, Method::POST, &format!("/apis/{api_id}/_stop"), None).await.0, 204);
    produce(&broker.bootstrap(), "automation", &[record(20, "search"), record(21, "payments")]).await;
    search.assert_stays_at(10, Duration::from_secs(3)).await;
    assert_eq!(call(&gateway, Method::POST, &format!("/apis/{api_id}/_start"), None).await.0, 204);
    assert!(search.wait_for(11, WAIT).await && payments.wait_for(11, WAIT).await);
    search.assert_stays_at(11, Duration::from_millis(500)).await;

    // An edit that is not deployed leaves the old filter running until `deployments`.
    let (_, mut edited) = call(&gateway, Method::GET, &format!("/apis/{api_id}"), None).await;
    edited["flows"][0]["subscribe"][0]["configuration"]["filter"] = json!("{#jsonPath(#message.content, '$.n') >= 0}");
    let (status, shown) = call(&gateway, Method::PUT, &format!("/apis/{api_id}"), Some(&edited)).await;
    assert_eq!((status, shown["deploymentState"].as_str()), (200, Some("NEED_REDEPLOY")), "{shown}");
    produce(&broker.bootstrap(), "automation", &[record(22, "payments")]).await;
    assert!(payments.wait_for(12, WAIT).await);
    search.assert_stays_at(11, Duration::from_secs(1)).await;
    assert_eq!(call(&gateway, Method::POST, &format!("/apis/{api_id}/deployments"), None).await.0, 202);
    produce(&broker.bootstrap(), "automation", &[record(23, "payments")]).await;
    assert!(search.wait_for(12, WAIT).await, "the deployed filter keeps every record: {}", search.count());

    assert!(!gateway.output().contains(USER.1), "the password never reaches the log");
}
