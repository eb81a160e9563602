//! `make bench`: the gateway's throughput, added latency and footprint, each against the machine's own limit, in
//! one process run, on release builds of the host and plugins. Prints a table and writes `docs/benchmarks.md`.

#[allow(dead_code, unused_imports)]
#[path = "../it/support/mod.rs"]
mod support;

mod feed;
mod limits;
mod metrics_cost;
mod receiver;
mod report;

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};

use feed::{produce_bulk, produce_paced};
use receiver::{now_us, CountingReceiver};
use report::Row;
use support::broker::Broker;
use support::gateway::{Gateway, GatewayHome};
use support::kafka::create_topic;
use support::scenario::{kafka_api, mock_api, subscription};

/// Size of every message body.
const BODY_BYTES: usize = 1024;
/// How long each rate is measured.
const MEASURE: Duration = Duration::from_secs(4);
/// `/proc/<pid>/stat` counts CPU time in ticks of 1/100 s (USER_HZ on Linux).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;
/// Records on the Kafka topic the throughput runs read.
const KAFKA_RECORDS: u64 = 20_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let body = Bytes::from(vec![b'x'; BODY_BYTES]);
    let receiver = CountingReceiver::start().await;
    let mut rows = Vec::new();

    eprintln!("limits: load generator against the receiver");
    let mut limit = std::collections::HashMap::new();
    for concurrency in [1usize, 5, 20] {
        let rate = limits::http_rate(&receiver.url, concurrency, &body, MEASURE).await;
        limit.insert(concurrency, rate);
        rows.push(Row::new(&format!("limit: load generator, {concurrency} in flight"), format!("{rate:.0} req/s")));
    }

    eprintln!("gateway: mock source");
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", "warn")]);
    let (mut mock_auto_20, mut cpu_us_per_message) = (0.0, 0.0);
    for (qos, concurrency) in [("auto", 5usize), ("auto", 20), ("at-least-once", 1)] {
        let (rate, cpu_us) = mock_rate(&gateway, &receiver, qos, concurrency, false).await;
        let ratio = rate / limit[&concurrency];
        let mut row =
            Row::new(&format!("gateway, mock source, {qos}, {concurrency} in flight"), format!("{rate:.0} msg/s"))
                .against(limit[&concurrency], "req/s")
                .ratio(ratio);
        if qos == "auto" && concurrency == 20 {
            (mock_auto_20, cpu_us_per_message) = (rate, cpu_us);
            row = row.target(">= 0.9 of the limit", ratio >= 0.9);
            row.value = format!("{rate:.0} msg/s, gateway CPU {cpu_us:.1} µs/msg");
        }
        if qos == "at-least-once" {
            let added_us = 1e6 / rate - 1e6 / limit[&1];
            row.target = format!(
                "adds {added_us:.0} µs/msg over the receiver's round trip (target <= 50: {})",
                if added_us <= 50.0 { "met" } else { "MISSED" }
            );
        }
        rows.push(row);
    }
    let counting_ns = metrics_cost::nanos_per_delivery();
    let share = counting_ns / (cpu_us_per_message * 1000.0);
    rows.push(
        Row::new(
            "metrics: counting every delivery (atomics, no call across the boundary)",
            format!("{counting_ns:.0} ns/msg"),
        )
        .ratio(share)
        .target("< 2 % of the gateway's CPU per message", share < 0.02),
    );
    let (logged, _) = mock_rate(&gateway, &receiver, "auto", 20, true).await;
    rows.push(
        Row::new("gateway, mock, auto, 20, webhook logging on (every delivery)", format!("{logged:.0} msg/s"))
            .ratio(logged / mock_auto_20),
    );
    drop(gateway);

    eprintln!("gateway: kafka source");
    let broker = Broker::start();
    create_topic(&broker.bootstrap(), "bench", 1).await;
    produce_bulk(&broker.bootstrap(), "bench", KAFKA_RECORDS, |_| body.to_vec()).await;
    let bare = limits::kafka_rate(&broker.bootstrap(), "bench", KAFKA_RECORDS).await;
    rows.push(Row::new("limit: bare rdkafka consumer", format!("{bare:.0} rec/s")));
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", "warn")]);
    gateway.api().deploy(&kafka_api("bench-kafka", "auto", &broker.bootstrap(), "bench")).await;
    let mut kafka_auto_20 = 0.0;
    for (qos, concurrency) in [("auto", 5usize), ("auto", 20), ("at-least-once", 1)] {
        let rate = kafka_rate(&gateway, &receiver, &broker, qos, concurrency).await;
        let limit_rate = bare.min(limit[&concurrency]);
        if qos == "auto" && concurrency == 20 {
            kafka_auto_20 = rate;
        }
        let mut row =
            Row::new(&format!("gateway, kafka source, {qos}, {concurrency} in flight"), format!("{rate:.0} msg/s"))
                .against(limit_rate, "(min of consumer and load generator)")
                .ratio(rate / limit_rate);
        if qos == "auto" && concurrency == 20 {
            row = row.target(">= 0.9 of the limit", rate / limit_rate >= 0.9);
        }
        rows.push(row);
    }

    eprintln!("gateway: added latency");
    let (p50, p99) = latency(&gateway, &receiver, &broker, (kafka_auto_20 / 2.0).max(1.0)).await;
    rows.push(Row::new(
        &format!("added latency, kafka, auto, 20, at {:.0} msg/s (half the maximum)", kafka_auto_20 / 2.0),
        format!("p50 {:.2} ms, p99 {:.2} ms", p50 as f64 / 1000.0, p99 as f64 / 1000.0),
    ));
    drop(gateway);
    drop(broker);

    eprintln!("gateway: footprint");
    let (rss_1k, rss_10k, idle_cpu) = footprint(&receiver).await;
    rows.push(Row::new("resident memory, 1,000 subscriptions", format!("{:.0} MB", rss_1k as f64 / 1024.0)));
    rows.push(
        Row::new("resident memory, 10,000 subscriptions", format!("{:.0} MB", rss_10k as f64 / 1024.0))
            .target("<= 256 MB", rss_10k <= 256 * 1024),
    );
    rows.push(Row::new("CPU when idle, 10,000 subscriptions", format!("{idle_cpu:.1} % of one core")));

    let table = report::table(&rows);
    println!("{table}");
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let document = format!(
        "# Benchmarks\n\n`make bench`, {date}, on {}. Release builds; the receiver, the load generator, the broker (tansu, SQLite storage) and the gateway share the machine's cores.\n\n{table}\n{}",
        report::machine(),
        include_str!("notes.md")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    std::fs::write(&path, document).expect("write docs/benchmarks.md");
    eprintln!("written to {}", path.display());
}

