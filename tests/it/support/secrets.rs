//! Where a secret would leak: the gateway's own log at debug level, and webhook log entries with every header and
//! body kept.

use std::time::Duration;

use serde_json::{json, Value};

use super::eventually;
use super::gateway::{Gateway, GatewayHome};

const WAIT: Duration = Duration::from_secs(20);

/// Webhook logging of every delivery with request and response headers and bodies.
pub fn log_everything() -> Value {
    json!({ "enabled": true, "request": { "headers": true, "payload": true },
            "response": { "headers": true, "payload": true } })
}

/// A gateway logging at debug level.
pub fn debug_gateway(home: &GatewayHome) -> Gateway {
    home.start_with_env(&[("GATEWAY_LOG_LEVEL", "debug")])
}

/// Asserts that `secret` is in neither the gateway's output nor the webhook log entries of `api`, once at least
/// `entries` entries are written (so that the check reads real entries).
pub async fn assert_secret_kept(gateway: &Gateway, api: &str, entries: usize, secret: &str) {
    let path = format!("/management/v2/apis/{api}/webhook-logs?perPage=100");
    let written = eventually(WAIT, || async {
        gateway.api().get(&path).await.body["data"].as_array().is_some_and(|data| data.len() >= entries)
    })
    .await;
    let logged = gateway.api().get(&path).await.body;
    assert!(written, "expected {entries} webhook log entries: {logged}");
    assert!(!logged.to_string().contains(secret), "a secret in the webhook logs: {logged}");
    let output = gateway.output();
    assert!(output.contains("DEBUG"), "the gateway logs at debug level");
    assert!(!output.contains(secret), "a secret in the gateway's log");
}
