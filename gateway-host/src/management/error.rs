//! Errors as the management API returns them: `{httpStatus, message, technicalCode, parameters}`.

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

/// Any path the API does not have.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "notFound", "no such path")
}