/// Messages per second the gateway delivers from a mock source that emits as fast as it is read, and the gateway's
/// CPU time per delivered message (µs).
async fn mock_rate(
    gateway: &Gateway,
    receiver: &CountingReceiver,
    qos: &str,
    concurrency: usize,
    logging: bool,
) -> (f64, f64) {
    let id = format!("bench-mock-{qos}-{concurrency}-{logging}");
    let configuration =
        json!({ "http": { "maxConcurrentConnections": concurrency }, "logging": { "enabled": logging } });
    let mock = json!({ "messageInterval": 0, "messageContent": "x".repeat(BODY_BYTES) });
    gateway.api().deploy(&mock_api(&id, qos, configuration, mock)).await;
    let subscription_id = gateway.api().subscribe(&id, &subscription(&receiver.url)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ticks = cpu_ticks(gateway);
    let rate = measure(receiver).await;
    let cpu_seconds = (cpu_ticks(gateway) - ticks) as f64 / CLOCK_TICKS_PER_SECOND;
    remove(gateway, &id, &subscription_id).await;
    (rate, cpu_seconds * 1e6 / (rate * MEASURE.as_secs_f64()).max(1.0))
}

/// Calls per second the receiver gets over the measuring period.
async fn measure(receiver: &CountingReceiver) -> f64 {
    let (before, started) = (receiver.calls(), Instant::now());
    tokio::time::sleep(MEASURE).await;
    (receiver.calls() - before) as f64 / started.elapsed().as_secs_f64()
}

async fn remove(gateway: &Gateway, api: &str, subscription: &str) {
    gateway
        .api()
        .send(
            hyper::Method::DELETE,
            &format!("/management/v2/apis/{api}/subscriptions/{subscription}"),
            None,
            Some(support::gateway::TOKEN),
        )
        .await;
}

/// Messages per second the gateway delivers from the whole Kafka topic, read from its start by a new group.
async fn kafka_rate(
    gateway: &Gateway,
    receiver: &CountingReceiver,
    broker: &Broker,
    qos: &str,
    concurrency: usize,
) -> f64 {
    let api = format!("bench-kafka-{qos}-{concurrency}");
    let mut definition = kafka_api(&api, qos, &broker.bootstrap(), "bench");
    definition["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": concurrency } });
    gateway.api().deploy(&definition).await;
    let start = receiver.calls();
    let subscription_id = gateway.api().subscribe(&api, &subscription(&receiver.url)).await;
    // Timed from the first delivery, so that the consumer group's join is not counted.
    let deadline = Instant::now() + Duration::from_secs(120);
    while receiver.calls() == start && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let first = receiver.calls();
    while receiver.calls() - start < KAFKA_RECORDS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = (receiver.calls() - first) as f64 / started.elapsed().as_secs_f64();
    remove(gateway, &api, &subscription_id).await;
    rate
}

