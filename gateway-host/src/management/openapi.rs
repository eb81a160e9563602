//! The OpenAPI 3 document of the management API, kept in the repository beside the routes it describes
//! (`openapi.json`) and held true by the end-to-end tests (`tests/it/openapi.rs`, schemathesis).

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// The document.
const DOCUMENT: &str = include_str!("openapi.json");

/// `GET /openapi.json`: open, like the health check, so that tools can read it without a secret.
pub(super) async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT)
}
