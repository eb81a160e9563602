//! Why a subscription's source cannot fully read or commit right now, told to the host while it lasts
//! (`RawEndpoint::trouble`, shown as the subscription's `failureCause` and counted in `gateway_source_troubled`):
//! a broker leading the feed's partitions, or the feed group's coordinator, unreachable (read from the feed
//! consumer's statistics), and a reader's commits refused by the brokers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::statistics::Statistics;

/// How long a broker must stay unreachable before it is told: a reconnect is not trouble.
const UNREACHABLE_FOR: Duration = Duration::from_secs(2);
/// How long a refused commit is told when no commit follows it (a refused commit is retried within a second, and
/// the first one taken clears it).
const REFUSAL_SHOWN: Duration = Duration::from_secs(3);

/// What the feed may be unable to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// The leader of some assigned partitions (by node id; -1 when the partitions have none).
    Leader(i32),
    /// The feed group's coordinator.
    Coordinator,
}

/// What the feed consumer's statistics say the feed cannot reach.
#[derive(Default)]
pub(crate) struct Reachability {
    /// Since when each unreachable part was seen so.
    since: Mutex<BTreeMap<Part, Instant>>,
    /// What the last statistics told, once it lasted [`UNREACHABLE_FOR`].
    told: Mutex<Option<String>>,
}

impl Reachability {
    /// Reads one round of the consumer's statistics.
    pub(crate) fn observe(&self, statistics: &Statistics) {
        let unreachable = unreachable(statistics);
        let mut since = self.since.lock().expect("reachability lock");
        since.retain(|key, _| unreachable.contains_key(key));
        let now = Instant::now();
        let lasting: Vec<&str> = unreachable
            .iter()
            .filter(|(key, _)| now.duration_since(*since.entry(**key).or_insert(now)) >= UNREACHABLE_FOR)
            .map(|(_, cause)| cause.as_str())
            .collect();
        *self.told.lock().expect("reachability lock") = (!lasting.is_empty()).then(|| lasting.join("; "));
    }

    /// What the feed cannot reach, while it lasts.
    pub(crate) fn trouble(&self) -> Option<String> {
        self.told.lock().expect("reachability lock").clone()
    }
}

/// Every broker leading an assigned partition that is not up, and the coordinator when the group lost it: each
/// described.
fn unreachable(statistics: &Statistics) -> BTreeMap<Part, String> {
    let mut waiting: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for (topic, stats) in &statistics.topics {
        let assigned = stats.partitions.values().filter(|partition| partition.partition >= 0);
        for partition in assigned.filter(|partition| partition.fetch_state != "none") {
            waiting.entry(partition.leader).or_default().push(format!("{topic}/{}", partition.partition));
        }
    }
    let mut unreachable = BTreeMap::new();
    for (leader, partitions) in waiting {
        let broker = statistics.brokers.values().find(|broker| broker.nodeid == leader && leader >= 0);
        let cause = match broker {
            Some(broker) if broker.state == "UP" => continue,
            Some(broker) => format!(
                "Kafka broker {leader} at {} is unreachable ({}); partitions {} wait for it",
                broker.nodename,
                broker.state,
                partitions.join(", ")
            ),
            None => format!("no leader is available for partitions {}: they wait for one", partitions.join(", ")),
        };
        unreachable.insert(Part::Leader(leader), cause);
    }
    if let Some(group) = statistics.cgrp.as_ref().filter(|group| group.state != "up") {
        unreachable.insert(Part::Coordinator, format!("the feed group's coordinator is unreachable ({})", group.state));
    }
    unreachable
}

/// The brokers' last answer to a reader's commits, when they refused it.
#[derive(Default)]
pub(crate) struct CommitRefusal(Mutex<Option<(String, Instant)>>);

impl CommitRefusal {
    /// Notes the brokers' answer to one of the reader's commits.
    pub(crate) fn answered(&self, answer: &Result<(), String>) {
        *self.0.lock().expect("refusal lock") = answer.as_ref().err().map(|error| (error.clone(), Instant::now()));
    }

    /// The last refusal, unless a commit was taken since or it is older than [`REFUSAL_SHOWN`].
    pub(crate) fn trouble(&self) -> Option<String> {
        let refusal = self.0.lock().expect("refusal lock");
        let (error, _) = refusal.as_ref().filter(|(_, at)| at.elapsed() < REFUSAL_SHOWN)?;
        Some(format!("committing positions is refused: {error} (retrying)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_told_until_a_commit_is_taken() {
        let refusal = CommitRefusal::default();
        assert_eq!(refusal.trouble(), None);
        refusal.answered(&Err("REBALANCE_IN_PROGRESS".into()));
        assert_eq!(
            refusal.trouble().as_deref(),
            Some("committing positions is refused: REBALANCE_IN_PROGRESS (retrying)")
        );
        refusal.answered(&Ok(()));
        assert_eq!(refusal.trouble(), None);
    }
}
