//! `.../subscriptions/{id}/_replay` and `.../subscriptions/{id}/replays/{replayId}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::body::json_body;
use super::error::ApiError;
use super::AppState;
use crate::replay::ReplayView;

pub(super) async fn start(
    State(state): State<AppState>,
    Path((api_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<ReplayView>), ApiError> {
    let replay = state.replays.start(&api_id, &id, json_body(&body)?).await?;
    Ok((StatusCode::ACCEPTED, Json(replay)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((api_id, id, replay_id)): Path<(String, String, String)>,
) -> Result<Json<ReplayView>, ApiError> {
    Ok(Json(state.replays.get(&api_id, &id, &replay_id)?))
}
