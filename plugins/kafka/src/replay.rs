//! Reading a subscription's dead letters back from the DLQ topics for a replay: a consumer of its own (a group of
//! its own that never commits, so that nothing of the subscription's group moves), every partition read from its
//! start to where it ended when the replay began, the subscription's records kept in the order they were written.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plugin_kit::api::{Message, OpenError, ReplayRequest};
use plugin_kit::dead_letters::{replayed, ReplayFilter};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};

use crate::clients::{base_config, refused};
use crate::config::KafkaSettings;
use crate::message::Record;

/// How long reading the DLQ may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Records of one replay at most (they are held in memory to be handed over in order).
const MAX_RECORDS: usize = 100_000;

/// The subscription's dead letters in `request`'s range, oldest first. Blocking.
pub(crate) fn dead_letters(settings: &KafkaSettings, request: &ReplayRequest) -> Result<Vec<Message>, OpenError> {
    let filter = ReplayFilter::new(request);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    let mut config = base_config(settings)?;
    config
        .set("group.id", format!("gateway-replay-{}-{nanos}", request.subscription_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer =
        config.create().map_err(|error| refused(&format!("cannot create the replay consumer: {error}")))?;
    let unreachable = |error: rdkafka::error::KafkaError| OpenError {
        message: format!("Kafka unreachable at {}: {error}", settings.bootstrap_servers).into(),
        retryable: true,
    };
    let mut assignment = TopicPartitionList::new();
    let mut ends: HashMap<(String, i32), i64> = HashMap::new();
    for topic in &settings.producer.topics {
        let metadata = consumer.fetch_metadata(Some(topic), READ_TIMEOUT).map_err(unreachable)?;
        for partition in metadata.topics().iter().flat_map(|topic| topic.partitions()) {
            let (low, high) = consumer.fetch_watermarks(topic, partition.id(), READ_TIMEOUT).map_err(unreachable)?;
            if high > low {
                assignment
                    .add_partition_offset(topic, partition.id(), Offset::Offset(low))
                    .map_err(|error| refused(&error.to_string()))?;
                ends.insert((topic.clone(), partition.id()), high);
            }
        }
    }
    consumer.assign(&assignment).map_err(|error| refused(&format!("cannot read the DLQ: {error}")))?;
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut taken = Vec::new();
    while !ends.is_empty() {
        if Instant::now() >= deadline {
            return Err(OpenError { message: "the DLQ could not be read within 30 s".into(), retryable: true });
        }
        let Some(polled) = consumer.poll(Duration::from_millis(100)) else { continue };
        let record = match polled {
            Ok(record) => record,
            Err(error) => {
                tracing::warn!(error = %error, "replay: DLQ read error; still reading");
                continue;
            }
        };
        let position = (record.topic().to_string(), record.partition());
        if ends.get(&position).is_some_and(|end| record.offset() + 1 >= *end) {
            ends.remove(&position);
        }
        let message = Record::of(&record, record.topic().into()).message(0, false);
        if filter.takes(&message.headers) {
            if taken.len() >= MAX_RECORDS {
                return Err(refused(&format!("more than {MAX_RECORDS} dead letters in the range; narrow it")));
            }
            taken.push((record.timestamp().to_millis().unwrap_or(0), record.partition(), record.offset(), message));
        }
    }
    taken.sort_by_key(|(timestamp, partition, offset, _)| (*timestamp, *partition, *offset));
    Ok(taken.into_iter().map(|(_, _, _, message)| replayed(message)).collect())
}
