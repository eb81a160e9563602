//! `/management/v2/apis/{apiId}/plans[/{planId}[/_publish|_deprecate|_close]]`: an API's plans, kept in its edited
//! definition (served once the API is deployed), with the reference product's shapes and states: `STAGING` →
//! `PUBLISHED` → `DEPRECATED` → `CLOSED`. Closing a plan closes its subscriptions, as the reference does.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use definition::SubscriptionStatus;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::body::json_body;
use super::error::ApiError;
use super::reference::{self, Reference};
use super::AppState;
use crate::dispatch::Action;
use crate::error::ServiceError;

/// What a plan's fields may not be set to by a body: kept by the gateway.
const KEPT: [&str; 7] = ["id", "apiId", "status", "createdAt", "updatedAt", "publishedAt", "closedAt"];

/// The fields of the reference's `CreatePlanV4` and `UpdatePlanV4`, typed to check a body (it is kept as sent).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read by serde only: a field of the wrong type is refused with its path
struct PlanFields {
    name: Option<String>,
    description: Option<String>,
    definition_version: Option<DefinitionVersion>,
    mode: Option<PlanMode>,
    validation: Option<PlanValidation>,
    security: Option<PlanSecurity>,
    flows: Option<Vec<definition::Flow>>,
    order: Option<i64>,
    tags: Option<Vec<String>>,
    characteristics: Option<Vec<String>>,
    excluded_groups: Option<Vec<String>>,
    general_conditions: Option<String>,
    comment_required: Option<bool>,
    comment_message: Option<String>,
    selection_rule: Option<String>,
    cross_id: Option<String>,
}

