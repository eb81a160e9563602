//! The store's producer: a write is answered with the offset the broker gave it (idempotent, acknowledged by all
//! in-sync replicas).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer};

use super::follower::BASE_HEADER;
use crate::store::StoreError;
use kafka_client::KafkaContext;

/// How long the producer tries to deliver a record before giving up.
const DELIVERY_TIMEOUT_MS: &str = "20000";
/// How long a writer waits for the answer (a little more than the producer tries).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(25);
/// How long closing waits for records still queued.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the answer about one record goes.
type Answer = SyncSender<Result<i64, String>>;

/// The producer's context: logs as every store client, and each delivery answered to its writer.
struct Deliveries(KafkaContext);

impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.0.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.0.error(error, reason);
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Answer>;

    fn delivery(&self, result: &DeliveryResult<'_>, answer: Self::DeliveryOpaque) {
        let answer_of = match result {
            Ok(message) => Ok(rdkafka::message::Message::offset(message)),
            Err((error, _)) => Err(error.to_string()),
        };
        let _ = answer.try_send(answer_of);
    }
}

/// The store's producer.
pub(super) struct Producer {
    producer: ThreadedProducer<Deliveries>,
}

impl Producer {
    /// A producer with `config`'s brokers and security.
    pub(super) fn new(config: &ClientConfig) -> Result<Self, StoreError> {
        let mut config = config.clone();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "1")
            .set("message.timeout.ms", DELIVERY_TIMEOUT_MS);
        let producer = config
            .create_with_context(Deliveries(KafkaContext::labelled("store producer")))
            .map_err(|error| StoreError::Kafka(format!("cannot create the store's producer: {error}")))?;
        Ok(Self { producer })
    }

    /// Queues `value` (`None`: a tombstone) under `key`, naming the version it edits if `base`; the receiver gets
    /// its offset or why it failed.
    pub(super) fn send(
        &self,
        topic: &str,
        key: &str,
        value: Option<&str>,
        base: Option<i64>,
    ) -> Result<Receiver<Result<i64, String>>, StoreError> {
        let (answer, answered) = sync_channel(1);
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(answer)).key(key);
        if let Some(base) = base {
            let version = base.to_string();
            record = record.headers(OwnedHeaders::new().insert(Header { key: BASE_HEADER, value: Some(&version) }));
        }
        if let Some(value) = value {
            record = record.payload(value);
        }
        self.producer
            .send(record)
            .map_err(|(error, _)| StoreError::Kafka(format!("cannot write to {topic}: {error}")))?;
        Ok(answered)
    }

    /// Writes `value` under `key` (naming the version it edits if `base`) and returns its offset. Blocking.
    pub(super) fn write(
        &self,
        topic: &str,
        key: &str,
        value: Option<&str>,
        base: Option<i64>,
    ) -> Result<i64, StoreError> {
        Self::answer(topic, self.send(topic, key, value, base)?)
    }

    /// The answer about one record sent to `topic`. Blocking.
    pub(super) fn answer(topic: &str, answered: Receiver<Result<i64, String>>) -> Result<i64, StoreError> {
        match answered.recv_timeout(ANSWER_TIMEOUT) {
            Ok(Ok(offset)) => Ok(offset),
            Ok(Err(error)) => Err(StoreError::Kafka(format!("cannot write to {topic}: {error}"))),
            Err(_) => Err(StoreError::Kafka(format!("no answer from the brokers about a write to {topic}"))),
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.producer.flush(FLUSH_TIMEOUT);
    }
}
