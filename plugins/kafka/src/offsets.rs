//! What a subscription owns of a feed and which offsets it may commit: per partition, up to the first message not
//! settled.

use std::collections::HashMap;

use plugin_kit::SettledPrefix;
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

/// A topic partition.
pub(crate) type Partition = (String, i32);

/// A commit point: the partition and the next offset to read.
pub(crate) type CommitPoint = (Partition, i64);

/// What one subscription owns of a feed: each owned partition's cursor (the next offset to hand out), the settled
/// prefix of every partition it handed messages of, the tokens it handed out, and the commit points not committed yet.
#[derive(Default)]
pub(crate) struct Offsets {
    cursors: HashMap<Partition, i64>,
    tokens: HashMap<u64, (Partition, i64)>,
    partitions: HashMap<Partition, SettledPrefix>,
    to_commit: HashMap<Partition, i64>,
    next_token: u64,
}

impl Offsets {
    /// Takes `partition` over, to be read from `start`.
    pub(crate) fn assign(&mut self, partition: Partition, start: i64) {
        self.cursors.insert(partition, start);
    }

    /// The next offset to hand out of every owned partition.
    pub(crate) fn cursors(&self) -> impl Iterator<Item = (&Partition, i64)> {
        self.cursors.iter().map(|(partition, cursor)| (partition, *cursor))
    }

    /// Records a message handed out; returns its acknowledgement token, or `None` when its partition is not owned
    /// (revoked meanwhile) or the offset was handed out already.
    pub(crate) fn track(&mut self, topic: &str, partition: i32, offset: i64) -> Option<u64> {
        let key = (topic.to_string(), partition);
        let cursor = self.cursors.get_mut(&key)?;
        if offset < *cursor {
            return None;
        }
        *cursor = offset + 1;
        let prefix = self.partitions.entry(key.clone()).or_insert_with(|| SettledPrefix::starting_at(offset as u64));
        prefix.received(offset as u64);
        let token = self.next_token;
        self.next_token += 1;
        self.tokens.insert(token, (key, offset));
        Some(token)
    }

    /// Whether `token` is of a partition this subscription still owns and not settled yet.
    pub(crate) fn is_tracked(&self, token: u64) -> bool {
        self.tokens.contains_key(&token)
    }

    /// The partition of an unsettled `token`, if this subscription still owns it.
    pub(crate) fn partition_of(&self, token: u64) -> Option<Partition> {
        self.tokens.get(&token).map(|(partition, _)| partition.clone())
    }

    /// Whether this subscription owns `partition`.
    pub(crate) fn owns(&self, partition: &Partition) -> bool {
        self.cursors.contains_key(partition)
    }

    /// Marks the message of `token` settled; returns whether a partition's commit point moved (it is then due
    /// for commit). Tokens of partitions since revoked are ignored.
    pub(crate) fn settle(&mut self, token: u64) -> bool {
        let Some((partition, offset)) = self.tokens.remove(&token) else {
            return false;
        };
        let Some(prefix) = self.partitions.get_mut(&partition) else {
            return false;
        };
        if !prefix.settle(offset as u64) {
            return false;
        }
        self.to_commit.insert(partition, prefix.next_unsettled() as i64);
        true
    }

    /// The commit points due, which are then no longer due.
    pub(crate) fn take_due(&mut self) -> Vec<CommitPoint> {
        self.to_commit.drain().collect()
    }

    /// Makes commit points that failed to commit due again, unless a later point is due already or the partition
    /// was revoked meanwhile.
    pub(crate) fn retry(&mut self, points: Vec<CommitPoint>) {
        for (partition, offset) in points {
            if self.cursors.contains_key(&partition) {
                let due = self.to_commit.entry(partition).or_insert(offset);
                *due = (*due).max(offset);
            }
        }
    }

