//! One scrape: what `/metrics` shows, encoded in the OpenMetrics text format by `prometheus-client`.

use std::collections::BTreeMap;
use std::fmt::Error;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::counts::Histogram;
use super::Counts;
use plugin_api::{attempt_result_label, DeliveryOutcome};

/// A subscription's state at the scrape.
#[derive(Debug, Clone)]
pub struct SubscriptionState {
    /// The API.
    pub api_id: String,
    /// The subscription.
    pub id: String,
    /// One of [`STATUSES`]: the status, or the consumer's when it is `FAILURE` or `STOPPED`.
    pub status: &'static str,
    /// Whether it runs here and its source cannot fully read or commit right now.
    pub troubled: bool,
}

/// A subscription's lag on one partition of its source.
#[derive(Debug, Clone)]
pub struct LagRow {
    /// The API.
    pub api_id: String,
    /// The subscription.
    pub subscription: String,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Records behind.
    pub lag: i64,
}

/// The values of `gateway_subscription_status`'s `status` label.
pub const STATUSES: [&str; 5] = ["STARTED", "STOPPED", "FAILURE", "PAUSED", "CLOSED"];

/// Everything one scrape shows.
#[derive(Debug, Default)]
pub struct Scrape {
    /// Plugin files loaded.
    pub plugins_loaded: usize,
    /// Plugin files refused.
    pub plugins_refused: usize,
    /// APIs deployed.
    pub apis_deployed: usize,
    /// Subscriptions delivering.
    pub subscriptions_running: usize,
    /// Delivery counters by API and (per-subscription series) subscription.
    pub(crate) counts: Vec<(SeriesKey, Counts)>,
    /// Every subscription's state.
    pub subscriptions: Vec<SubscriptionState>,
    /// Whether series carry the `subscription` label.
    pub per_subscription: bool,
    /// Webhook log entries written and dropped.
    pub webhook_log_entries: (u64, u64),
    /// Consumer lag of the subscriptions whose source knows it.
    pub lags: Vec<LagRow>,
    /// Basic logins refused since start.
    pub login_failures: u64,
    /// Spans exported and dropped.
    pub trace_spans: (u64, u64),
    /// Operational webhooks sent and dropped.
    pub notifications: (u64, u64),
}

/// The scrape as OpenMetrics text (`openmetrics`), or in the Prometheus text format 0.0.4 for clients that do not
/// ask for OpenMetrics (promtool, curl, older scrapers).
pub fn render(scrape: Scrape, openmetrics: bool) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(scrape));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("writing to a String does not fail");
    if openmetrics {
        text
    } else {
        prometheus_text(&text)
    }
}

/// OpenMetrics text in the Prometheus text format 0.0.4: the two differ, for what is written here, only in that a
/// counter's `HELP` and `TYPE` name its samples (`x_total`), not its family (`x`), and in the closing `# EOF`.
fn prometheus_text(openmetrics: &str) -> String {
    let counters: Vec<&str> =
        openmetrics.lines().filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut text = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines().filter(|line| *line != "# EOF") {
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(&name).then(|| format!("{prefix}{name}_total {tail}"))
        });
        text.push_str(renamed.as_deref().unwrap_or(line));
        text.push('\n');
    }
    text
}

