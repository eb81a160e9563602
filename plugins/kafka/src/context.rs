//! The librdkafka client context of producers and catch-up consumers: their logs and errors go to the plugin's log
//! (and so to the host), a broker that stays down reported once.

use std::sync::Mutex;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// Context of one client.
pub(crate) struct KafkaContext {
    /// Who this client works for, in log lines (`producer`, a feed's topics, a subscription catching up).
    label: String,
    /// The last error reported, so that a broker that stays down is reported once, not every second.
    last_error: Mutex<Option<String>>,
}

impl KafkaContext {
    /// The context of a client known in logs as `label`.
    pub(crate) fn labelled(label: &str) -> Self {
        Self { label: label.to_string(), last_error: Mutex::new(None) }
    }

    /// A producer's context.
    pub(crate) fn producer() -> Self {
        Self::labelled("producer")
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

/// Catch-up consumers use librdkafka's default assignment handling (they assign partitions themselves).
impl ConsumerContext for KafkaContext {}
