//! A span under way: recorded when its trace is sampled, handed to the tracer when it ends (or is dropped).

use std::time::{SystemTime, UNIX_EPOCH};

use plugin_api::abi_stable::std_types::{RString, RVec};
use plugin_api::{AttributeValue, SpanAttribute, SpanKind, SpanRecord, SpanStatus};

use super::{TraceContext, Tracer};

/// A span under way. Its context is there whether or not it is recorded, so that what it calls joins the trace;
/// an unsampled span records nothing.
pub struct Span {
    context: TraceContext,
    record: Option<SpanRecord>,
    tracer: &'static Tracer,
}

impl Span {
    pub(super) fn start(
        tracer: &'static Tracer,
        context: TraceContext,
        parent_span_id: [u8; 8],
        parent_is_remote: bool,
        trace_state: RString,
        name: &'static str,
        kind: SpanKind,
    ) -> Self {
        let record = context.sampled.then(|| SpanRecord {
            trace_id: context.trace_id,
            span_id: context.span_id,
            parent_span_id,
            parent_is_remote,
            trace_state,
            name: name.into(),
            kind,
            start_unix_nanos: unix_nanos(),
            end_unix_nanos: 0,
            attributes: RVec::with_capacity(8),
            status: SpanStatus::Unset,
        });
        Self { context, record, tracer }
    }

    /// Its position, for its children and the `traceparent` of what it calls.
    pub fn context(&self) -> TraceContext {
        self.context
    }

    /// Whether it is recorded; attributes that cost something to make are made only then.
    pub fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    /// A child span, of the same trace and sampling, with the same trace state.
    pub fn child(&self, name: &'static str, kind: SpanKind) -> Span {
        let trace_state = self.record.as_ref().map(|record| record.trace_state.clone()).unwrap_or_default();
        self.tracer.start(name, kind, Some(self.context), false, trace_state)
    }

    /// Sets an attribute (never a secret).
    pub fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        if let Some(record) = &mut self.record {
            record.attributes.push(SpanAttribute { key: key.into(), value: value.into().0 });
        }
    }

    /// Says how it ended.
    pub fn set_status(&mut self, status: SpanStatus) {
        if let Some(record) = &mut self.record {
            record.status = status;
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.end_unix_nanos = unix_nanos().max(record.start_unix_nanos);
            self.tracer.finish(record);
        }
    }
}

/// An attribute value made from a Rust value.
pub struct Value(AttributeValue);

impl From<&'static str> for Value {
    fn from(text: &'static str) -> Self {
        Self(AttributeValue::StaticText(text.into()))
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Self(AttributeValue::Text(text.into()))
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Self(AttributeValue::Int(number))
    }
}

impl From<u64> for Value {
    fn from(number: u64) -> Self {
        Self(AttributeValue::Int(number.min(i64::MAX as u64) as i64))
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Self(AttributeValue::Bool(flag))
    }
}

fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_nanos() as u64)
}
