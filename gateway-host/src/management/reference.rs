//! The reference product's dialect of the management API: the same operations served under
//! `/management/v2/environments/{envId}` and `/management/v2/organizations/{orgId}/environments/{envId}`, with the
//! reference's shapes (subscription objects, `Pagination` and `Links`, errors with `details[]` and string
//! parameters). The ids are `DEFAULT` or the configured ones; anything else is a 404.
//!
//! Requests on those paths are rewritten to the gateway's own paths before routing and marked with [`Reference`];
//! handlers shape their answers by it, and errors are reshaped here on the way out.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use definition::Subscription;
use serde_json::{json, Map, Value};

use super::AppState;

/// The id every reference path accepts.
const DEFAULT_ID: &str = "DEFAULT";
/// An error body is not read beyond this.
const ERROR_LIMIT: usize = 64 * 1024;
/// The reference's page size when none is asked.
pub(super) const DEFAULT_PER_PAGE: usize = 10;

/// The request came on a reference path: its base (`/management/v2/environments/DEFAULT`), for links.
#[derive(Debug, Clone)]
pub(super) struct Reference {
    pub(super) base: String,
}

/// The ids of the environment and organization this gateway answers for.
#[derive(Debug, Clone)]
pub struct ReferenceIds {
    /// `management.environment_id`.
    pub environment: String,
    /// `management.organization_id`.
    pub organization: String,
}

impl ReferenceIds {
    /// Whether a path's id `given` is `DEFAULT` or the `configured` one.
    pub(super) fn accepts(configured: &str, given: &str) -> bool {
        given == DEFAULT_ID || given == configured
    }
}

/// Rewrites a reference path to the gateway's own, marks the request, and reshapes its errors.
pub(super) async fn dialect(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let Some((base, rest)) = split(&path) else {
        return next.run(request).await;
    };
    let ids = &state.reference_ids;
    let (organization, environment) = ids_of(&base);
    let known = ReferenceIds::accepts(&ids.environment, environment)
        && organization.is_none_or(|organization| ReferenceIds::accepts(&ids.organization, organization));
    if !known {
        let what = if organization.is_some_and(|organization| !ReferenceIds::accepts(&ids.organization, organization)) {
            "organization"
        } else {
            "environment"
        };
        return error(
            StatusCode::NOT_FOUND,
            &format!("{what}.notFound"),
            &format!("no such {what}"),
            Map::new(),
            Vec::new(),
        );
    }
    let rewritten = match request.uri().query() {
        Some(query) => format!("/management/v2{rest}?{query}"),
        None => format!("/management/v2{rest}"),
    };
    if let Ok(uri) = rewritten.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    request.extensions_mut().insert(Reference { base: base.clone() });
    let response = next.run(request).await;
    // The reference has no DELETE of a subscription (it closes them): its `Allow` does not list one.
    let segments = rest.trim_start_matches('/').split('/').count();
    let undocumented: &[&str] = if rest.starts_with("/apis/") && rest.contains("/subscriptions/") && segments == 4 {
        &["HEAD", "DELETE"]
    } else {
        &["HEAD"]
    };
    reshape_error(response, undocumented).await
}

/// The reference base and the rest of a reference path.
fn split(path: &str) -> Option<(String, String)> {
    let after = path.strip_prefix("/management/v2/")?;
    let segments: Vec<&str> = after.splitn(5, '/').collect();
    let (base_segments, rest) = match segments.as_slice() {
        ["environments", _, rest @ ..] => (2, rest.join("/")),
        ["organizations", _, "environments", _, rest @ ..] => (4, rest.join("/")),
        _ => return None,
    };
    let base = format!("/management/v2/{}", segments[..base_segments].join("/"));
    Some((base, if rest.is_empty() { String::new() } else { format!("/{rest}") }))
}

/// `(organization, environment)` of a reference base.
fn ids_of(base: &str) -> (Option<&str>, &str) {
    let segments: Vec<&str> = base.trim_start_matches("/management/v2/").split('/').collect();
    match segments.as_slice() {
        ["organizations", organization, "environments", environment] => (Some(organization), environment),
        [_, environment] => (None, environment),
        _ => (None, ""),
    }
}

/// The reference's error: string parameters, field errors in `details`.
fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    parameters: Map<String, Value>,
    details: Vec<Value>,
) -> Response {
    let mut body =
        json!({ "httpStatus": status.as_u16(), "message": message, "technicalCode": code, "parameters": parameters });
    if !details.is_empty() {
        body["details"] = Value::Array(details);
    }
    (status, Json(body)).into_response()
}

