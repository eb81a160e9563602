//! `webhook-advanced`: dead letter queues (Kafka and mock), retries, and secured callbacks (basic, token, oauth2
//! against a real token server over HTTP on loopback).

use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, consume, produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{
    advanced_kafka_api, advanced_mock_api, advanced_subscription, kafka_producer_group, mock_messages, with_kafka_dlq,
};
use crate::support::secrets::{self, assert_secret_kept, debug_gateway};

const WAIT: Duration = Duration::from_secs(20);
/// Longer than the retry spacing (1 s) the quiet checks follow.
const QUIET: Duration = Duration::from_millis(2500);
const SECRET: &str = "s3cret-never-logged";

fn retry(strategy: &str, max_attempts: u32) -> Value {
    json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": strategy, "maxAttempts": max_attempts,
                       "initialDelaySeconds": 1, "maxDelaySeconds": 5 } })
}

fn oauth2(endpoint: &str) -> Value {
    json!({ "auth": { "type": "oauth2", "oauth2": {
        "endpoint": endpoint, "clientId": "gateway", "clientSecret": SECRET, "scopes": ["orders", "read"] } } })
}

fn token(value: &str, expires_in: u64) -> Reply {
    Reply::Json(200, json!({ "access_token": value, "token_type": "Bearer", "expires_in": expires_in }).to_string())
}

fn authorization(receiver: &Receiver) -> Vec<String> {
    receiver.requests().iter().map(|request| request.headers["authorization"].to_str().unwrap().to_string()).collect()
}

async fn deploy_mock(gateway: &Gateway, id: &str, qos: &str, configuration: Value, mock: Value, dlq: bool) {
    gateway.api().deploy(&advanced_mock_api(id, qos, configuration, mock, dlq)).await;
}

/// Webhook logging of every delivery, headers and bodies included.
fn log_everything() -> Value {
    json!({ "logging": secrets::log_everything() })
}

