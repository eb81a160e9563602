//! A plugin's span record as the OpenTelemetry SDK's span data.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use plugin_api::{AttributeValue, SpanRecord, SpanStatus};

/// `record`, recorded by the plugin of `scope`, as span data.
pub(super) fn span_data(record: SpanRecord, scope: &InstrumentationScope) -> SpanData {
    let trace_state = record.trace_state.as_str().parse::<TraceState>().unwrap_or_default();
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_bytes(record.trace_id),
            SpanId::from_bytes(record.span_id),
            TraceFlags::SAMPLED,
            false,
            trace_state,
        ),
        parent_span_id: SpanId::from_bytes(record.parent_span_id),
        parent_span_is_remote: record.parent_is_remote,
        span_kind: match record.kind {
            plugin_api::SpanKind::Internal => SpanKind::Internal,
            plugin_api::SpanKind::Client => SpanKind::Client,
            plugin_api::SpanKind::Producer => SpanKind::Producer,
            plugin_api::SpanKind::Consumer => SpanKind::Consumer,
        },
        name: Cow::Borrowed(record.name.as_str()),
        start_time: time(record.start_unix_nanos),
        end_time: time(record.end_unix_nanos),
        attributes: record
            .attributes
            .into_iter()
            .map(|attribute| {
                let key = attribute.key.as_str();
                match attribute.value {
                    AttributeValue::Text(text) => KeyValue::new(key, text.into_string()),
                    AttributeValue::StaticText(text) => KeyValue::new(key, text.as_str()),
                    AttributeValue::Int(number) => KeyValue::new(key, number),
                    AttributeValue::Bool(flag) => KeyValue::new(key, flag),
                }
            })
            .collect(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: match record.status {
            SpanStatus::Unset => Status::Unset,
            SpanStatus::Ok => Status::Ok,
            SpanStatus::Error(description) => Status::error(description.into_string()),
        },
        instrumentation_scope: scope.clone(),
    }
}

fn time(unix_nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(unix_nanos)
}
