//! `ordering.mode = key` on the real broker: the messages of one record key are delivered one at a time in source
//! order, different keys at once; a failing key holds back only itself; a crash and a second gateway keep each key's
//! order and lose nothing under at-least-once; at-most-once delivers nothing twice.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome, TOKEN};
use crate::support::kafka::{produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{advanced_subscription, kafka_api, subscription};

const WAIT: Duration = Duration::from_secs(60);
const PARTITIONS: i32 = 3;
/// Answers between 10 and 80 ms, varying from one call to the next.
const VARYING: Reply = Reply::Varying(200, Duration::from_millis(10), Duration::from_millis(80));

/// `count` records over `keys` keys: record `n` has key `key-<n % keys>` and body `{"key":..,"seq":n / keys}`.
fn keyed(count: usize, keys: usize) -> Vec<Record> {
    (0..count)
        .map(|index| {
            let key = format!("key-{}", index % keys);
            Record::new(&key, &json!({ "key": key, "seq": index / keys }).to_string())
        })
        .collect()
}

/// A Kafka API whose entrypoint orders by record key, 20 requests in flight at most.
fn keyed_api(id: &str, qos: &str, bootstrap: &str, topic: &str) -> Value {
    let mut api = kafka_api(id, qos, bootstrap, topic);
    api["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "ordering": { "mode": "key" },
        "http": { "maxConcurrentConnections": 20 }, "logging": { "enabled": true, "request": { "payload": true } } });
    api
}

/// Each delivered body's (key, seq), in the order the receiver got them.
fn arrivals(receiver: &Receiver) -> Vec<(String, u64)> {
    receiver
        .requests()
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
            (body["key"].as_str().expect("key").to_string(), body["seq"].as_u64().expect("seq"))
        })
        .collect()
}

/// Per key, the seqs of its first deliveries in arrival order (a repeat after a crash or a rebalance left out).
fn first_deliveries(arrivals: &[(String, u64)]) -> BTreeMap<String, Vec<u64>> {
    let mut seen = BTreeSet::new();
    let mut per_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (key, seq) in arrivals {
        if seen.insert((key.clone(), *seq)) {
            per_key.entry(key.clone()).or_default().push(*seq);
        }
    }
    per_key
}

/// Asserts that every key's first deliveries are exactly 0, 1, ... `per_key - 1` in that order.
fn assert_in_order_per_key(arrivals: &[(String, u64)], keys: usize, per_key: u64) {
    let firsts = first_deliveries(arrivals);
    assert_eq!(firsts.len(), keys, "every key delivered");
    let expected: Vec<u64> = (0..per_key).collect();
    for (key, seqs) in firsts {
        assert_eq!(seqs, expected, "first deliveries of {key} in source order");
    }
}

/// The subscription's `gateway_messages_held`, as scraped.
async fn held(gateway: &Gateway) -> Option<u64> {
    let reply = gateway.api().send(Method::GET, "/metrics", None, Some(TOKEN)).await;
    let exposition = reply.body.as_str().unwrap_or_default().to_string();
    let line = exposition.lines().find(|line| line.starts_with("gateway_messages_held{"))?;
    line.rsplit_once(' ')?.1.parse().ok()
}

