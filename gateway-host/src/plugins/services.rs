//! What the host hands each plugin it instantiates: a log sink and a span sink of its own, the operator's egress
//! rules and whether to trace.

use plugin_api::{EgressSettings, HostServices, TraceSettings};

use crate::observability::plugin_log::{max_level, sink_for};
use crate::observability::traces::SpanQueue;

/// The services every plugin of this host gets.
pub struct PluginServices {
    /// What plugins that call out for consumers may reach.
    pub egress: EgressSettings,
    /// Whether plugins record spans, and how many.
    pub traces: TraceSettings,
    /// Where their spans go.
    pub spans: SpanQueue,
}

impl PluginServices {
    /// Services under `egress` that trace nothing (`gateway-host check`).
    pub fn untraced(egress: EgressSettings) -> Self {
        Self { egress, traces: TraceSettings::default(), spans: SpanQueue::off() }
    }

    /// The services of plugin `plugin_id` of `version`.
    pub(super) fn for_plugin(&self, plugin_id: &str, version: &str) -> HostServices {
        HostServices {
            log_sink: sink_for(plugin_id),
            max_log_level: max_level(),
            egress: self.egress.clone(),
            traces: self.traces,
            span_sink: self.spans.sink_for(plugin_id, version),
        }
    }
}
