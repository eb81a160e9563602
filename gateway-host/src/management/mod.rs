//! The management API of SPEC §9: one file per resource, behind a bearer token or a management user's Basic
//! credentials (except the health check, which load balancers and scripts poll without credentials, and the static
//! pages, whose calls carry the token).

mod apis;
mod applications;
mod auth;
mod body;
mod error;
mod node;
mod openapi;
mod plans;
pub mod reference;
mod replays;
mod subscriptions;
mod ui;
pub mod users;
mod webhook_logs;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::app::App;

/// The shared state of every handler.
pub type AppState = Arc<App>;

/// The management API's routes.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/_node/plugins", get(node::plugins))
        .route("/metrics", get(node::metrics))
        .route("/management/v2/apis", get(apis::list).post(apis::create))
        .route("/management/v2/apis/{api_id}", get(apis::get).put(apis::update).delete(apis::delete))
        .route("/management/v2/apis/_import/definition", post(apis::import))
        .route("/management/v2/apis/{api_id}/_import/definition", axum::routing::put(apis::update))
        .route("/management/v2/apis/{api_id}/_export/definition", get(apis::export))
        .route("/management/v2/apis/{api_id}/_start", post(apis::start))
        .route("/management/v2/apis/{api_id}/_stop", post(apis::stop))
        .route("/management/v2/apis/{api_id}/deployments", post(apis::deploy))
        .route("/management/v2/apis/{api_id}/deployments/current", get(apis::current_deployment))
        .route("/management/v2/apis/{api_id}/plans", get(plans::list).post(plans::create))
        .route("/management/v2/apis/{api_id}/plans/{plan_id}", get(plans::get).put(plans::update).delete(plans::delete))
        .route("/management/v2/apis/{api_id}/plans/{plan_id}/{action}", post(plans::act))
        .route(
            "/management/organizations/{organization}/environments/{environment}/applications",
            get(applications::list).post(applications::create),
        )
        .route(
            "/management/organizations/{organization}/environments/{environment}/applications/{application_id}",
            get(applications::get),
        )
        .route("/management/v2/apis/{api_id}/subscriptions", get(subscriptions::list).post(subscriptions::create))
        .route(
            "/management/v2/apis/{api_id}/subscriptions/{id}",
            get(subscriptions::get).put(subscriptions::update).delete(subscriptions::delete),
        )
        .route("/management/v2/apis/{api_id}/subscriptions/{id}/{action}", post(subscriptions::act))
        .route("/management/v2/apis/{api_id}/subscriptions/{id}/_replay", post(replays::start))
        .route("/management/v2/apis/{api_id}/subscriptions/{id}/history", get(subscriptions::history))
        .route("/management/v2/apis/{api_id}/subscriptions/{id}/replays/{replay_id}", get(replays::get))
        .route("/management/v2/apis/{api_id}/webhook-logs", get(webhook_logs::list))
        .route("/management/v2/apis/{api_id}/logs/messages", get(webhook_logs::messages))
        .route("/management/v2/apis/{api_id}/webhook-logs/{request_id}", get(webhook_logs::get))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&state), auth::require_credentials));
    let routes = Router::new()
        .route("/_node/health", get(node::health))
        .route("/openapi.json", get(openapi::document))
        .route("/", get(ui::root))
        .route("/ui", get(ui::root))
        .route("/ui/", get(ui::console))
        .route("/ui/webhook-logs", get(ui::webhook_logs))
        .merge(protected)
        .fallback(error::not_found)
        .layer(axum::middleware::map_response(error::as_json))
        .with_state(Arc::clone(&state));
    // The reference product's paths are rewritten before routing: a router in front whose only route is this one.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn_with_state(state, reference::dialect))
        .layer(axum::middleware::map_request(without_trailing_slash))
}

/// `/management/v2/apis/` answers as `/management/v2/apis` (the reference's clients add the slash), on every API
/// path; the console's `/ui/` keeps its own.
async fn without_trailing_slash(mut request: axum::extract::Request) -> axum::extract::Request {
    let path = request.uri().path();
    let api_path =
        ["/management/", "/_node/", "/metrics/", "/openapi.json/"].iter().any(|prefix| path.starts_with(prefix));
    if api_path && path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rewritten = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = rewritten.parse() {
            *request.uri_mut() = uri;
        }
    }
    request
}
