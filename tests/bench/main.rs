//! `make bench`: the gateway's throughput, added latency and footprint, each against the machine's own limit, in
//! one process run, on release builds of the host and plugins. Prints a table and writes `docs/benchmarks.md`.

#[allow(dead_code, unused_imports)]
#[path = "../it/support/mod.rs"]
mod support;

mod feed;
mod flows;
mod h2load;
mod http2;
mod kafka_scale;
mod limits;
mod metrics_cost;
mod mock_latency;
mod ordering;
mod process;
mod rebalance;
mod receiver;
mod report;
mod traces;
mod wrk;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use feed::{produce_bulk, produce_paced};
use receiver::{now_us, p50_p99, CountingReceiver};
use report::Row;
use support::broker::Broker;
use support::gateway::{Gateway, GatewayHome};
use support::nginx;
use support::nginx::Nginx;
use support::scenario::{kafka_api, mock_api, subscription};

/// Size of every message body.
const BODY_BYTES: usize = 1024;
/// How long each rate is measured.
pub(crate) const MEASURE: Duration = Duration::from_secs(4);
/// Warnings only, but the host's own information (its listening address is how the bench finds it).
pub(crate) const QUIET_LOGS: &str = "warn,gateway_host=info";
/// How long every load runs before it is measured (wrk and the gateway alike).
pub(crate) const WARM_UP: Duration = Duration::from_secs(1);
/// Records on the Kafka topic the throughput runs read.
const KAFKA_RECORDS: u64 = 20_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let nginx = Nginx::serving(nginx::Sites { h2c: true, ..nginx::Sites::default() }).expect("nginx");
    let mut rows = Vec::new();

    let mut limit = HashMap::new();
    for concurrency in [1usize, 5, 20].into_iter().filter(|_| section("limits")) {
        let measure = format!("limit: wrk → nginx, {concurrency} in flight");
        match wrk::rate(&nginx.url, concurrency, WARM_UP, MEASURE) {
            Ok(rate) => {
                limit.insert(concurrency, rate);
                rows.push(Row::new(&measure, format!("{rate:.0} req/s")));
            }
            Err(why) => rows.push(Row::failed(&measure, &why)),
        }
    }

    let home = GatewayHome::new();
    if section("mock") {
        mock_rows(&home, &nginx, &limit, &mut rows).await;
    }
    if section("kafka") {
        kafka_rows(&home, &nginx, &limit, &mut rows).await;
    }
    if section("footprint") {
        footprint_rows(&mut rows).await;
    }
    if section("ordering") {
        ordering::rows(&home, &nginx, &mut rows).await;
    }
    if section("flows") {
        flows::rows(&home, &nginx, &mut rows).await;
    }
    if section("http2") {
        http2::rows(&home, &nginx, &mut rows).await;
    }
    if section("traces") {
        traces::rows(&home, &nginx, &mut rows).await;
    }
    if section("rebalance") {
        rebalance::rows(&mut rows).await;
    }
    if section("kafka-scale") {
        kafka_scale::rows(&mut rows).await;
    }
    write_report(&rows);
}

/// Whether `name` is to be measured: every section, unless `BENCH_ONLY` lists some (`limits,kafka`).
fn section(name: &str) -> bool {
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let run = only.is_empty() || only.split(',').any(|listed| listed.trim() == name);
    if run {
        eprintln!("bench: {name}");
    }
    run
}

