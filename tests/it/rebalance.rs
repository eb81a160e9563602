//! Consumer groups under faults: at-most-once across a rebalance, and a consumer that stays a live member of its
//! group however slow its callback is.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, produce_steadily, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{kafka_api, subscription};

const WAIT: Duration = Duration::from_secs(120);

async fn subscribe_as(gateway: &Gateway, api: &str, id: &str, callback: &str) {
    let mut body = subscription(callback);
    body["id"] = json!(id);
    gateway.api().subscribe(api, &body).await;
}

/// How many times each body arrived.
fn tally(receiver: &Receiver) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for request in receiver.requests() {
        *seen.entry(String::from_utf8_lossy(&request.body).into_owned()).or_insert(0) += 1;
    }
    seen
}

async fn at_most_once_loses_only_what_is_in_flight_when_a_second_gateway_joins(kind: Kind) {
    const RECORDS: usize = 1500;
    let broker = Broker::of(kind);
    broker.create_topic("amo", 3).await;
    let records: Vec<Record> =
        (0..RECORDS).map(|index| Record::new(&format!("k{index}"), &format!("record-{index}"))).collect();
    produce(&broker.bootstrap(), "amo", &records).await;
    // Slow enough calls that the first gateway holds a batch of records not yet started when its partitions move.
    let receiver = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(10))).await;
    let definition = kafka_api("amo", "at-most-once", &broker.bootstrap(), "amo");

    let first_home = GatewayHome::new();
    let first = first_home.start_with_env(&[("GATEWAY_LOG_LEVEL", "info,plugin=debug")]);
    first.api().deploy(&definition).await;
    subscribe_as(&first, "amo", "amo-sub", &receiver.url("/hook")).await;
    assert!(receiver.wait_for(300, WAIT).await, "the first gateway delivers");

    let second_home = GatewayHome::new();
    let second = second_home.start();
    second.api().deploy(&definition).await;
    subscribe_as(&second, "amo", "amo-sub", &receiver.url("/hook")).await;
    // Partitions move: the first gateway gives some up, the second takes them.
    let shared = || async {
        first.count_lines("the feed's partitions were revoked") >= 1 && second.count_lines("partitions assigned") >= 1
    };
    assert!(eventually(WAIT, shared).await, "the second gateway takes partitions over");

    let settled = eventually(WAIT, || async {
        let before = receiver.count();
        tokio::time::sleep(Duration::from_secs(3)).await;
        receiver.count() == before && before >= RECORDS - 10
    })
    .await;
    let seen = tally(&receiver);
    let duplicated: Vec<_> = seen.iter().filter(|(_, times)| **times > 1).collect();
    let lost = RECORDS - seen.len();
    let refused = first.count_lines("message of a revoked partition not delivered");
    println!(
        "at-most-once rebalance: produced {RECORDS}, delivered {}, lost {lost}, duplicated {}, refused by the first gateway {refused}",
        seen.len(),
        duplicated.len()
    );
    assert!(settled, "delivery settles: {} of {RECORDS}", receiver.count());
    assert!(duplicated.is_empty(), "records delivered twice: {duplicated:?}");
    // At most the record each gateway had in flight (one each: at-most-once is ordered) when partitions moved.
    assert!(lost <= 2, "{lost} records lost; at most those in flight may be");
    assert_eq!(receiver.count(), seen.len());
}

async fn a_callback_slower_than_the_poll_interval_keeps_the_consumer_in_its_group(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("slow", 1).await;
    let records: Vec<Record> =
        (0..5).map(|index| Record::new(&format!("k{index}"), &format!("record-{index}"))).collect();
    produce(&broker.bootstrap(), "slow", &records).await;
    // The first call takes longer than max.poll.interval.ms (lowered to 10 s through the consumer properties).
    let receiver = Receiver::scripted(vec![Reply::Delayed(200, Duration::from_secs(13))], Reply::Status(200)).await;
    let mut definition = kafka_api("slow", "at-least-once", &broker.bootstrap(), "slow");
    definition["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "http": { "readTimeout": 30000 } });
    definition["endpointGroups"][0]["sharedConfiguration"]["consumer"]["properties"] =
        json!({ "max.poll.interval.ms": "10000" });
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&definition).await;
    subscribe_as(&gateway, "slow", "slow-sub", &receiver.url("/hook")).await;

    assert!(receiver.wait_for(5, Duration::from_secs(60)).await, "got {}", receiver.count());
    let done = eventually(Duration::from_secs(20), || async {
        committed(&broker.bootstrap(), "slow-sub", "slow", 1) == vec![5]
    })
    .await;
    assert!(done, "every record is committed: {:?}", committed(&broker.bootstrap(), "slow-sub", "slow", 1));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = tally(&receiver);
    assert_eq!(receiver.count(), 5, "each record once, none again after an eviction: {seen:?}");
    assert_eq!(seen.len(), 5);
    let output = gateway.output();
    assert!(!output.contains("poll interval"), "the consumer was evicted:\n{output}");
}

