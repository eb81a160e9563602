//! One topic, many subscriptions: the gateway fetches the topic once (one consumer, its threads independent of the
//! subscription count), and each subscription keeps its own position, committed to its own consumer group; one left
//! behind catches up on its own while the others go on.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, subscription};

const WAIT: Duration = Duration::from_secs(120);

fn records(range: std::ops::Range<usize>) -> Vec<Record> {
    range.map(|index| Record::new(&format!("k{index}"), &format!("record-{index}"))).collect()
}

/// How many calls each path received.
fn calls_per_path(receiver: &Receiver) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for request in receiver.requests() {
        *calls.entry(request.path).or_insert(0) += 1;
    }
    calls
}

async fn forty_subscriptions_of_one_topic_share_one_consumer_and_each_commits_its_own_position(kind: Kind) {
    const SUBSCRIPTIONS: usize = 40;
    let broker = Broker::of(kind);
    broker.create_topic("fan", 2).await;
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&kafka_api("fan", "at-least-once", &broker.bootstrap(), "fan")).await;
    let subscribe = |index: usize| {
        let mut body = subscription(&receiver.url(&format!("/hook/{index}")));
        body["id"] = json!(format!("fan-{index}"));
        body
    };
    gateway.api().subscribe("fan", &subscribe(0)).await;
    let one_reading = eventually(WAIT, || async { gateway.count_lines("partitions assigned") >= 1 }).await;
    assert!(one_reading, "{}", gateway.output());
    let threads_with_one = gateway.threads();
    for index in 1..SUBSCRIPTIONS {
        gateway.api().subscribe("fan", &subscribe(index)).await;
    }
    let all_reading = eventually(WAIT, || async { gateway.count_lines("partitions assigned") >= SUBSCRIPTIONS }).await;
    assert!(all_reading, "{}", gateway.output());

    produce(&broker.bootstrap(), "fan", &records(0..10)).await;
    assert!(receiver.wait_for(10 * SUBSCRIPTIONS, WAIT).await, "got {}", receiver.count());
    // Starting runs borrows blocking threads for a moment (tokio lets idle ones go after 10 s): the steady count is
    // what a subscription costs. A consumer per subscription cost four librdkafka threads each (156 more here).
    let steady = eventually(Duration::from_secs(30), || async { gateway.threads() <= threads_with_one + 4 }).await;
    let threads_with_all = gateway.threads();
    println!("threads: {threads_with_one} with one subscription, {threads_with_all} with {SUBSCRIPTIONS}");
    assert!(steady, "{threads_with_one} → {threads_with_all} threads");
    assert_eq!(gateway.count_lines("kafka feed opened"), 1, "the topic is fetched once");

    let calls = calls_per_path(&receiver);
    assert_eq!(calls.len(), SUBSCRIPTIONS, "{calls:?}");
    assert!(calls.values().all(|count| *count == 10), "every subscription got each record once: {calls:?}");
    for index in [0, SUBSCRIPTIONS - 1] {
        let group = format!("fan-{index}");
        let done =
            eventually(WAIT, || async { committed(&broker.bootstrap(), &group, "fan", 2).iter().sum::<i64>() == 10 })
                .await;
        assert!(done, "{group} committed {:?}", committed(&broker.bootstrap(), &group, "fan", 2));
    }
}

async fn a_subscription_left_behind_catches_up_on_its_own_while_the_others_go_on(kind: Kind) {
    // More records than a feed keeps per partition (1,024): the paused subscription's position falls out of it.
    const BACKLOG: usize = 1500;
    let broker = Broker::of(kind);
    broker.create_topic("behind", 1).await;
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&kafka_api("behind", "at-least-once", &broker.bootstrap(), "behind")).await;
    for id in ["steady", "paused"] {
        let mut body = subscription(&receiver.url(&format!("/{id}")));
        body["id"] = json!(id);
        gateway.api().subscribe("behind", &body).await;
    }
    produce(&broker.bootstrap(), "behind", &records(0..10)).await;
    assert!(receiver.wait_for(20, WAIT).await, "got {}", receiver.count());
    let committed_ten =
        eventually(WAIT, || async { committed(&broker.bootstrap(), "paused", "behind", 1) == vec![10] }).await;
    assert!(committed_ten, "{:?}", committed(&broker.bootstrap(), "paused", "behind", 1));
    assert_eq!(gateway.api().act("behind", "paused", "_pause").await.status, 200);

    produce(&broker.bootstrap(), "behind", &records(10..10 + BACKLOG)).await;
    let steady_done =
        eventually(WAIT, || async { calls_per_path(&receiver).get("/steady").copied() == Some(10 + BACKLOG) }).await;
    assert!(steady_done, "the steady subscription goes on alone: {:?}", calls_per_path(&receiver));
    assert_eq!(calls_per_path(&receiver).get("/paused").copied(), Some(10), "nothing while paused");

    assert_eq!(gateway.api().act("behind", "paused", "_resume").await.status, 200);
    let paused_done =
        eventually(WAIT, || async { calls_per_path(&receiver).get("/paused").copied() == Some(10 + BACKLOG) }).await;
    assert!(paused_done, "the resumed subscription catches up: {:?}\n{}", calls_per_path(&receiver), gateway.output());
    assert!(gateway.count_lines("catching up on its own") >= 1, "{}", gateway.output());
    let rejoined = eventually(WAIT, || async { gateway.count_lines("caught up with the feed") >= 1 }).await;
    assert!(rejoined, "it rejoins the feed: {}", gateway.output());

    // Back on the feed, it gets new records with the others, each once.
    produce(&broker.bootstrap(), "behind", &records(10 + BACKLOG..20 + BACKLOG)).await;
    let both = eventually(WAIT, || async {
        let calls = calls_per_path(&receiver);
        calls.get("/steady").copied() == Some(20 + BACKLOG) && calls.get("/paused").copied() == Some(20 + BACKLOG)
    })
    .await;
    assert!(both, "{:?}", calls_per_path(&receiver));
    let paused_bodies: std::collections::BTreeSet<String> = receiver
        .requests()
        .iter()
        .filter(|request| request.path == "/paused")
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    assert_eq!(paused_bodies.len(), 20 + BACKLOG, "no record twice, none lost");
    assert_eq!(gateway.count_lines("kafka feed opened"), 1, "one feed throughout");
}

