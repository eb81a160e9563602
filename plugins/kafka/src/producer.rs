//! Publishing: one shared producer per configuration; the message key (else its id) as the record key, its headers
//! as record headers.

use std::sync::Arc;
use std::time::Duration;

use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::{FfiFuture, FutureExt};
use plugin_kit::api::{Message, RawPublisher};
use plugin_kit::spawn_ffi;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use tokio::runtime::Handle;

use kafka_client::KafkaContext;

/// The producer type shared by the publishers of one configuration.
pub(crate) type KafkaProducer = FutureProducer<KafkaContext>;

/// Pause before enqueueing again when the producer's local queue is full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(10);

/// Publishes to the configured topics through a shared producer.
pub(crate) struct KafkaPublisher {
    runtime: Handle,
    /// Taken when the publisher is dropped.
    producer: Option<Arc<KafkaProducer>>,
    topics: Arc<Vec<String>>,
}

impl KafkaPublisher {
    pub(crate) fn new(runtime: Handle, producer: Arc<KafkaProducer>, topics: Vec<String>) -> Self {
        Self { runtime, producer: Some(producer), topics: Arc::new(topics) }
    }
}

impl Drop for KafkaPublisher {
    /// The last publisher of a configuration releases its producer (threads, sockets). Dropping a producer flushes
    /// it, which blocks: that happens on the blocking pool, not on the thread dropping the publisher.
    fn drop(&mut self) {
        if let Some(producer) = self.producer.take() {
            self.runtime.spawn_blocking(move || {
                if Arc::strong_count(&producer) == 1 {
                    tracing::info!("kafka producer released: no open publisher uses it");
                }
                drop(producer);
            });
        }
    }
}

impl RawPublisher for KafkaPublisher {
    fn publish(&self, messages: RVec<Message>) -> FfiFuture<RResult<(), RString>> {
        let (producer, topics) = (self.producer.clone(), Arc::clone(&self.topics));
        let Some(producer) = producer else {
            return std::future::ready(RResult::RErr("the publisher is closed".into())).into_ffi();
        };
        spawn_ffi(&self.runtime, async move {
            let mut deliveries = Vec::with_capacity(messages.len() * topics.len());
            for message in messages.iter() {
                for topic in topics.iter() {
                    deliveries.push(enqueue(&producer, topic, message).await?);
                }
            }
            for delivery in deliveries {
                match delivery.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((error, _))) => return Err(format!("the broker refused the record: {error}")),
                    Err(_) => return Err("the producer was closed before the record was acknowledged".into()),
                }
            }
            Ok(())
        })
    }
}

/// Enqueues one record, waiting while the local queue is full.
async fn enqueue(producer: &KafkaProducer, topic: &str, message: &Message) -> Result<DeliveryFuture, String> {
    let key: &[u8] = message.key.as_ref().map_or(message.id.as_bytes(), |key| key.as_slice());
    let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
    for header in message.headers.iter() {
        headers = headers.insert(Header { key: header.name.as_str(), value: Some(header.value.as_slice()) });
    }
    let mut record = FutureRecord::to(topic).payload(message.content.as_slice()).key(key).headers(headers);
    loop {
        match producer.send_result(record) {
            Ok(delivery) => return Ok(delivery),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                record = returned;
                tokio::time::sleep(QUEUE_FULL_PAUSE).await;
            }
            Err((error, _)) => return Err(format!("cannot enqueue the record: {error}")),
        }
    }
}