    /// Forgets revoked partitions; returns their commit points.
    pub(crate) fn release(&mut self, revoked: &[Partition]) -> Vec<CommitPoint> {
        self.tokens.retain(|_, (partition, _)| !revoked.contains(partition));
        self.to_commit.retain(|partition, _| !revoked.contains(partition));
        self.cursors.retain(|partition, _| !revoked.contains(partition));
        revoked
            .iter()
            .filter_map(|partition| {
                let prefix = self.partitions.remove(partition)?;
                Some((partition.clone(), prefix.next_unsettled() as i64))
            })
            .collect()
    }

    /// The commit point of every partition.
    pub(crate) fn commit_points(&self) -> Vec<CommitPoint> {
        self.partitions.iter().map(|(partition, prefix)| (partition.clone(), prefix.next_unsettled() as i64)).collect()
    }
}

/// A list librdkafka commits or stores.
pub(crate) fn to_partition_list(points: &[CommitPoint]) -> KafkaResult<TopicPartitionList> {
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in points {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owning(partitions: &[(i32, i64)]) -> Offsets {
        let mut offsets = Offsets::default();
        for (partition, start) in partitions {
            offsets.assign(("t".into(), *partition), *start);
        }
        offsets
    }

    #[test]
    fn only_owned_partitions_are_handed_out_each_offset_once() {
        let mut offsets = owning(&[(0, 5)]);
        assert_eq!(offsets.track("t", 1, 5), None, "partition 1 is not owned");
        assert_eq!(offsets.track("t", 0, 4), None, "before the cursor");
        assert!(offsets.track("t", 0, 6).is_some());
        assert_eq!(offsets.track("t", 0, 6), None, "handed out already");
        assert_eq!(offsets.cursors().collect::<Vec<_>>(), vec![(&("t".into(), 0), 7)]);
    }

    #[test]
    fn a_partition_commits_only_up_to_its_first_unsettled_message() {
        let mut offsets = owning(&[(0, 40), (1, 7)]);
        let first = offsets.track("t", 0, 40).unwrap();
        let second = offsets.track("t", 0, 41).unwrap();
        let other = offsets.track("t", 1, 7).unwrap();
        assert!(!offsets.settle(second), "40 is not settled yet");
        assert!(offsets.settle(other));
        assert_eq!(offsets.take_due(), vec![(("t".into(), 1), 8)]);
        assert!(offsets.settle(first));
        assert!(!offsets.settle(first), "a token settles once");
        assert_eq!(offsets.take_due(), vec![(("t".into(), 0), 42)]);
        assert!(offsets.take_due().is_empty());
    }

    #[test]
    fn revoked_partitions_are_forgotten_with_their_commit_point() {
        let mut offsets = owning(&[(0, 5)]);
        let token = offsets.track("t", 0, 5).unwrap();
        offsets.track("t", 0, 6);
        assert!(offsets.settle(token));
        let late = offsets.track("t", 0, 7).unwrap();
        assert_eq!(offsets.release(&[("t".into(), 0)]), vec![(("t".into(), 0), 6)]);
        assert!(offsets.take_due().is_empty(), "nothing of a revoked partition is committed later");
        assert!(!offsets.settle(late), "a late ack of a revoked partition commits nothing");
        offsets.retry(vec![(("t".into(), 0), 6)]);
        assert!(offsets.take_due().is_empty());
        assert!(offsets.commit_points().is_empty());
        assert_eq!(offsets.track("t", 0, 8), None, "a revoked partition is handed out no more");
    }

    #[test]
    fn messages_of_a_revoked_partition_are_no_longer_owned() {
        let mut offsets = owning(&[(0, 9), (1, 3)]);
        let kept = offsets.track("t", 1, 3).unwrap();
        let moved = offsets.track("t", 0, 9).unwrap();
        assert!(offsets.is_tracked(moved) && offsets.owns(&("t".into(), 0)));
        offsets.release(&[("t".into(), 0)]);
        assert!(!offsets.is_tracked(moved), "a source refuses its ack: the new owner delivers it");
        assert_eq!(offsets.partition_of(moved), None);
        assert!(!offsets.owns(&("t".into(), 0)));
        assert_eq!(offsets.partition_of(kept), Some(("t".into(), 1)));
    }
}
