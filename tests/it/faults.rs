//! Faults of the lifecycle: hanging callbacks and endless retries never hold up a stop, one subscription's change
//! never waits for another's, a redeploy never resurrects what was paused or deleted meanwhile, and unbounded
//! settings are refused with their path.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::gateway::GatewayHome;
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{
    advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription, with_kafka_dlq,
};

const WAIT: Duration = Duration::from_secs(15);
/// A stop is honoured "within about a second"; this leaves room for a loaded 2-core machine, and is far below the
/// 300 s the callbacks below would hold a stop that waited for them.
const STOP_BOUND: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_callback_does_not_hold_up_a_pause() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(vec![], Reply::Hang).await;
    let configuration = json!({ "http": { "readTimeout": 300000, "maxConcurrentConnections": 3 } });
    gateway.api().deploy(&mock_api("hanging", "auto", configuration, mock_messages(100, 10, "m"))).await;
    let id = gateway.api().subscribe("hanging", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(3, WAIT).await, "three calls hang at once");

    let asked = Instant::now();
    let paused = gateway.api().act("hanging", &id, "_pause").await;
    let took = asked.elapsed();
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert!(took < STOP_BOUND, "the pause took {took:?} behind calls that hang for 300 s");
    assert_eq!(receiver.count(), 3, "no call is made after the pause");
    assert!(gateway.output().contains("abandoned unacknowledged"), "the abandoned calls are reported");
    let resumed = gateway.api().act("hanging", &id, "_resume").await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert!(receiver.wait_for(6, WAIT).await, "delivery goes on after the resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_sleep_ends_on_pause() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(503).await;
    gateway
        .api()
        .deploy(&advanced_mock_api("retrying", "at-least-once", json!({}), mock_messages(10, 10, "m"), false))
        .await;
    let retry = json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": "LINEAR",
        "maxAttempts": 100, "initialDelaySeconds": 300, "maxDelaySeconds": 300 } });
    let id = gateway.api().subscribe("retrying", &advanced_subscription(&receiver.url("/hook"), retry)).await;
    assert!(receiver.wait_for(1, WAIT).await);

    let asked = Instant::now();
    let paused = gateway.api().act("retrying", &id, "_pause").await;
    let took = asked.elapsed();
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert!(took < STOP_BOUND, "the pause took {took:?} behind a 300 s retry delay");
    assert_eq!(receiver.count(), 1, "no retry after the pause");
    let shown = gateway.api().subscription("retrying", &id).await;
    assert_eq!((shown["status"].as_str(), shown["consumerStatus"].as_str()), (Some("PAUSED"), Some("STARTED")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_subscriptions_slow_stop_never_delays_anothers() {
    let home = GatewayHome::new();
    let gateway = home.start();
    // The slow one's stop gives its hanging call the stop grace; before the fix, it waited the whole read timeout
    // and every other subscription's change waited behind it.
    let hanging = Receiver::scripted(vec![], Reply::Hang).await;
    let receiver = Receiver::answering(200).await;
    let configuration = json!({ "http": { "readTimeout": 300000 } });
    gateway.api().deploy(&mock_api("slow", "at-least-once", configuration, mock_messages(1000, 20, "m"))).await;
    gateway.api().deploy(&mock_api("quick", "auto", json!({}), mock_messages(1000, 20, "m"))).await;
    let slow = gateway.api().subscribe("slow", &subscription(&hanging.url("/slow"))).await;
    let quick = gateway.api().subscribe("quick", &subscription(&receiver.url("/quick"))).await;
    assert!(hanging.wait_for(1, WAIT).await && receiver.wait_for(2, WAIT).await);

    let api = gateway.api();
    let (slow_done, quick_done) = tokio::join!(
        async {
            let reply = api.act("slow", &slow, "_pause").await;
            (reply.status, Instant::now())
        },
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let reply = api.act("quick", &quick, "_pause").await;
            (reply.status, Instant::now())
        }
    );
    assert_eq!((slow_done.0, quick_done.0), (200, 200));
    assert!(
        quick_done.1 < slow_done.1,
        "the quick pause was answered only after the slow one ({:?} later)",
        quick_done.1 - slow_done.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redeploy_never_resurrects_a_subscription_deleted_meanwhile() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(vec![], Reply::Hang).await;
    let configuration = json!({ "http": { "readTimeout": 300000 } });
    let definition = mock_api("redeployed", "auto", configuration, mock_messages(1000, 10, "m"));
    gateway.api().deploy(&definition).await;
    let doomed = gateway.api().subscribe("redeployed", &subscription(&receiver.url("/doomed"))).await;
    let paused = gateway.api().subscribe("redeployed", &subscription(&receiver.url("/paused"))).await;
    assert!(receiver.wait_for(2, WAIT).await, "both subscriptions have a call hanging");

    // The redeploy stops both runs (each waits for its hanging call's grace); a delete and a pause are answered
    // while it does.
    let api = gateway.api();
    let (redeployed, deleted, paused_reply) = tokio::join!(
        api.put("/management/v2/apis/redeployed", &definition),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            api.delete(&format!("/management/v2/apis/redeployed/subscriptions/{doomed}")).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            api.act("redeployed", &paused, "_pause").await
        }
    );
    assert_eq!(redeployed.status, 200, "{}", redeployed.body);
    assert_eq!(paused_reply.status, 200, "{}", paused_reply.body);
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let calls = receiver.count();
    receiver.assert_stays_at(calls, Duration::from_secs(2)).await;
    let shown = gateway.api().subscription("redeployed", &paused).await;
    assert_eq!(shown["status"], "PAUSED", "the pause answered during the redeploy holds");
    let missing = gateway.api().get(&format!("/management/v2/apis/redeployed/subscriptions/{doomed}")).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_retries_delays_and_timeouts_are_refused_with_their_path() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&advanced_mock_api("bounded", "auto", json!({}), mock_messages(1, 10, "m"), false)).await;
    let retry = json!({ "retry": { "retryOption": "Retry On Fail", "maxAttempts": 4294967295u64,
        "initialDelaySeconds": 1, "maxDelaySeconds": 86400 } });
    let reply = gateway
        .api()
        .post("/management/v2/apis/bounded/subscriptions", &advanced_subscription("http://127.0.0.1:9/hook", retry))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let text = reply.body.to_string();
    assert!(text.contains("consumerConfiguration.entrypointConfiguration.retry.maxAttempts"), "{text}");
    assert!(text.contains("consumerConfiguration.entrypointConfiguration.retry.maxDelaySeconds"), "{text}");

    let too_slow =
        mock_api("slowest", "auto", json!({ "http": { "readTimeout": 86400000 } }), mock_messages(1, 10, "m"));
    let reply = gateway.api().post("/management/v2/apis", &too_slow).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.to_string().contains("configuration.http.readTimeout"), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_waiting_for_a_lock_never_holds_up_the_management_api() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&mock_api("locked", "auto", json!({}), mock_messages(1000, 50, "m"))).await;
    let id = gateway.api().subscribe("locked", &subscription(&receiver.url("/hook"))).await;

    // Another process holds the database's write lock: every write of the gateway waits for it (SQLite's busy
    // timeout). Before the fix, such waits blocked the gateway's async workers, and health waited behind them.
    let lock = rusqlite::Connection::open(home.store_path()).expect("open the gateway's database");
    lock.execute_batch("BEGIN IMMEDIATE; CREATE TABLE held_by_the_test (x INTEGER);").expect("take the write lock");
    let api = gateway.api();
    let health = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let reply = api.get("/_node/health").await;
        (reply.status, asked.elapsed())
    };
    let another = mock_api("another", "auto", json!({}), mock_messages(1, 10, "m"));
    let ((status, took), paused, created) =
        tokio::join!(health, api.act("locked", &id, "_pause"), api.post("/management/v2/apis", &another));
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(1500), "health took {took:?} while writes waited for the lock");
    assert_eq!(
        (paused.status, created.status),
        (500, 500),
        "writes that outwait the lock fail: {} {}",
        paused.body,
        created.body
    );
    lock.execute_batch("ROLLBACK").expect("release the write lock");
    let delivered = receiver.count();
    assert!(
        receiver.wait_for(delivered + 2, WAIT).await,
        "a change that could not be written leaves the run as it was"
    );
    assert_eq!(gateway.api().act("locked", &id, "_pause").await.status, 200, "writes work again once the lock is free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dlq_producer_is_released_with_the_last_subscription_using_it() {
    let broker = crate::support::broker::Broker::start();
    let mut definition = advanced_mock_api("released", "auto", json!({}), mock_messages(1000, 50, "m"), false);
    with_kafka_dlq(&mut definition, "released-dlq", &broker.bootstrap());
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&definition).await;
    let idle = gateway.threads();
    let id = gateway.api().subscribe("released", &advanced_subscription(&receiver.url("/hook"), json!({}))).await;
    assert!(receiver.wait_for(2, WAIT).await);
    let running = gateway.threads();
    assert!(running > idle, "the DLQ producer runs threads: {idle} idle, {running} running");

    assert_eq!(gateway.api().act("released", &id, "_pause").await.status, 200);
    let released = crate::support::eventually(WAIT, || async {
        gateway.count_lines("kafka producer released") == 1 && gateway.threads() < running
    })
    .await;
    assert!(released, "threads {} after the pause, {running} before:\n{}", gateway.threads(), gateway.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_mock_subscription_leaves_no_position_behind() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let configuration = json!({ "logging": { "enabled": true } });
    gateway.api().deploy(&mock_api("positions", "at-least-once", configuration, mock_messages(1000, 20, "m"))).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("reused-id");
    gateway.api().subscribe("positions", &body).await;
    assert!(receiver.wait_for(5, WAIT).await);
    let path = "/management/v2/apis/positions/subscriptions/reused-id";
    assert_eq!(gateway.api().delete(path).await.status, 204);
    let first_run = receiver.count();

    // A new subscription under the same id starts the stream at its beginning: nothing of the old one was kept.
    gateway.api().subscribe("positions", &body).await;
    assert!(receiver.wait_for(first_run + 1, WAIT).await);
    let logs = "/management/v2/apis/positions/webhook-logs?perPage=100";
    let started_over = crate::support::eventually(WAIT, || async {
        let entries = gateway.api().get(logs).await.body;
        let ids: Vec<&str> =
            entries["data"].as_array().unwrap().iter().filter_map(|entry| entry["messageId"].as_str()).collect();
        ids.iter().filter(|id| **id == "0").count() == 2
    })
    .await;
    assert!(started_over, "message 0 delivered by both subscriptions: {}", gateway.api().get(logs).await.body);
}