/// An error of the gateway's shape in the reference's; `undocumented` methods are left out of `Allow`.
async fn reshape_error(response: Response, undocumented: &[&str]) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(Value::Object(gateway)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let message = gateway.get("message").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut code = gateway.get("technicalCode").and_then(Value::as_str).unwrap_or("error").to_string();
    let mut parameters = Map::new();
    let mut details = Vec::new();
    if let Some(Value::Object(given)) = gateway.get("parameters") {
        for (key, value) in given {
            match (key.as_str(), value) {
                ("errors", Value::Array(errors)) => details.extend(
                    errors.iter().map(|error| json!({ "message": error["message"], "location": error["path"] })),
                ),
                (_, Value::String(text)) => {
                    parameters.insert(key.clone(), Value::String(text.clone()));
                }
                (_, other) => {
                    parameters.insert(key.clone(), Value::String(other.to_string()));
                }
            }
        }
    }
    let mut status = status;
    // The reference's codes for what the gateway says in general terms.
    if status == StatusCode::NOT_FOUND && message.starts_with("subscription ") {
        code = "subscription.notFound".into();
    } else if status == StatusCode::NOT_FOUND && message.starts_with("API ") {
        code = "api.notFound".into();
    } else if code == "state.conflict" && message.contains("already exists") {
        status = StatusCode::CONFLICT;
        code = "subscription.alreadyExists".into();
    }
    let mut reshaped = error(status, &code, &message, parameters, details);
    for (name, value) in
        parts.headers.iter().filter(|(name, _)| **name != CONTENT_TYPE && name.as_str() != "content-length")
    {
        reshaped.headers_mut().insert(name.clone(), value.clone());
    }
    // The reference's `Allow` lists its documented methods only.
    if let Some(allow) = parts.headers.get(ALLOW).and_then(|value| value.to_str().ok()) {
        let methods: Vec<&str> =
            allow.split(',').map(str::trim).filter(|method| !undocumented.contains(method)).collect();
        if let Ok(value) = HeaderValue::try_from(methods.join(", ")) {
            reshaped.headers_mut().insert(ALLOW, value);
        }
    }
    reshaped
}

/// A subscription as the reference shows it; its application's name when the gateway keeps that application.
pub(super) fn subscription(subscription: &Subscription, api_name: Option<&str>, application: Option<&str>) -> Value {
    let mut shown = json!({
        "id": subscription.id,
        "api": { "id": subscription.api_id, "name": api_name.unwrap_or(&subscription.api_id) },
        "application": { "id": subscription.application_id },
        "consumerConfiguration": subscription.consumer_configuration,
        "metadata": subscription.metadata,
        "status": subscription.status,
        "consumerStatus": subscription.consumer_status,
        "origin": "MANAGEMENT",
        "createdAt": subscription.created_at,
        "updatedAt": subscription.updated_at,
        "processedAt": subscription.created_at,
        "startingAt": subscription.created_at,
    });
    if let Some(name) = application {
        shown["application"]["name"] = json!(name);
    }
    if let Some(plan) = &subscription.plan_id {
        shown["plan"] = json!({ "id": plan, "apiId": subscription.api_id });
    }
    for (field, value) in [
        ("failureCause", &subscription.failure_cause),
        ("pausedAt", &subscription.paused_at),
        ("closedAt", &subscription.closed_at),
    ] {
        if let Some(value) = value {
            shown[field] = Value::String(value.clone());
        }
    }
    shown
}

/// A 405 naming the methods the reference has on the path.
pub(super) fn method_not_allowed(allowed: &'static str) -> Response {
    let mut response =
        error(StatusCode::METHOD_NOT_ALLOWED, "request.methodNotAllowed", "Method Not Allowed", Map::new(), Vec::new());
    response.headers_mut().insert(ALLOW, HeaderValue::from_static(allowed));
    response
}

/// Refuses values of query parameter `name` in the raw `query` (every occurrence, comma-separated lists too) that
/// are not among `allowed`.
pub(super) fn check_query(query: Option<&str>, name: &str, allowed: &[&str]) -> Result<(), super::error::ApiError> {
    let values: Vec<String> = form_values(query.unwrap_or_default(), name);
    one_of(&values, name, allowed)
}

