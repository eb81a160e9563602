//! Fenced commits: a subscription's position on a partition is committed only while this gateway's feed holds that
//! partition in a generation the group coordinator still accepts. Before each commit round the feed commits its own
//! group's position on the round's partitions: that OffsetCommit carries the feed's generation and member id (its
//! member epoch under KIP-848), so a gateway the group moved on from (frozen past its session timeout, then thawed
//! in the middle of a round) is refused there, and its round is not sent. Points on partitions the consumer no longer
//! has assigned are dropped without asking: they are someone else's now.
//!
//! The coordinator answers a connection's requests in order: while this member's JoinGroup waits for a rebalance's
//! join phase, its commits wait behind it (a Kafka-like broker ends that phase once every member rejoined; the mock
//! cluster's lasts 9 s). A subscription leaving waits for the fence only briefly ([`check_within`]).
//!
//! The feed group's own offsets are otherwise unused (readers start where their own groups committed); they show
//! where the feed fetched to, for Kafka's tools.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_group::SESSION_TIMEOUT;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::FeedConsumer;
use crate::offsets::{CommitPoint, Partition};
use crate::reader::Reader;

/// When and in which step of the feed's rebalances commit points were taken.
#[derive(Clone, Copy)]
pub(crate) struct Stamp {
    at: Instant,
    generation: u64,
}

impl Stamp {
    /// Now, in the feed's current rebalance step.
    pub(super) fn now(generation: u64) -> Self {
        Self { at: Instant::now(), generation }
    }

    /// Why points taken at this stamp may no longer be this gateway's, once the coordinator took its fence: a
    /// rebalance came since (a member that lost its session and joined again could hold the partition anew), or the
    /// session timeout passed meanwhile (a process frozen that long cannot know it is still a member; this also
    /// covers a broker that does not check generations on commits, tansu).
    pub(super) fn stale(&self, generation: u64) -> Option<String> {
        if generation != self.generation {
            return Some(
                "a rebalance came since the positions were taken; they are committed again if still owned".into(),
            );
        }
        let taken = self.at.elapsed();
        (taken >= SESSION_TIMEOUT).then(|| format!("the positions were taken {taken:?} ago, past the session timeout"))
    }
}

/// What the coordinator said of a fence asked with a bounded wait.
pub(super) enum Answer {
    /// The member may commit.
    Taken,
    /// The group moved on: the member must not commit.
    Refused(String),
    /// No answer within the wait.
    Unanswered,
}

/// Each reader's points on partitions `consumer` has assigned now.
pub(super) fn owned<'a>(
    consumer: &FeedConsumer,
    commits: &[(&'a Reader, &[CommitPoint])],
) -> Vec<(&'a Reader, Vec<CommitPoint>)> {
    let assignment = consumer.assignment().ok();
    let held = |((topic, partition), _): &&CommitPoint| {
        assignment.as_ref().is_some_and(|assignment| assignment.find_partition(topic, *partition).is_some())
    };
    commits.iter().map(|(reader, points)| (*reader, points.iter().filter(held).cloned().collect())).collect()
}

/// The lowest offset about to be committed on each partition of `owned`.
pub(super) fn lowest(owned: &[(&Reader, Vec<CommitPoint>)]) -> BTreeMap<Partition, i64> {
    let mut lowest: BTreeMap<Partition, i64> = BTreeMap::new();
    for (partition, offset) in owned.iter().flat_map(|(_, points)| points) {
        let low = lowest.entry(partition.clone()).or_insert(*offset);
        *low = (*low).min(*offset);
    }
    lowest
}

/// [`check`], waiting for the answer at most `wait` (the request goes on meanwhile on a thread of its own).
pub(super) fn check_within(
    consumer: &Arc<FeedConsumer>,
    partitions: BTreeMap<Partition, i64>,
    wait: Duration,
) -> Answer {
    let (answer, answered) = std::sync::mpsc::channel();
    let consumer = Arc::clone(consumer);
    let asking = move || {
        let _ = answer.send(check(&consumer, &partitions));
    };
    if std::thread::Builder::new().name("kafka-fence".to_string()).spawn(asking).is_err() {
        return Answer::Unanswered;
    }
    match answered.recv_timeout(wait) {
        Ok(Ok(())) => Answer::Taken,
        Ok(Err(refused)) => Answer::Refused(refused),
        Err(_) => Answer::Unanswered,
    }
}

/// Asks the coordinator whether this member may still commit for `partitions` (each with the lowest offset about
/// to be committed there): commits the feed group's position there. Blocking (one round trip).
pub(super) fn check(consumer: &FeedConsumer, partitions: &BTreeMap<Partition, i64>) -> Result<(), String> {
    if partitions.is_empty() {
        return Ok(());
    }
    let fetched = consumer.position().ok();
    let position = |topic: &str, partition: i32| match fetched.as_ref()?.find_partition(topic, partition)?.offset() {
        Offset::Offset(offset) => Some(offset),
        _ => None,
    };
    let mut list = TopicPartitionList::new();
    for ((topic, partition), lowest) in partitions {
        let offset = position(topic, *partition).unwrap_or(*lowest);
        list.add_partition_offset(topic, *partition, Offset::Offset(offset)).map_err(|error| error.to_string())?;
    }
    consumer.commit(&list, CommitMode::Sync).map_err(|error| {
        format!("the feed group refused this gateway's commit ({error}): its partitions may have moved on")
    })
}
