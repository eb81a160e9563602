//! The exporter's task: takes the queued batches and sends them with the OpenTelemetry OTLP/HTTP exporter, one
//! export at a time; what it cannot send is dropped and counted, never retried into a growing backlog.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use opentelemetry_sdk::Resource;
use tokio::sync::mpsc;

use super::convert::span_data;
use super::sink::{Batch, QUEUE_BATCHES};
use super::{SpanQueue, TraceExportSettings};

/// Spans sent in one export request at most.
const EXPORT_BATCH: usize = 1024;
/// The longest one export may take (the exporter's own timeout, and ours around it).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Spans exported and dropped since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct SpanCounters {
    /// Spans the collector took.
    pub exported: AtomicU64,
    /// Spans dropped: the queue full, or an export that failed.
    pub dropped: AtomicU64,
}

impl SpanCounters {
    /// Spans exported and dropped so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.exported.load(Relaxed), self.dropped.load(Relaxed))
    }
}

/// Starts exporting as `settings` say (nothing when they are `None`); returns where plugins hand their spans and
/// what is counted.
pub fn start(settings: Option<&TraceExportSettings>) -> Result<(SpanQueue, Arc<SpanCounters>), String> {
    let counters = Arc::new(SpanCounters::default());
    let Some(settings) = settings else {
        return Ok((SpanQueue::new(None, Arc::clone(&counters)), counters));
    };
    let mut builder = SpanExporter::builder().with_http().with_timeout(EXPORT_TIMEOUT);
    if let Some(url) = &settings.traces_url {
        builder = builder.with_endpoint(url.clone());
    }
    let mut exporter = builder.build().map_err(|error| format!("tracing: cannot make the OTLP exporter: {error}"))?;
    let resource = Resource::builder()
        .with_attributes(settings.resource_attributes.iter().cloned())
        .with_service_name(settings.service_name.clone())
        .build();
    exporter.set_resource(&resource);
    let (sender, receiver) = mpsc::channel(QUEUE_BATCHES);
    tokio::spawn(export_loop(exporter, receiver, Arc::clone(&counters)));
    tracing::info!(
        endpoint = settings.traces_url.as_deref().unwrap_or("(from OTEL_EXPORTER_OTLP_*)"),
        sampling_ratio = settings.sampling_ratio,
        service = %settings.service_name,
        "exporting traces over OTLP/HTTP"
    );
    Ok((SpanQueue::new(Some(sender), Arc::clone(&counters)), counters))
}

async fn export_loop(exporter: SpanExporter, mut queue: mpsc::Receiver<Batch>, counters: Arc<SpanCounters>) {
    let mut failing = false;
    while let Some(first) = queue.recv().await {
        let mut spans = Vec::with_capacity(first.spans.len());
        add(&mut spans, first);
        while spans.len() < EXPORT_BATCH {
            match queue.try_recv() {
                Ok(batch) => add(&mut spans, batch),
                Err(_) => break,
            }
        }
        let count = spans.len() as u64;
        let result = match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export(spans)).await {
            Ok(result) => result.map_err(|error| error.to_string()),
            Err(_) => Err(format!("no answer within {} ms", EXPORT_TIMEOUT.as_millis())),
        };
        match result {
            Ok(()) => {
                counters.exported.fetch_add(count, Relaxed);
                if std::mem::take(&mut failing) {
                    tracing::info!("exporting spans again");
                }
            }
            Err(error) => {
                counters.dropped.fetch_add(count, Relaxed);
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(%error, spans = count, "spans could not be exported; dropping them until the collector answers");
                }
            }
        }
    }
}

fn add(spans: &mut Vec<SpanData>, batch: Batch) {
    spans.extend(batch.spans.into_iter().map(|span| span_data(span, &batch.scope)));
}
