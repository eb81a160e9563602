//! An API definition as the management API and the definitions folder read it: any JSON document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) {
        let analytics = document.get("analytics").cloned();
        let _ = definition::ApiDefinition::parse(document);
        let _ = definition::Sampling::from_analytics(analytics.as_ref());
    }
});
