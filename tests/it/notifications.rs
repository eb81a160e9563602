//! Operational webhooks: each lifecycle event arrives once at the operator's endpoint, signed (verified with the
//! `standardwebhooks` library); an endpoint that is down holds nothing up, and gets its queued events when it
//! returns, the oldest beyond the queue's bound dropped and counted.

use std::time::Duration;

use serde_json::json;

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::notifications::{notifications, notifying, notifying_of, SECRET};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{
    advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription, with_kafka_dlq,
};
use crate::support::standard_webhooks::verify;

const WAIT: Duration = Duration::from_secs(20);
fn types(receiver: &Receiver) -> Vec<String> {
    notifications(receiver).iter().map(|body| body["type"].as_str().unwrap_or_default().to_string()).collect()
}

async fn start(home: &GatewayHome, config: &str) -> Gateway {
    let config = home.write_config(config);
    home.start_with_env(&[("GATEWAY_CONFIG", config.to_str().expect("a path"))])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lifecycle_event_arrives_once_signed_with_its_details() {
    let notified = Receiver::answering(200).await;
    let home = GatewayHome::new();
    home.write_plugin_file("libbroken.so", b"not a library");
    let gateway = start(&home, &notifying(&notified.url("/ops"), 100)).await;
    gateway.api().deploy(&mock_api("orders", "at-least-once", json!({}), mock_messages(3, 10, "m"))).await;
    let refusing = Receiver::scripted(vec![Reply::Status(400)], Reply::Status(200)).await;
    let failing = gateway.api().subscribe("orders", &subscription(&refusing.url("/hook"))).await;
    gateway.api().wait_consumer_status("orders", &failing, "FAILURE").await;
    let answering = Receiver::answering(200).await;
    let other = gateway.api().subscribe("orders", &subscription(&answering.url("/hook"))).await;
    for action in ["_pause", "_resume", "_close"] {
        assert_eq!(gateway.api().act("orders", &other, action).await.status, 200, "{action}");
    }
    assert_eq!(gateway.api().act("orders", &failing, "_resumeFailure").await.status, 200);

    assert!(notified.wait_for(6, WAIT).await, "{:?}", types(&notified));
    notified.assert_stays_at(6, Duration::from_secs(1)).await;
    assert_eq!(
        types(&notified),
        [
            "plugin.refused",
            "subscription.failed",
            "subscription.paused",
            "subscription.resumed",
            "subscription.closed",
            "subscription.resumed"
        ]
    );
    let bodies = notifications(&notified);
    let refused = &bodies[0]["data"];
    assert!(refused["file"].as_str().unwrap().ends_with("libbroken.so"), "{refused}");
    assert!(refused["reason"].as_str().unwrap().starts_with("not a loadable plugin library"), "{refused}");
    assert_eq!(
        bodies[1]["data"],
        json!({ "apiId": "orders", "subscriptionId": failing, "cause": "callback answered 400 Bad Request" })
    );
    assert_eq!(bodies[2]["data"], json!({ "apiId": "orders", "subscriptionId": other }));
    assert_eq!(bodies[3]["data"], json!({ "apiId": "orders", "subscriptionId": other, "from": "PAUSED" }));
    assert_eq!(bodies[4]["data"], json!({ "apiId": "orders", "subscriptionId": other }));
    assert_eq!(bodies[5]["data"], json!({ "apiId": "orders", "subscriptionId": failing, "from": "FAILURE" }));
    for body in &bodies {
        assert!(humantime::parse_rfc3339_weak(body["timestamp"].as_str().unwrap().trim_end_matches('Z')).is_ok());
    }
    let requests = notified.requests();
    assert_eq!(verify(SECRET, &requests, false), vec!["ok"; 6], "standardwebhooks verifies every notification");
    let mut ids: Vec<&str> = requests.iter().map(|request| request.headers["webhook-id"].to_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "one id per notification");
    assert_eq!(gateway.api().metric("gateway_notifications_total{result=\"sent\"}").await, 6.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_is_down_holds_nothing_up_and_gets_the_newest_events_when_it_returns() {
    let notified = Receiver::answering(200).await;
    notified.set_down(true);
    let home = GatewayHome::new();
    let gateway = start(&home, &notifying(&notified.url("/ops"), 3)).await;
    gateway.api().deploy(&mock_api("orders", "at-least-once", json!({}), mock_messages(20, 0, "m"))).await;
    let receiver = Receiver::answering(200).await;
    let id = gateway.api().subscribe("orders", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(20, WAIT).await, "delivery goes on: {}", receiver.count());
    // Six events while the endpoint is down: every action is answered at once; the queue keeps the newest three.
    for round in 0..3 {
        assert_eq!(gateway.api().act("orders", &id, "_pause").await.status, 200, "pause {round}");
        assert_eq!(gateway.api().act("orders", &id, "_resume").await.status, 200, "resume {round}");
    }
    let dropped = eventually(WAIT, || async {
        gateway.api().metric("gateway_notifications_total{result=\"dropped\"}").await == 3.0
    })
    .await;
    assert!(dropped, "{}", gateway.api().metric("gateway_notifications_total{result=\"dropped\"}").await);
    notified.set_down(false);
    assert!(notified.wait_for(3, Duration::from_secs(40)).await, "{:?}", types(&notified));
    notified.assert_stays_at(3, Duration::from_secs(1)).await;
    assert_eq!(types(&notified), ["subscription.resumed", "subscription.paused", "subscription.resumed"]);
    assert_eq!(gateway.api().metric("gateway_notifications_total{result=\"sent\"}").await, 3.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replays_end_is_told_with_its_counts_to_an_endpoint_that_asked_for_it_alone() {
    let notified = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = start(&home, &notifying_of(&notified.url("/ops"), 100, &["replay.finished", "replay.failed"])).await;
    let since = humantime::format_rfc3339_millis(std::time::SystemTime::now() - Duration::from_secs(60)).to_string();
    gateway
        .api()
        .deploy(&advanced_mock_api("mocked", "at-least-once", json!({}), mock_messages(3, 10, "m"), true))
        .await;
    let callback = Receiver::scripted((0..3).map(|_| Reply::Status(400)).collect(), Reply::Status(200)).await;
    let mut body = advanced_subscription(&callback.url("/hook"), json!({}));
    body["id"] = json!("replayed");
    gateway.api().subscribe("mocked", &body).await;
    let dead = eventually(WAIT, || async { gateway.count_lines("mock endpoint received a message") == 3 }).await;
    assert!(dead, "{}", gateway.output());
    assert_eq!(gateway.api().act("mocked", "replayed", "_pause").await.status, 200, "not asked for: not told");
    assert_eq!(gateway.api().act("mocked", "replayed", "_resume").await.status, 200);
    let started = gateway
        .api()
        .post("/management/v2/apis/mocked/subscriptions/replayed/_replay", &json!({ "from": since }))
        .await;
    assert_eq!(started.status, 202, "{}", started.body);

    assert!(notified.wait_for(1, WAIT).await);
    notified.assert_stays_at(1, Duration::from_secs(1)).await;
    let told = &notifications(&notified)[0];
    assert_eq!(told["type"], "replay.finished");
    let data = &told["data"];
    assert_eq!((data["apiId"].as_str(), data["subscriptionId"].as_str()), (Some("mocked"), Some("replayed")));
    assert_eq!((data["delivered"].as_u64(), data["deadLettered"].as_u64()), (Some(3), Some(0)), "{data}");
    assert_eq!(data["replayId"], started.body["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_the_queue_refuses_is_told_with_the_queues_answer() {
    let broker = Broker::start();
    let notified = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = start(&home, &notifying(&notified.url("/ops"), 100)).await;
    // Larger than the producer takes (librdkafka's message.max.bytes, 1,000,000): the queue refuses it at once.
    let big = json!({ "messageCount": 1, "messageInterval": 10, "messageContent": "x".repeat(1_100_000) });
    let mut api = advanced_mock_api("big", "at-least-once", json!({}), big, false);
    with_kafka_dlq(&mut api, "big-dlq", &broker.bootstrap());
    gateway.api().deploy(&api).await;
    let refusing = Receiver::answering(400).await;
    let id = gateway.api().subscribe("big", &advanced_subscription(&refusing.url("/hook"), json!({}))).await;
    let failed = gateway.api().wait_consumer_status("big", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap().to_string();
    assert!(cause.starts_with("dead letter queue publish failed: "), "{cause}");
    assert!(notified.wait_for(1, WAIT).await);
    notified.assert_stays_at(1, Duration::from_secs(1)).await;
    let told = &notifications(&notified)[0];
    assert_eq!(told["type"], "dead_letter.unpublishable");
    assert_eq!(told["data"], json!({ "apiId": "big", "subscriptionId": id, "cause": cause }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_endpoint_in_the_operators_network_is_not_called_unless_allowed() {
    let notified = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let config = home.write_config(&notifying(&notified.url("/ops"), 100));
    // Nothing allowed beyond public addresses: the loopback endpoint is refused like a callback would be.
    let gateway = home
        .start_with_env(&[("GATEWAY_CONFIG", config.to_str().expect("a path")), ("GATEWAY_EGRESS_ALLOW_NETWORKS", "")]);
    gateway.api().deploy(&mock_api("orders", "at-least-once", json!({}), mock_messages(1, 10, "m"))).await;
    let id = gateway.api().subscribe("orders", &subscription("http://callback.invalid/hook")).await;
    assert_eq!(gateway.api().act("orders", &id, "_pause").await.status, 200);
    let refused = eventually(WAIT, || async { gateway.count_lines("notification not taken") > 0 }).await;
    assert!(refused, "{}", gateway.output());
    let line = gateway.last_line("notification not taken").unwrap_or_default();
    assert!(line.contains("address denied by the egress rules: 127.0.0.1"), "{line}");
    notified.assert_stays_at(0, Duration::from_secs(1)).await;
}