async fn a_second_api_reading_the_same_topics_with_other_client_settings_is_refused_clearly(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("shared-settings", 1).await;
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&kafka_api("first", "auto", &broker.bootstrap(), "shared-settings")).await;
    let mut other = kafka_api("other", "auto", &broker.bootstrap(), "shared-settings");
    other["endpointGroups"][0]["sharedConfiguration"]["consumer"]["properties"] = json!({ "fetch.wait.max.ms": "50" });
    gateway.api().deploy(&other).await;
    for (api, id) in [("first", "first-sub"), ("other", "other-sub")] {
        let mut body = subscription(&receiver.url(&format!("/{id}")));
        body["id"] = json!(id);
        gateway.api().subscribe(api, &body).await;
        // The first API's feed is open before the second subscription comes.
        let reading = eventually(WAIT, || async { gateway.count_lines("partitions assigned") >= 1 }).await;
        assert!(reading, "{}", gateway.output());
    }
    gateway.api().wait_consumer_status("first", "first-sub", "STARTED").await;
    let refused = gateway.api().wait_consumer_status("other", "other-sub", "FAILURE").await;
    let cause = refused["failureCause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("already read on these brokers with other client settings") && cause.contains("shared-settings"),
        "{refused}"
    );
    produce(&broker.bootstrap(), "shared-settings", &records(0..3)).await;
    assert!(receiver.wait_for(3, WAIT).await, "the first API still delivers: got {}", receiver.count());
}

async fn a_backlog_many_rings_long_is_read_to_its_end(kind: Kind) {
    // The feed once held off whenever its rings were full and no reader was out of records: a reader keeping up
    // got one record per poll interval.
    const BACKLOG: usize = 20_000;
    let broker = Broker::of(kind);
    broker.create_topic("backlog", 1).await;
    produce(&broker.bootstrap(), "backlog", &records(0..BACKLOG)).await;
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut definition = kafka_api("backlog", "auto", &broker.bootstrap(), "backlog");
    definition["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": 5 } });
    gateway.api().deploy(&definition).await;
    gateway.api().subscribe("backlog", &subscription(&receiver.url("/hook"))).await;
    let all = receiver.wait_for(BACKLOG, WAIT).await;
    assert!(all, "got {} of {BACKLOG}:\n{}", receiver.count(), gateway.output());
}

/// Subscribes `split-0`.. to the API `split`, each calling a path of its own.
async fn subscribe_all(gateway: &Gateway, receiver: &Receiver, count: usize) {
    for index in 0..count {
        let mut body = subscription(&receiver.url(&format!("/{index}")));
        body["id"] = json!(format!("split-{index}"));
        gateway.api().subscribe("split", &body).await;
    }
}

