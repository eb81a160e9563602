//! The fault soak: at-least-once and at-most-once subscriptions over a 3-partition topic shared by two gateway
//! processes while one gateway is SIGKILLed and restarted, the broker restarts, the callback goes down, the
//! subscriptions are paused and resumed and the API is redeployed. At the end, per QoS: produced, delivered
//! distinct, lost, duplicated. At-least-once loses nothing; at-most-once delivers nothing twice.
//!
//! `make test` runs the short variant; `make soak` sets `GATEWAY_SOAK=full` (more records, the callback down 30 s).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{advanced_subscription, kafka_api};

/// The scenario's size.
struct Scale {
    /// Records produced in each of the phases.
    per_phase: usize,
    /// How long the callback stays down.
    callback_down: Duration,
}

impl Scale {
    fn from_env() -> Self {
        match std::env::var("GATEWAY_SOAK").as_deref() {
            Ok("full") => Self { per_phase: 2000, callback_down: Duration::from_secs(30) },
            _ => Self { per_phase: 300, callback_down: Duration::from_secs(4) },
        }
    }
}

const PHASES: usize = 6;
const QOS: [(&str, &str); 2] = [("at-least-once", "/alo"), ("at-most-once", "/amo")];

/// A `webhook-advanced` API on the topic, retrying failed calls every second (the callback comes back).
fn soak_api(qos: &str, bootstrap: &str) -> Value {
    let id = api_id(qos);
    let mut api = kafka_api(&id, qos, bootstrap, "soak");
    api["listeners"][0]["entrypoints"][0]["type"] = json!("webhook-advanced");
    api["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "http": { "readTimeout": 5000 } });
    api
}

fn api_id(qos: &str) -> String {
    format!("soak-{qos}")
}

async fn subscribe_all(gateway: &Gateway, receiver: &Receiver) {
    for (qos, path) in QOS {
        let retry = json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": "LINEAR",
            "maxAttempts": 100, "initialDelaySeconds": 1, "maxDelaySeconds": 1 } });
        let mut body = advanced_subscription(&receiver.url(path), retry);
        body["id"] = json!(format!("soak-sub-{qos}"));
        gateway.api().subscribe(&api_id(qos), &body).await;
    }
}

async fn deploy_all(gateway: &Gateway, bootstrap: &str) {
    for (qos, _) in QOS {
        gateway.api().deploy(&soak_api(qos, bootstrap)).await;
    }
}

/// Bodies received on `path`, with how many times each arrived.
fn tally(receiver: &Receiver, path: &str) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for request in receiver.requests().into_iter().filter(|request| request.path == path) {
        *seen.entry(String::from_utf8_lossy(&request.body).into_owned()).or_insert(0) += 1;
    }
    seen
}

async fn produce_phase(bootstrap: &str, phase: usize, count: usize) {
    let records: Vec<Record> = (0..count)
        .map(|index| {
            let number = phase * count + index;
            Record::new(&format!("k{number}"), &format!("record-{number}"))
        })
        .collect();
    produce(bootstrap, "soak", &records).await;
}

async fn fault_soak(kind: Kind) {
    let scale = Scale::from_env();
    let produced = scale.per_phase * PHASES;
    let mut broker = Broker::of(kind);
    let bootstrap = broker.bootstrap();
    broker.create_topic("soak", 3).await;
    // Each call takes a few milliseconds, so that every fault below strikes while deliveries are in flight.
    let receiver = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(5))).await;
    let (first_home, second_home) = (GatewayHome::new(), GatewayHome::new());
    let mut first = first_home.start();
    let second = second_home.start();
    for gateway in [&first, &second] {
        deploy_all(gateway, &bootstrap).await;
        subscribe_all(gateway, &receiver).await;
    }
    // Faults strike this long after records were produced: in the middle of their delivery.
    let pause = Duration::from_millis(500);

    // 1. Steady delivery, then one gateway is killed and restarted (its subscriptions come back from its store).
    produce_phase(&bootstrap, 0, scale.per_phase).await;
    tokio::time::sleep(pause).await;
    first.kill();
    produce_phase(&bootstrap, 1, scale.per_phase).await;
    first = first_home.start();

    // 2. The broker restarts.
    tokio::time::sleep(pause).await;
    broker.restart();
    produce_phase(&bootstrap, 2, scale.per_phase).await;

    // 3. The callback goes down, records keep coming, then it comes back.
    tokio::time::sleep(pause).await;
    receiver.set_down(true);
    produce_phase(&bootstrap, 3, scale.per_phase).await;
    tokio::time::sleep(scale.callback_down).await;
    receiver.set_down(false);

    // 4. Pause and resume on one gateway, redeploy on the other.
    tokio::time::sleep(pause).await;
    for (qos, _) in QOS {
        let id = format!("soak-sub-{qos}");
        assert_eq!(second.api().act(&api_id(qos), &id, "_pause").await.status, 200);
        produce_phase(&bootstrap, 4, if qos == "at-least-once" { scale.per_phase } else { 0 }).await;
        assert_eq!(second.api().act(&api_id(qos), &id, "_resume").await.status, 200);
    }
    for (qos, _) in QOS {
        let reply = first.api().put(&format!("/management/v2/apis/{}", api_id(qos)), &soak_api(qos, &bootstrap)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    produce_phase(&bootstrap, 5, scale.per_phase).await;

    // The end: at-least-once has everything; both stay quiet.
    let complete = eventually(Duration::from_secs(180), || async {
        tally(&receiver, "/alo").len() == produced && tally(&receiver, "/amo").len() + 50 >= produced
    })
    .await;
    let quiet = eventually(Duration::from_secs(60), || async {
        let before = receiver.count();
        tokio::time::sleep(Duration::from_secs(3)).await;
        receiver.count() == before
    })
    .await;
    let mut report = Vec::new();
    for (qos, path) in QOS {
        let seen = tally(&receiver, path);
        let duplicated = seen.values().filter(|times| **times > 1).count();
        let lost = produced - seen.len();
        report.push((qos, seen.len(), lost, duplicated));
        println!(
            "soak {qos}: produced {produced}, delivered distinct {}, lost {lost}, duplicated {duplicated}",
            seen.len()
        );
    }
    for gateway in [&first, &second] {
        for (qos, _) in QOS {
            let shown = gateway.api().subscription(&api_id(qos), &format!("soak-sub-{qos}")).await;
            assert_eq!(shown["consumerStatus"], "STARTED", "{shown}");
        }
    }
    assert!(complete && quiet, "delivery settles");
    assert_eq!(report[0].2, 0, "at-least-once lost records");
    assert_eq!(report[1].3, 0, "at-most-once duplicated records");
}

crate::on_both_brokers!(fault_soak,);
