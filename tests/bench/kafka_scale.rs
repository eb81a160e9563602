//! Kafka-fed subscriptions at scale: 1,000 then 10,000 idle subscriptions of one topic (the gateway's resident
//! memory, threads, open files and idle CPU, and the broker's idle CPU), then the delivery rate of 100 subscriptions
//! reading another topic at once.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::feed::produce_bulk;
use crate::process;
use crate::receiver::CountingReceiver;
use crate::report::Row;
use crate::support::broker::Broker;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::scenario::kafka_api;
use crate::{subscribe_many, QUIET_LOGS};

/// Partitions of the topics.
const PARTITIONS: i32 = 6;
/// Records each of the 100 active subscriptions reads.
const ACTIVE_RECORDS: u64 = 2_000;
/// Subscriptions reading at once.
const ACTIVE: usize = 100;
/// Longest wait for the active subscriptions to deliver everything.
const ACTIVE_DEADLINE: Duration = Duration::from_secs(300);

/// Appends the rows.
pub async fn rows(rows: &mut Vec<Row>) {
    let broker = Broker::start();
    let receiver = CountingReceiver::start().await;
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    broker.create_topic("idle", PARTITIONS).await;
    gateway.api().deploy(&kafka_api("idle", "auto", &broker.bootstrap(), "idle")).await;
    let mut subscribed = 0;
    for target in [1_000usize, 10_000] {
        subscribe_many(&gateway, "idle", &receiver, target - subscribed).await;
        subscribed = target;
        tokio::time::sleep(Duration::from_secs(15)).await; // starting runs' blocking threads go after 10 s
        match idle(&gateway, &broker).await {
            Ok(measured) => measured.push_rows(target, rows),
            Err(why) => rows.push(Row::failed(&format!("{target} idle Kafka-fed subscriptions"), &why)),
        }
    }
    let measure =
        format!("gateway, {ACTIVE} Kafka-fed subscriptions of one topic, auto, each reading {ACTIVE_RECORDS}");
    match active_rate(&gateway, &broker, &receiver).await {
        Ok(rate) => rows.push(Row::new(&measure, format!("{rate:.0} msg/s"))),
        Err(why) => rows.push(Row::failed(&measure, &why)),
    }
}

/// What idle subscriptions cost.
struct Idle {
    resident_kb: u64,
    threads: usize,
    files: usize,
    gateway_cpu: f64,
    broker_cpu: f64,
}

impl Idle {
    fn push_rows(&self, count: usize, rows: &mut Vec<Row>) {
        let what = format!("{count} idle Kafka-fed subscriptions of one topic");
        let (memory_goal, memory_met) = match count {
            1_000 => ("<= 200 MB", self.resident_kb <= 200 * 1024),
            _ => ("<= 1 GB", self.resident_kb <= 1024 * 1024),
        };
        rows.push(
            Row::new(
                &format!("{what}: gateway resident memory"),
                format!("{:.0} MB", self.resident_kb as f64 / 1024.0),
            )
            .target(memory_goal, memory_met),
        );
        rows.push(
            Row::new(&format!("{what}: gateway threads"), self.threads.to_string()).target("< 100", self.threads < 100),
        );
        rows.push(Row::new(&format!("{what}: gateway open files"), self.files.to_string()));
        let mut cpu = Row::new(&format!("{what}: gateway idle CPU"), format!("{:.1} % of a core", self.gateway_cpu));
        if count == 10_000 {
            cpu = cpu.target("< 5 %", self.gateway_cpu < 5.0);
        }
        rows.push(cpu);
        rows.push(
            Row::new(&format!("{what}: broker idle CPU"), format!("{:.1} % of a core", self.broker_cpu))
                .target("< 20 %", self.broker_cpu < 20.0),
        );
    }
}

async fn idle(gateway: &Gateway, broker: &Broker) -> Result<Idle, String> {
    let broker_pid = broker.pid().ok_or("the broker is not running")?;
    let pid = gateway.pid();
    let (gateway_cpu, broker_cpu) = tokio::join!(
        process::cpu_percent(pid, Duration::from_secs(10)),
        process::cpu_percent(broker_pid, Duration::from_secs(10))
    );
    Ok(Idle {
        resident_kb: process::resident_kb(pid)?,
        threads: process::count(pid, "task")?,
        files: process::count(pid, "fd")?,
        gateway_cpu: gateway_cpu?,
        broker_cpu: broker_cpu?,
    })
}

/// Deliveries per second of [`ACTIVE`] subscriptions each reading [`ACTIVE_RECORDS`] records of one topic, from
/// the first delivery to the last.
async fn active_rate(gateway: &Gateway, broker: &Broker, receiver: &CountingReceiver) -> Result<f64, String> {
    broker.create_topic("active", PARTITIONS).await;
    let body = vec![b'x'; 1024];
    produce_bulk(&broker.bootstrap(), "active", ACTIVE_RECORDS, ACTIVE_RECORDS, |_| body.clone()).await;
    let mut definition = kafka_api("active", "auto", &broker.bootstrap(), "active");
    definition["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": 5 } });
    gateway.api().deploy(&definition).await;
    let before = receiver.calls();
    subscribe_many(gateway, "active", receiver, ACTIVE).await;
    let expected = before + ACTIVE as u64 * ACTIVE_RECORDS;
    let deadline = Instant::now() + ACTIVE_DEADLINE;
    while receiver.calls() == before {
        if Instant::now() >= deadline {
            return Err("no delivery".to_string());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    while receiver.calls() < expected {
        if Instant::now() >= deadline {
            let done = receiver.calls() - before;
            return Err(format!("{done} of {} delivered in {} s", expected - before, ACTIVE_DEADLINE.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((expected - before) as f64 / started.elapsed().as_secs_f64())
}
