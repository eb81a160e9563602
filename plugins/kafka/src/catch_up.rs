//! A subscription behind its feed (its cursor before a ring's floor: a slow callback, a resume, a new subscription
//! reading from the earliest offset) catches up on its own: a consumer of its own, joining no group, assigned the
//! partitions where it is behind at its cursors, read until the cursors are back inside the rings. At most
//! [`crate::feed::CATCH_UPS`] run at once per feed (each is a librdkafka client with its threads); the others wait
//! their turn.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message as _;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::OwnedSemaphorePermit;

use crate::feed::is_fatal;
use crate::message::Record;
use crate::offsets::Partition;
use kafka_client::KafkaContext;

/// Longest wait for the first record of one read.
const READ_WAIT: Duration = Duration::from_millis(100);

/// One subscription's catch-up consumer.
pub(crate) struct CatchUp {
    consumer: BaseConsumer<KafkaContext>,
    /// Where it reads each assigned partition next.
    reading: HashMap<Partition, i64>,
    _turn: OwnedSemaphorePermit,
}

impl CatchUp {
    /// A catch-up consumer for `subscription` on the brokers of `config`, in its turn.
    pub(crate) fn open(config: &ClientConfig, subscription: &str, turn: OwnedSemaphorePermit) -> Result<Self, String> {
        let mut config = config.clone();
        // librdkafka assigns only in a group; this one is never joined nor committed to.
        config
            .set("group.id", format!("gateway-catch-up.{subscription}"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        // Never a member: partitions assigned by hand, which KIP-848's protocol does not allow.
        config.remove("group.protocol");
        let consumer = config
            .create_with_context(KafkaContext::labelled(&format!("{subscription} catching up")))
            .map_err(|error| format!("cannot create the catch-up consumer: {error}"))?;
        tracing::info!(subscription = %subscription, "catching up on its own");
        Ok(Self { consumer, reading: HashMap::new(), _turn: turn })
    }

    /// Up to `max` records of the partitions where the subscription is `behind` (from its cursors on). Blocking,
    /// at most about [`READ_WAIT`].
    pub(crate) fn read(&mut self, behind: &HashMap<Partition, i64>, max: usize) -> Result<Vec<Record>, String> {
        if *behind != self.reading {
            let mut list = TopicPartitionList::new();
            for ((topic, partition), cursor) in behind {
                list.add_partition_offset(topic, *partition, Offset::Offset(*cursor))
                    .map_err(|error| format!("cannot assign {topic}/{partition}: {error}"))?;
            }
            self.consumer.assign(&list).map_err(|error| format!("cannot assign the catch-up consumer: {error}"))?;
            self.reading = behind.clone();
        }
        let mut records = Vec::new();
        let mut wait = READ_WAIT;
        while records.len() < max {
            match self.consumer.poll(wait) {
                None => break,
                Some(Ok(record)) => {
                    let partition = (record.topic().to_string(), record.partition());
                    if let Some(next) = self.reading.get_mut(&partition) {
                        *next = record.offset() + 1;
                        records.push(Record::of(&record, Arc::from(record.topic())));
                    }
                    wait = Duration::ZERO;
                }
                Some(Err(error)) if is_fatal(&error) => return Err(format!("the Kafka consumer failed: {error}")),
                Some(Err(error)) => {
                    tracing::warn!(error = %error, "catch-up consumer error; still reading");
                    break;
                }
            }
        }
        Ok(records)
    }
}
