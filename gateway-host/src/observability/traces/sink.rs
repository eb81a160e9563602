//! The host's end of the plugins' spans: a bounded queue between the plugins' hand-overs and the exporter.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::RVec;
use opentelemetry::InstrumentationScope;
use plugin_api::{RawSpanSink, RawSpanSink_TO, SpanRecord, SpanSinkBox};
use tokio::sync::mpsc;

use super::SpanCounters;

/// Batches waiting for the exporter, at most; past that a hand-over is dropped and counted, so that a collector
/// that is down or slow never holds a plugin up.
pub(super) const QUEUE_BATCHES: usize = 64;

/// One plugin's batch of spans.
pub(super) struct Batch {
    /// The plugin that recorded them.
    pub(super) scope: InstrumentationScope,
    pub(super) spans: RVec<SpanRecord>,
}

/// Where plugins hand their spans; nothing is kept when traces are off.
#[derive(Clone)]
pub struct SpanQueue {
    sender: Option<mpsc::Sender<Batch>>,
    counters: Arc<SpanCounters>,
}

impl SpanQueue {
    /// A queue into `sender` (none: traces are off), counting into `counters`.
    pub(super) fn new(sender: Option<mpsc::Sender<Batch>>, counters: Arc<SpanCounters>) -> Self {
        Self { sender, counters }
    }

    /// A queue that keeps nothing (traces off).
    pub fn off() -> Self {
        Self::new(None, Arc::default())
    }

    /// The sink handed to plugin `plugin_id` of `version`, whose spans are exported under that scope.
    pub fn sink_for(&self, plugin_id: &str, version: &str) -> SpanSinkBox {
        // Leaked once per plugin (a handful per process): every span's copy of the scope then allocates nothing.
        let id: &'static str = Box::leak(plugin_id.to_string().into_boxed_str());
        let version: &'static str = Box::leak(version.to_string().into_boxed_str());
        let scope = InstrumentationScope::builder(id).with_version(version).build();
        RawSpanSink_TO::from_value(PluginSpans { queue: self.clone(), scope }, TD_Opaque)
    }
}

/// One plugin's sink.
struct PluginSpans {
    queue: SpanQueue,
    scope: InstrumentationScope,
}

impl RawSpanSink for PluginSpans {
    fn export(&self, spans: RVec<SpanRecord>) {
        let Some(sender) = &self.queue.sender else {
            return;
        };
        let count = spans.len() as u64;
        if sender.try_send(Batch { scope: self.scope.clone(), spans }).is_err() {
            self.queue.counters.dropped.fetch_add(count, Relaxed);
        }
    }
}