async fn keyed_topic(broker: &Broker, topic: &str, records: &[Record]) {
    broker.create_topic(topic, PARTITIONS).await;
    produce(&broker.bootstrap(), topic, records).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_is_delivered_in_order_while_keys_go_at_once() {
    let broker = Broker::start();
    keyed_topic(&broker, "keyed", &keyed(1_000, 100)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(Vec::new(), VARYING).await;
    gateway.api().deploy(&keyed_api("keyed", "at-least-once", &broker.bootstrap(), "keyed")).await;
    gateway.api().subscribe("keyed", &subscription(&receiver.url("/hook"))).await;

    assert!(receiver.wait_for(1_000, WAIT).await, "{} of 1000 delivered:\n{}", receiver.count(), gateway.output());
    receiver.assert_stays_at(1_000, Duration::from_millis(500)).await;
    assert_in_order_per_key(&arrivals(&receiver), 100, 10);
    let most = receiver.max_in_flight();
    assert!((10..=20).contains(&most), "{most} requests in flight at most");
    // Each webhook log entry shows its message's key.
    let logged = gateway.api().get("/management/v2/apis/keyed/webhook-logs?perPage=10").await;
    let entries = logged.body["data"].as_array().expect("entries").clone();
    assert_eq!(entries.len(), 10, "{}", logged.body);
    for entry in entries {
        let body: Value = serde_json::from_str(entry["request"]["body"].as_str().expect("body")).expect("JSON");
        assert_eq!(entry["key"], body["key"], "{entry}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_key_holds_back_only_itself() {
    let broker = Broker::start();
    keyed_topic(&broker, "stuck", &keyed(300, 30)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(Vec::new(), Reply::Delayed(200, Duration::from_millis(20))).await;
    receiver.fail_next(r#""key":"key-7","seq":0"#, 2);
    let mut api = keyed_api("stuck", "at-least-once", &broker.bootstrap(), "stuck");
    api["listeners"][0]["entrypoints"][0]["type"] = json!("webhook-advanced");
    gateway.api().deploy(&api).await;
    let retrying = json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": "LINEAR", "maxAttempts": 5,
                                      "initialDelaySeconds": 1, "maxDelaySeconds": 1 } });
    gateway.api().subscribe("stuck", &advanced_subscription(&receiver.url("/hook"), retrying)).await;

    let nine_held = eventually(WAIT, || async { held(&gateway).await == Some(9) }).await;
    assert!(nine_held, "key-7's nine later messages shown held: {:?}", held(&gateway).await);
    // Another key's next message may wait a moment behind its delivery under way too: the listing shows key-7's nine
    // once that one has gone.
    let listing = || async { gateway.api().get("/management/v2/apis/stuck/subscriptions").await.body };
    let shown = eventually(WAIT, || async { listing().await["data"][0]["heldMessages"].as_u64() == Some(9) }).await;
    assert!(shown, "the subscription shows what it holds: {}", listing().await);
    assert!(receiver.wait_for(302, WAIT).await, "{} of 302 calls:\n{}", receiver.count(), gateway.output());
    receiver.assert_stays_at(302, Duration::from_millis(500)).await;
    assert_eq!(held(&gateway).await, Some(0));
    let listed = gateway.api().get("/management/v2/apis/stuck/subscriptions").await.body;
    assert!(listed["data"][0].get("heldMessages").is_none(), "nothing held, nothing shown: {listed}");
    let arrivals = arrivals(&receiver);
    let seven: Vec<usize> = (0..arrivals.len()).filter(|at| arrivals[*at] == ("key-7".to_string(), 0)).collect();
    assert_eq!(seven.len(), 3, "key-7's first message: two 500s, then delivered");
    // The other keys finished while key-7 was retried (2 s): only key-7's held messages came after its success.
    let others_meanwhile = arrivals[seven[0]..seven[2]].iter().filter(|(key, _)| key != "key-7").count();
    assert!(others_meanwhile > 0, "other keys went on while key-7 was retried");
    let after: BTreeSet<&str> = arrivals[seven[2]..].iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(after, BTreeSet::from(["key-7"]), "only key-7 waited for its first message");
    let key_seven: Vec<u64> = arrivals.iter().filter(|(key, _)| key == "key-7").map(|(_, seq)| *seq).collect();
    assert_eq!(key_seven, [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "key-7 waited for its first message");
    assert_in_order_per_key(&arrivals, 30, 10);
}

/// 600 records over 60 keys on `topic`, ordered by key under `qos` by a gateway killed with SIGKILL after 200
/// deliveries (with at least 10 in flight at once) and started again: the broker, the gateway's home, the receiver
/// and the restarted gateway.
async fn killed_after_200(qos: &str, topic: &str) -> (Broker, GatewayHome, Receiver, Gateway) {
    let broker = Broker::start();
    keyed_topic(&broker, topic, &keyed(600, 60)).await;
    let home = GatewayHome::new();
    let receiver = Receiver::scripted(Vec::new(), VARYING).await;
    let gateway = home.start();
    gateway.api().deploy(&keyed_api(topic, qos, &broker.bootstrap(), topic)).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!(format!("{topic}-sub"));
    gateway.api().subscribe(topic, &body).await;
    assert!(receiver.wait_for(200, WAIT).await, "{}", gateway.output());
    assert!(receiver.max_in_flight() >= 10, "{} in flight at most", receiver.max_in_flight());
    gateway.kill();
    let gateway = home.start();
    (broker, home, receiver, gateway)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loses_nothing_and_keeps_each_keys_order() {
    let (_broker, _home, receiver, gateway) = killed_after_200("at-least-once", "crashing").await;

    let complete =
        eventually(WAIT, || async { first_deliveries(&arrivals(&receiver)).values().flatten().count() == 600 }).await;
    assert!(
        complete,
        "{} distinct of 600 after the restart:\n{}",
        first_deliveries(&arrivals(&receiver)).values().flatten().count(),
        gateway.output()
    );
    assert_in_order_per_key(&arrivals(&receiver), 60, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_joining_keeps_each_keys_order() {
    let broker = Broker::start();
    keyed_topic(&broker, "shared", &keyed(600, 60)).await;
    let receiver = Receiver::scripted(Vec::new(), VARYING).await;
    let (first_home, second_home) = (GatewayHome::new(), GatewayHome::new());
    let first = first_home.start();
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("shared-sub");
    first.api().deploy(&keyed_api("shared", "at-least-once", &broker.bootstrap(), "shared")).await;
    first.api().subscribe("shared", &body).await;
    assert!(receiver.wait_for(150, WAIT).await, "{}", first.output());
    let second = second_home.start();
    second.api().deploy(&keyed_api("shared", "at-least-once", &broker.bootstrap(), "shared")).await;
    second.api().subscribe("shared", &body).await;

    let complete =
        eventually(WAIT, || async { first_deliveries(&arrivals(&receiver)).values().flatten().count() == 600 }).await;
    assert!(complete, "{}\n{}", first.output(), second.output());
    assert_in_order_per_key(&arrivals(&receiver), 60, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_once_with_keys_delivers_nothing_twice_across_a_crash() {
    let (_broker, _home, receiver, gateway) = killed_after_200("at-most-once", "once").await;

    // Delivery goes on after the restart until nothing more comes.
    let quiet = eventually(WAIT, || async {
        let before = receiver.count();
        tokio::time::sleep(Duration::from_secs(1)).await;
        before >= 600 - 40 && receiver.count() == before
    })
    .await;
    assert!(quiet, "{} calls:\n{}", receiver.count(), gateway.output());
    let arrivals = arrivals(&receiver);
    let distinct: BTreeSet<&(String, u64)> = arrivals.iter().collect();
    assert_eq!(distinct.len(), arrivals.len(), "no record delivered twice");
    // Lost: only what was held or in flight at the crash (at most twice the concurrency).
    assert!(distinct.len() >= 600 - 40, "{} of 600 delivered: more than held and in flight lost", distinct.len());
    for seqs in first_deliveries(&arrivals).values() {
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "each key in order: {seqs:?}");
    }
}
