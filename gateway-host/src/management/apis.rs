//! `/management/v2/apis[/{apiId}]`, the reference product's `_import/definition` and `_export/definition`, in the
//! gateway's shapes or, on the reference product's paths, in the reference's ([`Reference`]).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use secrets::SecretFields;
use serde_json::{json, Value};

use super::body::json_body;
use super::error::ApiError;
use super::reference::{self, Reference};
use super::AppState;
use crate::deploy::{ApiState, ApiView};
use crate::error::ServiceError;

pub(super) async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    let views: Vec<ApiView> = state.catalog.views().into_iter().map(masked).collect();
    let Some(Extension(reference)) = dialect else {
        return Ok(Json(json!({ "data": views })));
    };
    reference::check_query(raw.as_deref(), "expands", &["deploymentState"])?;
    let (page, per_page) = reference::page_params(&query)?;
    let items = views.iter().map(shown_reference).collect();
    let path = format!("{}/apis", reference.base);
    Ok(Json(reference::page(items, page, per_page, &path, &reference::query_text(&query))))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    let view = state.catalog.view(&api_id).ok_or_else(|| ServiceError::NotFound(format!("API {api_id} not found")))?;
    Ok(Json(shown(view, dialect.is_some())))
}

pub(super) async fn create(
    State(state): State<AppState>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let view = state.apis.create(json_body(&body)?).await?;
    Ok((StatusCode::CREATED, Json(shown(view, dialect.is_some()))))
}

/// `POST .../apis/_import/definition`: a definition, plain or in the reference's export form; an id is made for
/// one that has none.
pub(super) async fn import(
    State(state): State<AppState>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut document = json_body(&body)?;
    if definition::declared_id(&document).is_none() {
        definition::set_id(&mut document, &uuid::Uuid::new_v4().to_string());
    }
    let view = state.apis.create(document).await?;
    Ok((StatusCode::CREATED, Json(shown(view, dialect.is_some()))))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let view = state.apis.update(&api_id, json_body(&body)?).await?;
    Ok(Json(shown(view, dialect.is_some())))
}

/// `GET .../apis/{apiId}/_export/definition`: the definition in the reference's export form.
pub(super) async fn export(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    reference::check_query(
        raw.as_deref(),
        "excludeAdditionalData",
        &["groups", "members", "metadata", "pages", "plans"],
    )?;
    let view = state.catalog.view(&api_id).ok_or_else(|| ServiceError::NotFound(format!("API {api_id} not found")))?;
    let view = masked(view);
    let exported = definition::is_export(&view.definition);
    let (api, plans) = definition::unwrap_export(view.definition);
    let plans = if exported { plans } else { api.get("plans").cloned() }.unwrap_or_else(|| json!([]));
    Ok(Json(json!({
        "export": { "date": crate::time::now_rfc3339() },
        "api": api, "plans": plans, "members": [], "metadata": [], "pages": [], "apiMedia": []
    })))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    reference::check_query(raw.as_deref(), "closePlans", &["true", "false"])?;
    state.apis.delete(&api_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API in the gateway's shape, or the reference's; its secrets masked.
fn shown(view: ApiView, reference: bool) -> Value {
    let view = masked(view);
    if reference {
        shown_reference(&view)
    } else {
        serde_json::to_value(view).unwrap_or(Value::Null)
    }
}

/// The view with the definition's secrets masked: the management API never answers one.
fn masked(mut view: ApiView) -> ApiView {
    SecretFields::api().mask(definition::inner_mut(&mut view.definition));
    view
}

fn upper_case(object: &mut serde_json::Map<String, Value>, key: &str) {
    if let Some(Value::String(text)) = object.get_mut(key) {
        *text = text.to_uppercase();
    }
}

/// An API as the reference reads it: the definition's fields at the top level, its `state` and
/// `deploymentState`, and the gateway's own `warnings` and `reasons` beside them.
fn shown_reference(view: &ApiView) -> Value {
    let mut shown = match definition::unwrap_export(view.definition.clone()).0 {
        Value::Object(fields) => fields,
        _ => Default::default(),
    };
    let deployed = view.state == ApiState::Deployed;
    shown.insert("id".into(), json!(view.id));
    shown.insert("name".into(), json!(view.name));
    // The reference's discriminators: `definitionVersion` `V4`, types upper-case.
    shown.insert("definitionVersion".into(), json!("V4"));
    upper_case(&mut shown, "type");
    if let Some(Value::Array(listeners)) = shown.get_mut("listeners") {
        for listener in listeners.iter_mut().filter_map(Value::as_object_mut) {
            upper_case(listener, "type");
        }
    }
    shown.insert("state".into(), json!(if deployed { "STARTED" } else { "STOPPED" }));
    shown.insert("deploymentState".into(), json!(if deployed { "DEPLOYED" } else { "NEED_REDEPLOY" }));
    shown.insert("warnings".into(), json!(view.warnings));
    shown.insert("reasons".into(), json!(view.reasons));
    Value::Object(shown)
}
