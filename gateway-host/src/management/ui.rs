//! The operator's pages, static HTML and JavaScript that call the management API with the token the user types
//! (kept for the browser tab only, sent in a header, never in a URL): the console (`/ui/`, where `GET /` leads)
//! and the webhook logs page (`/ui/webhook-logs`).

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Redirect};

const CONSOLE: &str = include_str!("console.html");
const WEBHOOK_LOGS: &str = include_str!("webhook-logs.html");

/// `GET /`: the console.
pub(super) async fn root() -> Redirect {
    Redirect::temporary("/ui/")
}

/// `GET /ui/`: plugins, APIs, subscriptions with their counts and lifecycle buttons.
pub(super) async fn console() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], CONSOLE)
}

/// `GET /ui/webhook-logs`: one API's webhook logs, filtered, with each entry's detail.
pub(super) async fn webhook_logs() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], WEBHOOK_LOGS)
}
