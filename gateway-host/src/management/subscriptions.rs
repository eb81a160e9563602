//! `/management/v2/apis/{apiId}/subscriptions[/{id}[/_action]]`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use definition::Subscription;
use serde_json::{json, Value};

use super::body::json_body;
use super::error::ApiError;
use super::AppState;
use crate::dispatch::Action;

pub(super) async fn list(State(state): State<AppState>, Path(api_id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "data": state.subscriptions.list(&api_id).await? })))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> Result<Json<Subscription>, ApiError> {
    Ok(Json(state.subscriptions.get(&api_id, &id).await?))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Subscription>), ApiError> {
    let subscription = state.subscriptions.create(&api_id, json_body(&body)?).await?;
    Ok((StatusCode::CREATED, Json(subscription)))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Subscription>, ApiError> {
    Ok(Json(state.subscriptions.update(&api_id, &id, json_body(&body)?).await?))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.subscriptions.delete(&api_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn act(
    State(state): State<AppState>,
    Path((api_id, id, action)): Path<(String, String, String)>,
) -> Result<Json<Subscription>, ApiError> {
    let action = Action::from_segment(&action).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("unknown action `{action}`; expected _pause, _resume, _close or _resumeFailure"),
        )
    })?;
    Ok(Json(state.subscriptions.act(&api_id, &id, action).await?))
}
