//! Work shares: the subscriptions whose source cannot be shared (the mock) run on exactly one live node. Each falls
//! in one share (a partition of the work topic, by a hash of its id); the nodes are members of the consumer group
//! `<prefix>.nodes` over that topic, and a node runs the subscriptions of the shares assigned to it. When a node
//! dies, its session expires and its shares move to the others; when one joins, some move to it.
//!
//! Nothing is ever produced to the work topic: the group protocol alone assigns it. Shares move cooperatively (a
//! share is assigned only once its previous owner gave it up; those that stay never stop); on tansu a node gaining
//! shares waits for their previous owner first and joins again after an assignment without a new generation
//! ([`kafka_group::tansu`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use kafka_group::tansu::Workarounds;
use kafka_group::Broker;
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use tokio::sync::watch;

use crate::dispatch::Placement;
use crate::store::kafka::Topics;
use crate::store::StoreError;
use kafka_client::KafkaContext;

/// How long a poll waits: how quickly a stop is seen.
const POLL_WAIT: Duration = Duration::from_millis(200);
/// How long asking for the topic's partitions may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// This node's work shares.
pub struct WorkShares {
    state: Arc<SharesState>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct SharesState {
    /// How many shares there are (the work topic's partitions).
    count: AtomicU32,
    /// The shares this node holds.
    owned: Mutex<HashSet<i32>>,
    /// Bumped whenever the shares held change.
    moved: watch::Sender<u64>,
}

impl WorkShares {
    /// Joins the nodes' group over the work topic. Blocking.
    pub fn join(config: &ClientConfig, topics: &Topics) -> Result<Self, StoreError> {
        let (count, broker) = look_up(config, &topics.work)?;
        let mut config = config.clone();
        config.set("group.id", format!("{}.nodes", topics.prefix));
        broker.member_settings(&mut config);
        // Known before the group assigns anything: the subscription is only then made.
        let state =
            Arc::new(SharesState { count: AtomicU32::new(count), owned: Mutex::default(), moved: watch::channel(0).0 });
        let context = SharesContext {
            state: Arc::clone(&state),
            log: KafkaContext::labelled("work shares"),
            tansu: broker.workarounds(),
        };
        let consumer: BaseConsumer<SharesContext> = config
            .create_with_context(context)
            .map_err(|error| StoreError::Kafka(format!("cannot create the work shares' consumer: {error}")))?;
        consumer
            .subscribe(&[&topics.work])
            .map_err(|error| StoreError::Kafka(format!("cannot join the group over {}: {error}", topics.work)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let work = topics.work.clone();
        let thread = std::thread::Builder::new()
            .name("work-shares".to_string())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    // Nothing is produced there: polling serves the group's rebalances.
                    let _ = consumer.poll(POLL_WAIT);
                    if let Some(tansu) = &consumer.context().tansu {
                        tansu.serve(&consumer, &[&work]);
                    }
                }
                consumer.unsubscribe();
            })
            .map_err(StoreError::Folder)?;
        Ok(Self { state, stop, thread: Mutex::new(Some(thread)) })
    }

    /// Told whenever this node's shares change.
    pub fn moved(&self) -> watch::Receiver<u64> {
        self.state.moved.subscribe()
    }

    /// Leaves the group (its shares move to the other nodes at once). Blocking.
    pub fn leave(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.lock().expect("thread lock").take() {
            let _ = thread.join();
        }
    }
}

impl Placement for WorkShares {
    fn holds(&self, subscription_id: &str) -> bool {
        let share = share_of(subscription_id, self.state.count.load(Ordering::Relaxed));
        self.state.owned.lock().expect("shares lock").contains(&share)
    }
}

/// How many shares the work topic has, and the broker's kind. Blocking.
fn look_up(config: &ClientConfig, work: &str) -> Result<(u32, Broker), StoreError> {
    let consumer: BaseConsumer<KafkaContext> = config
        .create_with_context(KafkaContext::labelled("work shares"))
        .map_err(|error| StoreError::Kafka(format!("cannot create the work shares' consumer: {error}")))?;
    let metadata = consumer
        .fetch_metadata(Some(work), METADATA_TIMEOUT)
        .map_err(|error| StoreError::Kafka(format!("cannot read {work}: {error}")))?;
    let count = metadata.topics().first().map_or(0, |topic| topic.partitions().len());
    if count == 0 {
        return Err(StoreError::Kafka(format!("the topic {work} has no partitions")));
    }
    Ok((u32::try_from(count).unwrap_or(u32::MAX), Broker::detect(consumer.client())))
}

/// The share of a subscription: FNV-1a of its id, modulo the number of shares (stable across nodes and releases).
fn share_of(subscription_id: &str, count: u32) -> i32 {
    let hash =
        subscription_id.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    i32::try_from(hash % count.max(1)).unwrap_or(0)
}

/// The context of the shares' consumer: it records the shares assigned and revoked.
struct SharesContext {
    state: Arc<SharesState>,
    log: KafkaContext,
    /// tansu's workarounds, on tansu.
    tansu: Option<Workarounds>,
}

impl ClientContext for SharesContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.log.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.log.error(error, reason);
    }
}

impl ConsumerContext for SharesContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            if let Some(tansu) = &self.tansu {
                tansu.revoked(consumer);
            }
            let revoked: Vec<i32> = partitions.elements().iter().map(|element| element.partition()).collect();
            let mut owned = self.state.owned.lock().expect("shares lock");
            owned.retain(|share| !revoked.contains(share));
            drop(owned);
            tracing::info!(shares = revoked.len(), "work shares moved away from this node");
            self.state.moved.send_modify(|moves| *moves += 1);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            let assigned: Vec<i32> = partitions.elements().iter().map(|element| element.partition()).collect();
            let stale = self.tansu.as_ref().is_some_and(|tansu| tansu.assigning(consumer, !assigned.is_empty()));
            if stale {
                tracing::info!("shares assigned without a new generation (a node expired unseen); joining again");
            }
            if assigned.is_empty() {
                return;
            }
            self.state.owned.lock().expect("shares lock").extend(assigned.iter().copied());
            tracing::info!(shares = ?assigned, "work shares assigned to this node");
            self.state.moved.send_modify(|moves| *moves += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::share_of;

    #[test]
    fn shares_are_stable_and_spread() {
        assert_eq!(share_of("sub-1", 12), share_of("sub-1", 12));
        let shares: std::collections::HashSet<i32> = (0..100).map(|index| share_of(&format!("s{index}"), 12)).collect();
        assert_eq!(shares.len(), 12, "a hundred ids fall in every share");
        assert!(shares.iter().all(|share| (0..12).contains(share)));
    }
}
