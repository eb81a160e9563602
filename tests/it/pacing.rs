//! `pacing` through the real host and plugins: `maxPerSecond` spaces the deliveries, `adaptive` finds a receiver's
//! capacity (AIMD on 429) and grows again when it stops refusing, nothing is lost for it, and a pause ends a pacing
//! wait at once.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(60);

/// `subscription(callback)` with `pacing`.
fn paced(callback: &str, pacing: serde_json::Value) -> serde_json::Value {
    let mut body = subscription(callback);
    body["consumerConfiguration"]["entrypointConfiguration"]["pacing"] = pacing;
    body
}

/// `gateway_deliveries_total` of `outcome`, every series summed.
async fn deliveries(gateway: &Gateway, outcome: &str) -> f64 {
    let text = gateway.api().get("/metrics").await.body.as_str().unwrap_or_default().to_string();
    text.lines()
        .filter(|line| {
            line.starts_with("gateway_deliveries_total{") && line.contains(&format!("outcome=\"{outcome}\""))
        })
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_per_second_delivers_twenty_each_second() {
    let api =
        mock_api("paced", "auto", json!({ "http": { "maxConcurrentConnections": 20 } }), mock_messages(1_000, 0, "{}"));
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    let id = gateway.api().subscribe("paced", &paced(&receiver.url("/hook"), json!({ "maxPerSecond": 20 }))).await;
    assert!(receiver.wait_for(1, WAIT).await);
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let first = receiver.requests()[0].at;
    let arrivals: Vec<Instant> = receiver.requests().iter().map(|request| request.at).collect();
    let per_second: Vec<usize> = (1..6)
        .map(|second| {
            let (from, to) = (first + Duration::from_secs(second), first + Duration::from_secs(second + 1));
            arrivals.iter().filter(|at| **at >= from && **at < to).count()
        })
        .collect();
    assert!(per_second.iter().all(|count| (18..=22).contains(count)), "deliveries in each second: {per_second:?}");
    let waited = gateway.api().metric("gateway_pacing_wait_seconds_total{").await;
    assert!(waited > 1.0, "time spent waiting for the rate: {waited} s");
    let shown = gateway.api().subscription("paced", &id).await;
    assert_eq!(shown["inFlightLimit"], 20, "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_limit_finds_a_receivers_capacity_loses_nothing_and_grows_again() {
    const MESSAGES: u64 = 1_500;
    let receiver = Receiver::scripted(Vec::new(), Reply::Busy(Duration::from_millis(50))).await;
    receiver.refuse_over(4);
    let api = advanced_mock_api(
        "adaptive",
        "at-least-once",
        json!({ "http": { "maxConcurrentConnections": 20 }, "ordering": { "mode": "none" } }),
        mock_messages(MESSAGES, 0, "{}"),
        true,
    );
    let retry = json!({ "retryOption": "Retry On Fail", "retryStrategy": "LINEAR", "maxAttempts": 100,
                        "initialDelaySeconds": 0, "maxDelaySeconds": 0 });
    let body = advanced_subscription(&receiver.url("/hook"), json!({ "pacing": { "adaptive": true }, "retry": retry }));
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    gateway.api().subscribe("adaptive", &body).await;
    assert!(eventually(WAIT, || async { deliveries(&gateway, "delivered").await >= 100.0 }).await);

    // Capacity: 4 calls in flight answered in 50 ms, 80 a second.
    let (started, before) = (Instant::now(), deliveries(&gateway, "delivered").await);
    let mut limits = Vec::new();
    while started.elapsed() < Duration::from_secs(4) {
        limits.push(gateway.api().metric("gateway_in_flight_limit{").await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rate = (deliveries(&gateway, "delivered").await - before) / started.elapsed().as_secs_f64();
    let highest = limits.iter().copied().fold(0.0, f64::max);
    println!("adaptive: {rate:.0} msg/s against 80, limits {limits:?}");
    assert!(highest <= 5.0, "the limit settles at 5 or less: {limits:?}");
    assert!(rate >= 64.0, "at least 0.8 of the receiver's capacity: {rate:.1} msg/s");

    receiver.refuse_over(usize::MAX);
    let grown = eventually(WAIT, || async { gateway.api().metric("gateway_in_flight_limit{").await >= 10.0 }).await;
    assert!(grown, "the limit grows again: {}", gateway.api().metric("gateway_in_flight_limit{").await);
    let all = eventually(WAIT, || async { deliveries(&gateway, "delivered").await == MESSAGES as f64 }).await;
    assert!(all, "every message delivered: {}", deliveries(&gateway, "delivered").await);
    for outcome in ["dead_lettered", "skipped", "failed"] {
        assert_eq!(deliveries(&gateway, outcome).await, 0.0, "{outcome}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_ends_a_pacing_wait_at_once() {
    let api = mock_api("slow-paced", "at-least-once", json!({}), mock_messages(10, 0, "{}"));
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    let id =
        gateway.api().subscribe("slow-paced", &paced(&receiver.url("/hook"), json!({ "maxPerSecond": 0.1 }))).await;
    assert!(receiver.wait_for(1, WAIT).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = Instant::now();
    let paused = gateway.api().act("slow-paced", &id, "_pause").await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    let stopped = eventually(Duration::from_secs(5), || async {
        gateway.api().metric("gateway_subscriptions_running{").await == 0.0
    })
    .await;
    assert!(stopped && asked.elapsed() < Duration::from_secs(1), "stopped after {:?}", asked.elapsed());
    // The message the wait was for is not delivered: the run ended with the wait.
    receiver.assert_stays_at(1, Duration::from_secs(11)).await;
}
