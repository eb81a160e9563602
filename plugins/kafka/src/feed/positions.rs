//! Where readers start on partitions they take over: their consumer group's committed offset, else their
//! `autoOffsetReset` (the partition's high or low watermark).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::Consumer;

use super::{FeedConsumer, Shared};
use crate::config::OffsetReset;
use crate::offsets::Partition;
use crate::reader::Reader;

/// Per partition: where a reader starts, and its group's committed offset if there is one.
pub(super) type Starts = HashMap<Partition, (i64, Option<i64>)>;

/// Attempts at reading committed offsets (the group coordinator may be moving) before a reader fails.
const ATTEMPTS: usize = 3;
/// Pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// How long reading a watermark may take.
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(5);

/// Where each of `readers` starts on `partitions` (in their order), or why it cannot. Blocking.
pub(super) fn starts(
    shared: &Shared,
    consumer: &FeedConsumer,
    readers: &[Arc<Reader>],
    partitions: &[Partition],
) -> Vec<Result<Starts, String>> {
    if partitions.is_empty() {
        return readers.iter().map(|_| Ok(Starts::new())).collect();
    }
    let mut committed = HashMap::new();
    for attempt in 1..=ATTEMPTS {
        let missing: Vec<&str> = readers
            .iter()
            .map(|reader| reader.subscription_id.as_str())
            .filter(|group| !matches!(committed.get(*group), Some(Ok(_))))
            .collect();
        if missing.is_empty() {
            break;
        }
        match shared.with_client(|client| client.committed(&missing, partitions)) {
            Ok(answers) => committed.extend(answers),
            Err(closed) => return readers.iter().map(|_| Err(closed.clone())).collect(),
        }
        if attempt < ATTEMPTS && committed.values().any(Result::is_err) {
            std::thread::sleep(RETRY_PAUSE);
        }
    }
    let mut watermarks = Watermarks { consumer, known: HashMap::new() };
    readers
        .iter()
        .map(|reader| {
            let offsets = match committed.remove(reader.subscription_id.as_str()) {
                Some(Ok(offsets)) => offsets,
                Some(Err(error)) => {
                    return Err(format!("cannot read the committed offsets of the subscription: {error}"))
                }
                None => return Err("cannot read the committed offsets of the subscription".to_string()),
            };
            partitions
                .iter()
                .map(|partition| {
                    let committed = offsets.get(partition).copied();
                    let start = match committed {
                        Some(offset) => offset,
                        None => watermarks.reset(partition, reader.reset)?,
                    };
                    Ok((partition.clone(), (start, committed)))
                })
                .collect()
        })
        .collect()
}

/// Watermarks read once per partition.
struct Watermarks<'a> {
    consumer: &'a FeedConsumer,
    known: HashMap<Partition, (i64, i64)>,
}

impl Watermarks<'_> {
    /// Where `reset` starts on `partition`.
    fn reset(&mut self, partition: &Partition, reset: OffsetReset) -> Result<i64, String> {
        let (low, high) = match self.known.get(partition) {
            Some(known) => *known,
            None => {
                let (topic, number) = partition;
                let read = self
                    .consumer
                    .fetch_watermarks(topic, *number, WATERMARK_TIMEOUT)
                    .map_err(|error| format!("cannot read the offsets of {topic}/{number}: {error}"))?;
                self.known.insert(partition.clone(), read);
                read
            }
        };
        match reset {
            OffsetReset::Latest => Ok(high),
            OffsetReset::Earliest => Ok(low),
            OffsetReset::None => Err(format!(
                "no committed offset on {}/{} and consumer.autoOffsetReset is none",
                partition.0, partition.1
            )),
        }
    }
}
