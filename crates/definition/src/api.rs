//! The v4 message API definition.

use plugin_api::Qos;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::flow::{Flow, FlowExecution};
use crate::{parse_json, qos::deserialize_qos, FieldError};

/// A v4 API definition. Only the parts the gateway reads are typed; the rest is kept for warnings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiDefinition {
    /// API identifier.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// `message` for the APIs this gateway serves.
    #[serde(rename = "type", default)]
    pub api_type: Option<String>,
    /// Where consumers come in.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// Where messages come from and go to.
    #[serde(default)]
    pub endpoint_groups: Vec<EndpointGroup>,
    /// Plans, as a list or as a map keyed by plan id.
    #[serde(default, deserialize_with = "deserialize_plans")]
    pub plans: Vec<Plan>,
    /// Analytics settings (message sampling).
    #[serde(default)]
    pub analytics: Option<Value>,
    /// API-level flows (their subscribe steps run on every message; `flows` crate).
    #[serde(default)]
    pub flows: Vec<Flow>,
    /// How the flows are chosen.
    #[serde(default)]
    pub flow_execution: FlowExecution,
    /// Resources (not used by this gateway).
    #[serde(default)]
    pub resources: Vec<Value>,
    /// Properties (not used by this gateway).
    #[serde(default)]
    pub properties: Vec<Value>,
    /// Services such as health checks (not run by this gateway).
    #[serde(default)]
    pub services: Option<Value>,
    /// Sharding tags (this gateway serves every API it is given).
    #[serde(default)]
    pub tags: Vec<String>,
    /// `STARTED` (when absent) or `STOPPED`: a stopped API is deployed, and its subscriptions do not run.
    #[serde(default)]
    pub state: Option<String>,
}

/// A listener and its entrypoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// `subscription`, `http`, `tcp`, ...
    #[serde(rename = "type")]
    pub listener_type: String,
    /// The entrypoints of the listener.
    #[serde(default)]
    pub entrypoints: Vec<Entrypoint>,
}

/// An entrypoint of a listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entrypoint {
    /// The entrypoint plugin id (`webhook`, `webhook-advanced`, `sse`, ...).
    #[serde(rename = "type")]
    pub entrypoint_type: String,
    /// Delivery guarantee; `auto` when absent.
    #[serde(default, deserialize_with = "deserialize_qos")]
    pub qos: Option<Qos>,
    /// Dead letter queue.
    #[serde(default)]
    pub dlq: Option<Dlq>,
    /// Plugin configuration, owned and checked by the plugin.
    #[serde(default)]
    pub configuration: Option<Value>,
}

impl Entrypoint {
    /// The QoS in force.
    pub fn effective_qos(&self) -> Qos {
        self.qos.unwrap_or(Qos::Auto)
    }
}

/// A dead letter queue target: `{ "endpoint": "NAME" }`, or `"NAME"` as the reference product's own definitions
/// write it.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "DlqForm")]
pub struct Dlq {
    /// An endpoint name, else an endpoint group name.
    pub endpoint: String,
}

/// The two ways a definition writes its dead letter queue.
#[derive(Deserialize)]
#[serde(untagged, expecting = "an endpoint name, or an object with `endpoint`")]
enum DlqForm {
    Name(String),
    Object { endpoint: String },
}

impl From<DlqForm> for Dlq {
    fn from(form: DlqForm) -> Self {
        match form {
            DlqForm::Name(endpoint) | DlqForm::Object { endpoint } => Self { endpoint },
        }
    }
}

/// A group of endpoints of one type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointGroup {
    /// Group name.
    pub name: String,
    /// The endpoint plugin id.
    #[serde(rename = "type")]
    pub group_type: String,
    /// Configuration shared by the endpoints that inherit it.
    #[serde(default)]
    pub shared_configuration: Option<Value>,
    /// The endpoints.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Endpoint name.
    pub name: String,
    /// The endpoint plugin id.
    #[serde(rename = "type")]
    pub endpoint_type: String,
    /// Whether the group's shared configuration applies (else `sharedConfigurationOverride`).
    #[serde(default = "inherit_by_default")]
    pub inherit_configuration: bool,
    /// The endpoint's own configuration.
    #[serde(default)]
    pub configuration: Option<Value>,
    /// The shared configuration used when not inheriting.
    #[serde(default)]
    pub shared_configuration_override: Option<Value>,
}

/// The reference product inherits unless told otherwise.
fn inherit_by_default() -> bool {
    true
}

/// A plan of the API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Plan id (the map key when plans come as a map).
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// `push` for the plans webhook consumers subscribe to.
    #[serde(default)]
    pub mode: Option<String>,
    /// The plan's flows, run before the API's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<Flow>,
    /// `STAGING`, `PUBLISHED`, `DEPRECATED` or `CLOSED`; a plan without one is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Plan {
    /// Whether consumers subscribe to this plan by webhook.
    pub fn is_push(&self) -> bool {
        self.mode.as_deref().is_some_and(|mode| mode.eq_ignore_ascii_case("push"))
    }

    /// Whether new subscriptions may name it: published (or without a status).
    pub fn is_published(&self) -> bool {
        self.status.as_deref().is_none_or(|status| status.eq_ignore_ascii_case("published"))
    }
}

