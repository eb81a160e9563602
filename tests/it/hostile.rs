//! Hostile and odd input: nothing panics, nothing is read without bound, every refusal says why, and what the
//! reference product writes is accepted.

use std::time::Duration;

use serde_json::json;

use crate::support::eventually;
use crate::support::gateway::GatewayHome;
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(20);

fn endless_sampling() -> serde_json::Value {
    let mut api = mock_api("endless", "auto", json!({}), mock_messages(1, 10, "m"));
    api["analytics"] = json!({ "messageSampling": { "type": "temporal", "value": "P999999999999999D" } });
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_sampling_period_is_refused_with_its_path_through_the_api_and_from_the_folder() {
    let home = GatewayHome::new();
    home.write_definition("endless.json", &endless_sampling());
    let gateway = home.start();
    let shown = gateway.api().get("/management/v2/apis/endless").await;
    assert!(shown.body.to_string().contains("analytics.messageSampling.value"), "{}", shown.body);

    let mut again = endless_sampling();
    again["id"] = json!("endless-too");
    let reply = gateway.api().post("/management/v2/apis", &again).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"]["path"], "analytics.messageSampling.value");
    assert_eq!(gateway.api().get("/_node/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_expiries_as_strings_or_beyond_the_clock_are_read_sanely() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway
        .api()
        .deploy(&advanced_mock_api("expiries", "at-least-once", json!({}), mock_messages(3, 10, "m"), false))
        .await;
    let answers = [json!(18446744073709551615u64), json!("3599")];
    let mut callbacks = Vec::new();
    for (index, expires_in) in answers.into_iter().enumerate() {
        let token = json!({ "access_token": format!("t{index}"), "token_type": "Bearer", "expires_in": expires_in });
        let idp = Receiver::scripted(vec![], Reply::Json(200, token.to_string())).await;
        let callback = Receiver::answering(200).await;
        let auth = json!({ "auth": { "type": "oauth2", "oauth2": {
            "endpoint": idp.url("/token"), "clientId": "gateway", "clientSecret": "s", "scopes": [] } } });
        let id = gateway.api().subscribe("expiries", &advanced_subscription(&callback.url("/hook"), auth)).await;
        callbacks.push((id, idp, callback));
    }
    for (id, idp, callback) in &callbacks {
        assert!(callback.wait_for(3, WAIT).await, "{}", gateway.output());
        assert_eq!(idp.count(), 1, "the token is kept");
        assert_eq!(gateway.api().subscription("expiries", id).await["consumerStatus"], "STARTED");
    }
    assert!(!gateway.output().contains("panicked"), "{}", gateway.output());
}

#[test]
fn a_retention_beyond_what_the_configuration_can_count_is_a_clear_error() {
    let home = GatewayHome::new();
    let output = std::process::Command::new(crate::support::gateway::gateway_binary())
        .env("GATEWAY_PLUGINS_DIR", "/nonexistent")
        .env("GATEWAY_STORE_PATH", home.store_path())
        .env("GATEWAY_MANAGEMENT_LISTEN", "127.0.0.1:0")
        .env("GATEWAY_WEBHOOK_LOGS_MAX_ENTRIES", "18446744073709551615")
        .output()
        .expect("run the gateway");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("GATEWAY_WEBHOOK_LOGS_MAX_ENTRIES"), "{said}");
}

/// Resident memory of `pid`, in bytes.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok()).expect("a number of KiB") * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_streaming_a_gigabyte_costs_the_gateway_no_memory() {
    const GIB: u64 = 1024 * 1024 * 1024;
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(vec![], Reply::Streaming(GIB)).await;
    let configuration = json!({ "http": { "maxConcurrentConnections": 5, "readTimeout": 60000 },
                                "logging": { "enabled": true, "response": { "payload": true } } });
    gateway.api().deploy(&mock_api("flooded", "auto", configuration, mock_messages(20, 0, "m"))).await;
    let before = resident(gateway.pid());
    let id = gateway.api().subscribe("flooded", &subscription(&receiver.url("/hook"))).await;
    let mut peak = before;
    let done = eventually(Duration::from_secs(60), || {
        peak = peak.max(resident(gateway.pid()));
        async { receiver.count() >= 20 }
    })
    .await;
    assert!(done, "delivery goes on: {} calls", receiver.count());
    let grown = peak.saturating_sub(before);
    assert!(grown < 50 * 1024 * 1024, "resident memory grew by {} MiB", grown / 1024 / 1024);
    assert_eq!(gateway.api().subscription("flooded", &id).await["consumerStatus"], "STARTED");
    let entries = gateway.api().get("/management/v2/apis/flooded/webhook-logs?perPage=1").await.body;
    let logged = entries["data"][0]["response"]["body"].as_str().unwrap_or_default().len();
    assert!(logged <= 64 * 1024, "the logged body is the bounded prefix: {logged} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dlq_written_as_a_bare_name_is_the_reference_products_form() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut api = advanced_mock_api("bare", "auto", json!({}), mock_messages(1, 10, "m"), true);
    api["listeners"][0]["entrypoints"][0]["dlq"] = json!("dlq");
    gateway.api().deploy(&api).await;
    let receiver = Receiver::answering(400).await;
    gateway.api().subscribe("bare", &advanced_subscription(&receiver.url("/hook"), json!({}))).await;
    let dead = eventually(WAIT, || async { gateway.count_lines("mock endpoint received a message") == 1 }).await;
    assert!(dead, "{}", gateway.output());

    api["id"] = json!("bad-dlq");
    api["listeners"][0]["entrypoints"][0]["dlq"] = json!(42);
    let reply = gateway.api().post("/management/v2/apis", &api).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.to_string().contains("dlq"), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definition_with_nothing_runnable_says_why() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut api = mock_api("sse-only", "auto", json!({}), mock_messages(1, 10, "m"));
    api["listeners"] = json!([{ "type": "http", "paths": [{ "path": "/sse" }], "entrypoints": [{ "type": "sse" }] }]);
    let reply = gateway.api().post("/management/v2/apis", &api).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let reasons = reply.body["parameters"]["reasons"].as_array().cloned().unwrap_or_default();
    assert!(!reasons.is_empty(), "{}", reply.body);
    let message = reply.body["message"].as_str().unwrap();
    assert!(message.contains("sse") && !message.ends_with(": "), "{message}");
}