/// Plans are V4 here.
#[derive(Deserialize)]
enum DefinitionVersion {
    V4,
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum PlanMode {
    Standard,
    Push,
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum PlanValidation {
    Auto,
    Manual,
}

#[derive(Deserialize)]
#[allow(dead_code)] // read by serde only
struct PlanSecurity {
    #[serde(rename = "type")]
    security_type: SecurityType,
    configuration: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum SecurityType {
    KeyLess,
    ApiKey,
    Oauth2,
    Jwt,
    Mtls,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    dialect: Option<Extension<Reference>>,
) -> Result<Json<Value>, ApiError> {
    let plans = current_plans(&state, &api_id)?;
    let Some(Extension(reference)) = dialect else {
        return Ok(Json(json!({ "data": plans })));
    };
    let path = format!("{}/apis/{api_id}/plans", reference.base);
    let count = plans.len().max(1);
    Ok(Json(reference::page(plans, 1, count, &path, "")))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path((api_id, plan_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let plans = current_plans(&state, &api_id)?;
    Ok(Json(plans.into_iter().find(|plan| plan["id"] == plan_id.as_str()).ok_or_else(|| not_found(&plan_id))?))
}

/// `POST`: the reference's `CreatePlanV4`; the plan starts in `STAGING`.
pub(super) async fn create(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let fields = object(json_body(&body)?)?;
    let named = fields.get("name").and_then(Value::as_str).is_some_and(|name| !name.trim().is_empty());
    if !named {
        return Err(ServiceError::invalid("name", "a plan needs a name").into());
    }
    if !fields.contains_key("definitionVersion") {
        return Err(ServiceError::invalid("definitionVersion", "required: V4").into());
    }
    let now = crate::time::now_rfc3339();
    let mut plan = json!({
        "id": uuid::Uuid::new_v4().to_string(), "apiId": api_id, "definitionVersion": "V4", "type": "API",
        "mode": "STANDARD", "validation": "AUTO", "status": "STAGING", "flows": [], "tags": [],
        "characteristics": [], "excludedGroups": [], "commentRequired": false, "createdAt": now, "updatedAt": now,
    });
    for (key, value) in fields.into_iter().filter(|(key, _)| !KEPT.contains(&key.as_str())) {
        plan[key] = value;
    }
    let created = state
        .apis
        .edit_plans(&api_id, move |plans| {
            plan["order"] = json!(plans.len() + 1);
            plans.push(plan.clone());
            Ok(plan)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT`: the reference's `UpdatePlanV4`: what it sets replaces, the rest stays.
pub(super) async fn update(
    State(state): State<AppState>,
    Path((api_id, plan_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let fields = object(json_body(&body)?)?;
    let id = plan_id.clone();
    let updated = state
        .apis
        .edit_plans(&api_id, move |plans| {
            let plan = find(plans, &id)?;
            for (key, value) in fields.into_iter().filter(|(key, _)| !KEPT.contains(&key.as_str())) {
                plan[key] = value;
            }
            plan["updatedAt"] = json!(crate::time::now_rfc3339());
            Ok(plan.clone())
        })
        .await?;
    Ok(Json(updated))
}

/// `DELETE`: a plan in `STAGING`, or `CLOSED`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Path((api_id, plan_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .apis
        .edit_plans(&api_id, |plans| {
            let status = status_of(find(plans, &plan_id)?);
            if status != "STAGING" && status != "CLOSED" {
                return Err(ServiceError::Conflict(format!("plan {plan_id} is {status}; close it first")));
            }
            plans.retain(|plan| plan["id"] != plan_id.as_str());
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `_publish` (from `STAGING`), `_deprecate` (from `PUBLISHED`), `_close` (from any other state; its subscriptions
/// are closed).
pub(super) async fn act(
    State(state): State<AppState>,
    Path((api_id, plan_id, action)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (to, from): (&str, &[&str]) = match action.as_str() {
        "_publish" => ("PUBLISHED", &["STAGING"]),
        "_deprecate" => ("DEPRECATED", &["PUBLISHED"]),
        "_close" => ("CLOSED", &["STAGING", "PUBLISHED", "DEPRECATED"]),
        other => return Err(ServiceError::NotFound(format!("no plan action {other}")).into()),
    };
    let id = plan_id.clone();
    let changed = state
        .apis
        .edit_plans(&api_id, move |plans| {
            let plan = find(plans, &id)?;
            let status = status_of(plan);
            if !from.contains(&status.as_str()) {
                return Err(ServiceError::Conflict(format!("plan {id} is {status}: it cannot become {to}")));
            }
            let now = json!(crate::time::now_rfc3339());
            plan["status"] = json!(to);
            plan["updatedAt"] = now.clone();
            match to {
                "PUBLISHED" => plan["publishedAt"] = now,
                "CLOSED" => plan["closedAt"] = now,
                _ => {}
            }
            Ok(plan.clone())
        })
        .await?;
    if to == "CLOSED" {
        close_subscriptions(&state, &api_id, &plan_id).await?;
    }
    Ok(Json(changed))
}

/// Closes the subscriptions of plan `plan_id` that are not closed.
async fn close_subscriptions(state: &AppState, api_id: &str, plan_id: &str) -> Result<(), ServiceError> {
    for subscription in state.subscriptions.list(api_id).await? {
        if subscription.plan_id.as_deref() == Some(plan_id) && subscription.status != SubscriptionStatus::Closed {
            state.subscriptions.act(api_id, &subscription.id, Action::Close).await?;
        }
    }
    Ok(())
}

/// The plans of API `api_id`'s edited definition, each with its `apiId`.
fn current_plans(state: &AppState, api_id: &str) -> Result<Vec<Value>, ServiceError> {
    let view = state.catalog.view(api_id).ok_or_else(|| ServiceError::NotFound(format!("API {api_id} not found")))?;
    let document = definition::pending::current(&view.definition);
    let holder = if definition::is_export(document) { document } else { definition::inner(document) };
    let listed = definition::listed_plans(holder.get("plans").cloned());
    Ok(listed
        .into_iter()
        .map(|mut plan| {
            plan["apiId"] = json!(api_id);
            plan
        })
        .collect())
}

fn find<'a>(plans: &'a mut [Value], id: &str) -> Result<&'a mut Value, ServiceError> {
    plans.iter_mut().find(|plan| plan["id"] == id).ok_or_else(|| not_found(id))
}

/// A plan's status; one without is published (a definition written by hand).
fn status_of(plan: &Value) -> String {
    plan.get("status").and_then(Value::as_str).unwrap_or("PUBLISHED").to_ascii_uppercase()
}

fn not_found(plan_id: &str) -> ServiceError {
    ServiceError::NotFound(format!("plan {plan_id} not found"))
}

/// A plan body's fields, each of the type the reference's schema gives it (an error names its path).
fn object(body: Value) -> Result<Map<String, Value>, ServiceError> {
    definition::parse_json::<PlanFields>(body.clone(), "").map_err(|error| ServiceError::Invalid(vec![error]))?;
    match body {
        Value::Object(fields) => Ok(fields),
        _ => Err(ServiceError::invalid("", "a plan is a JSON object")),
    }
}
