//! The gateway's own added latency with the mock source: each subscription's mock emits a message every
//! millisecond (message `n` is due `n` ms after its source opened) and delivers them one at a time, in order; the
//! receiver records when each arrives. A message's latency is how much later than its schedule it arrived, beyond
//! the subscription's fastest delivery: emission to receipt, less that constant (about a loopback round trip).

use std::collections::HashMap;

use serde_json::json;

use crate::receiver::{p50_p99, CountingReceiver};
use crate::support::gateway::Gateway;
use crate::support::scenario::{mock_api, subscription};
use crate::{MEASURE, WARM_UP};

/// One message per millisecond per subscription.
const INTERVAL_US: u64 = 1_000;
/// The API the measurement deploys.
const API: &str = "bench-mock-latency";

/// p50 and p99 (µs) of the added latency at about `rate` messages per second.
pub async fn percentiles(gateway: &Gateway, receiver: &CountingReceiver, rate: f64) -> Result<(u64, u64), String> {
    let subscriptions = ((rate * INTERVAL_US as f64 / 1e6).round() as usize).max(1);
    let mock = json!({ "messageInterval": INTERVAL_US / 1_000, "messageContent": "x".repeat(1024) });
    let entrypoint = json!({ "http": { "maxConcurrentConnections": 1 } });
    gateway.api().deploy(&mock_api(API, "auto", entrypoint, mock)).await;
    let mut ids = Vec::new();
    for index in 0..subscriptions {
        ids.push(gateway.api().subscribe(API, &subscription(&format!("{}/{index}", receiver.url))).await);
    }
    tokio::time::sleep(WARM_UP).await;
    receiver.record_arrivals();
    tokio::time::sleep(MEASURE).await;
    let arrivals = receiver.take_arrivals();
    for id in &ids {
        gateway.api().act(API, id, "_close").await;
    }
    let latencies = behind_schedule(&arrivals);
    let expected = (subscriptions as u64 * MEASURE.as_micros() as u64 / INTERVAL_US) as usize;
    if latencies.len() < expected * 9 / 10 {
        return Err(format!("{} of about {expected} messages arrived: the load was not carried", latencies.len()));
    }
    Ok(p50_p99(latencies))
}

/// Per path (subscription), the k-th arrival is message k of the measured stretch, due k intervals after the
/// first: how late each arrived, beyond the path's least late.
fn behind_schedule(arrivals: &[(String, u64)]) -> Vec<u64> {
    let mut per_path: HashMap<&str, Vec<u64>> = HashMap::new();
    for (path, at) in arrivals {
        per_path.entry(path).or_default().push(*at);
    }
    per_path
        .values()
        .flat_map(|times| {
            let offsets: Vec<i64> =
                times.iter().enumerate().map(|(k, at)| *at as i64 - (k as u64 * INTERVAL_US) as i64).collect();
            let base = offsets.iter().copied().min().unwrap_or(0);
            offsets.into_iter().map(move |offset| (offset - base) as u64)
        })
        .collect()
}
