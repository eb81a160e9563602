//! Spans recorded inside plugins and handed to the host in batches, which exports them (OpenTelemetry).
//!
//! A plugin never exports on its own: it records finished spans of the traces it samples into a bounded buffer
//! and hands them over a batch at a time, so that no message costs a call into another runtime
//! (`docs/decisions.md`).

use abi_stable::{
    sabi_trait,
    std_types::{RBox, RStr, RString, RVec},
    StableAbi,
};

/// The operator's `[tracing]` settings that plugins apply when they record spans.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq)]
pub struct TraceSettings {
    /// Spans are exported: record them. Off, a plugin records nothing and passes trace context on unchanged.
    pub enabled: bool,
    /// The share of new traces (a message without a sampled parent) that are recorded, 0 to 1; a message whose
    /// context says sampled is always followed, one that says not sampled never.
    pub sampling_ratio: f64,
}

/// What a span stands for, as OpenTelemetry's span kinds.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// Work inside the gateway.
    Internal,
    /// A call out (a callback attempt, a token request).
    Client,
    /// A message handed to a backend (a dead letter published).
    Producer,
    /// A message taken from a backend and processed (a delivery).
    Consumer,
}

/// How a span ended.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum SpanStatus {
    /// Nothing said.
    Unset,
    /// It did what it was for.
    Ok,
    /// It failed, for this reason.
    Error(RString),
}

/// A span attribute's value.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// Text.
    Text(RString),
    /// Text of the plugin library (a QoS, a method, an outcome): nothing allocated, on either side.
    StaticText(RStr<'static>),
    /// A whole number.
    Int(i64),
    /// A flag.
    Bool(bool),
}

/// One span attribute. Keys are static text of the plugin library, which is never unloaded.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct SpanAttribute {
    /// The attribute's name (`http.response.status_code`).
    pub key: RStr<'static>,
    /// Its value.
    pub value: AttributeValue,
}

/// A finished span of a sampled trace.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct SpanRecord {
    /// The trace it belongs to.
    pub trace_id: [u8; 16],
    /// Its own id.
    pub span_id: [u8; 8],
    /// Its parent's id; all zero for a trace's root.
    pub parent_span_id: [u8; 8],
    /// The parent came with the message (another service's span), not from this gateway.
    pub parent_is_remote: bool,
    /// The W3C `tracestate` the message carried, passed on unchanged.
    pub trace_state: RString,
    /// Its name (`webhook delivery`, `POST`).
    pub name: RStr<'static>,
    /// What it stands for.
    pub kind: SpanKind,
    /// When it started, nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// When it ended.
    pub end_unix_nanos: u64,
    /// Its attributes; never a secret.
    pub attributes: RVec<SpanAttribute>,
    /// How it ended.
    pub status: SpanStatus,
}

/// The host's end of a plugin's spans.
#[sabi_trait]
pub trait RawSpanSink: Send + Sync {
    /// Takes a batch of finished spans. Never blocks: the host queues the batch, or drops and counts it.
    #[sabi(last_prefix_field)]
    fn export(&self, spans: RVec<SpanRecord>);
}

/// An owned span sink behind the boundary.
pub type SpanSinkBox = RawSpanSink_TO<'static, RBox<()>>;