/// A second gateway joins an at-least-once subscription of four partitions fed 300 records a second: the two
/// partitions that stay with the first gateway never stop, the two that move resume on the second within seconds,
/// nothing is lost, and what is delivered twice is at most what was in flight on the moving partitions (one record
/// per gateway: at-least-once is ordered).
async fn a_join_stops_only_the_partitions_that_move(kind: Kind) {
    const PARTITIONS: i32 = 4;
    const PER_PARTITION: usize = 1500;
    let broker = Broker::of(kind);
    broker.create_topic("steady", PARTITIONS).await;
    let receiver = Receiver::answering(200).await;
    let mut definition = kafka_api("steady", "at-least-once", &broker.bootstrap(), "steady");
    if kind == Kind::MockCluster {
        definition["endpointGroups"][0]["sharedConfiguration"]["consumer"]["properties"] =
            json!({ "group.protocol": "consumer" });
    }
    let first_home = GatewayHome::new();
    let first = first_home.start();
    first.api().deploy(&definition).await;
    subscribe_as(&first, "steady", "steady-sub", &receiver.url("/hook")).await;
    let bootstrap = broker.bootstrap();
    // 75 rounds a second over four partitions: 300 records a second for 20 s.
    let producing = tokio::spawn(async move {
        produce_steadily(&bootstrap, "steady", PARTITIONS, PER_PARTITION, Duration::from_millis(13)).await;
    });
    assert!(receiver.wait_for(600, WAIT).await, "the first gateway delivers: {}", receiver.count());

    let second_home = GatewayHome::new();
    let second = second_home.start();
    let joined = Instant::now();
    second.api().deploy(&definition).await;
    subscribe_as(&second, "steady", "steady-sub", &receiver.url("/hook")).await;
    producing.await.expect("producer");
    let produced = PER_PARTITION * PARTITIONS as usize;
    let complete = eventually(WAIT, || async { tally(&receiver).len() == produced }).await;
    let ended = Instant::now();
    let seen = tally(&receiver);
    let duplicated: usize = seen.values().map(|times| times - 1).sum();
    let stalls = receiver.stalls((joined, ended));
    println!("{kind:?} join at 300 msg/s: produced {produced}, distinct {}, duplicated {duplicated}, longest stall per partition {stalls:?}", seen.len());
    assert!(complete, "every record is delivered: {} of {produced}\n{}", seen.len(), second.output());
    let moved = second.count_lines("the feed's partitions changed") >= 1;
    assert!(moved, "the second gateway takes partitions over:\n{}", second.output());
    // Two partitions stay with the first gateway (the sticky assignor moves only what balances the group).
    let moves = |gateway: &Gateway| {
        let output = gateway.output();
        let lines = output.lines().filter(|line| line.contains("partition") || line.contains("feed"));
        lines.map(|line| format!("{line}\n")).collect::<String>()
    };
    let log = format!("first:\n{}second:\n{}", moves(&first), moves(&second));
    for (partition, stall) in &stalls[..2] {
        assert!(
            *stall < Duration::from_millis(1500),
            "{partition}, which stays, stopped for {stall:?}: {stalls:?}\n{log}"
        );
    }
    for (partition, stall) in &stalls[2..] {
        assert!(*stall < Duration::from_secs(6), "{partition}, which moves, stopped for {stall:?}: {stalls:?}\n{log}");
    }
    assert!(duplicated <= 2, "{duplicated} records delivered twice; at most those in flight may be");
}

crate::on_both_brokers!(
    a_join_stops_only_the_partitions_that_move,
    at_most_once_loses_only_what_is_in_flight_when_a_second_gateway_joins,
    a_callback_slower_than_the_poll_interval_keeps_the_consumer_in_its_group,
);