/// p50 and p99 (µs) from a record's production to its arrival at the receiver, at `rate` records per second.
async fn latency(gateway: &Gateway, receiver: &CountingReceiver, broker: &Broker, rate: f64) -> (u64, u64) {
    create_topic(&broker.bootstrap(), "latency", 1).await;
    let mut definition = kafka_api("bench-latency", "auto", &broker.bootstrap(), "latency");
    definition["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": 20 } });
    gateway.api().deploy(&definition).await;
    gateway.api().subscribe("bench-latency", &subscription(&receiver.url)).await;
    let warm_up = receiver.calls();
    produce_bulk(&broker.bootstrap(), "latency", 1, |_| stamped()).await;
    while receiver.calls() == warm_up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    receiver.take_latencies();
    let count = (rate * MEASURE.as_secs_f64()) as u64;
    let pause = Duration::from_secs_f64(1.0 / rate);
    let expected = receiver.calls() + count;
    produce_paced(&broker.bootstrap(), "latency", count, pause, stamped).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.calls() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut latencies = receiver.take_latencies();
    latencies.sort_unstable();
    let at = |quantile: f64| {
        latencies
            .get(((latencies.len() as f64 * quantile) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    (at(0.5), at(0.99))
}

/// A 1 KiB body starting with the time it was made, in microseconds.
fn stamped() -> Vec<u8> {
    let mut body = format!("{:016}", now_us()).into_bytes();
    body.resize(BODY_BYTES, b'x');
    body
}

/// Resident memory (KiB) with 1,000 then 10,000 idle subscriptions, and the CPU used while idle (% of a core).
async fn footprint(receiver: &CountingReceiver) -> (u64, u64, f64) {
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", "warn")]);
    let idle = json!({ "messageInterval": 3_600_000, "messageContent": "idle" });
    // Pooled connections close after 1 s idle, so that the measure is of resting subscriptions.
    gateway.api().deploy(&mock_api("idle", "auto", json!({ "http": { "idleTimeout": 1000 } }), idle)).await;
    subscribe_many(&gateway, receiver, 1_000).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_1k = resident_kb(&gateway);
    subscribe_many(&gateway, receiver, 9_000).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_10k = resident_kb(&gateway);
    let (before, started) = (cpu_ticks(&gateway), Instant::now());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let idle_cpu = (cpu_ticks(&gateway) - before) as f64 / ticks_per_second / started.elapsed().as_secs_f64() * 100.0;
    (rss_1k, rss_10k, idle_cpu)
}

async fn subscribe_many(gateway: &Gateway, receiver: &CountingReceiver, count: usize) {
    let body: Value = subscription(&receiver.url);
    for _ in 0..count {
        gateway.api().subscribe("idle", &body).await;
    }
}

fn resident_kb(gateway: &Gateway) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.pid())).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("VmRSS"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn cpu_ticks(gateway: &Gateway) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", gateway.pid())).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    fields.get(11).and_then(|utime| utime.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|stime| stime.parse::<u64>().ok()).unwrap_or(0)
}
