//! Tracing inside a plugin: the W3C trace context messages carry, sampling, spans, and their hand-over to the host
//! in batches (the host exports them).

mod context;
mod span;
mod tracer;

pub use context::{TraceContext, TRACEPARENT, TRACESTATE};
pub use span::Span;
pub use tracer::{current_context, in_context, install_tracer, tracer, Tracer};