/// The mock source's rows: rates and CPU per message against nginx, metrics' cost, logging's cost.
async fn mock_rows(home: &GatewayHome, nginx: &Nginx, limit: &HashMap<usize, f64>, rows: &mut Vec<Row>) {
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let mut unlogged = None;
    for (qos, concurrency) in [("auto", 5usize), ("auto", 20), ("at-least-once", 1)] {
        let measure = format!("gateway, mock source, {qos}, {concurrency} in flight → nginx");
        let run = match mock_rate(&gateway, nginx, qos, concurrency, false).await {
            Ok(run) => run,
            Err(why) => {
                rows.push(Row::failed(&measure, &why));
                continue;
            }
        };
        let mut row =
            Row::new(&measure, format!("{:.0} msg/s, gateway CPU {:.1} µs/msg", run.rate, run.cpu_us_per_message));
        if let Some(limit) = limit.get(&concurrency) {
            row = row.against(*limit, "req/s").ratio(run.rate / limit);
            if qos == "auto" && concurrency == 20 {
                row = row.target(">= 0.8 of the limit", run.rate / limit >= 0.8);
            }
        }
        if qos == "auto" && concurrency == 20 {
            rows.push(row);
            rows.push(
                Row::new(
                    "gateway CPU per delivered message, mock, auto, 20",
                    format!("{:.1} µs", run.cpu_us_per_message),
                )
                .target("<= 10 µs", run.cpu_us_per_message <= 10.0),
            );
            unlogged = Some(run);
            continue;
        }
        rows.push(row);
    }
    if let Some(unlogged) = &unlogged {
        let counting_ns = metrics_cost::nanos_per_delivery();
        let share = counting_ns / (unlogged.cpu_us_per_message * 1000.0);
        rows.push(
            Row::new(
                "metrics: counting every delivery (atomics, no call across the boundary)",
                format!("{counting_ns:.0} ns/msg"),
            )
            .ratio(share)
            .target("< 2 % of the gateway's CPU per message", share < 0.02),
        );
    }
    let measure = "added latency, mock, at half the maximum (due → callback, beyond the fastest delivery)";
    match &unlogged {
        Some(unlogged) => {
            let receiver = CountingReceiver::start().await;
            match mock_latency::percentiles(&gateway, &receiver, unlogged.rate / 2.0).await {
                Ok((p50, p99)) => rows.push(
                    Row::new(measure, format!("p50 {:.2} ms, p99 {:.2} ms", p50 as f64 / 1000.0, p99 as f64 / 1000.0))
                        .target("p99 <= 5 ms", p99 <= 5_000),
                ),
                Err(why) => rows.push(Row::failed(measure, &why)),
            }
        }
        None => rows.push(Row::failed(measure, "no mock rate to take half of")),
    }
    let measure = "gateway, mock, auto, 20, webhook logging of every delivery, headers included → nginx";
    match (mock_rate(&gateway, nginx, "auto", 20, true).await, &unlogged) {
        (Ok(logged), Some(unlogged)) => {
            let ratio = logged.rate / unlogged.rate;
            let kept = logged.log_entries_dropped == 0;
            rows.push(
                Row::new(measure, format!("{:.0} msg/s, {} entries dropped", logged.rate, logged.log_entries_dropped))
                    .ratio(ratio)
                    .target(">= 0.9 of the unlogged rate, no entry dropped", ratio >= 0.9 && kept),
            );
        }
        (Err(why), _) => rows.push(Row::failed(measure, &why)),
        (Ok(_), None) => rows.push(Row::failed(measure, "no unlogged rate to compare with")),
    }
}

/// The Kafka source's rows: the bare consumer's rate, the gateway's, and the added latency.
async fn kafka_rows(home: &GatewayHome, nginx: &Nginx, limit: &HashMap<usize, f64>, rows: &mut Vec<Row>) {
    let body = vec![b'x'; BODY_BYTES];
    let broker = Broker::start();
    broker.create_topic("bench", 1).await;
    produce_bulk(&broker.bootstrap(), "bench", KAFKA_RECORDS, KAFKA_RECORDS, |_| body.clone()).await;
    let bare = limits::kafka_rate(&broker.bootstrap(), "bench", KAFKA_RECORDS).await;
    match &bare {
        Ok(rate) => rows.push(Row::new("limit: bare rdkafka consumer", format!("{rate:.0} rec/s"))),
        Err(why) => rows.push(Row::failed("limit: bare rdkafka consumer", why)),
    }
    let (bootstrap, measure) = (broker.bootstrap(), "bare BaseConsumer polled on a thread, the gateway's settings");
    match tokio::task::spawn_blocking(move || limits::kafka_rate_polled(&bootstrap, "bench", KAFKA_RECORDS)).await {
        Ok(Ok(rate)) => rows.push(Row::new(measure, format!("{rate:.0} rec/s"))),
        Ok(Err(why)) => rows.push(Row::failed(measure, &why)),
        Err(error) => rows.push(Row::failed(measure, &error.to_string())),
    }
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let mut kafka_auto_20 = None;
    for (qos, concurrency) in [("auto", 5usize), ("auto", 20), ("at-least-once", 1)] {
        let measure = format!("gateway, kafka source, {qos}, {concurrency} in flight → nginx");
        let rate = match kafka_rate(&gateway, nginx, &broker, qos, concurrency).await {
            Ok(rate) => rate,
            Err(why) => {
                rows.push(Row::failed(&measure, &why));
                continue;
            }
        };
        let mut row = Row::new(&measure, format!("{rate:.0} msg/s"));
        if let (Ok(bare), Some(http)) = (&bare, limit.get(&concurrency)) {
            let limit_rate = bare.min(*http);
            row = row.against(limit_rate, "(min of consumer and wrk)").ratio(rate / limit_rate);
            if qos == "auto" && concurrency == 20 {
                row = row.target(">= 0.9 of the limit", rate / limit_rate >= 0.9);
            }
        }
        if qos == "auto" && concurrency == 20 {
            kafka_auto_20 = Some(rate);
        }
        rows.push(row);
    }

    let receiver = CountingReceiver::start().await;
    // tansu holds a fetch until `fetch.wait.max.ms` (librdkafka's default 500 ms) even when records are there: the
    // same run with 5 ms shows what the broker's wait adds.
    for (fetch_wait, topic) in [(None, "latency"), (Some(5), "latency-5ms")] {
        let waits = fetch_wait.map_or("500 ms (default)".to_string(), |ms| format!("{ms} ms"));
        let measure = format!(
            "added latency, kafka, auto, 20, at half the maximum (production → callback), fetch.wait.max.ms {waits}"
        );
        let Some(rate) = kafka_auto_20 else {
            rows.push(Row::failed(&measure, "no kafka rate to take half of"));
            continue;
        };
        match latency(&gateway, &receiver, &broker, (topic, fetch_wait), (rate / 2.0).max(1.0)).await {
            Ok((p50, p99)) => rows.push(Row::new(
                &measure,
                format!(
                    "p50 {:.2} ms, p99 {:.2} ms at {:.0} msg/s",
                    p50 as f64 / 1000.0,
                    p99 as f64 / 1000.0,
                    rate / 2.0
                ),
            )),
            Err(why) => rows.push(Row::failed(&measure, &why)),
        }
    }
}

