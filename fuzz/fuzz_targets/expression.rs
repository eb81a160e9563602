//! The expression language through a `message-filtering` step: the input's first line is the filter, the rest the
//! message's content (and a header, and the subscription's metadata), so that parsing, `#jsonPath` and evaluation
//! are all reached. Nothing may panic, whatever the text.
#![no_main]

use std::collections::BTreeMap;

use flows::{Chain, ResolvedStep, SubscribePhase, Variables};
use libfuzzer_sys::fuzz_target;
use plugin_api::{Header, Message};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (filter, content) = text.split_once('\n').unwrap_or((&text, r#"{"a":{"b":[1,2,3]}}"#));
    let step = ResolvedStep {
        path: "flows[0].subscribe[0]".into(),
        policy: "message-filtering".into(),
        configuration: json!({ "filter": filter }),
        message_condition: Some(filter.to_string()),
    };
    let metadata: BTreeMap<String, String> = [("filter".to_string(), content.to_string())].into_iter().collect();
    let variables = Variables { subscription_metadata: metadata, ..Variables::default() };
    let Ok(chain) = Chain::compile(&SubscribePhase { steps: vec![step], variables }) else {
        return;
    };
    let mut message = Message {
        id: "0".into(),
        content: content.as_bytes().to_vec().into(),
        headers: vec![Header::new("x-type", content)].into(),
        metadata: vec![Header::new("partition", "1")].into(),
        key: None.into(),
        ack_token: 0,
        timestamp_ms: 0,
    };
    let _ = chain.run(&mut message);
});
