//! A plain copy of delivery counters, summed over the subscriptions a series stands for.

use std::sync::atomic::Ordering::Relaxed;

use plugin_api::{DeliveryMetrics, DurationHistogram, Gauge, Results, DURATION_BUCKETS};

/// Delivery counters read at one scrape.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counts {
    pub(crate) deliveries: [u64; plugin_api::DeliveryOutcome::ALL.len()],
    pub(crate) attempts: Vec<u64>,
    pub(crate) retries: u64,
    pub(crate) in_flight: u64,
    /// Messages waiting behind a delivery of their key.
    pub(crate) held: u64,
    /// Deliveries allowed in flight now (`pacing`).
    pub(crate) in_flight_limit: u64,
    /// Time spent waiting for `pacing.maxPerSecond`, in microseconds.
    pub(crate) pacing_wait_micros: u64,
    pub(crate) callback_duration: Histogram,
    pub(crate) message_age: Histogram,
    pub(crate) dlq_publishes: [u64; 2],
    pub(crate) token_fetches: [u64; 2],
}

/// A histogram read at one scrape: per-bucket counts, sum in seconds, count.
#[derive(Debug, Default, Clone)]
pub(crate) struct Histogram {
    pub(crate) buckets: [u64; DURATION_BUCKETS.len() + 1],
    pub(crate) sum_seconds: f64,
    pub(crate) count: u64,
}

impl Histogram {
    fn add(&mut self, histogram: &DurationHistogram) {
        for (sum, bucket) in self.buckets.iter_mut().zip(&histogram.buckets) {
            *sum += bucket.load(Relaxed);
        }
        self.sum_seconds += histogram.sum_micros.load(Relaxed) as f64 / 1e6;
        self.count += histogram.count.load(Relaxed);
    }

    /// `(upper bound, count)` per bucket, the last one `+Inf`, as the encoder takes them.
    pub(crate) fn buckets(&self) -> Vec<(f64, u64)> {
        DURATION_BUCKETS.iter().copied().chain([f64::INFINITY]).zip(self.buckets.iter().copied()).collect()
    }
}

impl Counts {
    /// Adds one subscription's counters.
    pub(crate) fn add(&mut self, metrics: &DeliveryMetrics) {
        for (sum, counter) in self.deliveries.iter_mut().zip(&metrics.deliveries) {
            *sum += counter.load(Relaxed);
        }
        self.attempts.resize(metrics.attempts.len(), 0);
        for (sum, counter) in self.attempts.iter_mut().zip(&metrics.attempts) {
            *sum += counter.load(Relaxed);
        }
        self.retries += metrics.retries.load(Relaxed);
        self.in_flight += metrics.in_flight.load(Relaxed);
        self.held += metrics.level(Gauge::Held);
        self.in_flight_limit += metrics.level(Gauge::InFlightLimit);
        self.pacing_wait_micros += metrics.level(Gauge::PacingWaitMicros);
        self.callback_duration.add(&metrics.callback_duration);
        self.message_age.add(&metrics.message_age);
        add_results(&mut self.dlq_publishes, &metrics.dlq_publishes);
        add_results(&mut self.token_fetches, &metrics.token_fetches);
    }
}

fn add_results(sum: &mut [u64; 2], results: &Results) {
    sum[0] += results.ok.load(Relaxed);
    sum[1] += results.failed.load(Relaxed);
}
