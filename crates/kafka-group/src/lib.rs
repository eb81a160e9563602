//! Consumer-group membership shared by the kafka plugin's feeds and the cluster's work shares: the member settings
//! (session, heartbeats, the assignor) and which broker's habits apply.
//!
//! On a broker that behaves like Kafka (Apache Kafka, Confluent, MSK, Redpanda; librdkafka's mock cluster in the
//! tests) members use the `cooperative-sticky` assignor: a rebalance revokes only the partitions that move, and a
//! partition is assigned only once its previous owner gave it up, so nothing waits a fixed time. A broker detected as
//! tansu gets its workarounds besides ([`tansu`]).

pub mod tansu;

use std::time::Duration;

use rdkafka::client::{Client, ClientContext};
use rdkafka::config::ClientConfig;

/// A member that stops heart-beating (its process killed) loses its partitions after this long.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a member tells the coordinator it is alive; it hears of a rebalance with its next heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// How long asking the brokers for the cluster id may take.
const DETECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The group coordinator's implementation, as far as its habits matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broker {
    /// Kafka's group protocol: a rebalance waits for every member.
    Kafka,
    /// tansu: groups formed without waiting for members ([`tansu`]).
    Tansu,
}

impl Broker {
    /// Tells tansu by its cluster id (`tansu_cluster` unless its `--cluster-id` says otherwise; Kafka's ids are
    /// base64 UUIDs): an id naming tansu is tansu, anything else follows Kafka's protocol. Blocking.
    pub fn detect<C: ClientContext>(client: &Client<C>) -> Self {
        match client.fetch_cluster_id(DETECT_TIMEOUT) {
            Some(id) if id.to_ascii_lowercase().contains("tansu") => Self::Tansu,
            _ => Self::Kafka,
        }
    }

    /// Sets a group member's settings: session and heartbeats, offsets committed by the gateway, and the assignor
    /// (`cooperative-sticky`: partitions that stay with their owner never stop). Under KIP-848's protocol
    /// (`group.protocol=consumer` in the consumer properties) the broker assigns and times the members: only the
    /// commits are set.
    pub fn member_settings(self, config: &mut ClientConfig) {
        config.set("enable.auto.commit", "false");
        if config.get("group.protocol") == Some("consumer") {
            return;
        }
        config
            .set("session.timeout.ms", SESSION_TIMEOUT.as_millis().to_string())
            .set("heartbeat.interval.ms", HEARTBEAT_INTERVAL.as_millis().to_string())
            .set("partition.assignment.strategy", "cooperative-sticky");
    }

    /// The workarounds a member of a group on this broker needs, if any.
    pub fn workarounds(self) -> Option<tansu::Workarounds> {
        (self == Self::Tansu).then(tansu::Workarounds::default)
    }
}
