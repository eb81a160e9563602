//! Request bodies: JSON, with a clear error when they are not.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::Value;

use super::error::ApiError;

/// Parses a request body as a JSON document.
pub(super) fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, "validation.invalidJson", format!("the body is not valid JSON: {error}"))
    })
}
