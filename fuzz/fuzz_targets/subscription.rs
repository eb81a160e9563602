//! A subscription as the management API reads it: the request body, its secrets masked and restored, the consumer
//! configuration both webhook plugins check (callback, headers, auth, TLS stores, retry, the egress policy with no
//! file folder, so that no file is read), and an entrypoint's API-level configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let policy = egress::EgressPolicy::default();
    if let Ok(body) = serde_json::from_str::<serde_json::Value>(text) {
        let mut masked = body.clone();
        secrets::SecretFields::subscription().mask(&mut masked);
        let _ = secrets::SecretFields::subscription().restore(&mut masked, &body);
        let configuration = body.pointer("/consumerConfiguration/entrypointConfiguration").map(ToString::to_string);
        let _ = definition::parse_json::<definition::NewSubscription>(body, "");
        if let Some(configuration) = configuration {
            let _ = webhook_core::CheckedSubscription::parse(&configuration, &policy);
        }
    }
    let _ = webhook_core::CheckedSubscription::parse(text, &policy);
    let _ = webhook_core::config::EntrypointConfig::parse(text);
});
