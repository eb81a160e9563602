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

/// `POST .../apis`: on the gateway's paths a definition with its id, served at once; on the reference product's, its
/// `CreateApiV4` (an id is made) created `STOPPED`.
pub(super) async fn create(
    State(state): State<AppState>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let document = json_body(&body)?;
    let view = match dialect {
        Some(_) => state.apis.create_stopped(document).await?,
        None => state.apis.create(document).await?,
    };
    Ok((StatusCode::CREATED, Json(shown(view, dialect.is_some()))))
}

/// `POST .../apis/{apiId}/_start` and `_stop`.
pub(super) async fn start(State(state): State<AppState>, Path(api_id): Path<String>) -> Result<StatusCode, ApiError> {
    state.apis.set_started(&api_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../apis/{apiId}/_stop`.
pub(super) async fn stop(State(state): State<AppState>, Path(api_id): Path<String>) -> Result<StatusCode, ApiError> {
    state.apis.set_started(&api_id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../apis/{apiId}/deployments`: the edited definition becomes the one that runs. The body (the reference's
/// `ApiDeployment`, a label) is optional; when sent, it is an object.
pub(super) async fn deploy(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    if !body.is_empty() && !json_body(&body)?.is_object() {
        return Err(ServiceError::invalid("", "a deployment is a JSON object (`deploymentLabel`)").into());
    }
    state.apis.deploy_edited(&api_id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET .../apis/{apiId}/deployments/current`: the definition that runs.
pub(super) async fn current_deployment(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = state.catalog.view(&api_id).ok_or_else(|| ServiceError::NotFound(format!("API {api_id} not found")))?;
    let view = masked(view);
    Ok(Json(json!({ "apiId": api_id, "definition": definition::pending::running(&view.definition) })))
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

/// `PUT .../apis/{apiId}`: on the gateway's paths a redeploy; on the reference product's, an edit that runs once
/// deployed (`POST .../deployments`).
pub(super) async fn update(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    dialect: Option<Extension<Reference>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let document = json_body(&body)?;
    let view = match dialect {
        Some(_) => state.apis.edit(&api_id, document).await?,
        None => state.apis.update(&api_id, document).await?,
    };
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
    let current = definition::pending::current(&view.definition).clone();
    let exported = definition::is_export(&current);
    let (api, plans) = definition::unwrap_export(current);
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

/// The view with the definitions' secrets masked (the running one's and the edited one's): the management API never
/// answers one.
fn masked(mut view: ApiView) -> ApiView {
    definition::pending::each_definition(&mut view.definition, |definition| SecretFields::api().mask(definition));
    view
}

fn upper_case(object: &mut serde_json::Map<String, Value>, key: &str) {
    if let Some(Value::String(text)) = object.get_mut(key) {
        *text = text.to_uppercase();
    }
}

/// An API as the reference reads it: the fields of its definition as last edited at the top level, its `state` and
/// `deploymentState` (`NEED_REDEPLOY` while an edit waits for a deployment), and the gateway's own `warnings` and
/// `reasons` beside them.
fn shown_reference(view: &ApiView) -> Value {
    let current = definition::pending::current(&view.definition).clone();
    let mut shown = match definition::unwrap_export(current).0 {
        Value::Object(fields) => fields,
        _ => Default::default(),
    };
    let stopped = definition::inner(&view.definition)
        .get("state")
        .and_then(Value::as_str)
        .is_some_and(|state| state.eq_ignore_ascii_case("stopped"));
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
    shown.insert("state".into(), json!(if deployed && !stopped { "STARTED" } else { "STOPPED" }));
    let in_sync = deployed && !definition::pending::is_pending(&view.definition);
    shown.insert("deploymentState".into(), json!(if in_sync { "DEPLOYED" } else { "NEED_REDEPLOY" }));
    shown.insert("warnings".into(), json!(view.warnings));
    shown.insert("reasons".into(), json!(view.reasons));
    Value::Object(shown)
}
