//! The egress guard: a consumer's callback, token endpoint or JWT audience may reach only public addresses unless the
//! operator allows networks. A literal address is refused at subscription time; a name is resolved at connection
//! time and a denied address fails the delivery with `CALLBACK_ADDRESS_DENIED`, following the exception rules.
//! Files a subscription names are read only under the operator's folder.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::certs::Pki;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::receiver::Receiver;
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(20);
/// What the tests' gateways allow by default is overridden: nothing but public addresses.
const NOTHING_ALLOWED: (&str, &str) = ("GATEWAY_EGRESS_ALLOW_NETWORKS", "");

async fn refused_path(gateway: &Gateway, api: &str, body: &Value) -> (String, String) {
    let reply = gateway.api().post(&format!("/management/v2/apis/{api}/subscriptions"), body).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let path = reply.body["parameters"]["path"].as_str().unwrap_or_default().to_string();
    (path, reply.body["message"].as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_addresses_of_the_operators_network_are_refused_when_subscribing() {
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[NOTHING_ALLOWED]);
    gateway
        .api()
        .deploy(&advanced_mock_api("guarded", "at-least-once", json!({}), mock_messages(1, 10, "m"), false))
        .await;
    let prefix = "consumerConfiguration.entrypointConfiguration";
    for (callback, range) in [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/hook", "private"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://100.64.0.1/hook", "shared (CGNAT)"),
    ] {
        let (path, message) = refused_path(&gateway, "guarded", &advanced_subscription(callback, json!({}))).await;
        assert_eq!(path, format!("{prefix}.callbackUrl"), "{callback}");
        assert!(
            message.contains(&format!("is a {range} address")) && message.contains("egress.allow_networks"),
            "{message}"
        );
    }
    let oauth2 = json!({ "auth": { "type": "oauth2", "oauth2": {
        "endpoint": "http://192.168.1.1/token", "clientId": "c", "clientSecret": "s" } } });
    let (path, _) = refused_path(&gateway, "guarded", &advanced_subscription("https://example.com/hook", oauth2)).await;
    assert_eq!(path, format!("{prefix}.auth.oauth2.endpoint"));
    let jwt = json!({ "auth": { "type": "jwtProfileOauth2", "jwtProfileOauth2": { "issuer": "i", "subject": "s",
        "audience": "http://172.16.0.1/token", "signatureAlgorithm": "HMAC_HS256", "keyContent": "k" } } });
    let (path, _) = refused_path(&gateway, "guarded", &advanced_subscription("https://example.com/hook", jwt)).await;
    assert_eq!(path, format!("{prefix}.auth.jwtProfileOauth2.audience"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_into_the_operators_network_fails_delivery_until_the_network_is_allowed() {
    let home = GatewayHome::new();
    let mut gateway = home.start_with_env(&[NOTHING_ALLOWED]);
    let (callback, token_server) = (Receiver::answering(200).await, Receiver::answering(200).await);
    let port = |url: String| url.rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    let configuration = json!({ "logging": { "enabled": true }, "interruptConsumptionOnException": true });
    gateway
        .api()
        .deploy(&advanced_mock_api("named", "at-least-once", configuration, mock_messages(3, 10, "m"), false))
        .await;
    // `localhost` is a name: accepted when subscribing, resolved (to loopback) when connecting.
    let direct = format!("http://localhost:{}/hook", port(callback.url("")));
    let direct_id = gateway.api().subscribe("named", &advanced_subscription(&direct, json!({}))).await;
    let oauth2 = json!({ "auth": { "type": "oauth2", "oauth2": { "clientId": "c", "clientSecret": "s",
        "endpoint": format!("http://localhost:{}/token", port(token_server.url(""))) } } });
    let other = format!("http://localhost:{}/other", port(callback.url("")));
    let via_token = gateway.api().subscribe("named", &advanced_subscription(&other, oauth2)).await;
    for id in [&direct_id, &via_token] {
        let failed = gateway.api().wait_consumer_status("named", id, "FAILURE").await;
        let cause = failed["failureCause"].as_str().unwrap_or_default();
        assert!(cause.contains("CALLBACK_ADDRESS_DENIED") && cause.contains("localhost resolves to"), "{cause}");
    }
    assert_eq!((callback.count(), token_server.count()), (0, 0), "no connection reached loopback");
    let logs = gateway.api().get("/management/v2/apis/named/webhook-logs").await.body;
    let keys: Vec<&str> =
        logs["data"].as_array().unwrap().iter().filter_map(|entry| entry["errorKey"].as_str()).collect();
    assert!(!keys.is_empty() && keys.iter().all(|key| *key == "CALLBACK_ADDRESS_DENIED"), "{logs}");

    // The operator allows loopback: the failed message is delivered on resume.
    assert_eq!(gateway.terminate(), Some(0));
    let gateway = home.start();
    assert_eq!(gateway.api().act("named", &direct_id, "_resumeFailure").await.status, 200);
    assert!(callback.wait_for(3, WAIT).await, "{}", gateway.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_files_are_read_only_under_the_operators_folder() {
    let pki = Pki::new();
    let folder = tempfile::tempdir().unwrap();
    let files = folder.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(folder.path().join("outside.pem"), &pki.ca_pem).unwrap();
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_EGRESS_SUBSCRIPTION_FILES_DIR", files.to_str().unwrap())]);
    gateway.api().deploy(&mock_api("files", "at-least-once", json!({}), mock_messages(2, 10, "m"))).await;
    let receiver = Receiver::https(pki.server(&pki.issue(&["localhost"]), false), 200).await;
    let with_trust = |path: &str| {
        let mut body = subscription(&receiver.https_url("/hook"));
        body["consumerConfiguration"]["entrypointConfiguration"]["ssl"] =
            json!({ "trustStore": { "type": "PEM", "path": path } });
        body
    };
    gateway.api().subscribe("files", &with_trust("ca.pem")).await;
    assert!(receiver.wait_for(2, WAIT).await, "trusted through the CA file of the folder: {}", gateway.output());

    let path = "consumerConfiguration.entrypointConfiguration.ssl.trustStore.path";
    let outside = folder.path().join("outside.pem");
    for file in [outside.to_str().unwrap(), "../outside.pem", "/etc/passwd"] {
        let (refused, message) = refused_path(&gateway, "files", &with_trust(file)).await;
        assert_eq!(refused, path, "{file}");
        assert!(message.contains("is not under the gateway's egress.subscription_files_dir"), "{message}");
    }
    let closed = GatewayHome::new();
    let gateway = closed.start();
    gateway.api().deploy(&mock_api("files", "at-least-once", json!({}), mock_messages(2, 10, "m"))).await;
    let (refused, message) = refused_path(&gateway, "files", &with_trust(files.join("ca.pem").to_str().unwrap())).await;
    assert_eq!(refused, path);
    assert!(message.contains("egress.subscription_files_dir, which is not set"), "{message}");
}
