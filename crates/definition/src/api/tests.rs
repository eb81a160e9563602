use super::*;
use serde_json::json;

fn minimal() -> Value {
    json!({
        "id": "orders", "type": "message",
        "listeners": [{ "type": "subscription", "entrypoints": [{ "type": "webhook", "qos": "AT_LEAST_ONCE" }] }],
        "endpointGroups": [{ "name": "source", "type": "mock", "endpoints": [{ "name": "m", "type": "mock" }] }]
    })
}

#[test]
fn parses_a_minimal_definition_with_defaults() {
    let api = ApiDefinition::parse(minimal()).unwrap();
    assert_eq!(api.listeners[0].entrypoints[0].effective_qos(), Qos::AtLeastOnce);
    assert!(api.endpoint_groups[0].endpoints[0].inherit_configuration);
    assert!(api.plans.is_empty());
}

#[test]
fn wrong_shapes_name_their_path() {
    let mut doc = minimal();
    doc["listeners"][0]["entrypoints"][0]["qos"] = json!("exactly-once");
    let errors = ApiDefinition::parse(doc).unwrap_err();
    assert_eq!(errors[0].path, "listeners[0].entrypoints[0].qos");
    assert!(errors[0].message.contains("exactly-once"), "{}", errors[0].message);
}

#[test]
fn plans_come_as_a_map_or_a_list() {
    let mut doc = minimal();
    doc["plans"] = json!({ "push": { "name": "Push", "mode": "PUSH" } });
    assert_eq!(ApiDefinition::parse(doc.clone()).unwrap().push_plans().next().unwrap().id, "push");
    doc["plans"] = json!([{ "id": "p1", "mode": "standard" }]);
    assert_eq!(ApiDefinition::parse(doc).unwrap().push_plans().count(), 0);
}

#[test]
fn exported_definitions_are_unwrapped() {
    let doc = json!({ "api": minimal(), "plans": [{ "id": "p", "mode": "push" }], "members": [] });
    let api = ApiDefinition::parse(doc).unwrap();
    assert_eq!(api.push_plans().count(), 1);
    let errors = ApiDefinition::parse(json!({ "api": { "id": 3 } })).unwrap_err();
    assert_eq!(errors[0].path, "api.id");
}

#[test]
fn duplicate_groups_and_other_api_types_are_refused() {
    let mut doc = minimal();
    doc["type"] = json!("proxy");
    let group = doc["endpointGroups"][0].clone();
    doc["endpointGroups"].as_array_mut().unwrap().push(group);
    let paths: Vec<_> = ApiDefinition::parse(doc).unwrap_err().into_iter().map(|e| e.path).collect();
    assert_eq!(paths, ["type", "endpointGroups[1].name"]);
}
