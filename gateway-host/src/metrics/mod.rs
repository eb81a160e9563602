//! Prometheus metrics. Each subscription's delivery counters are atomics its runs update in place
//! ([`plugin_api::DeliveryMetrics`], kept here across runs); everything else (statuses, plugins, webhook log
//! counts, consumer lag) is read when `/metrics` is scraped, then encoded by `prometheus-client` ([`render`]).

mod counts;
mod exposition;
pub mod history;

pub use exposition::{render, LagRow, Scrape, SubscriptionState};

use std::collections::HashMap;
use std::sync::RwLock;

use abi_stable::std_types::RArc;
use plugin_api::{DeliveryMetrics, Gauge};

pub(crate) use counts::Counts;
use exposition::SeriesKey;

/// The delivery counters of every subscription, by subscription id.
pub struct Metrics {
    subscriptions: RwLock<HashMap<String, Series>>,
    /// Whether series carry the `subscription` label (else they are summed per API).
    per_subscription: bool,
}

struct Series {
    api_id: String,
    counters: RArc<DeliveryMetrics>,
}

impl Metrics {
    /// No counters yet; `per_subscription` says whether series carry the `subscription` label.
    pub fn new(per_subscription: bool) -> Self {
        Self { subscriptions: RwLock::new(HashMap::new()), per_subscription }
    }

    /// The counters of subscription `id` of `api_id`, made at its first run and kept across its runs.
    pub fn subscription(&self, api_id: &str, id: &str) -> RArc<DeliveryMetrics> {
        if let Some(series) = self.subscriptions.read().expect("metrics lock").get(id) {
            return series.counters.clone();
        }
        let mut subscriptions = self.subscriptions.write().expect("metrics lock");
        let series = subscriptions
            .entry(id.to_string())
            .or_insert_with(|| Series { api_id: api_id.to_string(), counters: RArc::new(DeliveryMetrics::default()) });
        series.counters.clone()
    }

    /// The level of `gauge` for subscription `id`, if it has run here.
    pub fn level(&self, id: &str, gauge: Gauge) -> Option<u64> {
        self.subscriptions.read().expect("metrics lock").get(id).map(|series| series.counters.level(gauge))
    }

    /// Whether series carry the `subscription` label.
    pub fn per_subscription(&self) -> bool {
        self.per_subscription
    }

    /// Calls `visit` with the API id, the id and the counters of every subscription.
    pub fn for_each(&self, mut visit: impl FnMut(&str, &str, &DeliveryMetrics)) {
        for (id, series) in self.subscriptions.read().expect("metrics lock").iter() {
            visit(&series.api_id, id, &series.counters);
        }
    }

    /// Forgets the counters of a deleted subscription.
    pub fn remove(&self, id: &str) {
        self.subscriptions.write().expect("metrics lock").remove(id);
    }

    /// The counts now, by API and (when series are per subscription) subscription.
    pub(crate) fn counts(&self) -> Vec<(SeriesKey, Counts)> {
        let mut by_labels: HashMap<SeriesKey, Counts> = HashMap::new();
        for (id, series) in self.subscriptions.read().expect("metrics lock").iter() {
            let key = (series.api_id.clone(), self.per_subscription.then(|| id.clone()));
            by_labels.entry(key).or_default().add(&series.counters);
        }
        let mut counts: Vec<_> = by_labels.into_iter().collect();
        counts.sort_by(|a, b| a.0.cmp(&b.0));
        counts
    }
}
