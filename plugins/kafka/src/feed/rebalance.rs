//! The feed consumer's context: its logs go to the plugin's log, its statistics give the high watermarks, and its
//! rebalances move partitions between gateways for every reader at once. Losing partitions, each reader's settled
//! offsets there are committed to its group (after an at-most-once commit under way); gaining them, each reader starts
//! at its group's committed offset, and the feed fetches from the lowest of them. Runs on the poll thread.
//!
//! On Kafka the feed group rebalances cooperatively (`cooperative-sticky`, [`kafka_group::Broker`]): only the
//! partitions that move are revoked, and a partition is assigned once its previous owner revoked it and committed
//! what it delivered there, so partitions that stay never stop and a gaining feed waits for nothing. On tansu, whose
//! coordinator does not wait for members, a gaining feed first waits out its previous owner, and an assignment
//! without a new generation makes it join again ([`kafka_group::tansu`]). Partitions lost (the session expired)
//! are not committed: they may be someone else's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use plugin_kit::api::Qos;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};

use super::positions;
use super::ring::Ring;
use super::{Shared, Stamp};
use crate::offsets::{CommitPoint, Partition};
use crate::reader::Reader;
use kafka_client::KafkaContext;
use kafka_group::tansu::Workarounds;

/// Context of a feed's consumer.
pub(crate) struct FeedContext {
    shared: Arc<Shared>,
    log: KafkaContext,
    /// Set by each rebalance, taken by the poll thread (which pauses newly assigned partitions when it must).
    rebalanced: AtomicBool,
    /// tansu's workarounds, on tansu.
    pub(super) tansu: Option<Workarounds>,
}

impl FeedContext {
    pub(super) fn new(shared: Arc<Shared>, topics: &[String], tansu: Option<Workarounds>) -> Self {
        Self {
            shared,
            log: KafkaContext::labelled(&format!("feed {}", topics.join(","))),
            rebalanced: AtomicBool::new(false),
            tansu,
        }
    }

    /// Whether a rebalance happened since the last call.
    pub(super) fn take_rebalanced(&self) -> bool {
        self.rebalanced.swap(false, Ordering::Relaxed)
    }

    /// Forgets the last error: the next one is reported again.
    pub(super) fn recovered(&self) {
        self.log.recovered();
    }
}

impl ClientContext for FeedContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.log.log(level, facility, message);
    }

    /// The high watermark of every assigned partition, and what the consumer cannot reach.
    fn stats(&self, statistics: Statistics) {
        self.shared.reachability.observe(&statistics);
        let mut high = self.shared.high_watermarks.lock().expect("watermarks lock");
        for (topic, stats) in &statistics.topics {
            for partition in
                stats.partitions.values().filter(|partition| partition.partition >= 0 && partition.hi_offset >= 0)
            {
                high.insert((topic.clone(), partition.partition), partition.hi_offset);
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.log.error(error, reason);
    }
}

impl ConsumerContext for FeedContext {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        self.rebalanced.store(true, Ordering::Relaxed);
        let partitions: Vec<Partition> =
            tpl.elements().iter().map(|element| (element.topic().to_string(), element.partition())).collect();
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let stale = self.tansu.as_ref().is_some_and(|tansu| tansu.assigning(consumer, !partitions.is_empty()));
                for (partition, floor) in assign(&self.shared, consumer, &partitions) {
                    let _ = tpl.set_partition_offset(&partition.0, partition.1, Offset::Offset(floor));
                }
                tracing::info!(partitions = partitions.len(), "the feed's partitions changed");
                if stale {
                    tracing::info!("assigned without a new generation (a member expired unseen); joining again");
                }
                if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                if let Some(tansu) = &self.tansu {
                    tansu.revoked(consumer);
                }
                revoke(&self.shared, consumer, &partitions, !consumer.assignment_lost());
                tracing::info!(partitions = partitions.len(), "the feed's partitions were revoked");
                if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                tracing::error!(error = ?other, "rebalance failed; the assignment is dropped");
                revoke(&self.shared, consumer, &partitions, false);
                consumer.unassign()
            }
        };
        if let Err(error) = result {
            tracing::warn!(error = %error, "cannot apply the new assignment");
        }
    }
}

/// Gives `partitions` to every reader at its start; returns where the feed fetches each from (the lowest start).
fn assign(shared: &Shared, consumer: &BaseConsumer<FeedContext>, partitions: &[Partition]) -> HashMap<Partition, i64> {
    let readers = shared.state.lock().expect("feed state lock").begin_rebalance();
    let starts = positions::starts(shared, consumer, &readers, partitions);
    let mut floors: HashMap<Partition, i64> = HashMap::new();
    for (reader, starts) in readers.iter().zip(starts) {
        match starts {
            Ok(starts) => {
                for (partition, (start, _)) in &starts {
                    let floor = floors.entry(partition.clone()).or_insert(*start);
                    *floor = (*floor).min(*start);
                }
                reader.assign_all(starts);
            }
            Err(cause) => {
                tracing::warn!(subscription = %reader.subscription_id, cause = %cause, "the subscription cannot start");
                reader.fail(cause);
            }
        }
    }
    for partition in partitions {
        if !floors.contains_key(partition) {
            // No reader could start: fetch from the end (a reader added later before it catches up on its own).
            let end = consumer.fetch_watermarks(&partition.0, partition.1, std::time::Duration::from_secs(5));
            floors.insert(partition.clone(), end.map_or(0, |(_, high)| high));
        }
    }
    let rings = floors.iter().map(|(partition, floor)| (partition.clone(), Ring::starting_at(*floor))).collect();
    shared.state.lock().expect("feed state lock").end_rebalance(rings);
    floors
}

/// Takes `partitions` from every reader and, when `commit`, commits what each settled there.
fn revoke(shared: &Shared, consumer: &BaseConsumer<FeedContext>, partitions: &[Partition], commit: bool) {
    let (readers, stamp) = {
        let mut state = shared.state.lock().expect("feed state lock");
        state.drop_rings(partitions);
        let readers = state.begin_rebalance();
        (readers, Stamp::now(state.generation()))
    };
    let mut released: Vec<(&Arc<Reader>, Vec<CommitPoint>)> = Vec::new();
    for reader in &readers {
        // Waits for an at-most-once commit under way: its message is then delivered here, and the new owner starts
        // after it.
        let _owner = reader.ownership.blocking_lock();
        let points = reader.offsets.lock().expect("offsets lock").release(partitions);
        if commit && reader.qos != Qos::None && !points.is_empty() {
            released.push((reader, points));
        }
    }
    let commits: Vec<(&Reader, &[CommitPoint], Stamp)> =
        released.iter().map(|(reader, points)| (reader.as_ref(), points.as_slice(), stamp)).collect();
    let answers = if commits.is_empty() { Ok(Vec::new()) } else { shared.commit_all(consumer, &commits) };
    match answers {
        Ok(answers) => {
            for ((reader, _, _), answer) in commits.iter().zip(answers) {
                if let Err(error) = answer {
                    tracing::warn!(subscription = %reader.subscription_id, error = %error, "could not commit before a rebalance");
                }
            }
            if !commits.is_empty() {
                tracing::info!(subscriptions = commits.len(), "committed settled offsets of revoked partitions");
            }
        }
        Err(closed) => tracing::warn!(error = %closed, "could not commit before a rebalance"),
    }
    shared.state.lock().expect("feed state lock").end_rebalance(HashMap::new());
}
