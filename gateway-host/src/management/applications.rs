//! `/management/organizations/{orgId}/environments/{envId}/applications[/{applicationId}]`: the minimum of the
//! reference product's applications a subscribing client needs (it keeps them in its first API, v1): created with a
//! name, a description and settings, listed, read. A subscription whose `applicationId` names one shows its name (in
//! its `application` object and in webhook logs); an id that names none is kept as given.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::json_body;
use super::error::ApiError;
use super::reference::ReferenceIds;
use super::AppState;
use crate::error::ServiceError;

/// The reference's `NewApplicationEntity`, as far as it is checked (it is kept as sent, with its settings).
#[derive(Deserialize)]
#[allow(dead_code)] // read by serde only: a field of the wrong type is refused with its path
struct NewApplication {
    name: String,
    description: Option<String>,
    settings: Option<serde_json::Map<String, Value>>,
    groups: Option<Vec<String>>,
    domain: Option<String>,
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path((organization, environment)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_ids(&state, &organization, &environment)?;
    let body = json_body(&body)?;
    let checked: NewApplication =
        definition::parse_json(body.clone(), "").map_err(|error| ServiceError::Invalid(vec![error]))?;
    if checked.name.trim().is_empty() {
        return Err(ServiceError::invalid("name", "an application needs a name").into());
    }
    let now = crate::time::now_rfc3339();
    let id = uuid::Uuid::new_v4().to_string();
    let mut application = json!({ "id": id, "type": "SIMPLE", "status": "ACTIVE", "settings": {},
        "created_at": now, "updated_at": now });
    for (key, value) in body.as_object().into_iter().flatten().filter(|(key, _)| key.as_str() != "id") {
        application[key] = value.clone();
    }
    let (key, kept) = (id.clone(), application.clone());
    state.store.call(move |store| store.put_application(&key, &kept)).await.map_err(ServiceError::from)?;
    tracing::info!(application = %id, "application created");
    Ok((StatusCode::CREATED, Json(application)))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path((organization, environment)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    require_ids(&state, &organization, &environment)?;
    let applications = state.store.call(|store| store.applications()).await.map_err(ServiceError::from)?;
    Ok(Json(Value::Array(applications)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((organization, environment, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    require_ids(&state, &organization, &environment)?;
    let applications = state.store.call(|store| store.applications()).await.map_err(ServiceError::from)?;
    let found = applications.into_iter().find(|application| application["id"] == id.as_str());
    Ok(Json(found.ok_or_else(|| ServiceError::NotFound(format!("application {id} not found")))?))
}

/// The name of each kept application, by id.
pub(super) async fn names(state: &AppState) -> Result<HashMap<String, String>, ServiceError> {
    let applications = state.store.call(|store| store.applications()).await?;
    Ok(applications
        .into_iter()
        .filter_map(|application| {
            Some((application["id"].as_str()?.to_string(), application["name"].as_str()?.to_string()))
        })
        .collect())
}

/// The organization and environment must be the ones this gateway answers for (`DEFAULT` or the configured ones).
fn require_ids(state: &AppState, organization: &str, environment: &str) -> Result<(), ServiceError> {
    let ids = &state.reference_ids;
    if ReferenceIds::accepts(&ids.organization, organization) && ReferenceIds::accepts(&ids.environment, environment) {
        Ok(())
    } else {
        Err(ServiceError::NotFound(format!("no organization {organization} with environment {environment}")))
    }
}