type Labels = Vec<(&'static str, String)>;

/// The API and, for per-subscription series, the subscription a series stands for.
pub(crate) type SeriesKey = (String, Option<String>);

/// The `api` and, for per-subscription series, `subscription` labels, then `extra`.
fn labels(key: &SeriesKey, extra: Option<(&'static str, &str)>) -> Labels {
    let mut labels = vec![("api", key.0.clone())];
    if let Some(subscription) = &key.1 {
        labels.push(("subscription", subscription.clone()));
    }
    labels.extend(extra.map(|(name, value)| (name, value.to_string())));
    labels
}

fn counter(metric: &mut MetricEncoder, labels: &Labels, value: u64) -> Result<(), Error> {
    metric.encode_family(labels)?.encode_counter::<NoLabelSet, u64, f64>(&value, None)
}

fn gauge(metric: &mut MetricEncoder, labels: &Labels, value: i64) -> Result<(), Error> {
    metric.encode_family(labels)?.encode_gauge(&value)
}

fn histogram(metric: &mut MetricEncoder, labels: &Labels, histogram: &Histogram) -> Result<(), Error> {
    metric.encode_family(labels)?.encode_histogram::<NoLabelSet>(
        histogram.sum_seconds,
        histogram.count,
        &histogram.buckets(),
        None,
    )
}

impl Scrape {
    fn encode_gateway(&self, encoder: &mut DescriptorEncoder) -> Result<(), Error> {
        let loaded = vec![("status", "loaded".to_string())];
        gauge(
            &mut encoder.encode_descriptor("gateway_plugins", "Plugin files loaded.", None, MetricType::Gauge)?,
            &loaded,
            self.plugins_loaded as i64,
        )?;
        for (name, help, value) in [
            ("gateway_plugins_refused", "Plugin files refused.", self.plugins_refused),
            ("gateway_apis_deployed", "APIs deployed.", self.apis_deployed),
            ("gateway_subscriptions_running", "Subscriptions delivering.", self.subscriptions_running),
        ] {
            gauge(&mut encoder.encode_descriptor(name, help, None, MetricType::Gauge)?, &Vec::new(), value as i64)?;
        }
        let mut failures = encoder.encode_descriptor(
            "gateway_management_login_failures",
            "Basic logins to the management API refused (wrong user or password).",
            None,
            MetricType::Counter,
        )?;
        counter(&mut failures, &Vec::new(), self.login_failures)?;
        // Counters of one thing by what became of it (`result`).
        let (logs, spans, notifications) = (self.webhook_log_entries, self.trace_spans, self.notifications);
        for (name, help, results) in [
            (
                "gateway_webhook_log_entries",
                "Webhook log entries written to the store, or dropped because the queue was full.",
                [("written", logs.0), ("dropped", logs.1)],
            ),
            (
                "gateway_trace_spans",
                "Spans exported to the OTLP collector, or dropped (a full queue, a collector down or slow).",
                [("exported", spans.0), ("dropped", spans.1)],
            ),
            (
                "gateway_notifications",
                "Operational webhooks taken by their endpoint, or dropped (the oldest of a full queue).",
                [("sent", notifications.0), ("dropped", notifications.1)],
            ),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (result, value) in results {
                counter(&mut family, &vec![("result", result.into())], value)?;
            }
        }
        Ok(())
    }

    fn encode_deliveries(&self, encoder: &mut DescriptorEncoder) -> Result<(), Error> {
        let mut family = encoder.encode_descriptor(
            "gateway_deliveries",
            "Deliveries by outcome: delivered, skipped, dead_lettered, failed, filtered.",
            None,
            MetricType::Counter,
        )?;
        for (key, counts) in &self.counts {
            for outcome in DeliveryOutcome::ALL {
                counter(
                    &mut family,
                    &labels(key, Some(("outcome", outcome.label()))),
                    counts.deliveries[outcome as usize],
                )?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "gateway_delivery_attempts",
            "Calls to callbacks by result: the answer's status class, or the error key of a call without answer.",
            None,
            MetricType::Counter,
        )?;
        for (key, counts) in &self.counts {
            for (index, value) in counts.attempts.iter().enumerate() {
                counter(&mut family, &labels(key, Some(("result", attempt_result_label(index)))), *value)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "gateway_retries",
            "Calls made again after a failed one.",
            None,
            MetricType::Counter,
        )?;
        for (key, counts) in &self.counts {
            counter(&mut family, &labels(key, None), counts.retries)?;
        }
        for (name, help, read) in [
            (
                "gateway_deliveries_in_flight",
                "Deliveries started and not yet ended.",
                (|c: &Counts| c.in_flight) as fn(&Counts) -> u64,
            ),
            (
                "gateway_messages_held",
                "Messages waiting behind a delivery under way of their ordering key (ordering.mode key).",
                |c: &Counts| c.held,
            ),
            (
                "gateway_in_flight_limit",
                "Deliveries allowed in flight now: http.maxConcurrentConnections, or less while pacing.adaptive holds back.",
                |c: &Counts| c.in_flight_limit,
            ),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (key, counts) in &self.counts {
                gauge(&mut family, &labels(key, None), read(counts) as i64)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "gateway_pacing_wait_seconds",
            "Time deliveries waited for pacing.maxPerSecond before they started.",
            None,
            MetricType::Counter,
        )?;
        for (key, counts) in &self.counts {
            let seconds = counts.pacing_wait_micros as f64 / 1e6;
            family.encode_family(&labels(key, None))?.encode_counter::<NoLabelSet, f64, f64>(&seconds, None)?;
        }
        for (name, help, read) in [
            (
                "gateway_callback_duration_seconds",
                "One call's round trip to the callback.",
                (|c: &Counts| &c.callback_duration) as fn(&Counts) -> &Histogram,
            ),
            (
                "gateway_message_age_seconds",
                "From the message's timestamp (record timestamp, or the mock's emission) to the callback's answer.",
                |c: &Counts| &c.message_age,
            ),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
            for (key, counts) in &self.counts {
                histogram(&mut family, &labels(key, None), read(counts))?;
            }
        }
        for (name, help, read) in [
            (
                "gateway_dlq_publishes",
                "Dead letter queue publishes by result: ok, failed.",
                (|c: &Counts| c.dlq_publishes) as fn(&Counts) -> [u64; 2],
            ),
            ("gateway_token_fetches", "OAuth2 token requests by result: ok, failed.", |c: &Counts| c.token_fetches),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (key, counts) in &self.counts {
                let [ok, failed] = read(counts);
                counter(&mut family, &labels(key, Some(("result", "ok"))), ok)?;
                counter(&mut family, &labels(key, Some(("result", "failed"))), failed)?;
            }
        }
        Ok(())
    }

    fn encode_statuses(&self, encoder: &mut DescriptorEncoder) -> Result<(), Error> {
        let help = if self.per_subscription {
            "1 for the subscription's current status (STARTED, STOPPED, FAILURE, PAUSED, CLOSED), 0 for the others."
        } else {
            "Subscriptions of the API in each status (STARTED, STOPPED, FAILURE, PAUSED, CLOSED)."
        };
        let mut family = encoder.encode_descriptor("gateway_subscription_status", help, None, MetricType::Gauge)?;
        let mut by_key: BTreeMap<SeriesKey, [u64; STATUSES.len()]> = BTreeMap::new();
        for state in &self.subscriptions {
            let key = (state.api_id.clone(), self.per_subscription.then(|| state.id.clone()));
            let index = STATUSES.iter().position(|status| *status == state.status).unwrap_or_default();
            by_key.entry(key).or_default()[index] += 1;
        }
        for (key, counts) in &by_key {
            for (status, value) in STATUSES.iter().zip(counts) {
                gauge(&mut family, &labels(key, Some(("status", status))), *value as i64)?;
            }
        }
        Ok(())
    }

    fn encode_troubles(&self, encoder: &mut DescriptorEncoder) -> Result<(), Error> {
        let mut family = encoder.encode_descriptor(
            "gateway_source_troubled",
            "Started subscriptions whose source cannot fully read or commit right now (a broker unreachable, commits refused); the subscription's failureCause says why.",
            None,
            MetricType::Gauge,
        )?;
        let mut by_key: BTreeMap<SeriesKey, i64> = BTreeMap::new();
        for state in self.subscriptions.iter().filter(|state| state.status == "STARTED") {
            let key = (state.api_id.clone(), self.per_subscription.then(|| state.id.clone()));
            *by_key.entry(key).or_default() += i64::from(state.troubled);
        }
        for (key, troubled) in &by_key {
            gauge(&mut family, &labels(key, None), *troubled)?;
        }
        Ok(())
    }
}

impl Scrape {
    fn encode_lags(&self, encoder: &mut DescriptorEncoder) -> Result<(), Error> {
        let mut family = encoder.encode_descriptor(
            "gateway_consumer_lag",
            "Records of a partition not yet committed by the subscription: the high watermark minus its committed offset.",
            None,
            MetricType::Gauge,
        )?;
        let mut by_key: BTreeMap<(SeriesKey, String, i32), i64> = BTreeMap::new();
        for row in &self.lags {
            let key = (row.api_id.clone(), self.per_subscription.then(|| row.subscription.clone()));
            *by_key.entry((key, row.topic.clone(), row.partition)).or_default() += row.lag;
        }
        for ((key, topic, partition), lag) in &by_key {
            let mut labels = labels(key, Some(("topic", topic)));
            labels.push(("partition", partition.to_string()));
            gauge(&mut family, &labels, *lag)?;
        }
        Ok(())
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        self.encode_gateway(&mut encoder)?;
        self.encode_deliveries(&mut encoder)?;
        self.encode_statuses(&mut encoder)?;
        self.encode_troubles(&mut encoder)?;
        self.encode_lags(&mut encoder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_by_their_samples_in_the_prometheus_format() {
        let openmetrics =
            "# HELP a_b Help.\n# TYPE a_b counter\na_b_total 1\n# HELP c Help.\n# TYPE c gauge\nc 2\n# EOF\n";
        assert_eq!(
            prometheus_text(openmetrics),
            "# HELP a_b_total Help.\n# TYPE a_b_total counter\na_b_total 1\n# HELP c Help.\n# TYPE c gauge\nc 2\n"
        );
    }
}
