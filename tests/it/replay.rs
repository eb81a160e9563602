//! Replays of dead letters: read back from the Kafka DLQ, delivered again in order with the subscription's current
//! configuration, dead-lettered again with their history when the callback still refuses them.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{consume, produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{advanced_kafka_api, advanced_subscription, with_kafka_dlq};

const WAIT: Duration = Duration::from_secs(30);

fn bodies(receiver: &Receiver) -> Vec<String> {
    receiver.requests().iter().map(|request| String::from_utf8_lossy(&request.body).into_owned()).collect()
}

/// Starts a replay of `subscription` from `from` and waits until it has ended; returns its last view.
async fn replay(gateway: &Gateway, api: &str, subscription: &str, from: &str) -> Value {
    let started = gateway
        .api()
        .post(&format!("/management/v2/apis/{api}/subscriptions/{subscription}/_replay"), &json!({ "from": from }))
        .await;
    assert_eq!(started.status, 202, "{}", started.body);
    assert_eq!(started.body["status"], "RUNNING");
    let path = format!(
        "/management/v2/apis/{api}/subscriptions/{subscription}/replays/{}",
        started.body["id"].as_str().unwrap()
    );
    let ended = eventually(WAIT, || async { gateway.api().get(&path).await.body["status"] != "RUNNING" }).await;
    let view = gateway.api().get(&path).await.body;
    assert!(ended, "the replay ends: {view}");
    view
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_replayed_in_order_and_dead_lettered_again_with_their_history() {
    let broker = Broker::start();
    for topic in ["orders", "orders-dlq"] {
        broker.create_topic(topic, 1).await;
    }
    let since = humantime::format_rfc3339_millis(std::time::SystemTime::now() - Duration::from_secs(60)).to_string();
    let records: Vec<Record> =
        (0..5).map(|index| Record::new(&format!("k{index}"), &format!("record-{index}"))).collect();
    produce(&broker.bootstrap(), "orders", &records).await;
    let mut definition = advanced_kafka_api("orders", "at-least-once", &broker.bootstrap(), "orders");
    with_kafka_dlq(&mut definition, "orders-dlq", &broker.bootstrap());
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&definition).await;
    // The callback refuses the five records, then is fixed.
    let refusals = (0..5).map(|_| Reply::Status(400)).collect();
    let callback = Receiver::scripted(refusals, Reply::Status(200)).await;
    let mut body =
        advanced_subscription(&callback.url("/hook"), json!({ "headers": [{ "name": "X-Team", "value": "billing" }] }));
    body["id"] = json!("replayed");
    gateway.api().subscribe("orders", &body).await;
    let dead = consume(&broker.bootstrap(), "orders-dlq", 5, WAIT);
    assert_eq!(dead.len(), 5, "{dead:?}");
    assert_eq!(callback.count(), 5);

    let view = replay(&gateway, "orders", "replayed", &since).await;
    assert_eq!(view["status"], "FINISHED", "{view}");
    assert_eq!(
        (view["total"].as_u64(), view["delivered"].as_u64(), view["deadLettered"].as_u64()),
        (Some(5), Some(5), Some(0))
    );
    callback.assert_stays_at(10, Duration::from_millis(500)).await;
    let expected: Vec<String> = (0..5).map(|index| format!("record-{index}")).collect();
    assert_eq!(bodies(&callback)[5..], expected[..], "exactly those five, in order");
    for request in &callback.requests()[5..] {
        assert_eq!(request.headers["x-team"], "billing", "the subscription's current headers");
        assert!(request.headers.get("x-gravitee-dlq-attempts").is_none(), "the DLQ's headers stay out of the call");
    }

    // The callback refuses again: the replay dead-letters the five once more, their attempts adding up.
    let refusing = Receiver::answering(400).await;
    let update = json!({ "consumerConfiguration": { "entrypointId": "webhook-advanced",
        "entrypointConfiguration": { "callbackUrl": refusing.url("/hook") } } });
    assert_eq!(gateway.api().put("/management/v2/apis/orders/subscriptions/replayed", &update).await.status, 200);
    let view = replay(&gateway, "orders", "replayed", &since).await;
    assert_eq!(view["status"], "FINISHED", "{view}");
    assert_eq!((view["total"].as_u64(), view["deadLettered"].as_u64()), (Some(5), Some(5)));
    let all = consume(&broker.bootstrap(), "orders-dlq", 10, WAIT);
    assert_eq!(all.len(), 10);
    for (first, again) in all[..5].iter().zip(&all[5..]) {
        assert_eq!(again.value, first.value);
        assert_eq!(first.header("x-gravitee-dlq-attempts"), "1");
        assert_eq!(again.header("x-gravitee-dlq-attempts"), "2", "the history grows");
        assert_eq!(again.header("x-gravitee-dlq-first-attempt-at"), first.header("x-gravitee-dlq-first-attempt-at"));
        assert_eq!(again.header("x-gravitee-dlq-subscription-id"), "replayed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_needs_a_dead_letter_queue_and_a_valid_range() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let api = crate::support::scenario::advanced_mock_api(
        "plain",
        "auto",
        json!({}),
        crate::support::scenario::mock_messages(1, 10, "m"),
        false,
    );
    gateway.api().deploy(&api).await;
    let id = gateway.api().subscribe("plain", &advanced_subscription("http://127.0.0.1:1/hook", json!({}))).await;
    let path = format!("/management/v2/apis/plain/subscriptions/{id}/_replay");
    let no_dlq = gateway.api().post(&path, &json!({ "from": "2026-01-01T00:00:00Z" })).await;
    assert_eq!(no_dlq.status, 400, "{}", no_dlq.body);
    assert!(no_dlq.body["message"].as_str().unwrap().contains("no dead letter queue"), "{}", no_dlq.body);
    let bad = gateway.api().post(&path, &json!({ "from": "yesterday" })).await;
    assert_eq!(bad.body["parameters"]["path"], "from", "{}", bad.body);
    let missing = gateway.api().get(&format!("/management/v2/apis/plain/subscriptions/{id}/replays/none")).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_of_a_mock_dlq_are_replayed_too() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let since = humantime::format_rfc3339_millis(std::time::SystemTime::now() - Duration::from_secs(60)).to_string();
    let api = crate::support::scenario::advanced_mock_api(
        "mocked",
        "at-least-once",
        json!({}),
        crate::support::scenario::mock_messages(3, 10, "m"),
        true,
    );
    gateway.api().deploy(&api).await;
    let refusals = (0..3).map(|_| Reply::Status(400)).collect();
    let callback = Receiver::scripted(refusals, Reply::Status(200)).await;
    let mut body = advanced_subscription(&callback.url("/hook"), json!({}));
    body["id"] = json!("mock-replayed");
    gateway.api().subscribe("mocked", &body).await;
    let dead = eventually(WAIT, || async { gateway.count_lines("mock endpoint received a message") == 3 }).await;
    assert!(dead, "{}", gateway.output());

    let view = replay(&gateway, "mocked", "mock-replayed", &since).await;
    assert_eq!(view["status"], "FINISHED", "{view}");
    assert_eq!(
        (view["total"].as_u64(), view["delivered"].as_u64(), view["deadLettered"].as_u64()),
        (Some(3), Some(3), Some(0))
    );
    callback.assert_stays_at(6, Duration::from_millis(500)).await;
}