/// Resident memory and idle CPU with many mock subscriptions.
async fn footprint_rows(rows: &mut Vec<Row>) {
    let receiver = CountingReceiver::start().await;
    match footprint(&receiver).await {
        Ok((rss_1k, rss_10k, idle_cpu)) => {
            rows.push(Row::new(
                "resident memory, 1,000 mock subscriptions",
                format!("{:.0} MB", rss_1k as f64 / 1024.0),
            ));
            rows.push(
                Row::new("resident memory, 10,000 mock subscriptions", format!("{:.0} MB", rss_10k as f64 / 1024.0))
                    .target("<= 256 MB", rss_10k <= 256 * 1024),
            );
            rows.push(Row::new("CPU when idle, 10,000 mock subscriptions", format!("{idle_cpu:.1} % of one core")));
        }
        Err(why) => rows.push(Row::failed("footprint, 1,000 and 10,000 mock subscriptions", &why)),
    }
}

/// Prints the table and, after a whole run (no `BENCH_ONLY`), writes it with the machine and the date to
/// `docs/benchmarks.md`.
fn write_report(rows: &[Row]) {
    let table = report::table(rows);
    println!("{table}");
    if std::env::var("BENCH_ONLY").is_ok_and(|only| !only.is_empty()) {
        return;
    }
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let document = format!(
        "# Benchmarks\n\n`make bench`, {date}, on {}. Release builds; wrk, nginx, the broker (tansu, SQLite storage) and the gateway share the machine's cores.\n\n{table}\n{}",
        report::machine(),
        include_str!("notes.md")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    std::fs::write(&path, document).expect("write docs/benchmarks.md");
    eprintln!("written to {}", path.display());
}

/// One mock run: the rate nginx saw, the gateway's CPU time per message (µs), webhook log entries dropped.
pub(crate) struct MockRun {
    pub(crate) rate: f64,
    /// Gateway CPU per delivered message.
    pub(crate) cpu_us_per_message: f64,
    /// Gateway CPU per message taken from the source (delivered or dropped by a flow).
    pub(crate) cpu_us_per_taken: f64,
    /// Messages a flow dropped per second.
    pub(crate) filtered_rate: f64,
    log_entries_dropped: u64,
}

/// A mock source emitting as fast as it is read, delivered to nginx: measured after the same warm-up as wrk.
async fn mock_rate(
    gateway: &Gateway,
    nginx: &Nginx,
    qos: &str,
    concurrency: usize,
    logging: bool,
) -> Result<MockRun, String> {
    mock_run(gateway, nginx, MockCase { logging, ..MockCase::plain(qos, concurrency) }).await
}

/// What a mock run delivers: its QoS, requests in flight, logging, `ordering.mode` over 1,000 keys when given, and
/// the API's `flows` when given.
pub(crate) struct MockCase<'a> {
    pub(crate) qos: &'a str,
    pub(crate) concurrency: usize,
    pub(crate) logging: bool,
    pub(crate) ordering: Option<&'a str>,
    pub(crate) flows: Option<serde_json::Value>,
    /// Speak HTTP/2 with prior knowledge to nginx's h2c listener.
    pub(crate) http2: bool,
}

