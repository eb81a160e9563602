//! What the kafka plugin and the host's Kafka store and work shares share about librdkafka clients: a client context
//! that sends librdkafka's logs and errors to `tracing` under the client's label, a broker that stays down reported
//! once. (In the plugin, `tracing` reaches the host through the plugin's log bridge.)
#![warn(missing_docs)]
#![deny(unreachable_pub)]

use std::sync::Mutex;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// Context of one client.
pub struct KafkaContext {
    /// Who this client works for, in log lines (`producer`, a feed's topics, a subscription catching up).
    label: String,
    /// The last error reported, so that a broker that stays down is reported once, not every second.
    last_error: Mutex<Option<String>>,
}

impl KafkaContext {
    /// The context of a client known in logs as `label`.
    pub fn labelled(label: &str) -> Self {
        Self { label: label.to_string(), last_error: Mutex::new(None) }
    }

    /// A producer's context.
    pub fn producer() -> Self {
        Self::labelled("producer")
    }

    /// Forgets the last error: the next one is reported again.
    pub fn recovered(&self) {
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

/// Consumers that need nothing more use librdkafka's default rebalance handling (catch-up consumers assign partitions
/// themselves; the store's followers read one partition).
impl ConsumerContext for KafkaContext {}
