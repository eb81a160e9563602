//! Errors as the management API returns them: `{httpStatus, message, technicalCode, parameters}`.

use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::ServiceError;

/// An error response.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    technical_code: &'static str,
    parameters: Value,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, technical_code: &'static str, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), technical_code, parameters: json!({}) }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "notFound", message),
            ServiceError::Invalid(errors) => Self {
                status: StatusCode::BAD_REQUEST,
                message,
                technical_code: "validation.invalid",
                parameters: json!({
                    "path": errors.first().map(|error| error.path.clone()).unwrap_or_default(),
                    "errors": errors,
                }),
            },
            ServiceError::NotDeployable { api_id, reasons } => Self {
                status: StatusCode::BAD_REQUEST,
                message,
                technical_code: "api.notDeployable",
                parameters: json!({ "apiId": api_id, "reasons": reasons }),
            },
            ServiceError::Conflict(_) => Self::new(StatusCode::BAD_REQUEST, "state.conflict", message),
            ServiceError::Store(error) => {
                tracing::error!(error = %error, "management request failed in the store");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the gateway log")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "httpStatus": self.status.as_u16(),
            "message": self.message,
            "technicalCode": self.technical_code,
            "parameters": self.parameters,
        });
        (self.status, Json(body)).into_response()
    }
}

/// Gives every error the documented JSON shape, those the framework answers by itself included (a path or query
/// it cannot read, a method a route does not have, a body over the size limit): their text becomes the message,
/// their headers (`Allow`) stay.
pub(super) async fn as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, FRAMEWORK_MESSAGE_LIMIT).await.unwrap_or_default();
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("refused").to_string(),
        text => text.to_string(),
    };
    let technical_code = match status {
        StatusCode::BAD_REQUEST => "request.invalid",
        StatusCode::NOT_FOUND => "notFound",
        StatusCode::METHOD_NOT_ALLOWED => "request.methodNotAllowed",
        StatusCode::PAYLOAD_TOO_LARGE => "request.tooLarge",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "request.unsupportedMediaType",
        status if status.is_server_error() => "internal",
        _ => "request.refused",
    };
    parts.headers.remove(CONTENT_LENGTH);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was not read: the connection cannot carry another request.
        parts.headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    let json = ApiError { status, message, technical_code, parameters: json!({}) }.into_response();
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, json_body)
}

/// The framework's own error texts are short; more is not read.
const FRAMEWORK_MESSAGE_LIMIT: usize = 4096;

/// Any path the API does not have.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "notFound", "no such path")
}