/// The instant an RFC 3339 header says.
fn instant(text: &str) -> std::time::SystemTime {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).unwrap_or_else(|error| panic!("`{text}`: {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_records_go_to_the_kafka_dlq_and_consumption_continues() {
    let broker = Broker::start();
    for topic in ["orders", "orders-dlq"] {
        broker.create_topic(topic, 1).await;
    }
    let records: Vec<Record> = (0..3)
        .map(|index| Record {
            key: format!("key-{index}"),
            value: format!("record-{index}"),
            headers: vec![("x-origin".into(), "billing".into())],
        })
        .collect();
    produce(&broker.bootstrap(), "orders", &records).await;
    let mut definition = advanced_kafka_api("orders", "at-least-once", &broker.bootstrap(), "orders");
    with_kafka_dlq(&mut definition, "orders-dlq", &broker.bootstrap());
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&definition).await;
    let receiver = Receiver::scripted(vec![Reply::Status(400), Reply::Status(400)], Reply::Status(200)).await;
    let started = std::time::SystemTime::now() - Duration::from_secs(1);
    let mut body = advanced_subscription(&receiver.url("/hook"), json!({}));
    body["id"] = json!("dlq-sub");
    gateway.api().subscribe("orders", &body).await;

    assert!(receiver.wait_for(3, WAIT).await);
    receiver.assert_stays_at(3, QUIET).await;
    let dead = consume(&broker.bootstrap(), "orders-dlq", 2, WAIT);
    assert_eq!(dead.len(), 2, "{dead:?}");
    for (index, record) in dead.iter().enumerate() {
        assert_eq!(record.value, format!("record-{index}"));
        assert_eq!(record.key, format!("key-{index}"));
        assert_eq!(record.header("x-origin"), "billing");
        assert_eq!(record.header("x-gravitee-dlq-subscription-id"), "dlq-sub");
        assert_eq!(record.header("x-gravitee-dlq-callback-url"), receiver.url("/hook"));
        assert_eq!(record.header("x-gravitee-dlq-last-status"), "400");
        assert_eq!(record.header("x-gravitee-dlq-last-error"), "callback answered 400 Bad Request");
        assert_eq!(record.header("x-gravitee-dlq-attempts"), "1");
        let first = instant(record.header("x-gravitee-dlq-first-attempt-at"));
        let last = instant(record.header("x-gravitee-dlq-last-attempt-at"));
        assert!(started <= first && first <= last && last <= std::time::SystemTime::now(), "{record:?}");
    }
    let all_committed =
        eventually(WAIT, || async { committed(&broker.bootstrap(), "dlq-sub", "orders", 1) == [3] }).await;
    assert!(all_committed, "{:?}", committed(&broker.bootstrap(), "dlq-sub", "orders", 1));
    assert_eq!(gateway.api().subscription("orders", "dlq-sub").await["consumerStatus"], "STARTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_dlq_the_first_4xx_stops_the_subscription() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "strict", "at-least-once", json!({}), mock_messages(3, 10, "m"), false).await;
    let receiver = Receiver::scripted(vec![Reply::Status(400)], Reply::Status(200)).await;
    let id = gateway.api().subscribe("strict", &advanced_subscription(&receiver.url("/hook"), json!({}))).await;
    let failed = gateway.api().wait_consumer_status("strict", &id, "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback answered 400 Bad Request");
    receiver.assert_stays_at(1, QUIET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_on_fail_retries_server_errors_then_delivery_continues() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "retrying", "at-least-once", json!({}), mock_messages(2, 10, "m"), false).await;
    let receiver = Receiver::scripted(vec![Reply::Status(500), Reply::Status(500)], Reply::Status(200)).await;
    let id =
        gateway.api().subscribe("retrying", &advanced_subscription(&receiver.url("/hook"), retry("LINEAR", 3))).await;
    assert!(receiver.wait_for(4, WAIT).await);
    receiver.assert_stays_at(4, QUIET).await;
    let calls = receiver.requests();
    for pair in calls[..3].windows(2) {
        let gap = pair[1].at - pair[0].at;
        let linear = Duration::from_millis(900)..Duration::from_millis(1800);
        assert!(linear.contains(&gap), "LINEAR waits initialDelaySeconds (1 s) between attempts: {gap:?}");
    }
    assert_eq!(gateway.api().subscription("retrying", &id).await["consumerStatus"], "STARTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_stop_the_subscription_when_told_to() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "exhausted", "at-least-once", json!({}), mock_messages(2, 10, "m"), false).await;
    let receiver = Receiver::answering(503).await;
    let id =
        gateway.api().subscribe("exhausted", &advanced_subscription(&receiver.url("/hook"), retry("LINEAR", 2))).await;
    let failed = gateway.api().wait_consumer_status("exhausted", &id, "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback answered 503 Service Unavailable");
    receiver.assert_stays_at(3, QUIET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_go_to_the_dlq_when_not_told_to_stop() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "interruptConsumptionOnServerError": false });
    deploy_mock(&gateway, "forgiving", "at-least-once", configuration, mock_messages(1, 10, "payload"), true).await;
    let receiver = Receiver::answering(500).await;
    let id = gateway
        .api()
        .subscribe("forgiving", &advanced_subscription(&receiver.url("/hook"), retry("EXPONENTIAL", 3)))
        .await;
    let dead_lettered =
        eventually(WAIT, || async { gateway.count_lines("mock endpoint received a message") == 1 }).await;
    assert!(dead_lettered, "{}", gateway.output());
    let line = gateway.last_line("mock endpoint received a message").unwrap();
    for expected in
        ["x-gravitee-dlq-attempts=4", "x-gravitee-dlq-last-status=500", &format!("x-gravitee-dlq-subscription-id={id}")]
    {
        assert!(line.contains(expected), "{expected} in {line}");
    }
    assert_eq!(receiver.count(), 4);
    // EXPONENTIAL: 1 s, then 2 s, then 4 s (LINEAR would wait 1 s each time).
    let calls = receiver.requests();
    let gaps: Vec<Duration> = calls.windows(2).map(|pair| pair[1].at - pair[0].at).collect();
    let doubling = [(900, 1800), (1800, 3000), (3600, 5500)];
    for (gap, (low, high)) in gaps.iter().zip(doubling) {
        assert!((Duration::from_millis(low)..Duration::from_millis(high)).contains(gap), "gaps {gaps:?}");
    }
    assert_eq!(gateway.api().subscription("forgiving", &id).await["consumerStatus"], "STARTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_and_token_auth_set_the_authorization_header() {
    let home = GatewayHome::new();
    let gateway = debug_gateway(&home);
    deploy_mock(&gateway, "secured", "auto", log_everything(), mock_messages(1, 10, "m"), false).await;
    let basic = Receiver::answering(200).await;
    let bearer = Receiver::answering(200).await;
    let basic_auth = json!({ "auth": { "type": "basic", "basic": { "username": "foo", "password": "bar" } } });
    let token_auth = json!({ "auth": { "type": "token", "token": { "value": SECRET } } });
    gateway.api().subscribe("secured", &advanced_subscription(&basic.url("/basic"), basic_auth)).await;
    gateway.api().subscribe("secured", &advanced_subscription(&bearer.url("/token"), token_auth)).await;
    assert!(basic.wait_for(1, WAIT).await && bearer.wait_for(1, WAIT).await);
    assert_eq!(authorization(&basic), ["Basic Zm9vOmJhcg=="]);
    assert_eq!(authorization(&bearer), [format!("Bearer {SECRET}")]);
    assert_secret_kept(&gateway, "secured", 2, SECRET).await;
    assert_secret_kept(&gateway, "secured", 2, "Zm9vOmJhcg==").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth2_token_is_fetched_once_and_reused() {
    let home = GatewayHome::new();
    let gateway = debug_gateway(&home);
    let mut configuration = log_everything();
    configuration["http"] = json!({ "maxConcurrentConnections": 5 });
    deploy_mock(&gateway, "oauth", "auto", configuration, mock_messages(10, 0, "m"), false).await;
    let idp = Receiver::scripted(Vec::new(), token("t1", 3600)).await;
    let callback = Receiver::answering(200).await;
    gateway.api().subscribe("oauth", &advanced_subscription(&callback.url("/hook"), oauth2(&idp.url("/token")))).await;
    assert!(callback.wait_for(10, WAIT).await);
    assert_eq!(idp.count(), 1, "one token request for ten messages");
    assert!(authorization(&callback).iter().all(|value| value == "Bearer t1"));
    let request = &idp.requests()[0];
    assert_eq!(request.headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        format!("grant_type=client_credentials&client_id=gateway&client_secret={SECRET}&scope=orders+read")
    );
    assert_secret_kept(&gateway, "oauth", 10, SECRET).await;
    assert_secret_kept(&gateway, "oauth", 10, "Bearer t1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_oauth2_token_is_fetched_again() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "expiring", "at-least-once", json!({}), mock_messages(3, 2000, "m"), false).await;
    let idp = Receiver::scripted(Vec::new(), token("short-lived", 1)).await;
    let callback = Receiver::answering(200).await;
    gateway
        .api()
        .subscribe("expiring", &advanced_subscription(&callback.url("/hook"), oauth2(&idp.url("/token"))))
        .await;
    assert!(callback.wait_for(3, WAIT).await);
    assert_eq!(idp.count(), 3, "a token that lives 1 s is fetched for each message 2 s apart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_from_the_callback_refreshes_the_token_once() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "refresh", "at-least-once", json!({}), mock_messages(1, 10, "m"), false).await;
    let idp = Receiver::scripted(vec![token("t1", 3600)], token("t2", 3600)).await;
    let callback = Receiver::scripted(vec![Reply::Status(401)], Reply::Status(200)).await;
    let id = gateway
        .api()
        .subscribe("refresh", &advanced_subscription(&callback.url("/hook"), oauth2(&idp.url("/token"))))
        .await;
    assert!(callback.wait_for(2, WAIT).await);
    callback.assert_stays_at(2, QUIET).await;
    assert_eq!(authorization(&callback), ["Bearer t1", "Bearer t2"]);
    assert_eq!(idp.count(), 2);
    assert_eq!(gateway.api().subscription("refresh", &id).await["consumerStatus"], "STARTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_token_endpoint_means_no_callback_call_and_a_cause_without_secret() {
    let home = GatewayHome::new();
    let gateway = debug_gateway(&home);
    deploy_mock(&gateway, "denied", "at-least-once", log_everything(), mock_messages(1, 10, "m"), false).await;
    let idp = Receiver::scripted(
        Vec::new(),
        Reply::Json(401, json!({ "error": format!("bad secret {SECRET}") }).to_string()),
    )
    .await;
    let callback = Receiver::answering(200).await;
    let id = gateway
        .api()
        .subscribe("denied", &advanced_subscription(&callback.url("/hook"), oauth2(&idp.url("/token"))))
        .await;
    let failed = gateway.api().wait_consumer_status("denied", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert_eq!(
        cause,
        format!(
            "callback call failed: token endpoint {} answered 401 Unauthorized (AUTHENTICATION_FAILED)",
            idp.url("/token")
        )
    );
    assert_eq!(callback.count(), 0);
    assert_secret_kept(&gateway, "denied", 1, SECRET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_targets_are_checked_at_deploy() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut missing = advanced_mock_api("dlq-missing", "auto", json!({}), mock_messages(1, 10, "m"), false);
    missing["listeners"][0]["entrypoints"][0]["dlq"] = json!({ "endpoint": "nowhere" });
    let reply = gateway.api().post("/management/v2/apis", &missing).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["parameters"]["path"], "listeners[0].entrypoints[0].dlq.endpoint");
    assert!(reply.body["message"].as_str().unwrap().contains("`nowhere`"), "{}", reply.body);

    let mut read_only = advanced_mock_api("dlq-read-only", "auto", json!({}), mock_messages(1, 10, "m"), false);
    read_only["listeners"][0]["entrypoints"][0]["dlq"] = json!({ "endpoint": "events" });
    read_only["endpointGroups"].as_array_mut().unwrap().push(json!({
        "name": "events", "type": "kafka",
        "sharedConfiguration": { "consumer": { "enabled": true, "topics": ["events"] } },
        "endpoints": [{ "name": "events-kafka", "type": "kafka", "configuration": { "bootstrapServers": "127.0.0.1:9" } }]
    }));
    let reply = gateway.api().post("/management/v2/apis", &read_only).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["message"],
        "listeners[0].entrypoints[0].dlq.endpoint: dead letter queue target `events` does not support PUBLISH"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_bounds_are_checked() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "bounds", "auto", json!({}), mock_messages(1, 10, "m"), false).await;
    let bad = json!({ "retry": { "retryOption": "Retry On Fail", "initialDelaySeconds": 60, "maxDelaySeconds": 30 } });
    let reply = gateway
        .api()
        .send(
            Method::POST,
            "/management/v2/apis/bounds/subscriptions",
            Some(&advanced_subscription("http://127.0.0.1:9/", bad)),
            Some("test-token"),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["parameters"]["path"],
        "consumerConfiguration.entrypointConfiguration.retry.initialDelaySeconds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_error_goes_to_the_dlq_endpoint_named_before_a_group_of_that_name() {
    let broker = Broker::start();
    for topic in ["by-endpoint", "by-group"] {
        broker.create_topic(topic, 1).await;
    }
    let configuration = json!({ "interruptConsumptionOnException": false });
    let mut definition =
        advanced_mock_api("named", "at-least-once", configuration, mock_messages(1, 10, "lost"), false);
    definition["listeners"][0]["entrypoints"][0]["dlq"] = json!({ "endpoint": "dead" });
    let groups = definition["endpointGroups"].as_array_mut().unwrap();
    // A group named `dead`, and an endpoint named `dead` in another group: the endpoint wins.
    groups.push(kafka_producer_group("dead", "group-producer", "by-group", &broker.bootstrap()));
    groups.push(kafka_producer_group("other", "dead", "by-endpoint", &broker.bootstrap()));
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&definition).await;
    let refused = crate::support::receiver::refused_url();
    let id = gateway.api().subscribe("named", &advanced_subscription(&refused, json!({}))).await;

    let dead = consume(&broker.bootstrap(), "by-endpoint", 1, WAIT);
    assert_eq!(dead.len(), 1, "{dead:?}");
    let record = &dead[0];
    assert_eq!(record.value, "lost");
    assert_eq!(record.header("x-gravitee-dlq-last-status"), "0", "no answer: status 0");
    assert!(record.header("x-gravitee-dlq-last-error").ends_with("(CONNECTION_REFUSED)"), "{record:?}");
    assert_eq!(record.header("x-gravitee-dlq-subscription-id"), id);
    assert!(consume(&broker.bootstrap(), "by-group", 1, Duration::from_secs(3)).is_empty(), "the group is not used");
    assert_eq!(gateway.api().subscription("named", &id).await["consumerStatus"], "STARTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth2_token_without_expires_in_is_kept_until_refused() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(&gateway, "timeless", "at-least-once", json!({}), mock_messages(3, 300, "m"), false).await;
    let lasting = |value: &str| Reply::Json(200, json!({ "access_token": value, "token_type": "Bearer" }).to_string());
    let idp = Receiver::scripted(vec![lasting("t1")], lasting("t2")).await;
    // Two calls with t1, then a 401: the token is fetched again once, and t2 is used from then on.
    let script = vec![Reply::Status(200), Reply::Status(200), Reply::Status(401)];
    let callback = Receiver::scripted(script, Reply::Status(200)).await;
    gateway
        .api()
        .subscribe("timeless", &advanced_subscription(&callback.url("/hook"), oauth2(&idp.url("/token"))))
        .await;
    assert!(callback.wait_for(4, WAIT).await);
    callback.assert_stays_at(4, QUIET).await;
    assert_eq!(authorization(&callback), ["Bearer t1", "Bearer t1", "Bearer t1", "Bearer t2"]);
    assert_eq!(idp.count(), 2, "a token without expires_in is fetched again only when refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_sets_the_wait_before_the_next_attempt_up_to_the_maximum_delay() {
    let home = GatewayHome::new();
    let gateway = home.start();
    deploy_mock(
        &gateway,
        "patient",
        "at-least-once",
        json!({ "logging": { "enabled": true } }),
        mock_messages(1, 10, "m"),
        false,
    )
    .await;
    // Sent about 3 s from now (after the first wait): a date 8 s ahead then asks for 4 to 5 s.
    let in_eight_seconds = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(8));
    let script = vec![
        Reply::SlowDown(429, "3".into()),
        Reply::SlowDown(503, in_eight_seconds),
        Reply::SlowDown(429, "60".into()),
    ];
    let receiver = Receiver::scripted(script, Reply::Status(200)).await;
    let retry = json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": "LINEAR", "maxAttempts": 3,
                       "initialDelaySeconds": 1, "maxDelaySeconds": 5 } });
    let id = gateway.api().subscribe("patient", &advanced_subscription(&receiver.url("/hook"), retry)).await;
    assert!(receiver.wait_for(4, Duration::from_secs(30)).await);
    let calls = receiver.requests();
    let gaps: Vec<Duration> = calls.windows(2).map(|pair| pair[1].at - pair[0].at).collect();
    // Asked 3 s (not LINEAR's 1 s); a date 4 to 5 s ahead, capped at 5; 60 s capped at 5.
    let expected = [(2800, 3800), (3500, 5800), (4800, 6000)];
    for (gap, (low, high)) in gaps.iter().zip(expected) {
        assert!((Duration::from_millis(low)..Duration::from_millis(high)).contains(gap), "gaps {gaps:?}");
    }
    assert_eq!(gateway.api().subscription("patient", &id).await["consumerStatus"], "STARTED");
    let path = "/management/v2/apis/patient/webhook-logs";
    let logged = eventually(WAIT, || async {
        gateway.api().get(path).await.body["data"].as_array().is_some_and(|d| d.len() == 1)
    })
    .await;
    assert!(logged);
    let entry = &gateway.api().get(path).await.body["data"][0];
    let waits: Vec<u64> =
        entry["attempts"].as_array().unwrap().iter().filter_map(|attempt| attempt["waitMs"].as_u64()).collect();
    assert_eq!(waits.len(), 3, "{entry}");
    assert_eq!((waits[0], waits[2]), (3000, 5000), "{entry}");
    assert!((3500..=5000).contains(&waits[1]), "{entry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_outliving_its_retries_counts_as_a_server_error() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "interruptConsumptionOnServerError": false });
    deploy_mock(&gateway, "throttled", "at-least-once", configuration, mock_messages(2, 10, "m"), false).await;
    let receiver = Receiver::answering(429).await;
    let id =
        gateway.api().subscribe("throttled", &advanced_subscription(&receiver.url("/hook"), retry("LINEAR", 1))).await;
    // Two attempts per message, each message skipped like a 5xx (not a refusal that stops the subscription).
    assert!(receiver.wait_for(4, WAIT).await);
    receiver.assert_stays_at(4, QUIET).await;
    assert_eq!(gateway.api().subscription("throttled", &id).await["consumerStatus"], "STARTED");
    assert_eq!(gateway.count_lines("message skipped"), 2);

    // Without retries, a 429 is a refusal as before.
    let refused = Receiver::answering(429).await;
    let id = gateway.api().subscribe("throttled", &advanced_subscription(&refused.url("/hook"), json!({}))).await;
    let failed = gateway.api().wait_consumer_status("throttled", &id, "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback answered 429 Too Many Requests");
}
