//! The reference's cases (`gravitee-flows.md` §6), each its own test, and the chain's order and options.

use std::collections::BTreeMap;

use plugin_api::{Header, Message};
use serde_json::json;

use super::*;

const F1: &str = "{#jsonPath(#message.content, '$.feature') == #subscription.metadata.feature}";

fn message(content: &str, headers: &[(&str, &str)]) -> Message {
    Message {
        id: "0".into(),
        content: content.as_bytes().to_vec().into(),
        headers: headers.iter().map(|(name, value)| Header::new(name, value)).collect::<Vec<_>>().into(),
        metadata: vec![Header::new("topic", "orders"), Header::new("partition", "2")].into(),
        key: None.into(),
        ack_token: 0,
        timestamp_ms: 0,
    }
}

fn variables(metadata: &[(&str, &str)]) -> Variables {
    Variables {
        subscription_id: "sub".into(),
        subscription_metadata: metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        application_id: "app".into(),
        plan_id: "plan".into(),
        api_id: "api".into(),
        api_name: "API".into(),
    }
}

fn step(policy: &str, configuration: serde_json::Value) -> ResolvedStep {
    ResolvedStep { path: "flows[0].subscribe[0]".into(), policy: policy.into(), configuration, message_condition: None }
}

/// What `message-filtering` with `configuration` decides for `content` and `headers` under `metadata`.
fn filtered(
    configuration: serde_json::Value,
    content: &str,
    headers: &[(&str, &str)],
    metadata: &[(&str, &str)],
) -> Decision {
    let phase =
        SubscribePhase { steps: vec![step("message-filtering", configuration)], variables: variables(metadata) };
    Chain::compile(&phase).unwrap().run(&mut message(content, headers))
}

const DELIVER: Decision = Decision::Deliver;
const FILTERED_ACKED: Decision = Decision::Filter { ack: true };

