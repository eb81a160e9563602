//! Traces: the plugins record the spans of the deliveries they sample and hand them over in batches ([`sink`]);
//! the host exports them with the OpenTelemetry project's OTLP exporter ([`export`]), as the operator's settings
//! and the OpenTelemetry environment variables say ([`settings`]).

mod convert;
pub mod export;
pub mod settings;
pub mod sink;

pub use export::SpanCounters;
pub use settings::TraceExportSettings;
pub use sink::SpanQueue;
