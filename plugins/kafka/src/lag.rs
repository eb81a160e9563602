//! Consumer lag per subscription. librdkafka's statistics, every [`STATISTICS_INTERVAL_MS`], say for each partition a
//! consumer is assigned how far its committed offset is behind the high watermark; the endpoint answers the host's
//! `lag` with what they last said. A closed consumer's lag is forgotten (a paused subscription shows none).

use std::collections::HashMap;
use std::sync::Mutex;

use plugin_kit::api::abi_stable::std_types::{RString, RVec};
use plugin_kit::api::PartitionLag;
use rdkafka::statistics::Statistics;

/// How often a consumer's statistics (and so its lag) are refreshed.
pub(crate) const STATISTICS_INTERVAL_MS: &str = "5000";

/// The last known lag of every open consumer, by subscription.
#[derive(Default)]
pub(crate) struct Lags(Mutex<HashMap<String, Vec<PartitionLag>>>);

impl Lags {
    /// Keeps what `statistics` say of `subscription`'s assigned partitions whose lag is known.
    pub(crate) fn record(&self, subscription: &str, statistics: &Statistics) {
        let mut partitions: Vec<PartitionLag> = statistics
            .topics
            .iter()
            .flat_map(|(topic, stats)| {
                stats.partitions.values().filter(|partition| partition.desired && partition.consumer_lag >= 0).map(
                    move |partition| PartitionLag {
                        topic: RString::from(topic.as_str()),
                        partition: partition.partition,
                        lag: partition.consumer_lag,
                    },
                )
            })
            .collect();
        partitions.sort_by(|a, b| (a.topic.as_str(), a.partition).cmp(&(b.topic.as_str(), b.partition)));
        self.0.lock().expect("lags lock").insert(subscription.to_string(), partitions);
    }

    /// The last known lag of `subscription`'s partitions.
    pub(crate) fn of(&self, subscription: &str) -> RVec<PartitionLag> {
        self.0.lock().expect("lags lock").get(subscription).cloned().unwrap_or_default().into()
    }

    /// Forgets `subscription`'s lag (its consumer closed).
    pub(crate) fn forget(&self, subscription: &str) {
        self.0.lock().expect("lags lock").remove(subscription);
    }
}
