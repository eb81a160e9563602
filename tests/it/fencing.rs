//! Fenced positions: a gateway frozen (SIGSTOP) in the middle of a commit round for longer than the session
//! timeout, while the group gives its partitions to another gateway, then thawed (SIGCONT). Its round must not land:
//! at-least-once loses nothing, at-most-once delivers nothing twice, and no committed position ever moves
//! backwards. The round is held open on purpose (a test-only hold of every commit round of the frozen gateway), so
//! that the freeze always strikes inside one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{kafka_api, subscription};

const PARTITIONS: i32 = 4;
const RECORDS: usize = 2000;
const WAIT: Duration = Duration::from_secs(120);
/// Longer than the session timeout (10 s) and a rebalance on either broker.
const FROZEN: Duration = Duration::from_secs(25);

/// Watches the subscription's committed positions and keeps every step back it sees.
struct Watch {
    stop: Arc<AtomicBool>,
    steps_back: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    fn start(bootstrap: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let steps_back = Arc::new(Mutex::new(Vec::new()));
        let (stopped, seen) = (Arc::clone(&stop), Arc::clone(&steps_back));
        let thread = std::thread::spawn(move || {
            let mut last = vec![-1_i64; PARTITIONS as usize];
            while !stopped.load(Ordering::Relaxed) {
                let now = committed(&bootstrap, "frozen-sub", "frozen", PARTITIONS);
                for (partition, (before, after)) in last.iter().zip(&now).enumerate() {
                    if after < before {
                        seen.lock().expect("steps").push(format!("partition {partition}: {before} -> {after}"));
                    }
                }
                last = now;
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self { stop, steps_back, thread: Some(thread) }
    }

    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.steps_back.lock().expect("steps").clone()
    }
}

fn signal(gateway: &Gateway, signal: &str) {
    let sent = std::process::Command::new("kill").arg(signal).arg(gateway.pid().to_string()).status();
    assert!(sent.is_ok_and(|status| status.success()), "kill {signal}");
}

async fn a_gateway_frozen_mid_commit(kind: Kind, qos: &str) {
    let broker = Broker::of(kind);
    broker.create_topic("frozen", PARTITIONS).await;
    let records: Vec<Record> =
        (0..RECORDS).map(|index| Record::new(&format!("k{index}"), &format!("r{index}"))).collect();
    produce(&broker.bootstrap(), "frozen", &records).await;
    let receiver = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(5))).await;
    let definition = kafka_api("frozen", qos, &broker.bootstrap(), "frozen");
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("frozen-sub");
    let (frozen_home, other_home) = (GatewayHome::new(), GatewayHome::new());
    // Every commit round of the gateway to be frozen stays open 2 s between taking its points and sending them.
    let frozen = frozen_home.start_with_env(&[("KAFKA_PLUGIN_TEST_COMMIT_HOLD_MS", "2000")]);
    let other = other_home.start();
    for gateway in [&frozen, &other] {
        gateway.api().deploy(&definition).await;
        gateway.api().subscribe("frozen", &body).await;
    }
    let shared = eventually(WAIT, || async { frozen.feed_partitions() == 2 && other.feed_partitions() == 2 }).await;
    assert!(shared, "the gateways share the partitions:\n{}", frozen.output());
    let watch = Watch::start(broker.bootstrap());
    let delivering =
        eventually(WAIT, || async { frozen.count_lines("offset commit") > 0 || receiver.count() > 100 }).await;
    assert!(delivering, "delivery under way");
    tokio::time::sleep(Duration::from_secs(3)).await;

    signal(&frozen, "-STOP");
    tokio::time::sleep(FROZEN).await;
    signal(&frozen, "-CONT");
    // The thawed gateway's held round goes out (or is fenced); then it stops, and the other delivers the rest from
    // the positions committed: a position set back by the stale round would show as records delivered again.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut frozen = frozen;
    frozen.terminate();
    let settled = eventually(WAIT, || async {
        let before = receiver.count();
        tokio::time::sleep(Duration::from_secs(5)).await;
        receiver.count() == before && receiver.tally().len() + 10 >= RECORDS
    })
    .await;
    let steps_back = watch.finish();
    let seen = receiver.tally();
    let duplicated: BTreeMap<&String, &usize> = seen.iter().filter(|(_, times)| **times > 1).collect();
    let lost = RECORDS - seen.len();
    let refused = frozen.count_lines("the feed group refused this gateway's commit");
    println!(
        "{kind:?} {qos} frozen mid-commit: delivered {}, lost {lost}, duplicated {}, steps back {steps_back:?}, fenced rounds {refused}",
        seen.len(),
        duplicated.len()
    );
    assert!(settled, "delivery settles: {} of {RECORDS}", seen.len());
    assert!(steps_back.is_empty(), "committed positions moved backwards: {steps_back:?}");
    match qos {
        "at-least-once" => assert_eq!(lost, 0, "at-least-once lost records"),
        _ => assert!(duplicated.is_empty(), "at-most-once delivered twice: {duplicated:?}"),
    }
}

async fn at_least_once_loses_nothing_and_no_position_steps_back_across_a_freeze(kind: Kind) {
    a_gateway_frozen_mid_commit(kind, "at-least-once").await;
}

async fn at_most_once_delivers_nothing_twice_and_no_position_steps_back_across_a_freeze(kind: Kind) {
    a_gateway_frozen_mid_commit(kind, "at-most-once").await;
}

crate::on_both_brokers!(
    at_least_once_loses_nothing_and_no_position_steps_back_across_a_freeze,
    at_most_once_delivers_nothing_twice_and_no_position_steps_back_across_a_freeze,
);