/// Every value of `name` in a query string (each occurrence, comma-separated lists split, trimmed).
pub(super) fn form_values(query: &str, name: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| percent_decoded(key) == name)
        .flat_map(|(_, value)| {
            percent_decoded(value).split(',').map(|item| item.trim().to_string()).collect::<Vec<_>>()
        })
        .collect()
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|hex| std::str::from_utf8(hex).ok());
        match (bytes[index], hex.and_then(|hex| u8::from_str_radix(hex, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Refuses values of query parameter `name` that are not among `allowed`.
pub(super) fn one_of(values: &[String], name: &str, allowed: &[&str]) -> Result<(), super::error::ApiError> {
    match values.iter().find(|value| !allowed.contains(&value.as_str())) {
        None => Ok(()),
        Some(value) => {
            Err(crate::error::ServiceError::invalid(name, format!("`{value}` is not one of {}", allowed.join(", ")))
                .into())
        }
    }
}

/// `page` and `perPage` of a query (1 and 10 when absent; at most 100 a page).
pub(super) fn page_params(
    query: &std::collections::HashMap<String, String>,
) -> Result<(usize, usize), super::error::ApiError> {
    let number = |name: &str, default: usize| -> Result<usize, super::error::ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(text) => text.parse::<usize>().ok().filter(|value| *value >= 1).ok_or_else(|| {
                crate::error::ServiceError::invalid(name, format!("`{text}` is not a whole number of at least 1"))
                    .into()
            }),
        }
    };
    Ok((number("page", 1)?, number("perPage", DEFAULT_PER_PAGE)?.min(100)))
}

/// A query as text again, for links.
pub(super) fn query_text(query: &std::collections::HashMap<String, String>) -> String {
    query.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&")
}

/// A page of `items` with the reference's `Pagination` and `Links`; `page` counts from 1.
pub(super) fn page(items: Vec<Value>, page: usize, per_page: usize, path: &str, query: &str) -> Value {
    let total = items.len();
    let shown: Vec<Value> = items.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).collect();
    page_of(shown, (page, per_page, total), path, query)
}

/// One page already cut (`shown`) of `total` items, with the reference's `Pagination` and `Links`.
pub(super) fn page_of(
    shown: Vec<Value>,
    (page, per_page, total): (usize, usize, usize),
    path: &str,
    query: &str,
) -> Value {
    let page_count = total.div_ceil(per_page).max(1);
    let link = |number: usize| {
        let mut query: Vec<String> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("page=") && !pair.starts_with("perPage="))
            .map(str::to_string)
            .collect();
        query.push(format!("page={number}"));
        query.push(format!("perPage={per_page}"));
        format!("{path}?{}", query.join("&"))
    };
    let mut links = json!({ "self": link(page), "first": link(1), "last": link(page_count) });
    if page > 1 {
        links["previous"] = Value::String(link(page - 1));
    }
    if page < page_count {
        links["next"] = Value::String(link(page + 1));
    }
    json!({
        "data": shown.clone(),
        "pagination": { "page": page, "perPage": per_page, "pageCount": page_count,
                        "pageItemsCount": shown.len(), "totalCount": total },
        "links": links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_paths_split_into_base_and_rest() {
        assert_eq!(
            split("/management/v2/environments/DEFAULT/apis/a/subscriptions"),
            Some(("/management/v2/environments/DEFAULT".into(), "/apis/a/subscriptions".into()))
        );
        assert_eq!(
            split("/management/v2/organizations/o/environments/e/apis"),
            Some(("/management/v2/organizations/o/environments/e".into(), "/apis".into()))
        );
        assert_eq!(split("/management/v2/apis"), None);
        assert_eq!(ids_of("/management/v2/organizations/o/environments/e"), (Some("o"), "e"));
        assert_eq!(ids_of("/management/v2/environments/e"), (None, "e"));
    }

    #[test]
    fn pages_link_to_their_neighbours() {
        let items: Vec<Value> = (0..25).map(|index| json!(index)).collect();
        let second = page(items, 2, 10, "/x", "statuses=ACCEPTED&page=2");
        assert_eq!(
            second["pagination"],
            json!({ "page": 2, "perPage": 10, "pageCount": 3, "pageItemsCount": 10, "totalCount": 25 })
        );
        assert_eq!(second["links"]["next"], "/x?statuses=ACCEPTED&page=3&perPage=10");
        assert_eq!(second["links"]["previous"], "/x?statuses=ACCEPTED&page=1&perPage=10");
        assert_eq!(second["data"][0], 10);
    }
}
