//! Delivery metrics a subscription's run updates in place: atomic counters the host allocates, hands to the
//! entrypoint with each run, and reads when `/metrics` is scraped. Counting every delivery thus costs a few atomic
//! additions in the plugin, and no call across the boundary.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use abi_stable::std_types::RString;
use abi_stable::StableAbi;

/// Upper bounds, in seconds, of the duration histograms' buckets (one more bucket holds the rest).
pub const DURATION_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// What became of a delivery, as counted.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The callback took it.
    Delivered,
    /// Given up on and acknowledged (interrupt flag off, no DLQ).
    Skipped,
    /// Handed to the dead letter queue.
    DeadLettered,
    /// The subscription stopped on it.
    Failed,
    /// A flow's step dropped it (`message-filtering`): no callback.
    Filtered,
}

impl DeliveryOutcome {
    /// Every outcome, in counter order.
    pub const ALL: [DeliveryOutcome; 5] =
        [Self::Delivered, Self::Skipped, Self::DeadLettered, Self::Failed, Self::Filtered];

    /// The label value (`dead_lettered`).
    pub fn label(self) -> &'static str {
        ["delivered", "skipped", "dead_lettered", "failed", "filtered"][self as usize]
    }
}

/// The keys of calls that got no answer, in counter order after the five status classes: the error keys of the
/// webhook logs.
pub const CALLBACK_ERROR_KEYS: [&str; 10] = [
    "CONNECTION_REFUSED",
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "DNS_FAILURE",
    "CONNECTION_RESET",
    "AUTHENTICATION_FAILED",
    "TLS_FAILED",
    "PROXY_FAILED",
    "CALLBACK_ADDRESS_DENIED",
    "REQUEST_FAILED",
];

/// Counters of attempts: `1xx` to `5xx`, then each of [`CALLBACK_ERROR_KEYS`].
const ATTEMPT_RESULTS: usize = 5 + CALLBACK_ERROR_KEYS.len();

/// The label value of attempt counter `index`.
pub fn attempt_result_label(index: usize) -> &'static str {
    match index {
        0..5 => ["1xx", "2xx", "3xx", "4xx", "5xx"][index],
        _ => CALLBACK_ERROR_KEYS[index - 5],
    }
}

/// A histogram of durations: a count per bucket of [`DURATION_BUCKETS`] (the last for anything longer), their sum
/// in microseconds, and their number.
#[repr(C)]
#[derive(StableAbi, Default, Debug)]
pub struct DurationHistogram {
    /// Observations per bucket, not cumulative.
    pub buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    /// Sum of the observations, in microseconds.
    pub sum_micros: AtomicU64,
    /// Number of observations.
    pub count: AtomicU64,
}

