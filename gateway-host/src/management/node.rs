//! `/_node/health`, `/_node/plugins`, `/metrics`.

use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use definition::{ConsumerStatus, SubscriptionStatus};
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::error::ServiceError;
use crate::metrics::{render, LagRow, Scrape, SubscriptionState};
use crate::plugins::PluginStatus;
use crate::store::StatusRow;

/// Whether the gateway is up.
pub(super) async fn health() -> Json<Value> {
    Json(json!({ "status": "UP" }))
}

/// Every plugin file seen: loaded, or refused and why.
pub(super) async fn plugins(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "data": state.registry.records() }))
}

/// Prometheus metrics: OpenMetrics text when asked for, else the Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    let records = state.registry.records();
    let loaded = records.iter().filter(|record| record.status == PluginStatus::Loaded).count();
    let subscriptions = state.store.call(|store| store.subscription_statuses()).await.map_err(ServiceError::from)?;
    let metrics = &state.telemetry.metrics;
    let scrape = Scrape {
        plugins_loaded: loaded,
        plugins_refused: records.len() - loaded,
        apis_deployed: state.catalog.deployed_count(),
        subscriptions_running: state.dispatcher.running_count(),
        counts: metrics.counts(),
        subscriptions: subscriptions.iter().map(|subscription| state_of(&state, subscription)).collect(),
        per_subscription: metrics.per_subscription(),
        webhook_log_entries: state.telemetry.webhook_logs.counts(),
        lags: subscriptions.iter().flat_map(|subscription| lags_of(&state, subscription)).collect(),
        login_failures: state.users.failed_logins(),
        trace_spans: state.telemetry.spans.counts(),
        notifications: state.telemetry.notifications.counts(),
    };
    // Prometheus asks for OpenMetrics; promtool, curl and older scrapers get the Prometheus text format.
    let openmetrics = headers
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let content_type = if openmetrics {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    Ok(([(CONTENT_TYPE, content_type)], render(scrape, openmetrics)))
}

/// What the source of a subscription's API says of its lag.
fn lags_of(state: &AppState, subscription: &StatusRow) -> Vec<LagRow> {
    let lags = state.catalog.ask_source(&subscription.api_id, |source| source.lag(&subscription.id));
    lags.unwrap_or_default()
        .into_iter()
        .map(|(topic, partition, lag)| LagRow {
            api_id: subscription.api_id.clone(),
            subscription: subscription.id.clone(),
            topic,
            partition,
            lag,
        })
        .collect()
}

/// A subscription's status as `gateway_subscription_status` shows it, and whether its source tells trouble.
fn state_of(state: &AppState, subscription: &StatusRow) -> SubscriptionState {
    let status = match (subscription.status, subscription.consumer_status) {
        (SubscriptionStatus::Closed, _) => "CLOSED",
        (SubscriptionStatus::Paused, _) => "PAUSED",
        (SubscriptionStatus::Accepted, ConsumerStatus::Failure) => "FAILURE",
        (SubscriptionStatus::Accepted, ConsumerStatus::Stopped) => "STOPPED",
        (SubscriptionStatus::Accepted, ConsumerStatus::Started) => "STARTED",
    };
    let troubled = status == "STARTED"
        && state
            .catalog
            .ask_source(&subscription.api_id, |source| source.trouble(&subscription.id))
            .flatten()
            .is_some();
    SubscriptionState { api_id: subscription.api_id.clone(), id: subscription.id.clone(), status, troubled }
}