impl<'a> MockCase<'a> {
    /// No logging, no ordering, no flows.
    pub(crate) fn plain(qos: &'a str, concurrency: usize) -> Self {
        Self { qos, concurrency, logging: false, ordering: None, flows: None, http2: false }
    }
}

/// A mock run of `case` against nginx.
pub(crate) async fn mock_run(gateway: &Gateway, nginx: &Nginx, case: MockCase<'_>) -> Result<MockRun, String> {
    let MockCase { qos, concurrency, logging, ordering, flows, http2 } = case;
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("bench-mock-{run}-{qos}-{concurrency}-{logging}-{}", ordering.unwrap_or("default"));
    let version = if http2 { "HTTP_2" } else { "HTTP_1_1" };
    let mut configuration = json!({ "http": { "maxConcurrentConnections": concurrency, "version": version },
                                    "logging": { "enabled": logging, "request": { "headers": logging },
                                                 "response": { "headers": logging } } });
    let mut mock = json!({ "messageInterval": 0, "messageContent": "x".repeat(BODY_BYTES) });
    if let Some(mode) = ordering {
        configuration["ordering"] = json!({ "mode": mode });
        mock["messageKeys"] = json!(1_000);
    }
    let mut api = mock_api(&id, qos, configuration, mock);
    if let Some(flows) = flows {
        api["flows"] = flows;
    }
    gateway.api().deploy(&api).await;
    let callback = if http2 { nginx.h2c_url.as_ref().ok_or("nginx has no h2c listener")? } else { &nginx.url };
    let subscription_id = gateway.api().subscribe(&id, &subscription(callback)).await;
    tokio::time::sleep(WARM_UP).await;
    let dropped = log_entries_dropped(gateway).await?;
    let filtered = filtered_count(gateway).await;
    let ticks = process::cpu_ticks(gateway.pid())?;
    // nginx counts a call to its h2c listener twice (support::nginx: it proxies it to its plain listener).
    let rate = measure(nginx).await? / if http2 { 2.0 } else { 1.0 };
    let cpu_seconds = (process::cpu_ticks(gateway.pid())? - ticks) as f64 / process::CLOCK_TICKS_PER_SECOND;
    let filtered_rate = (filtered_count(gateway).await - filtered) / MEASURE.as_secs_f64();
    remove(gateway, &id, &subscription_id).await;
    // Entries are dropped when queued, so the count is complete once the subscription is gone.
    Ok(MockRun {
        rate,
        cpu_us_per_message: cpu_seconds * 1e6 / (rate * MEASURE.as_secs_f64()).max(1.0),
        cpu_us_per_taken: cpu_seconds * 1e6 / ((rate + filtered_rate) * MEASURE.as_secs_f64()).max(1.0),
        filtered_rate,
        log_entries_dropped: log_entries_dropped(gateway).await? - dropped,
    })
}

