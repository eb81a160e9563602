//! A stored API record may keep, beside the definition that runs, one edited on the reference product's paths and
//! not deployed yet (its `deploymentState` is then `NEED_REDEPLOY`), under [`PENDING_KEY`]: a deployment makes it
//! the one that runs. Definitions ignore the key, so a record plans as the definition that runs.

use serde_json::Value;

/// The key of a record's pending definition.
pub const PENDING_KEY: &str = "pendingDefinition";

/// The definition as last edited: the pending one, or the record's own.
pub fn current(record: &Value) -> &Value {
    record.get(PENDING_KEY).unwrap_or(record)
}

/// Whether the record has a definition waiting for a deployment.
pub fn is_pending(record: &Value) -> bool {
    record.get(PENDING_KEY).is_some()
}

/// The definition that runs: the record without its pending definition.
pub fn running(record: &Value) -> Value {
    let mut running = record.clone();
    if let Value::Object(fields) = &mut running {
        fields.remove(PENDING_KEY);
    }
    running
}

/// The record of `running` with `pending` waiting for a deployment (none when it is the same).
pub fn with_pending(running: Value, pending: Value) -> Value {
    let mut record = running;
    if pending != record {
        if let Value::Object(fields) = &mut record {
            fields.insert(PENDING_KEY.to_string(), pending);
        }
    }
    record
}

/// Calls `change` on each definition of the record (unwrapped from the export form): its pending one, if any, then
/// its own. For what applies to every definition kept (sealing secrets, masking them).
pub fn each_definition(record: &mut Value, mut change: impl FnMut(&mut Value)) {
    if let Some(pending) = record.get_mut(PENDING_KEY) {
        change(crate::inner_mut(pending));
    }
    change(crate::inner_mut(record));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_keeps_the_running_and_the_edited_definition() {
        let running_one = json!({ "id": "a", "name": "old" });
        let record = with_pending(running_one.clone(), json!({ "id": "a", "name": "new" }));
        assert!(is_pending(&record));
        assert_eq!(current(&record)["name"], "new");
        assert_eq!(running(&record), running_one);
        assert!(!is_pending(&with_pending(running_one.clone(), running_one)));
    }
}
