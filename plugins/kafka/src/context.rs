//! The librdkafka client context: its logs and errors go to the plugin's log (and so to the host), and a consumer
//! commits what is settled on the partitions it loses in a rebalance and keeps its lag from its statistics. Rebalance callbacks run on the consumer's
//! poll thread, never on an async worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use plugin_kit::api::Qos;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;

use crate::lag::Lags;
use crate::offsets::{to_partition_list, Offsets};

/// Context of one consumer or producer.
pub(crate) struct KafkaContext {
    /// Who this client works for, in log lines (a subscription id, or `producer`).
    label: String,
    /// What a consumer's rebalances work on; `None` for producers.
    consumer: Option<ConsumerState>,
    /// Set by each rebalance, taken by the poll thread (which pauses newly assigned partitions when it must).
    rebalanced: AtomicBool,
    /// The last error reported, so that a broker that stays down is reported once, not every second.
    last_error: Mutex<Option<String>>,
}

/// A consumer's settled offsets, the gate at-most-once commits and revocations take in turn, its QoS, and where its
/// lag is kept.
struct ConsumerState {
    offsets: Arc<Mutex<Offsets>>,
    ownership: Arc<Mutex<()>>,
    qos: Qos,
    lags: Arc<Lags>,
}

impl KafkaContext {
    /// A consumer's context.
    pub(crate) fn consumer(
        subscription_id: &str,
        offsets: Arc<Mutex<Offsets>>,
        ownership: Arc<Mutex<()>>,
        qos: Qos,
        lags: Arc<Lags>,
    ) -> Self {
        Self {
            label: subscription_id.to_string(),
            consumer: Some(ConsumerState { offsets, ownership, qos, lags }),
            rebalanced: AtomicBool::new(false),
            last_error: Mutex::new(None),
        }
    }

    /// A producer's context.
    pub(crate) fn producer() -> Self {
        Self {
            label: "producer".to_string(),
            consumer: None,
            rebalanced: AtomicBool::new(false),
            last_error: Mutex::new(None),
        }
    }

    /// Whether a rebalance happened since the last call.
    pub(crate) fn take_rebalanced(&self) -> bool {
        self.rebalanced.swap(false, Ordering::Relaxed)
    }

    /// Forgets the last error: the next one is reported again.
    pub(crate) fn recovered(&self) {
        self.last_error.lock().expect("error lock").take();
    }
}

impl ClientContext for KafkaContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let client = self.label.as_str();
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(client, facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(client, facility, "librdkafka: {message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(client, facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(client, facility, "librdkafka: {message}"),
        }
    }

    /// A consumer's statistics (`statistics.interval.ms`): its lag is kept.
    fn stats(&self, statistics: Statistics) {
        if let Some(consumer) = &self.consumer {
            consumer.lags.record(&self.label, &statistics);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let text = format!("{error}: {reason}");
        let mut last = self.last_error.lock().expect("error lock");
        if last.as_deref() == Some(text.as_str()) {
            tracing::debug!(client = %self.label, error = %text, "kafka client error (again)");
        } else {
            tracing::warn!(client = %self.label, error = %text, "kafka client error");
            *last = Some(text);
        }
    }
}

impl ConsumerContext for KafkaContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.rebalanced.store(true, Ordering::Relaxed);
        if let Rebalance::Assign(assigned) = rebalance {
            tracing::info!(subscription = %self.label, partitions = assigned.count(), "partitions assigned");
        }
    }

    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (Some(ConsumerState { offsets, ownership, qos, .. }), Rebalance::Revoke(revoked)) =
            (&self.consumer, rebalance)
        else {
            return;
        };
        let lost: Vec<(String, i32)> =
            revoked.elements().iter().map(|element| (element.topic().to_string(), element.partition())).collect();
        // Waits for an at-most-once commit under way: its message is then delivered here, and the new owner starts
        // after it.
        let _owner = ownership.lock().expect("ownership lock");
        let points = offsets.lock().expect("offsets lock").release(&lost);
        tracing::info!(subscription = %self.label, partitions = lost.len(), "partitions revoked");
        if *qos == Qos::None || points.is_empty() {
            return;
        }
        match to_partition_list(&points).and_then(|list| consumer.commit(&list, CommitMode::Sync)) {
            Ok(()) => {
                tracing::info!(subscription = %self.label, partitions = lost.len(), "committed settled offsets of revoked partitions")
            }
            Err(error) => {
                tracing::warn!(subscription = %self.label, error = %error, "could not commit before a rebalance")
            }
        }
    }
}
