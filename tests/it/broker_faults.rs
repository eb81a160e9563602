//! Faults only the mock cluster can give (tansu takes no fault commands): a broker holding partitions going down
//! and coming back, the group coordinators moving, commits answered REBALANCE_IN_PROGRESS and NOT_COORDINATOR,
//! fetches answered NOT_LEADER_OR_FOLLOWER, 200 ms added to every round trip. Each subscription recovers by itself:
//! at-least-once loses nothing and commits everything, at-most-once delivers nothing twice.

use std::time::Duration;

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::GatewayHome;
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, subscription};

const PARTITIONS: i32 = 3;
const BATCH: usize = 150;
const WAIT: Duration = Duration::from_secs(90);

fn records(range: std::ops::Range<usize>) -> Vec<Record> {
    range.map(|index| Record::new(&format!("k{index}"), &format!("r{index}"))).collect()
}

/// Delivers a batch, strikes with `fault` (commands to the mock cluster), produces a second batch (while the fault
/// lasts unless it keeps producers out too), lifts the fault with `heal`, and checks the promise of `qos`.
async fn under_fault(qos: &str, fault: &[&str], heal: &[&str]) {
    let producers_blocked = fault.iter().any(|command| command.starts_with("down"));
    let broker = Broker::of(Kind::MockCluster);
    broker.create_topic("faulty", PARTITIONS).await;
    produce(&broker.bootstrap(), "faulty", &records(0..BATCH)).await;
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&kafka_api("faulty", qos, &broker.bootstrap(), "faulty")).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("faulty-sub");
    gateway.api().subscribe("faulty", &body).await;
    assert!(receiver.wait_for(BATCH, WAIT).await, "the first batch: {}", receiver.count());

    for command in fault {
        broker.fault(command);
    }
    if !producers_blocked {
        produce(&broker.bootstrap(), "faulty", &records(BATCH..2 * BATCH)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for command in heal {
        broker.fault(command);
    }
    if producers_blocked {
        produce(&broker.bootstrap(), "faulty", &records(BATCH..2 * BATCH)).await;
    }
    let produced = 2 * BATCH;
    let complete = eventually(WAIT, || async { receiver.tally().len() >= produced - 1 }).await;
    let seen = receiver.tally();
    let duplicated = seen.values().filter(|times| **times > 1).count();
    println!("{qos} under {fault:?}: delivered {} of {produced}, duplicated {duplicated}", seen.len());
    assert!(complete, "delivery recovers: {} of {produced}\n{}", seen.len(), gateway.output());
    let shown = gateway.api().subscription("faulty", "faulty-sub").await;
    assert_eq!(shown["consumerStatus"], "STARTED", "{shown}");
    if qos == "at-least-once" {
        assert_eq!(seen.len(), produced, "at-least-once lost records");
        let all = eventually(WAIT, || async {
            committed(&broker.bootstrap(), "faulty-sub", "faulty", PARTITIONS).iter().sum::<i64>() == produced as i64
        })
        .await;
        assert!(all, "everything committed: {:?}", committed(&broker.bootstrap(), "faulty-sub", "faulty", PARTITIONS));
    } else {
        assert_eq!(duplicated, 0, "at-most-once delivered records twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_holding_partitions_goes_down_and_comes_back() {
    under_fault("at-least-once", &["down 2"], &["up 2"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_coordinators_move() {
    let moves = ["coordinator faulty-sub 3", "coordinator gateway-feed.faulty 3"];
    under_fault("at-least-once", &moves, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_answered_rebalance_in_progress_and_not_coordinator_are_retried_at_least_once() {
    let errors = "errors OffsetCommit REBALANCE_IN_PROGRESS REBALANCE_IN_PROGRESS NOT_COORDINATOR NOT_COORDINATOR";
    under_fault("at-least-once", &[errors], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_answered_rebalance_in_progress_and_not_coordinator_are_retried_at_most_once() {
    let errors = "errors OffsetCommit REBALANCE_IN_PROGRESS REBALANCE_IN_PROGRESS NOT_COORDINATOR NOT_COORDINATOR";
    under_fault("at-most-once", &[errors], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_answered_not_leader_or_follower_recover() {
    let errors = "errors Fetch NOT_LEADER_OR_FOLLOWER NOT_LEADER_OR_FOLLOWER NOT_LEADER_OR_FOLLOWER";
    under_fault("at-least-once", &[errors], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_milliseconds_added_to_every_round_trip() {
    let slow = ["rtt 1 200", "rtt 2 200", "rtt 3 200"];
    let fast = ["rtt 1 0", "rtt 2 0", "rtt 3 0"];
    under_fault("at-least-once", &slow, &fast).await;
    under_fault("at-most-once", &slow, &fast).await;
}
