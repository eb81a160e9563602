//! The webhook logs page (`/ui/webhook-logs`): static HTML and JavaScript that call the management API with the
//! token the user types (kept in the browser's local storage, never in the page).

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("webhook-logs.html");

pub(super) async fn webhook_logs() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}
