//! Ordering by key, measured: a receiver 50 ms away, at-least-once over 1,000 keys, `strict` (one at a time) against
//! `key` with 20 in flight (Kafka source); and what a key costs per message over no order (mock source → nginx).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::feed::produce_bulk;
use crate::nginx::Nginx;
use crate::receiver::CountingReceiver;
use crate::report::Row;
use crate::support::broker::Broker;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::scenario::{kafka_api, subscription};
use crate::{mock_run, remove, MockCase, MEASURE, QUIET_LOGS, WARM_UP};

/// The receiver's answer time.
const RECEIVER_DELAY: Duration = Duration::from_millis(50);
/// Keys over the topic's records.
const KEYS: u64 = 1_000;
/// Records on the topic: more than `key` delivers over the warm-up and the measure.
const RECORDS: u64 = 10_000;
/// Requests in flight under `key`.
const IN_FLIGHT: usize = 20;

/// The rows: both rates with the goal, and the CPU per message of `key` over `none`.
pub(crate) async fn rows(home: &GatewayHome, nginx: &Nginx, rows: &mut Vec<Row>) {
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let broker = Broker::start();
    broker.create_topic("ordered", 3).await;
    produce_bulk(&broker.bootstrap(), "ordered", RECORDS, KEYS, |_| vec![b'x'; 1024]).await;
    let receiver = CountingReceiver::answering_after(RECEIVER_DELAY).await;
    let goal = 0.9 * IN_FLIGHT as f64 / RECEIVER_DELAY.as_secs_f64();
    for mode in ["strict", "key"] {
        let measure = format!(
            "kafka, at-least-once, {KEYS} keys, receiver answering in {} ms, ordering {mode}",
            RECEIVER_DELAY.as_millis()
        );
        match keyed_rate(&gateway, &broker, &receiver, mode).await {
            Ok(rate) if mode == "key" => rows.push(
                Row::new(&measure, format!("{rate:.0} msg/s ({IN_FLIGHT} in flight)"))
                    .target(&format!(">= {goal:.0} msg/s (0.9 of 20 / 50 ms)"), rate >= goal),
            ),
            Ok(rate) => rows.push(Row::new(&measure, format!("{rate:.0} msg/s (one at a time)"))),
            Err(why) => rows.push(Row::failed(&measure, &why)),
        }
    }
    let measure = "ordering key's CPU per message over none, mock (1,000 keys), auto, 20 → nginx";
    let none = mock_run(&gateway, nginx, MockCase { ordering: Some("none"), ..MockCase::plain("auto", 20) });
    let none = none.await;
    let key = mock_run(&gateway, nginx, MockCase { ordering: Some("key"), ..MockCase::plain("auto", 20) });
    match (none, key.await) {
        (Ok(none), Ok(key)) => {
            let added = key.cpu_us_per_message - none.cpu_us_per_message;
            rows.push(
                Row::new(
                    measure,
                    format!(
                        "{added:+.2} µs ({:.1} against {:.1} µs/msg)",
                        key.cpu_us_per_message, none.cpu_us_per_message
                    ),
                )
                .target("<= 2 µs", added <= 2.0),
            );
        }
        (Err(why), _) | (_, Err(why)) => rows.push(Row::failed(measure, &why)),
    }
}

/// Messages per second the receiver gets from an at-least-once subscription ordered by `mode`, after the warm-up.
async fn keyed_rate(
    gateway: &Gateway,
    broker: &Broker,
    receiver: &CountingReceiver,
    mode: &str,
) -> Result<f64, String> {
    let id = format!("bench-ordering-{mode}");
    let mut api = kafka_api(&id, "at-least-once", &broker.bootstrap(), "ordered");
    api["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": IN_FLIGHT }, "ordering": { "mode": mode } });
    gateway.api().deploy(&api).await;
    let (calls_before, started) = (receiver.calls(), Instant::now());
    let subscription_id = gateway.api().subscribe(&id, &subscription(&receiver.url)).await;
    // The first records come after the feed's group handover (2.5 s): warm up past it.
    while receiver.calls() == calls_before && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(WARM_UP).await;
    let (before, measuring) = (receiver.calls(), Instant::now());
    tokio::time::sleep(MEASURE).await;
    let rate = (receiver.calls() - before) as f64 / measuring.elapsed().as_secs_f64();
    remove(gateway, &id, &subscription_id).await;
    if rate == 0.0 {
        return Err("nothing delivered".to_string());
    }
    Ok(rate)
}
