//! The plugin's tracer: samples new traces, keeps finished spans and hands them to the host a batch at a time (when
//! a batch is full, and every 200 ms): at most a batch waits here, and the host's queue is bounded.

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use plugin_api::abi_stable::std_types::{RString, RVec};
use plugin_api::{SpanKind, SpanRecord, SpanSinkBox, TraceSettings};

use super::{Span, TraceContext};

/// Spans handed over in one call once this many are waiting.
const BATCH: usize = 512;
/// The longest a finished span waits to be handed over.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

static TRACER: OnceLock<Tracer> = OnceLock::new();

tokio::task_local! {
    /// The span a task is working in, for spans started deep inside it (a token request during an attempt).
    static CURRENT: TraceContext;
}

/// Records spans when the host exports them; `install_tracer` makes the plugin's one.
pub struct Tracer {
    /// New traces whose id's low 63 bits fall under this are recorded (OpenTelemetry's ratio sampler).
    ratio_bound: u64,
    sink: SpanSinkBox,
    buffer: Mutex<Vec<SpanRecord>>,
}

/// Makes this plugin library's tracer from the host's settings; nothing when tracing is off. Call once, from
/// `instantiate`.
pub fn install_tracer(settings: TraceSettings, sink: SpanSinkBox) {
    if !settings.enabled {
        return;
    }
    let ratio = settings.sampling_ratio.clamp(0.0, 1.0);
    let tracer = Tracer {
        ratio_bound: (ratio * (1u64 << 63) as f64) as u64,
        sink,
        buffer: Mutex::new(Vec::with_capacity(BATCH)),
    };
    if TRACER.set(tracer).is_ok() {
        let spawned = std::thread::Builder::new().name("span-flush".into()).spawn(|| loop {
            std::thread::sleep(FLUSH_EVERY);
            if let Some(tracer) = TRACER.get() {
                tracer.flush();
            }
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "spans are handed to the host only in full batches: no flush thread");
        }
    }
}

/// The plugin's tracer, when the host exports traces.
pub fn tracer() -> Option<&'static Tracer> {
    TRACER.get()
}

/// Runs `work` with `context` as the task's current span, for spans started inside it.
pub async fn in_context<F: Future>(context: Option<TraceContext>, work: F) -> F::Output {
    match context {
        Some(context) => CURRENT.scope(context, work).await,
        None => work.await,
    }
}

/// The span the running task works in, when it set one with `in_context`.
pub fn current_context() -> Option<TraceContext> {
    CURRENT.try_with(|context| *context).ok()
}

impl Tracer {
    /// Starts a span under `parent` (a context the message carried, `remote`, or one of ours), or the root of a new
    /// trace, sampled per the ratio.
    pub fn start(
        &'static self,
        name: &'static str,
        kind: SpanKind,
        parent: Option<TraceContext>,
        remote: bool,
        trace_state: RString,
    ) -> Span {
        let span_id = random_id();
        let context = match parent {
            Some(parent) => TraceContext { trace_id: parent.trace_id, span_id, sampled: parent.sampled },
            None => {
                let trace_id = new_trace_id();
                TraceContext { trace_id, span_id, sampled: self.samples(&trace_id) }
            }
        };
        let parent_span_id = parent.map_or([0; 8], |parent| parent.span_id);
        Span::start(self, context, parent_span_id, remote && parent.is_some(), trace_state, name, kind)
    }

    /// Whether a new trace of this id is recorded.
    fn samples(&self, trace_id: &[u8; 16]) -> bool {
        let low = u64::from_be_bytes(trace_id[8..].try_into().expect("eight bytes")) >> 1;
        low < self.ratio_bound
    }

    /// Keeps a finished span; hands over a batch once one is full.
    pub(super) fn finish(&self, record: SpanRecord) {
        let full = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            buffer.push(record);
            (buffer.len() >= BATCH).then(|| std::mem::replace(&mut *buffer, Vec::with_capacity(BATCH)))
        };
        if let Some(batch) = full {
            self.hand_over(batch);
        }
    }

    /// Hands over what is waiting.
    fn flush(&self) {
        let batch = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        if !batch.is_empty() {
            self.hand_over(batch);
        }
    }

    fn hand_over(&self, batch: Vec<SpanRecord>) {
        self.sink.export(RVec::from(batch));
    }
}

/// A random, non-zero span id (not a secret: a fast generator).
fn random_id() -> [u8; 8] {
    fastrand::u64(1..).to_be_bytes()
}

/// A random, non-zero trace id.
fn new_trace_id() -> [u8; 16] {
    fastrand::u128(1..).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::abi_stable::sabi_trait::TD_Opaque;
    use plugin_api::{RawSpanSink, RawSpanSink_TO};
    use std::sync::Arc;

    /// Counts the batches and spans it gets.
    #[derive(Clone, Default)]
    struct Counting(Arc<Mutex<Vec<usize>>>);

    impl RawSpanSink for Counting {
        fn export(&self, spans: RVec<SpanRecord>) {
            self.0.lock().unwrap().push(spans.len());
        }
    }

    fn tracer(ratio: f64, sink: Counting) -> Tracer {
        Tracer {
            ratio_bound: (ratio * (1u64 << 63) as f64) as u64,
            sink: RawSpanSink_TO::from_value(sink, TD_Opaque),
            buffer: Mutex::new(Vec::new()),
        }
    }

    fn sampled_share(ratio: f64) -> f64 {
        let tracer = tracer(ratio, Counting::default());
        let sampled = (0..20_000).filter(|_| tracer.samples(&new_trace_id())).count();
        sampled as f64 / 20_000.0
    }

    #[test]
    fn new_traces_are_sampled_at_the_ratio() {
        assert_eq!(sampled_share(0.0), 0.0);
        assert_eq!(sampled_share(1.0), 1.0);
        let share = sampled_share(0.25);
        assert!((0.22..0.28).contains(&share), "{share}");
    }

    #[test]
    fn spans_are_handed_over_a_full_batch_at_a_time_then_what_waits() {
        let sink = Counting::default();
        let tracer = tracer(1.0, sink.clone());
        for _ in 0..BATCH + 3 {
            tracer.finish(record());
        }
        assert_eq!(*sink.0.lock().unwrap(), [BATCH]);
        tracer.flush();
        tracer.flush();
        assert_eq!(*sink.0.lock().unwrap(), [BATCH, 3]);
    }

    fn record() -> SpanRecord {
        SpanRecord {
            trace_id: [1; 16],
            span_id: [1; 8],
            parent_span_id: [0; 8],
            parent_is_remote: false,
            trace_state: RString::new(),
            name: "test".into(),
            kind: SpanKind::Internal,
            start_unix_nanos: 0,
            end_unix_nanos: 0,
            attributes: RVec::new(),
            status: plugin_api::SpanStatus::Unset,
        }
    }
}
