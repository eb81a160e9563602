//! The console's plots: per subscription, the last [`POINTS`] readings of its counters, one every interval (15
//! minutes at the default 10 s), kept in memory as rates. A subscription that has delivered nothing keeps no point,
//! so that thousands of resting ones cost a reading each.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plugin_api::{DeliveryMetrics, DeliveryOutcome};
use serde::Serialize;

use super::Metrics;

/// Points kept per subscription.
pub const POINTS: usize = 90;

/// One interval of one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// The end of the interval, ms since the epoch.
    pub at: i64,
    /// Messages delivered per second.
    pub delivered: f64,
    /// Messages not delivered (skipped, dead-lettered, failed) per second.
    pub not_delivered: f64,
    /// The mean round trip of the interval's calls; none without calls.
    pub latency_ms: Option<f64>,
    /// Records behind, summed over partitions, when the source tells it.
    pub lag: Option<i64>,
}

/// What was read at the last point.
#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    delivered: u64,
    not_delivered: u64,
    duration_micros: u64,
    calls: u64,
}

impl Reading {
    fn of(counters: &DeliveryMetrics) -> Self {
        let count = |outcome: DeliveryOutcome| counters.deliveries[outcome as usize].load(Relaxed);
        Self {
            delivered: count(DeliveryOutcome::Delivered),
            not_delivered: count(DeliveryOutcome::Skipped)
                + count(DeliveryOutcome::DeadLettered)
                + count(DeliveryOutcome::Failed),
            duration_micros: counters.callback_duration.sum_micros.load(Relaxed),
            calls: counters.callback_duration.count.load(Relaxed),
        }
    }
}

#[derive(Default)]
struct Series {
    last: Reading,
    points: VecDeque<Point>,
}

/// The plots of every subscription of this node.
pub struct History {
    interval: Duration,
    series: Mutex<HashMap<String, Series>>,
}

impl History {
    /// Points `interval` apart.
    pub fn new(interval: Duration) -> Self {
        Self { interval, series: Mutex::new(HashMap::new()) }
    }

    /// The time between two points.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Reads every subscription's counters at `now_ms` and adds a point to those that moved (or have points);
    /// `lag_of(api, subscription)` tells a source's lag.
    pub fn sample(&self, metrics: &Metrics, now_ms: i64, lag_of: impl Fn(&str, &str) -> Option<i64>) {
        let seconds = self.interval.as_secs_f64().max(0.001);
        let mut series = self.series.lock().expect("history lock");
        let mut seen = Vec::new();
        metrics.for_each(|api_id, id, counters| {
            seen.push(id.to_string());
            let now = Reading::of(counters);
            let kept = series.entry(id.to_string()).or_default();
            let last = std::mem::replace(&mut kept.last, now);
            let lag = lag_of(api_id, id);
            let moved = now.delivered != last.delivered || now.not_delivered != last.not_delivered;
            if !moved && kept.points.is_empty() && lag.unwrap_or(0) == 0 {
                return;
            }
            let calls = now.calls.saturating_sub(last.calls);
            kept.points.push_back(Point {
                at: now_ms,
                delivered: now.delivered.saturating_sub(last.delivered) as f64 / seconds,
                not_delivered: now.not_delivered.saturating_sub(last.not_delivered) as f64 / seconds,
                latency_ms: (calls > 0)
                    .then(|| now.duration_micros.saturating_sub(last.duration_micros) as f64 / calls as f64 / 1000.0),
                lag,
            });
            if kept.points.len() > POINTS {
                kept.points.pop_front();
            }
        });
        series.retain(|id, _| seen.contains(id));
    }

    /// The points of subscription `id`, oldest first.
    pub fn points(&self, id: &str) -> Vec<Point> {
        self.series
            .lock()
            .expect("history lock")
            .get(id)
            .map(|kept| kept.points.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Samples every interval, for ever.
    pub async fn run(self: Arc<Self>, metrics: Arc<Metrics>, lag_of: impl Fn(&str, &str) -> Option<i64>) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as i64);
            self.sample(&metrics, now_ms, &lag_of);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_rates_per_interval_kept_to_the_bound_and_a_resting_subscription_keeps_none() {
        let metrics = Metrics::new(true);
        let busy = metrics.subscription("api", "busy");
        let _resting = metrics.subscription("api", "resting");
        let history = History::new(Duration::from_secs(10));
        history.sample(&metrics, 0, |_, _| None);
        for _ in 0..50 {
            busy.delivery(DeliveryOutcome::Delivered);
        }
        busy.delivery(DeliveryOutcome::DeadLettered);
        busy.callback_duration.observe(0.020);
        busy.callback_duration.observe(0.040);
        history.sample(&metrics, 10_000, |_, id| (id == "busy").then_some(7));
        assert_eq!(
            history.points("busy"),
            [Point { at: 10_000, delivered: 5.0, not_delivered: 0.1, latency_ms: Some(30.0), lag: Some(7) }]
        );
        assert_eq!(history.points("resting"), []);
        for at in 2..=(POINTS as i64 + 5) {
            history.sample(&metrics, at * 10_000, |_, _| None);
        }
        let points = history.points("busy");
        assert_eq!(points.len(), POINTS);
        assert_eq!(points.last().unwrap().delivered, 0.0);
        assert_eq!(points.last().unwrap().latency_ms, None);
        metrics.remove("busy");
        history.sample(&metrics, 0, |_, _| None);
        assert_eq!(history.points("busy"), [], "a deleted subscription's points go");
    }
}
