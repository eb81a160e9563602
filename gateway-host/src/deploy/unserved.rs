//! Warnings for the parts of a definition this gateway accepts but does not run (SPEC §3); those of flows are the
//! `flows` crate's.

use definition::ApiDefinition;
use serde_json::Value;

/// One warning per part that is present but not run.
pub(super) fn warnings(api: &ApiDefinition) -> Vec<String> {
    let mut warnings = Vec::new();
    if !api.resources.is_empty() {
        warnings.push("resources: not used by this gateway".to_string());
    }
    if !api.properties.is_empty() {
        warnings.push("properties: not used by this gateway".to_string());
    }
    if api.services.as_ref().is_some_and(|services| !is_empty(services)) {
        warnings.push("services: not run by this gateway".to_string());
    }
    if !api.tags.is_empty() {
        warnings.push("tags: ignored; this gateway serves every API it is given".to_string());
    }
    for plan in api.plans.iter().filter(|plan| !plan.is_push()) {
        warnings.push(format!("plans: plan `{}` is not a push plan; not served", plan.id));
    }
    warnings
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}
