//! Plugin loading: incompatible, corrupt and ABI-mismatched files are refused with their reason while the others
//! keep serving.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::gateway::GatewayHome;
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages, subscription};

fn record<'a>(plugins: &'a Value, file: &str) -> &'a Value {
    plugins["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["file"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no record of {file}: {plugins}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_plugin_files_are_refused_with_their_reason_and_the_rest_serve() {
    let home = GatewayHome::new();
    home.install_plugin("libfixture_old_version.so");
    home.install_plugin("libfixture_abi_mismatch.so");
    home.write_plugin_file("libcorrupt.so", b"\x7fELF this is not a shared object at all");
    let gateway = home.start();

    let plugins = gateway.api().get("/_node/plugins").await.body;
    assert_eq!(plugins["data"].as_array().unwrap().len(), 7);
    let real = [
        ("libwebhook.so", "webhook"),
        ("libwebhook_advanced.so", "webhook-advanced"),
        ("libmock.so", "mock"),
        ("libkafka.so", "kafka"),
    ];
    for (file, id) in real {
        assert_eq!(record(&plugins, file)["status"], "loaded");
        assert_eq!(record(&plugins, file)["id"], id);
        assert_eq!(record(&plugins, file)["version"], "4.0.0");
    }
    assert_eq!(record(&plugins, "libwebhook_advanced.so")["features"], json!(["dlq"]));
    let old = record(&plugins, "libfixture_old_version.so");
    assert_eq!(old["status"], "refused");
    assert_eq!(old["id"], "webhook-legacy");
    assert_eq!(old["version"], "3.2.0");
    assert_eq!(
        old["reason"],
        "incompatible: plugin versions 3.x need platform >=4.4.0, <4.6.0, this host implements 4.8.0"
    );
    let mismatch = record(&plugins, "libfixture_abi_mismatch.so");
    assert_eq!(mismatch["status"], "refused");
    assert!(mismatch["reason"].as_str().unwrap().starts_with("ABI mismatch:"), "{mismatch}");
    let corrupt = record(&plugins, "libcorrupt.so");
    assert_eq!(corrupt["status"], "refused");
    assert!(corrupt["reason"].as_str().unwrap().starts_with("not a loadable plugin library:"), "{corrupt}");

    assert_eq!(gateway.count_lines("plugin refused"), 3);
    assert!(
        gateway.output().lines().any(|line| line.contains("plugin refused")
            && line.contains("plugins/libfixture_old_version.so ")
            && line.contains("plugin=webhook-legacy")
            && line.contains("version=3.2.0")
            && line.contains("reason=incompatible")),
        "one log line names file, plugin, version and reason:\n{}",
        gateway.output()
    );

    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&mock_api("still-serving", "auto", json!({}), mock_messages(2, 10, "m"))).await;
    gateway.api().subscribe("still-serving", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(2, Duration::from_secs(15)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_whose_plugin_was_refused_is_not_deployed_and_says_why() {
    let home = GatewayHome::empty();
    home.install_plugin("libmock.so");
    home.install_plugin("libfixture_old_version.so");
    let mut definition = mock_api("legacy", "auto", json!({}), mock_messages(1, 10, "m"));
    definition["listeners"][0]["entrypoints"][0]["type"] = json!("webhook-legacy");
    home.write_definition("legacy.json", &definition);
    let gateway = home.start();

    let api = gateway.api().get("/management/v2/apis/legacy").await;
    assert_eq!(api.status, 200);
    assert_eq!(api.body["state"], "NOT_DEPLOYED");
    let reasons = api.body["reasons"].to_string();
    assert!(reasons.contains("plugin `webhook-legacy` was refused: incompatible"), "{reasons}");

    let refused =
        gateway.api().post("/management/v2/apis/legacy/subscriptions", &subscription("http://127.0.0.1:9/")).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body["message"].as_str().unwrap().contains("not deployed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_plugin_fails_only_the_subscription_it_serves() {
    let home = GatewayHome::new();
    home.install_plugin("libfixture_panicking.so");
    let gateway = home.start();
    let mut panicking = mock_api("panicking", "auto", json!({}), json!({}));
    panicking["endpointGroups"] =
        json!([{ "name": "source", "type": "panicking", "endpoints": [{ "name": "p", "type": "panicking" }] }]);
    gateway.api().deploy(&panicking).await;
    gateway.api().deploy(&mock_api("healthy", "auto", json!({}), mock_messages(3, 10, "m"))).await;
    let receiver = Receiver::answering(200).await;
    let broken = gateway.api().subscribe("panicking", &subscription(&receiver.url("/broken"))).await;
    let failed = gateway.api().wait_consumer_status("panicking", &broken, "FAILURE").await;
    assert_eq!(failed["failureCause"], "source failed: plugin task panicked: the fixture source panics on purpose");
    gateway.api().subscribe("healthy", &subscription(&receiver.url("/healthy"))).await;
    assert!(receiver.wait_for(3, Duration::from_secs(15)).await, "the host and the other subscriptions keep working");
    assert_eq!(gateway.api().get("/_node/health").await.body["status"], "UP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qos_the_source_plugin_does_not_support_is_refused_at_deploy() {
    let home = GatewayHome::new();
    home.install_plugin("libfixture_panicking.so");
    let gateway = home.start();
    let mut api = mock_api("unsupported", "at-least-once", json!({}), json!({}));
    api["endpointGroups"] =
        json!([{ "name": "source", "type": "panicking", "endpoints": [{ "name": "p", "type": "panicking" }] }]);
    let reply = gateway.api().post("/management/v2/apis", &api).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"]["path"], "listeners[0].entrypoints[0].qos", "{}", reply.body);
    assert!(reply.body["message"].as_str().unwrap().contains("at-least-once"), "{}", reply.body);
    api["listeners"][0]["entrypoints"][0]["qos"] = json!("auto");
    assert_eq!(gateway.api().post("/management/v2/apis", &api).await.status, 201, "a supported QoS deploys");
}