impl DurationHistogram {
    /// Counts one duration of `seconds`.
    pub fn observe(&self, seconds: f64) {
        let bucket = DURATION_BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(DURATION_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add((seconds.max(0.0) * 1e6) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }
}

/// A result counted as a success or a failure (DLQ publishes, token fetches).
#[repr(C)]
#[derive(StableAbi, Default, Debug)]
pub struct Results {
    /// Successes.
    pub ok: AtomicU64,
    /// Failures.
    pub failed: AtomicU64,
}

impl Results {
    /// Counts one result.
    pub fn record(&self, ok: bool) {
        if ok { &self.ok } else { &self.failed }.fetch_add(1, Relaxed);
    }
}

/// How far a subscription's reading is behind one partition of its source: the high watermark minus its committed
/// offset.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PartitionLag {
    /// The topic.
    pub topic: RString,
    /// The partition.
    pub partition: i32,
    /// Records not yet committed.
    pub lag: i64,
}

/// The delivery metrics of one subscription: kept by the host across its runs, updated by the entrypoint.
#[repr(C)]
#[derive(StableAbi, Default, Debug)]
pub struct DeliveryMetrics {
    /// Deliveries by [`DeliveryOutcome`].
    pub deliveries: [AtomicU64; DeliveryOutcome::ALL.len()],
    /// Calls by result: status class, or error key (see [`attempt_result_label`]).
    pub attempts: [AtomicU64; ATTEMPT_RESULTS],
    /// Calls made again after a failed one.
    pub retries: AtomicU64,
    /// Deliveries started and not yet ended.
    pub in_flight: AtomicU64,
    /// One call's round trip.
    pub callback_duration: DurationHistogram,
    /// From the message's timestamp (record timestamp, or the mock's emission) to the callback's answer.
    pub message_age: DurationHistogram,
    /// Dead letter queue publishes.
    pub dlq_publishes: Results,
    /// OAuth2 token requests.
    pub token_fetches: Results,
    /// Levels the entrypoint sets, by [`Gauge`]; slots no gauge names yet stay 0 (a new gauge takes the next one, a
    /// minor change of the interface).
    pub gauges: [AtomicU64; GAUGE_SLOTS],
}

/// Slots of [`DeliveryMetrics::gauges`].
pub const GAUGE_SLOTS: usize = 8;

/// What each slot of [`DeliveryMetrics::gauges`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    /// Messages waiting behind a delivery under way of their ordering key (`ordering.mode = key`).
    Held = 0,
    /// Deliveries the subscription may have in flight now (its `pacing`; 0 until a run sets it).
    InFlightLimit = 1,
    /// Microseconds spent waiting for `pacing.maxPerSecond`, in all (it only grows, as a counter).
    PacingWaitMicros = 2,
}

impl DeliveryMetrics {
    /// Counts a delivery's outcome.
    pub fn delivery(&self, outcome: DeliveryOutcome) {
        self.deliveries[outcome as usize].fetch_add(1, Relaxed);
    }

    /// Counts a call answered with `status`.
    pub fn answered(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.attempts[class].fetch_add(1, Relaxed);
    }

    /// Sets `gauge` to `value`.
    pub fn set(&self, gauge: Gauge, value: u64) {
        self.gauges[gauge as usize].store(value, Relaxed);
    }

    /// Adds `value` to `gauge` (a level that only grows).
    pub fn add(&self, gauge: Gauge, value: u64) {
        self.gauges[gauge as usize].fetch_add(value, Relaxed);
    }

    /// The level of `gauge`.
    pub fn level(&self, gauge: Gauge) -> u64 {
        self.gauges[gauge as usize].load(Relaxed)
    }

    /// Counts a call without answer, by its error key (an unknown key counts as `REQUEST_FAILED`).
    pub fn unanswered(&self, key: &str) {
        let index = CALLBACK_ERROR_KEYS.iter().position(|known| *known == key).unwrap_or(CALLBACK_ERROR_KEYS.len() - 1);
        self.attempts[5 + index].fetch_add(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_slots() {
        let metrics = DeliveryMetrics::default();
        metrics.answered(503);
        metrics.answered(200);
        metrics.unanswered("CALLBACK_ADDRESS_DENIED");
        metrics.delivery(DeliveryOutcome::DeadLettered);
        metrics.callback_duration.observe(0.003);
        metrics.callback_duration.observe(100.0);
        assert_eq!(metrics.attempts[4].load(Relaxed), 1);
        assert_eq!(attempt_result_label(4), "5xx");
        assert_eq!(metrics.attempts[1].load(Relaxed), 1);
        assert_eq!(attempt_result_label(13), "CALLBACK_ADDRESS_DENIED");
        assert_eq!(metrics.attempts[13].load(Relaxed), 1);
        assert_eq!(metrics.deliveries[2].load(Relaxed), 1);
        assert_eq!(metrics.callback_duration.buckets[2].load(Relaxed), 1, "3 ms is in the 5 ms bucket");
        assert_eq!(metrics.callback_duration.buckets[14].load(Relaxed), 1, "100 s is past every bound");
        assert_eq!(metrics.callback_duration.sum_micros.load(Relaxed), 100_003_000);
    }
}