fn deserialize_plans<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Plan>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Plans {
        List(Vec<Plan>),
        Map(std::collections::BTreeMap<String, Plan>),
    }
    Ok(match Option::<Plans>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Plans::List(plans)) => plans,
        Some(Plans::Map(plans)) => plans
            .into_iter()
            .map(|(key, mut plan)| {
                if plan.id.is_empty() {
                    plan.id = key;
                }
                plan
            })
            .collect(),
    })
}

impl ApiDefinition {
    /// Parses a definition, plain or wrapped as the reference product exports it (`{"api": {...}, "plans": [...]}`),
    /// and checks what the gateway relies on. Every error names its JSON path.
    pub fn parse(document: Value) -> Result<Self, Vec<FieldError>> {
        let prefix = if is_export(&document) { "api" } else { "" };
        let (api, exported_plans) = unwrap_export(document);
        let mut definition: ApiDefinition = parse_json(api, prefix).map_err(|error| vec![error])?;
        if definition.plans.is_empty() {
            if let Some(plans) = exported_plans {
                definition.plans = parse_json::<Wrapper>(serde_json::json!({ "plans": plans }), "")
                    .map_err(|error| vec![error])?
                    .plans;
            }
        }
        let errors = definition.check(prefix);
        if errors.is_empty() {
            Ok(definition)
        } else {
            Err(errors)
        }
    }

    /// Whether the API is stopped (`state: STOPPED`): its subscriptions do not run, and keep their positions.
    pub fn is_stopped(&self) -> bool {
        self.state.as_deref().is_some_and(|state| state.eq_ignore_ascii_case("stopped"))
    }

    /// The push plans consumers may subscribe to (published ones).
    pub fn push_plans(&self) -> impl Iterator<Item = &Plan> {
        self.plans.iter().filter(|plan| plan.is_push() && plan.is_published())
    }

    fn check(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty() {
            errors.push(FieldError::new(plugin_api::join_path(prefix, "id"), "must not be empty"));
        }
        if let Some(api_type) = &self.api_type {
            if !api_type.eq_ignore_ascii_case("message") {
                errors.push(FieldError::new(
                    plugin_api::join_path(prefix, "type"),
                    format!("`{api_type}` APIs are not served; this gateway serves `message` APIs"),
                ));
            }
        }
        for (index, group) in self.endpoint_groups.iter().enumerate() {
            let path = plugin_api::join_path(prefix, &format!("endpointGroups[{index}]"));
            if self.endpoint_groups[..index].iter().any(|other| other.name == group.name) {
                errors.push(FieldError::new(format!("{path}.name"), format!("duplicate group name `{}`", group.name)));
            }
            if group.endpoints.is_empty() {
                errors.push(FieldError::new(format!("{path}.endpoints"), "a group needs at least one endpoint"));
            }
        }
        errors
    }
}

#[derive(Deserialize)]
struct Wrapper {
    #[serde(deserialize_with = "deserialize_plans")]
    plans: Vec<Plan>,
}

/// Whether a definition document is the reference product's export: the definition wrapped in `api`, plans beside
/// it.
pub fn is_export(document: &Value) -> bool {
    matches!(document, Value::Object(root) if is_export_object(root))
}

/// Where a definition document keeps its id: `id`, or `api.id` in the reference product's export wrapper.
pub fn id_path(document: &Value) -> &'static str {
    if is_export(document) {
        "api.id"
    } else {
        "id"
    }
}

/// The id a definition document declares, wrapped or not.
pub fn declared_id(document: &Value) -> Option<&str> {
    inner(document).get("id").and_then(Value::as_str)
}

/// Sets the id of a definition document where it keeps it.
pub fn set_id(document: &mut Value, id: &str) {
    if let Value::Object(object) = inner_mut(document) {
        object.insert("id".into(), Value::String(id.to_string()));
    }
}

/// The definition in a document: the document itself, or its `api` in the reference product's export form.
pub fn inner(document: &Value) -> &Value {
    if is_export(document) {
        &document["api"]
    } else {
        document
    }
}

/// The definition in a document, to change it in place (see [`inner`]).
pub fn inner_mut(document: &mut Value) -> &mut Value {
    if is_export(document) {
        &mut document["api"]
    } else {
        document
    }
}

/// The plans a document's `plans` holds as a list (a map of plans by id gives its plans, each with its id); none when
/// it holds neither.
pub fn listed_plans(plans: Option<Value>) -> Vec<Value> {
    match plans {
        Some(Value::Array(plans)) => plans,
        Some(Value::Object(by_id)) => by_id
            .into_iter()
            .map(|(id, mut plan)| {
                if plan.get("id").is_none() {
                    plan["id"] = Value::String(id);
                }
                plan
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The definition of a document and, for an export, the plans beside it.
pub fn unwrap_export(document: Value) -> (Value, Option<Value>) {
    match document {
        Value::Object(mut root) if is_export_object(&root) => {
            let plans = root.remove("plans");
            (root.remove("api").unwrap_or_default(), plans)
        }
        other => (other, None),
    }
}

fn is_export_object(root: &serde_json::Map<String, Value>) -> bool {
    root.get("api").is_some_and(Value::is_object) && !root.contains_key("listeners")
}

#[cfg(test)]
mod tests;
