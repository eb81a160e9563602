//! `/management/v2/apis/{apiId}/webhook-logs[/{requestId}]`: the webhook logs of an API, filtered and paged.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
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
    let query = filter.clone();
    let (entries, total) =
        state.store.call(move |store| store.webhook_logs(&query)).await.map_err(ServiceError::from)?;
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
    let (api, request) = (api_id.clone(), request_id.clone());
    state
        .store
        .call(move |store| store.webhook_log(&api, &request))
        .await
        .map_err(ServiceError::from)?
        .map(Json)
        .ok_or_else(|| ServiceError::NotFound(format!("webhook log {request_id} of API {api_id} not found")).into())
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
