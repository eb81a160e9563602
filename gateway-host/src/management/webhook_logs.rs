//! `/management/v2/apis/{apiId}/webhook-logs[/{requestId}]`: the webhook logs of an API, filtered and paged.

use std::collections::HashMap;

use axum::extract::{Path, Query, RawQuery, State};
use axum::Extension;
use axum::Json;
use serde_json::{json, Value};

use super::applications;
use super::error::ApiError;
use super::reference::{self, Reference};
use super::AppState;
use crate::error::ServiceError;
use crate::store::LogFilter;

/// Entries per page unless asked otherwise.
const DEFAULT_PER_PAGE: u32 = 20;
/// The most entries one page holds.
const MAX_PER_PAGE: u32 = 100;

pub(super) async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    require_api(&state, &api_id)?;
    let filter = filter(api_id, &query)?;
    let (entries, total) = entries(&state, &filter).await?;
    Ok(Json(json!({
        "data": entries,
        "pagination": { "page": filter.page, "perPage": filter.per_page, "pageItemsCount": entries.len(), "totalCount": total },
    })))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((api_id, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    require_api(&state, &api_id)?;
    state.telemetry.webhook_logs.flush().await;
    let (api, request) = (api_id.clone(), request_id.clone());
    state
        .store
        .call(move |store| store.webhook_log(&api, &request))
        .await
        .map_err(ServiceError::from)?
        .map(Json)
        .ok_or_else(|| ServiceError::NotFound(format!("webhook log {request_id} of API {api_id} not found")).into())
}

/// The entries `filter` selects and their total; what this gateway delivered before the query is in the answer.
pub(super) async fn entries(state: &AppState, filter: &LogFilter) -> Result<(Vec<Value>, u64), ApiError> {
    state.telemetry.webhook_logs.flush().await;
    let query = filter.clone();
    Ok(state.store.call(move |store| store.webhook_logs(&query)).await.map_err(ServiceError::from)?)
}

fn require_api(state: &AppState, api_id: &str) -> Result<(), ApiError> {
    if state.catalog.contains(api_id) {
        Ok(())
    } else {
        Err(ServiceError::NotFound(format!("API {api_id} not found")).into())
    }
}

/// The filter the query parameters describe; a bad parameter is a 400 naming it.
fn filter(api_id: String, query: &HashMap<String, String>) -> Result<LogFilter, ApiError> {
    let list = |name: &str| -> Vec<String> {
        query
            .get(name)
            .map(|text| text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    };
    let statuses = list("statuses")
        .iter()
        .map(|status| {
            status
                .parse::<u16>()
                .map_err(|_| ServiceError::invalid("statuses", format!("`{status}` is not an HTTP status")))
        })
        .collect::<Result<_, _>>()?;
    let number = |name: &str, default: u32| -> Result<u32, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(text) => text.parse::<u32>().ok().filter(|value| *value >= 1).ok_or_else(|| {
                ServiceError::invalid(name, format!("`{text}` is not a whole number of at least 1")).into()
            }),
        }
    };
    Ok(LogFilter {
        api_id,
        statuses,
        callback_urls: list("callbackUrls"),
        application_ids: list("applicationIds"),
        from: time(query, "from")?,
        to: time(query, "to")?,
        page: number("page", 1)?,
        per_page: number("perPage", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
    })
}

/// A time parameter: milliseconds since the epoch, or RFC 3339.
fn time(query: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(text) = query.get(name) else { return Ok(None) };
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(Some(millis));
    }
    humantime::parse_rfc3339_weak(text)
        .ok()
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|since| Some(since.as_millis() as i64))
        .ok_or_else(|| {
            ServiceError::invalid(name, format!("`{text}` is neither milliseconds since the epoch nor RFC 3339")).into()
        })
}

/// `GET .../apis/{apiId}/logs/messages`: the webhook log entries as the reference product's console reads message
/// logs (`ApiMessageLog`, its webhook fields as `additionalMetrics`), paged the reference's way.
pub(super) async fn messages(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    require_api(&state, &api_id)?;
    let (page, per_page) = reference::page_params(&query)?;
    let base = dialect.map_or_else(|| "/management/v2".to_string(), |Extension(reference)| reference.base);
    let path = format!("{base}/apis/{api_id}/logs/messages");
    for (name, allowed) in
        [("connectorType", &["entrypoint", "endpoint"][..]), ("operation", &["publish", "subscribe"][..])]
    {
        reference::check_query(raw.as_deref(), name, allowed)?;
    }
    // Every entry is the webhook entrypoint's, on the subscribe side.
    let served = query.get("connectorType").is_none_or(|kind| kind == "entrypoint")
        && query.get("connectorId").is_none_or(|id| id == "webhook" || id == "webhook-advanced")
        && query.get("operation").is_none_or(|operation| operation == "subscribe");
    let millis = |name: &str| -> Result<Option<i64>, ApiError> {
        query
            .get(name)
            .map(|text| {
                text.parse::<i64>().map_err(|_| {
                    ServiceError::invalid(name, format!("`{text}` is not milliseconds since the epoch")).into()
                })
            })
            .transpose()
    };
    let filter = LogFilter {
        api_id: api_id.clone(),
        from: millis("from")?,
        to: millis("to")?,
        page: page as u32,
        per_page: per_page as u32,
        ..LogFilter::default()
    };
    let (entries, total) = if served { entries(&state, &filter).await? } else { (Vec::new(), 0) };
    let name = state.catalog.view(&api_id).map(|view| view.name).unwrap_or_else(|| api_id.clone());
    let wanted_request = query.get("requestId");
    let applications = applications::names(&state).await?;
    let shown: Vec<Value> = entries
        .iter()
        .filter(|entry| wanted_request.is_none_or(|id| entry["requestId"] == id.as_str()))
        .map(|entry| {
            let application = entry["applicationId"].as_str().and_then(|id| applications.get(id));
            message_log(entry, &name, application.map(String::as_str))
        })
        .collect();
    Ok(Json(reference::page_of(shown, (page, per_page, total as usize), &path, &reference::query_text(&query))))
}

/// One webhook log entry as an `ApiMessageLog`, with its application's name when the gateway keeps that
/// application.
fn message_log(entry: &Value, api_name: &str, application_name: Option<&str>) -> Value {
    let timestamp = entry["requestTimestamp"].as_u64().map(|millis| {
        humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis)).to_string()
    });
    let status = entry["status"].as_u64().unwrap_or(0);
    json!({
        "timestamp": timestamp,
        "requestId": entry["requestId"],
        "apiId": entry["apiId"],
        "apiName": api_name,
        "clientIdentifier": entry["subscriptionId"],
        "correlationId": entry["messageId"],
        "operation": "subscribe",
        "connectorType": "entrypoint",
        "connectorId": "webhook",
        "error": !(200..300).contains(&status),
        "additionalMetrics": {
            "string_webhook_url": entry["callbackUrl"],
            "string_webhook_req-method": entry["method"],
            "long_webhook_req-timestamp": entry["requestTimestamp"],
            "int_webhook_resp-status": status,
            "int_webhook_resp-time": entry["responseTime"],
            "int_webhook_retry-count": entry["retries"],
            "bool_webhook_dlq": entry["dlq"],
            "string_webhook_last-error": entry["lastError"],
            "string_webhook_error-key": entry["errorKey"],
            "string_webhook_subscription-id": entry["subscriptionId"],
            "string_webhook_application-id": entry["applicationId"],
            "string_webhook_application-name": application_name,
        },
    })
}
