//! `/management/v2/apis/{apiId}/subscriptions[/{id}[/_action]]`, in the gateway's shapes or, on the reference
//! product's paths, in the reference's ([`Reference`]).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use definition::{Subscription, SubscriptionStatus};
use secrets::SecretFields;
use serde_json::{json, Value};

use super::applications;
use super::body::json_body;
use super::error::ApiError;
use super::reference::{self, Reference};
use super::AppState;
use crate::dispatch::Action;
use crate::error::ServiceError;
use plugin_api::Gauge;

pub(super) async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    let subscriptions: Vec<Subscription> =
        state.subscriptions.list(&api_id).await?.into_iter().map(|subscription| seen(&state, subscription)).collect();
    let Some(Extension(reference)) = dialect else {
        let data: Vec<Value> = subscriptions.iter().map(|subscription| ours(&state, subscription)).collect();
        return Ok(Json(json!({ "data": data })));
    };
    let raw = raw.as_deref().unwrap_or_default();
    reference::check_query(Some(raw), "statuses", &["PENDING", "REJECTED", "ACCEPTED", "CLOSED", "PAUSED", "RESUMED"])?;
    reference::check_query(Some(raw), "expands", &["api", "application", "plan", "subscribedBy"])?;
    // The reference lists ACCEPTED subscriptions unless asked for other statuses.
    let statuses = match reference::form_values(raw, "statuses") {
        statuses if statuses.is_empty() => vec!["ACCEPTED".to_string()],
        statuses => statuses,
    };
    let (applications, plans) = (reference::form_values(raw, "applicationIds"), reference::form_values(raw, "planIds"));
    let name = state.catalog.view(&api_id).map(|view| view.name);
    let application_names = applications::names(&state).await?;
    let items: Vec<Value> = subscriptions
        .iter()
        .filter(|subscription| statuses.contains(&status_name(subscription.status)))
        .filter(|subscription| applications.is_empty() || applications.contains(&subscription.application_id))
        .filter(|subscription| {
            plans.is_empty() || subscription.plan_id.as_ref().is_some_and(|plan| plans.contains(plan))
        })
        .map(|subscription| {
            let application = application_names.get(&subscription.application_id).map(String::as_str);
            reference::subscription(subscription, name.as_deref(), application)
        })
        .collect();
    let (page, per_page) = reference::page_params(&query)?;
    let path = format!("{}/apis/{api_id}/subscriptions", reference.base);
    Ok(Json(reference::page(items, page, per_page, &path, &reference::query_text(&query))))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    if dialect.is_some() {
        reference::check_query(raw.as_deref(), "expands", &["plan", "application", "subscribedBy"])?;
    }
    let subscription = state.subscriptions.get(&api_id, &id).await?;
    Ok(Json(shown(&state, &subscription, dialect.is_some()).await?))
}

/// The last points of a subscription's counters (`metrics.history_interval_ms` apart), for the console's plots.
pub(super) async fn history(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let subscription = state.subscriptions.get(&api_id, &id).await?;
    let history = &state.telemetry.history;
    Ok(Json(json!({
        "intervalMs": history.interval().as_millis() as u64,
        "points": history.points(&subscription.id),
    })))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let subscription = state.subscriptions.create(&api_id, json_body(&body)?).await?;
    let mut response =
        (StatusCode::CREATED, Json(shown(&state, &subscription, dialect.is_some()).await?)).into_response();
    if let Some(Extension(reference)) = dialect {
        let location = format!("{}/apis/{api_id}/subscriptions/{}", reference.base, subscription.id);
        if let Ok(value) = HeaderValue::try_from(location) {
            response.headers_mut().insert(LOCATION, value);
        }
    }
    Ok(response)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let subscription = state.subscriptions.update(&api_id, &id, json_body(&body)?).await?;
    Ok(Json(shown(&state, &subscription, dialect.is_some()).await?))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    dialect: Option<Extension<Reference>>,
) -> Result<Response, ApiError> {
    if dialect.is_some() {
        // The reference product closes subscriptions; it has no DELETE of one.
        return Ok(reference::method_not_allowed("GET, PUT"));
    }
    state.subscriptions.delete(&api_id, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn act(
    State(state): State<AppState>,
    Path((api_id, id, action)): Path<(String, String, String)>,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    let action = Action::from_segment(&action).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("unknown action `{action}`; expected _pause, _resume, _close or _resumeFailure"),
        )
    })?;
    if dialect.is_some() && action == Action::Close {
        // The reference answers a close of a closed subscription with the subscription, unchanged.
        let current = state.subscriptions.get(&api_id, &id).await?;
        if current.status == SubscriptionStatus::Closed {
            return Ok(Json(shown(&state, &current, true).await?));
        }
    }
    let subscription = state.subscriptions.act(&api_id, &id, action).await?;
    Ok(Json(shown(&state, &subscription, dialect.is_some()).await?))
}

/// A subscription in the gateway's shape, or the reference's (with its application's name when it names one), as
/// [`seen`].
async fn shown(state: &AppState, subscription: &Subscription, reference: bool) -> Result<Value, ServiceError> {
    let subscription = seen(state, subscription.clone());
    if reference {
        let name = state.catalog.view(&subscription.api_id).map(|view| view.name);
        let applications = applications::names(state).await?;
        let application = applications.get(&subscription.application_id).map(String::as_str);
        Ok(reference::subscription(&subscription, name.as_deref(), application))
    } else {
        Ok(ours(state, &subscription))
    }
}

/// A (seen) subscription in the gateway's shape: its record, how many messages this node holds behind their key
/// when it holds some (`ordering.mode = key`), and the deliveries it may have in flight now while it runs here.
fn ours(state: &AppState, subscription: &Subscription) -> Value {
    let mut shown = serde_json::to_value(subscription).unwrap_or(Value::Null);
    for (field, gauge) in [("heldMessages", Gauge::Held), ("inFlightLimit", Gauge::InFlightLimit)] {
        let level = state.telemetry.metrics.level(&subscription.id, gauge).filter(|level| *level > 0);
        if let (Some(level), Some(object)) = (level, shown.as_object_mut()) {
            object.insert(field.to_string(), json!(level));
        }
    }
    shown
}

/// The subscription as the management API shows it: its configuration's secrets masked (it never answers one),
/// and, while it runs here with no failure of its own, why its source cannot fully read or commit right now as its
/// `failureCause` (a broker unreachable, commits refused: told by the endpoint plugin while it lasts).
fn seen(state: &AppState, mut subscription: Subscription) -> Subscription {
    SecretFields::subscription().mask(&mut subscription.consumer_configuration.entrypoint_configuration);
    if subscription.failure_cause.is_none() && subscription.should_run() {
        let id = subscription.id.as_str();
        subscription.failure_cause =
            state.catalog.ask_source(&subscription.api_id, |source| source.trouble(id)).flatten();
    }
    subscription
}

fn status_name(status: SubscriptionStatus) -> String {
    serde_json::to_value(status).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
}
