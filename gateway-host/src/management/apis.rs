//! `/management/v2/apis[/{apiId}]`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::body::json_body;
use super::error::ApiError;
use super::AppState;
use crate::deploy::ApiView;
use crate::error::ServiceError;

pub(super) async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "data": state.catalog.views() }))
}

pub(super) async fn get(State(state): State<AppState>, Path(api_id): Path<String>) -> Result<Json<ApiView>, ApiError> {
    state
        .catalog
        .view(&api_id)
        .map(Json)
        .ok_or_else(|| ServiceError::NotFound(format!("API {api_id} not found")).into())
}

pub(super) async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<ApiView>), ApiError> {
    let view = state.apis.create(json_body(&body)?).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> Result<Json<ApiView>, ApiError> {
    Ok(Json(state.apis.update(&api_id, json_body(&body)?).await?))
}

pub(super) async fn delete(State(state): State<AppState>, Path(api_id): Path<String>) -> Result<StatusCode, ApiError> {
    state.apis.delete(&api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