/// Every `gateway_deliveries_total{outcome="filtered"}` sample, summed.
async fn filtered_count(gateway: &Gateway) -> f64 {
    let text = gateway.api().get("/metrics").await.body.as_str().unwrap_or_default().to_string();
    text.lines()
        .filter(|line| line.starts_with("gateway_deliveries_total{") && line.contains(r#"outcome="filtered""#))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// `gateway_webhook_log_entries_total{result="dropped"}`.
async fn log_entries_dropped(gateway: &Gateway) -> Result<u64, String> {
    let reply = gateway.api().get("/metrics").await;
    let text = reply.body.as_str().ok_or("no metrics text")?;
    text.lines()
        .find_map(|line| line.strip_prefix(r#"gateway_webhook_log_entries_total{result="dropped"} "#))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64)
        .ok_or_else(|| "no gateway_webhook_log_entries_total in /metrics".to_string())
}

/// Requests per second nginx answers over the measuring period.
async fn measure(nginx: &Nginx) -> Result<f64, String> {
    let (before, started) = (nginx.requests()?, Instant::now());
    tokio::time::sleep(MEASURE).await;
    // The second status request counts itself.
    Ok((nginx.requests()? - before).saturating_sub(1) as f64 / started.elapsed().as_secs_f64())
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

/// Messages per second the gateway delivers to nginx from the whole Kafka topic, read from its start by a new
/// group, timed from the first delivery (the group's join is not counted); a failure when not every record arrives.
async fn kafka_rate(
    gateway: &Gateway,
    nginx: &Nginx,
    broker: &Broker,
    qos: &str,
    concurrency: usize,
) -> Result<f64, String> {
    let api = format!("bench-kafka-{qos}-{concurrency}");
    let mut definition = kafka_api(&api, qos, &broker.bootstrap(), "bench");
    definition["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": concurrency } });
    gateway.api().deploy(&definition).await;
    let mut counter = DeliveryCounter::at(nginx)?;
    let subscription_id = gateway.api().subscribe(&api, &subscription(&nginx.url)).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while counter.delivered(nginx)? == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (started, first) = (Instant::now(), counter.delivered(nginx)?);
    let mut delivered = first;
    while delivered < KAFKA_RECORDS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        delivered = counter.delivered(nginx)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    remove(gateway, &api, &subscription_id).await;
    if delivered < KAFKA_RECORDS {
        return Err(format!("only {delivered} of {KAFKA_RECORDS} records delivered within 120 s"));
    }
    Ok((delivered - first) as f64 / elapsed)
}

/// Deliveries nginx answered since a start, its own status requests taken out.
struct DeliveryCounter {
    start: u64,
    polls: u64,
}

impl DeliveryCounter {
    fn at(nginx: &Nginx) -> Result<Self, String> {
        Ok(Self { start: nginx.requests()?, polls: 1 })
    }

    fn delivered(&mut self, nginx: &Nginx) -> Result<u64, String> {
        let requests = nginx.requests()?;
        self.polls += 1;
        Ok((requests - self.start).saturating_sub(self.polls - 1))
    }
}

/// p50 and p99 (µs) from a record's production on `topic` to its arrival at the receiver, at `rate` records per
/// second, the consumer's `fetch.wait.max.ms` set when given.
async fn latency(
    gateway: &Gateway,
    receiver: &CountingReceiver,
    broker: &Broker,
    (topic, fetch_wait_ms): (&str, Option<u32>),
    rate: f64,
) -> Result<(u64, u64), String> {
    broker.create_topic(topic, 1).await;
    let api = format!("bench-{topic}");
    let mut definition = kafka_api(&api, "auto", &broker.bootstrap(), topic);
    definition["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": 20 } });
    if let Some(wait) = fetch_wait_ms {
        definition["endpointGroups"][0]["sharedConfiguration"]["consumer"]["properties"] =
            json!({ "fetch.wait.max.ms": wait.to_string() });
    }
    gateway.api().deploy(&definition).await;
    gateway.api().subscribe(&api, &subscription(&receiver.url)).await;
    let warm_up = receiver.calls();
    produce_bulk(&broker.bootstrap(), topic, 1, 1, |_| stamped()).await;
    while receiver.calls() == warm_up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    receiver.take_latencies();
    let count = (rate * MEASURE.as_secs_f64()) as u64;
    let pause = Duration::from_secs_f64(1.0 / rate);
    let expected = receiver.calls() + count;
    produce_paced(&broker.bootstrap(), topic, count, pause, stamped).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.calls() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let latencies = receiver.take_latencies();
    if (latencies.len() as u64) < count {
        return Err(format!("only {} of {count} records arrived within 30 s", latencies.len()));
    }
    Ok(p50_p99(latencies))
}

/// A 1 KiB body starting with the time it was made, in microseconds.
fn stamped() -> Vec<u8> {
    let mut body = format!("{:016}", now_us()).into_bytes();
    body.resize(BODY_BYTES, b'x');
    body
}

/// Resident memory (KiB) with 1,000 then 10,000 idle mock subscriptions at the default settings (each keeps its
/// pooled connection for `idleTimeout`, 60 s, as a user's would), and the CPU used while idle (% of a core).
async fn footprint(receiver: &CountingReceiver) -> Result<(u64, u64, f64), String> {
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let idle = json!({ "messageInterval": 3_600_000, "messageContent": "idle" });
    gateway.api().deploy(&mock_api("idle", "auto", json!({}), idle)).await;
    subscribe_many(&gateway, "idle", receiver, 1_000).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_1k = process::resident_kb(gateway.pid())?;
    subscribe_many(&gateway, "idle", receiver, 9_000).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_10k = process::resident_kb(gateway.pid())?;
    let idle_cpu = process::cpu_percent(gateway.pid(), Duration::from_secs(5)).await?;
    Ok((rss_1k, rss_10k, idle_cpu))
}

/// Subscribes `count` times to `api`, each subscription calling `receiver`.
pub(crate) async fn subscribe_many(gateway: &Gateway, api: &str, receiver: &CountingReceiver, count: usize) {
    let body: Value = subscription(&receiver.url);
    for _ in 0..count {
        gateway.api().subscribe(api, &body).await;
    }
}
