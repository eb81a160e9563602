//! `analytics.messageSampling`: any JSON value as the analytics object, and any text as the value of each type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    if let Ok(analytics) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = definition::Sampling::from_analytics(Some(&analytics));
    }
    let text = String::from_utf8_lossy(data);
    for kind in ["probability", "count", "temporal", "windowed_count"] {
        let analytics = json!({ "messageSampling": { "type": kind, "value": text } });
        let _ = definition::Sampling::from_analytics(Some(&analytics));
    }
});
