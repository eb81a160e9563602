//! `/_node/health`, `/_node/plugins`, `/metrics`.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;
use crate::plugins::PluginStatus;

/// Whether the gateway is up.
pub(super) async fn health() -> Json<Value> {
    Json(json!({ "status": "UP" }))
}

/// Every plugin file seen: loaded, or refused and why.
pub(super) async fn plugins(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "data": state.registry.records() }))
}

/// Prometheus text.
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let records = state.registry.records();
    let loaded = records.iter().filter(|record| record.status == PluginStatus::Loaded).count();
    let mut text = String::new();
    let mut gauge = |name: &str, help: &str, labels: &str, value: usize| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{labels} {value}");
    };
    gauge("gateway_plugins", "Plugin files by status.", "{status=\"loaded\"}", loaded);
    gauge("gateway_plugins_refused", "Plugin files refused.", "", records.len() - loaded);
    gauge("gateway_apis_deployed", "APIs deployed.", "", state.catalog.deployed_count());
    gauge("gateway_subscriptions_running", "Subscriptions delivering.", "", state.dispatcher.running_count());
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