async fn two_gateways_share_the_partitions_of_every_subscription_of_a_topic_without_duplicates(kind: Kind) {
    const SUBSCRIPTIONS: usize = 3;
    const RECORDS: usize = 60;
    let broker = Broker::of(kind);
    broker.create_topic("split", 4).await;
    let receiver = Receiver::answering(200).await;
    let (first_home, second_home) = (GatewayHome::new(), GatewayHome::new());
    let first = first_home.start();
    let definition = kafka_api("split", "at-least-once", &broker.bootstrap(), "split");
    first.api().deploy(&definition).await;
    subscribe_all(&first, &receiver, SUBSCRIPTIONS).await;
    produce(&broker.bootstrap(), "split", &records(0..RECORDS / 2)).await;
    assert!(receiver.wait_for(SUBSCRIPTIONS * RECORDS / 2, WAIT).await, "got {}", receiver.count());

    let second = second_home.start();
    second.api().deploy(&definition).await;
    subscribe_all(&second, &receiver, SUBSCRIPTIONS).await;
    let split = eventually(WAIT, || async {
        second.count_lines("the feed's partitions changed") >= 1
            && first.count_lines("the feed's partitions changed") >= 2
    })
    .await;
    assert!(split, "the second gateway takes partitions over:\n{}", second.output());
    produce(&broker.bootstrap(), "split", &records(RECORDS / 2..RECORDS)).await;
    assert!(receiver.wait_for(SUBSCRIPTIONS * RECORDS, WAIT).await, "got {}", receiver.count());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = calls_per_path(&receiver);
    assert_eq!(calls.len(), SUBSCRIPTIONS, "{calls:?}");
    assert!(calls.values().all(|count| *count == RECORDS), "each subscription got each record once: {calls:?}");
    let both_delivered =
        [&first, &second].iter().all(|gateway| gateway.count_lines("partitions assigned") >= SUBSCRIPTIONS);
    assert!(both_delivered, "every subscription reads partitions on both gateways");
}

async fn deployments_naming_their_own_feed_group_each_read_every_partition(kind: Kind) {
    const RECORDS: usize = 20;
    let broker = Broker::of(kind);
    broker.create_topic("both", 2).await;
    let receiver = Receiver::answering(200).await;
    let (staging_home, production_home) = (GatewayHome::new(), GatewayHome::new());
    let (staging, production) = (staging_home.start(), production_home.start());
    for (gateway, deployment) in [(&staging, "staging"), (&production, "production")] {
        let mut definition = kafka_api("both", "at-least-once", &broker.bootstrap(), "both");
        definition["endpointGroups"][0]["sharedConfiguration"]["consumer"]["properties"] =
            json!({ "group.id": format!("{deployment}-feed") });
        gateway.api().deploy(&definition).await;
        let mut body = subscription(&receiver.url(&format!("/{deployment}")));
        body["id"] = json!(format!("{deployment}-sub"));
        gateway.api().subscribe("both", &body).await;
    }
    let each_owns_both = || async { staging.feed_partitions() == 2 && production.feed_partitions() == 2 };
    assert!(eventually(WAIT, each_owns_both).await, "each deployment's feed owns both partitions");
    produce(&broker.bootstrap(), "both", &records(0..RECORDS)).await;
    assert!(receiver.wait_for(2 * RECORDS, WAIT).await, "got {}", receiver.count());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = calls_per_path(&receiver);
    assert_eq!(calls.get("/staging").copied(), Some(RECORDS), "{calls:?}");
    assert_eq!(calls.get("/production").copied(), Some(RECORDS), "{calls:?}");
}

async fn a_slow_callback_never_holds_back_another_subscription_of_the_same_feed(kind: Kind) {
    // More than a feed keeps per partition: the slow subscription falls out of the ring and catches up on its own.
    const RECORDS: usize = 2_000;
    let broker = Broker::of(kind);
    broker.create_topic("uneven", 1).await;
    let fast = Receiver::answering(200).await;
    let slow =
        Receiver::scripted(Vec::new(), crate::support::receiver::Reply::Delayed(200, Duration::from_millis(20))).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&kafka_api("uneven", "at-least-once", &broker.bootstrap(), "uneven")).await;
    for (id, receiver) in [("fast", &fast), ("slow", &slow)] {
        let mut body = subscription(&receiver.url("/hook"));
        body["id"] = json!(id);
        gateway.api().subscribe("uneven", &body).await;
    }
    let both_reading = eventually(WAIT, || async { gateway.count_lines("partitions assigned") >= 2 }).await;
    assert!(both_reading, "{}", gateway.output());
    produce(&broker.bootstrap(), "uneven", &records(0..RECORDS)).await;

    assert!(fast.wait_for(RECORDS, WAIT).await, "the fast subscription got {} of {RECORDS}", fast.count());
    let slow_then = slow.count();
    // 20 ms a call: the slow one is far behind when the fast one is done, and still going.
    assert!(slow_then < RECORDS / 2, "the slow subscription already had {slow_then}");
    assert!(slow.wait_for(slow_then + 20, WAIT).await, "the slow subscription goes on: {}", slow.count());
    assert_eq!(fast.count(), RECORDS, "each record once to the fast subscription");
}

crate::on_both_brokers!(
    forty_subscriptions_of_one_topic_share_one_consumer_and_each_commits_its_own_position,
    a_subscription_left_behind_catches_up_on_its_own_while_the_others_go_on,
    a_second_api_reading_the_same_topics_with_other_client_settings_is_refused_clearly,
    a_backlog_many_rings_long_is_read_to_its_end,
    two_gateways_share_the_partitions_of_every_subscription_of_a_topic_without_duplicates,
    deployments_naming_their_own_feed_group_each_read_every_partition,
    a_slow_callback_never_holds_back_another_subscription_of_the_same_feed,
);
