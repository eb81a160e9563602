//! Webhook logs: entries for each kind of outcome, sampling, filters and pages, restart, retention, no secrets.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::receiver::{refused_url, Receiver, Reply};
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(20);
/// How long the writer gets to show an entry that would be one too many.
const SETTLE: Duration = Duration::from_millis(700);
const TOKEN_SECRET: &str = "bearer-secret-never-logged";

fn logging(headers: bool, payload: bool) -> Value {
    json!({ "enabled": true, "request": { "headers": headers, "payload": payload },
            "response": { "headers": headers, "payload": payload } })
}

/// The webhook logs of `api` for `query`.
async fn logs(gateway: &Gateway, api: &str, query: &str) -> Value {
    let reply = gateway.api().get(&format!("/management/v2/apis/{api}/webhook-logs?{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Waits until `api` has `count` entries and still has exactly that many a moment later (the writer is
/// asynchronous: an entry written late would otherwise go unseen); returns them, newest first.
async fn wait_for_entries(gateway: &Gateway, api: &str, count: u64) -> Vec<Value> {
    let reached =
        eventually(WAIT, || async { logs(gateway, api, "perPage=100").await["pagination"]["totalCount"] == count })
            .await;
    tokio::time::sleep(SETTLE).await;
    let body = logs(gateway, api, "perPage=100").await;
    assert!(reached, "expected {count} entries: {body}");
    assert_eq!(body["pagination"]["totalCount"], count, "entries kept arriving: {body}");
    body["data"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_logged_with_status_0_and_its_error_key() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "logging": logging(false, false), "interruptConsumptionOnException": false });
    gateway.api().deploy(&mock_api("refused", "at-least-once", configuration, mock_messages(1, 10, "m"))).await;
    let id = gateway.api().subscribe("refused", &subscription(&refused_url())).await;
    let entries = wait_for_entries(&gateway, "refused", 1).await;
    let entry = &entries[0];
    assert_eq!(entry["status"], 0);
    assert_eq!(entry["errorKey"], "CONNECTION_REFUSED");
    assert!(entry["lastError"].as_str().unwrap().ends_with("(CONNECTION_REFUSED)"));
    assert_eq!(entry["subscriptionId"], id.as_str());
    assert_eq!(entry["applicationId"], "app-1");
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["dlq"], false);
    assert!(entry.get("request").is_none() && entry.get("response").is_none(), "no headers or bodies unless asked");
    let one = gateway
        .api()
        .get(&format!("/management/v2/apis/refused/webhook-logs/{}", entry["requestId"].as_str().unwrap()))
        .await;
    assert_eq!(one.body, *entry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_make_one_entry_with_every_attempt_and_a_dlq_is_flagged() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "logging": logging(false, false) });
    gateway
        .api()
        .deploy(&advanced_mock_api("retried", "at-least-once", configuration.clone(), mock_messages(1, 10, "m"), false))
        .await;
    let flaky = Receiver::scripted(vec![Reply::Status(500), Reply::Status(500)], Reply::Status(200)).await;
    let retry = json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": "LINEAR", "maxAttempts": 3, "initialDelaySeconds": 1, "maxDelaySeconds": 1 } });
    gateway.api().subscribe("retried", &advanced_subscription(&flaky.url("/hook"), retry)).await;
    let entry = wait_for_entries(&gateway, "retried", 1).await.remove(0);
    let statuses: Vec<u64> =
        entry["attempts"].as_array().unwrap().iter().map(|attempt| attempt["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(entry["retries"], 2);
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["attempts"][0]["reason"], "callback answered 500 Internal Server Error");
    assert!(entry["duration"].as_u64().unwrap() >= 2000, "two one-second waits: {entry}");

    gateway
        .api()
        .deploy(&advanced_mock_api("dead", "at-least-once", configuration, mock_messages(1, 10, "m"), true))
        .await;
    let refusing = Receiver::answering(400).await;
    gateway.api().subscribe("dead", &advanced_subscription(&refusing.url("/hook"), json!({}))).await;
    let entry = wait_for_entries(&gateway, "dead", 1).await.remove(0);
    assert_eq!(entry["dlq"], true);
    assert_eq!(entry["status"], 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_sampling_logs_one_delivery_in_three_and_disabled_logging_none() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let mut sampled =
        mock_api("sampled", "at-least-once", json!({ "logging": logging(false, false) }), mock_messages(9, 10, "m"));
    sampled["analytics"] = json!({ "enabled": true, "messageSampling": { "type": "count", "value": "3" } });
    gateway.api().deploy(&sampled).await;
    gateway.api().deploy(&mock_api("silent", "at-least-once", json!({}), mock_messages(9, 10, "m"))).await;
    gateway.api().subscribe("sampled", &subscription(&receiver.url("/sampled"))).await;
    gateway.api().subscribe("silent", &subscription(&receiver.url("/silent"))).await;
    assert!(receiver.wait_for(18, WAIT).await);
    wait_for_entries(&gateway, "sampled", 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(logs(&gateway, "sampled", "").await["pagination"]["totalCount"], 3);
    assert_eq!(logs(&gateway, "silent", "").await["pagination"]["totalCount"], 0);

    let mut bad = sampled.clone();
    bad["id"] = json!("bad-sampling");
    bad["analytics"]["messageSampling"] = json!({ "type": "windowed_count", "value": "often" });
    let reply = gateway.api().post("/management/v2/apis", &bad).await;
    assert_eq!(reply.body["parameters"]["path"], "analytics.messageSampling.value", "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_pages_select_entries_and_entries_survive_a_restart() {
    let home = GatewayHome::new();
    let ok = Receiver::answering(200).await;
    let failing = Receiver::answering(503).await;
    {
        let mut gateway = home.start();
        let configuration = json!({ "logging": logging(false, false), "interruptConsumptionOnServerError": false });
        gateway.api().deploy(&mock_api("filtered", "at-least-once", configuration, mock_messages(3, 10, "m"))).await;
        let first = gateway.api().subscribe("filtered", &subscription(&ok.url("/ok"))).await;
        let mut other = subscription(&failing.url("/failing"));
        other["applicationId"] = json!("app-2");
        let second = gateway.api().subscribe("filtered", &other).await;
        wait_for_entries(&gateway, "filtered", 6).await;
        // Paused, so that the restarted gateway (whose mock generates its stream again) logs nothing new.
        for id in [first, second] {
            assert_eq!(gateway.api().act("filtered", &id, "_pause").await.status, 200);
        }
        assert_eq!(gateway.terminate(), Some(0));
    }
    let gateway = home.start();
    let all = logs(&gateway, "filtered", "").await;
    assert_eq!(all["pagination"]["totalCount"], 6, "entries survive a restart");
    let count = |body: &Value| body["data"].as_array().unwrap().len();
    assert_eq!(count(&logs(&gateway, "filtered", "statuses=503").await), 3);
    assert_eq!(count(&logs(&gateway, "filtered", "statuses=200,503").await), 6);
    let by_url = logs(&gateway, "filtered", &format!("callbackUrls={}", ok.url("/ok"))).await;
    assert!(by_url["data"].as_array().unwrap().iter().all(|entry| entry["status"] == 200) && count(&by_url) == 3);
    assert_eq!(count(&logs(&gateway, "filtered", "applicationIds=app-2").await), 3);
    let newest = all["data"][0]["requestTimestamp"].as_i64().unwrap();
    assert_eq!(count(&logs(&gateway, "filtered", &format!("from={}", newest + 1)).await), 0);
    assert_eq!(count(&logs(&gateway, "filtered", &format!("to={newest}")).await), 6);
    let first = logs(&gateway, "filtered", "perPage=4&page=1").await;
    let second = logs(&gateway, "filtered", "perPage=4&page=2").await;
    assert_eq!((count(&first), count(&second)), (4, 2));
    assert_eq!(second["pagination"]["totalCount"], 6);
    let bad = gateway.api().get("/management/v2/apis/filtered/webhook-logs?statuses=ok").await;
    assert_eq!((bad.status, bad.body["parameters"]["path"].as_str()), (400, Some("statuses")));
    assert_eq!(gateway.api().get("/management/v2/apis/filtered/webhook-logs/nope").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_newest_entries() {
    let home = GatewayHome::new();
    let gateway = home
        .start_with_env(&[("GATEWAY_WEBHOOK_LOGS_MAX_ENTRIES", "3"), ("GATEWAY_WEBHOOK_LOGS_TRIM_INTERVAL_MS", "100")]);
    let receiver = Receiver::answering(200).await;
    gateway
        .api()
        .deploy(&mock_api(
            "kept",
            "at-least-once",
            json!({ "logging": logging(false, false) }),
            mock_messages(6, 10, "m"),
        ))
        .await;
    gateway.api().subscribe("kept", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(6, WAIT).await);
    let entries = wait_for_entries(&gateway, "kept", 3).await;
    let mut ids: Vec<String> = entries.iter().map(|entry| entry["messageId"].as_str().unwrap().to_string()).collect();
    ids.sort();
    assert_eq!(ids, ["3", "4", "5"], "the oldest were dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_headers_and_bodies_never_show_a_credential() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway
        .api()
        .deploy(&advanced_mock_api(
            "masked",
            "at-least-once",
            json!({ "logging": logging(true, true) }),
            mock_messages(1, 10, "payload"),
            false,
        ))
        .await;
    let auth = json!({ "auth": { "type": "token", "token": { "value": TOKEN_SECRET } } });
    gateway.api().subscribe("masked", &advanced_subscription(&receiver.url("/hook"), auth)).await;
    let entry = wait_for_entries(&gateway, "masked", 1).await.remove(0);
    assert_eq!(entry["request"]["headers"]["authorization"], "***");
    assert_eq!(entry["request"]["body"], "payload");
    assert_eq!(entry["response"]["body"], "");
    assert!(entry["request"]["headers"]["x-gravitee-client-identifier"].is_string());
    assert!(!entry.to_string().contains(TOKEN_SECRET));
    assert!(!gateway.output().contains(TOKEN_SECRET));
}
