//! A thread reading topic partitions from their beginning, in batches, for as long as the store is open: the
//! configuration topic into the replica, the webhook log topic into this node's index.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::store::StoreError;
use kafka_client::KafkaContext;

/// How long a poll waits for records: how quickly a stop is seen.
const POLL_WAIT: Duration = Duration::from_millis(100);
/// The header naming the version a record edits.
pub(super) const BASE_HEADER: &str = "base";
/// Records handed over at once, at most.
const BATCH: usize = 1024;

/// One record read.
pub(super) struct Record {
    /// Its key as text.
    pub(super) key: String,
    /// Its value as text; `None` for a tombstone.
    pub(super) value: Option<String>,
    /// Its offset in its partition.
    pub(super) offset: i64,
    /// The version it edits, from its `base` header (see [`super::replica`]).
    pub(super) base: Option<i64>,
}

/// A running follower; stopped when dropped.
pub(super) struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Reads partitions `0..partitions` of `topic` from the beginning and hands every batch to `apply`.
    pub(super) fn start(
        config: &ClientConfig,
        topic: &str,
        partitions: i32,
        mut apply: impl FnMut(Vec<Record>) + Send + 'static,
    ) -> Result<Self, StoreError> {
        let mut config = config.clone();
        // Positions are this node's own: no group is joined and nothing is committed.
        config.set("group.id", format!("unused.{topic}")).set("enable.auto.commit", "false");
        let consumer: BaseConsumer<KafkaContext> = config
            .create_with_context(KafkaContext::labelled(&format!("store follower {topic}")))
            .map_err(|error| StoreError::Kafka(format!("cannot create the consumer of {topic}: {error}")))?;
        let mut assignment = TopicPartitionList::new();
        for partition in 0..partitions {
            assignment
                .add_partition_offset(topic, partition, Offset::Beginning)
                .map_err(|error| StoreError::Kafka(error.to_string()))?;
        }
        consumer.assign(&assignment).map_err(|error| StoreError::Kafka(format!("cannot read {topic}: {error}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("store-follower".to_string())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    let batch = next_batch(&consumer);
                    if !batch.is_empty() {
                        apply(batch);
                    }
                }
            })
            .map_err(StoreError::Folder)?;
        Ok(Self { stop, thread: Some(thread) })
    }
}

/// The records ready now (waiting up to [`POLL_WAIT`] for the first).
fn next_batch(consumer: &BaseConsumer<KafkaContext>) -> Vec<Record> {
    let mut batch = Vec::new();
    let mut wait = POLL_WAIT;
    while batch.len() < BATCH {
        match consumer.poll(wait) {
            Some(Ok(message)) => batch.push(Record {
                key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
                value: message.payload().map(|value| String::from_utf8_lossy(value).into_owned()),
                offset: message.offset(),
                base: message.headers().and_then(|headers| {
                    headers
                        .iter()
                        .find(|header| header.key == BASE_HEADER)
                        .and_then(|header| std::str::from_utf8(header.value?).ok()?.parse().ok())
                }),
            }),
            Some(Err(error)) => tracing::debug!(error = %error, "store follower: no records"),
            None => break,
        }
        wait = Duration::ZERO;
    }
    batch
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