#[test]
fn case_1_a_matching_feature_is_delivered() {
    assert_eq!(filtered(json!({"filter": F1}), r#"{"feature":"a"}"#, &[], &[("feature", "a")]), DELIVER);
}

#[test]
fn case_2_another_feature_is_filtered_and_acknowledged() {
    assert_eq!(filtered(json!({"filter": F1}), r#"{"feature":"b"}"#, &[], &[("feature", "a")]), FILTERED_ACKED);
}

#[test]
fn case_3_content_that_is_not_json_is_filtered_or_delivered_as_the_option_says() {
    assert_eq!(filtered(json!({"filter": F1}), "not json", &[], &[("feature", "a")]), FILTERED_ACKED);
    let keep_on_error = json!({"filter": F1, "filterMessageOnFilteringError": false});
    assert_eq!(filtered(keep_on_error, "not json", &[], &[("feature", "a")]), DELIVER);
}

#[test]
fn case_4_a_missing_leaf_equals_a_missing_metadata_key() {
    assert_eq!(filtered(json!({"filter": F1}), r#"{"x":1}"#, &[], &[]), DELIVER);
}

#[test]
fn case_5_a_missing_leaf_never_equals_a_value() {
    assert_eq!(filtered(json!({"filter": F1}), r#"{"x":1}"#, &[], &[("feature", "a")]), FILTERED_ACKED);
}

#[test]
fn case_6_ack_filtered_message_false_leaves_it_unacknowledged() {
    let configuration = json!({"filter": F1, "ackFilteredMessage": false});
    assert_eq!(
        filtered(configuration, r#"{"feature":"b"}"#, &[], &[("feature", "a")]),
        Decision::Filter { ack: false }
    );
}

#[test]
fn case_7_a_quoted_variable_is_a_string_literal() {
    let filter = "{#jsonPath(#message.content, '$.productId') == '#subscription.metadata.productId'}";
    assert_eq!(
        filtered(json!({"filter": filter}), r#"{"productId":"1234"}"#, &[], &[("productId", "1234")]),
        FILTERED_ACKED
    );
}

#[test]
fn case_8_the_account_and_contact_expression() {
    let filter = r#"{(#jsonPath(#message.content, "$.account")!= null && #jsonPath(#message.content, "$.account.product")=='remember') || (#jsonPath(#message.content, "$.contact")!=null && #jsonPath(#message.content, "$.contact.id") > 1)}"#;
    let run = |content: &str| filtered(json!({"filter": filter}), content, &[], &[]);
    assert_eq!(run(r#"{"account":{"product":"remember"}}"#), DELIVER);
    assert_eq!(run(r#"{"card":{"number":"4970"}}"#), FILTERED_ACKED);
    assert_eq!(run(r#"{"contact":{"id":6789}}"#), DELIVER);
}

#[test]
fn case_9_a_header_value_by_index() {
    let filter = json!({"filter": "{#message.headers['x-type'][0] == 'order'}"});
    assert_eq!(filtered(filter.clone(), "{}", &[("X-Type", "order")], &[]), DELIVER);
    assert_eq!(filtered(filter, "{}", &[], &[]), FILTERED_ACKED);
}

#[test]
fn case_10_a_header_list_never_equals_a_string() {
    let filter = json!({"filter": "{#message.headers['x-type'] == 'order'}"});
    assert_eq!(filtered(filter, "{}", &[("x-type", "order")], &[]), FILTERED_ACKED);
}

#[test]
fn case_11_a_subscription_supplies_the_filter() {
    let metadata = [("filter", "{#jsonPath(#message.content, '$.type') == 'order'}")];
    let configuration = json!({"filter": "{#subscription.metadata.filter}"});
    assert_eq!(filtered(configuration.clone(), r#"{"type":"order"}"#, &[], &metadata), DELIVER);
    assert_eq!(filtered(configuration, r#"{"type":"x"}"#, &[], &metadata), FILTERED_ACKED);
}

#[test]
fn case_12_an_integer_never_equals_a_string_unless_both_are_made_strings() {
    let content = r#"{"customerId":42}"#;
    let metadata = [("my_key", "42")];
    let as_strings =
        r#"{(""+#jsonPath(#message.content, '$.customerId')).equals(""+ #subscription.metadata['my_key'])}"#;
    assert_eq!(filtered(json!({"filter": as_strings}), content, &[], &metadata), DELIVER);
    let typed = "{#jsonPath(#message.content, '$.customerId') == #subscription.metadata['my_key']}";
    assert_eq!(filtered(json!({"filter": typed}), content, &[], &metadata), FILTERED_ACKED);
}

#[test]
fn case_13_bare_text_converts_to_a_boolean_or_filters() {
    assert_eq!(filtered(json!({"filter": "true"}), "{}", &[], &[]), DELIVER);
    assert_eq!(filtered(json!({"filter": "false"}), "{}", &[], &[]), FILTERED_ACKED);
    assert_eq!(filtered(json!({"filter": "abc"}), "{}", &[], &[]), FILTERED_ACKED);
}

#[test]
fn headers_are_set_appended_removed_then_whitelisted_in_that_order() {
    let configuration = json!({
        "addHeaders": [
            {"name": "headerKeyResponse", "value": "headerValue"},
            {"name": "toUpdateKeyResponse", "value": "updatedValue"},
            {"name": "fromContent", "value": "{#jsonPath(#message.content, '$.feature')}"},
            {"name": "absent", "value": "{#message.headers['nope']}"}
        ],
        "appendHeaders": [{"name": "multi", "value": "two"}],
        "removeHeaders": ["toRemoveKeyResponse"],
        "whitelistHeaders": ["headerKeyResponse", "toUpdateKeyResponse", "whitelistedKeyResponse", "toRemoveKeyResponse", "multi", "fromContent"]
    });
    let phase = SubscribePhase { steps: vec![step("transform-headers", configuration)], variables: variables(&[]) };
    let mut message = message(
        r#"{"feature":"a"}"#,
        &[
            ("toUpdateKeyResponse", "old"),
            ("toRemoveKeyResponse", "x"),
            ("whitelistedKeyResponse", "whitelisted"),
            ("other", "y"),
            ("multi", "one"),
        ],
    );
    assert_eq!(Chain::compile(&phase).unwrap().run(&mut message), DELIVER);
    let headers: Vec<(String, String)> = message
        .headers
        .iter()
        .map(|header| (header.name.to_string(), String::from_utf8_lossy(&header.value).into_owned()))
        .collect();
    let expected = [
        ("whitelistedKeyResponse", "whitelisted"),
        ("multi", "one"),
        ("headerKeyResponse", "headerValue"),
        ("toUpdateKeyResponse", "updatedValue"),
        ("fromContent", "a"),
        ("multi", "two"),
    ];
    assert_eq!(headers, expected.map(|(name, value)| (name.to_string(), value.to_string())));
}

#[test]
fn a_dropped_message_is_not_seen_by_later_steps_and_a_message_condition_skips_a_step() {
    let mut steps = vec![
        step("transform-headers", json!({"addHeaders": [{"name": "seen", "value": "first"}]})),
        step("message-filtering", json!({"filter": "{#message.headers['kind'][0] == 'keep'}"})),
        step("transform-headers", json!({"addHeaders": [{"name": "seen", "value": "third"}]})),
    ];
    steps[2].message_condition = Some("{#message.headers.containsKey('late')}".into());
    let chain = Chain::compile(&SubscribePhase { steps, variables: variables(&[]) }).unwrap();
    let mut dropped = message("{}", &[("kind", "drop")]);
    assert_eq!(chain.run(&mut dropped), FILTERED_ACKED);
    let mut kept = message("{}", &[("kind", "keep")]);
    assert_eq!(chain.run(&mut kept), DELIVER);
    assert_eq!(kept.headers.last().map(|header| header.value.to_vec()), Some(b"first".to_vec()));
    let mut late = message("{}", &[("kind", "keep"), ("late", "1")]);
    chain.run(&mut late);
    assert_eq!(late.headers.last().map(|header| header.value.to_vec()), Some(b"third".to_vec()));
}

#[test]
fn a_header_value_that_cannot_be_evaluated_fails_the_message_with_the_step_path() {
    let configuration = json!({"addHeaders": [{"name": "x", "value": "{#message.headers['absent'][0]}"}]});
    let phase = SubscribePhase { steps: vec![step("transform-headers", configuration)], variables: variables(&[]) };
    let Decision::Fail(cause) = Chain::compile(&phase).unwrap().run(&mut message("{}", &[])) else {
        panic!("the message should fail");
    };
    assert!(cause.starts_with("flows[0].subscribe[0]: unable to apply headers transformation"), "{cause}");
}

#[test]
fn kafka_metadata_reads_partition_as_a_number() {
    let filter = json!({"filter": "{#message.metadata.partition == 2 && #message.metadata['topic'] == 'orders'}"});
    assert_eq!(filtered(filter, "{}", &[], &[]), DELIVER);
}

fn api(document: serde_json::Value) -> definition::ApiDefinition {
    definition::ApiDefinition::parse(document).unwrap()
}

fn subscriber<'a>(channel: Option<&'a str>, metadata: &[(&str, &str)]) -> Subscriber<'a> {
    Subscriber { entrypoint_id: "webhook", channel, variables: variables(metadata) }
}

fn filter_step(name: &str) -> serde_json::Value {
    json!({"name": name, "policy": "message-filtering", "configuration": {"filter": "true"}})
}

fn names(phase: &SubscribePhase) -> Vec<String> {
    phase.steps.iter().map(|step| step.path.clone()).collect()
}

#[test]
fn plan_flows_run_before_api_flows_and_disabled_ones_never() {
    let api = api(json!({
        "id": "api",
        "flows": [
            {"subscribe": [filter_step("api-1")]},
            {"enabled": false, "subscribe": [filter_step("disabled flow")]},
            {"subscribe": [dbg_step_disabled()]}
        ],
        "plans": [{"id": "plan", "mode": "PUSH", "flows": [{"subscribe": [filter_step("plan-1")]}]}]
    }));
    let phase = resolve(&api, subscriber(None, &[])).unwrap();
    assert_eq!(names(&phase), ["plans[0].flows[0].subscribe[0]", "flows[0].subscribe[0]"]);
}

fn dbg_step_disabled() -> serde_json::Value {
    json!({"policy": "message-filtering", "enabled": false, "configuration": {"filter": "false"}})
}

#[test]
fn channel_and_condition_selectors_choose_flows() {
    let api = api(json!({
        "id": "api",
        "flows": [
            {"selectors": [{"type": "channel", "channel": "/orders", "channelOperator": "EQUALS", "operations": ["SUBSCRIBE"]}], "subscribe": [filter_step("orders")]},
            {"selectors": [{"type": "channel", "channel": "/refunds"}], "subscribe": [filter_step("refunds")]},
            {"selectors": [{"type": "condition", "condition": "{#subscription.metadata.tier == 'gold'}"}], "subscribe": [filter_step("gold")]}
        ]
    }));
    assert_eq!(names(&resolve(&api, subscriber(Some("orders"), &[])).unwrap()), ["flows[0].subscribe[0]"]);
    assert_eq!(
        names(&resolve(&api, subscriber(Some("refunds/eu"), &[("tier", "gold")])).unwrap()),
        ["flows[1].subscribe[0]", "flows[2].subscribe[0]"]
    );
    assert!(names(&resolve(&api, subscriber(None, &[])).unwrap()).is_empty());
}

#[test]
fn best_match_keeps_the_best_channel_of_each_chain_and_match_required_refuses_none() {
    let api = api(json!({
        "id": "api",
        "flowExecution": {"mode": "BEST_MATCH", "matchRequired": true},
        "flows": [
            {"selectors": [{"type": "channel", "channel": "/books/:bookId/chapters/:chapterId"}], "subscribe": [filter_step("param")]},
            {"selectors": [{"type": "channel", "channel": "/books/9999/chapters"}], "subscribe": [filter_step("literal")]}
        ]
    }));
    assert_eq!(
        names(&resolve(&api, subscriber(Some("/books/145/chapters/12"), &[])).unwrap()),
        ["flows[0].subscribe[0]"]
    );
    assert_eq!(
        names(&resolve(&api, subscriber(Some("/books/9999/chapters/random"), &[])).unwrap()),
        ["flows[1].subscribe[0]"]
    );
    assert!(resolve(&api, subscriber(Some("/magazines"), &[])).is_err());
}

#[test]
fn a_deploy_names_the_path_and_position_of_a_bad_expression_and_warns_of_what_is_not_run() {
    let api = api(json!({
        "id": "api",
        "flows": [{
            "request": [{"policy": "rate-limit"}],
            "subscribe": [
                {"policy": "message-filtering", "configuration": {"filter": "{#message.content == }"}},
                {"policy": "json-to-json", "configuration": {}},
                {"policy": "transform-headers", "configuration": {"addHeaders": [{"name": "bad name", "value": "x"}]}}
            ]
        }]
    }));
    let checked = check(&api, "");
    let errors: Vec<String> = checked.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("flows[0].subscribe[0].configuration.filter: at character 22:"), "{errors:?}");
    assert!(errors[1].starts_with("flows[0].subscribe[2].configuration.addHeaders[0].name"), "{errors:?}");
    assert_eq!(
        checked.warnings,
        [
            "flows[0].request[0]: policy `rate-limit` is not run (this gateway runs the subscribe phase only)",
            "flows[0].subscribe[1]: policy `json-to-json` is not run by this gateway; messages pass the step unchanged",
        ]
    );
}
