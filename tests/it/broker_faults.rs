//! Faults only the mock cluster can give (tansu takes no fault commands): a broker holding partitions going down
//! and coming back, the group coordinators moving, commits answered REBALANCE_IN_PROGRESS and NOT_COORDINATOR,
//! fetches answered NOT_LEADER_OR_FOLLOWER, 200 ms added to every round trip. Each subscription recovers by itself:
//! at-least-once loses nothing and commits everything, at-most-once delivers nothing twice. A fault that lasts shows
//! its cause as the subscription's `failureCause` and in `gateway_source_troubled` meanwhile, and neither after.

use std::time::Duration;

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, subscription};

const PARTITIONS: i32 = 3;
const BATCH: usize = 150;
const WAIT: Duration = Duration::from_secs(90);

fn records(range: std::ops::Range<usize>) -> Vec<Record> {
    range.map(|index| Record::new(&format!("k{index}"), &format!("r{index}"))).collect()
}

/// The subscription's `failureCause` (empty when it has none) and `gateway_source_troubled`.
async fn trouble(gateway: &Gateway) -> (String, f64) {
    let shown = gateway.api().subscription("faulty", "faulty-sub").await;
    let cause = shown["failureCause"].as_str().unwrap_or_default().to_string();
    (cause, gateway.api().metric("gateway_source_troubled{").await)
}

/// Waits until the subscription shows a cause containing `cause` (`None`: no cause) and the metric agrees.
async fn shows(gateway: &Gateway, cause: Option<&str>) -> bool {
    eventually(WAIT, || async {
        match (trouble(gateway).await, cause) {
            ((shown, troubled), Some(cause)) => shown.contains(cause) && troubled == 1.0,
            ((shown, troubled), None) => shown.is_empty() && troubled == 0.0,
        }
    })
    .await
}

/// Delivers a batch, strikes with `fault` (commands to the mock cluster), produces a second batch (while the fault
/// lasts unless it keeps producers out too), lifts the fault with `heal`, and checks the promise of `qos`. With
/// `cause`, the subscription shows a cause containing it while the fault lasts; after it, none.
async fn under_fault(qos: &str, fault: &[&str], heal: &[&str], cause: Option<&str>) {
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
    if cause.is_some() {
        assert!(shows(&gateway, cause).await, "the cause shows while the fault lasts: {:?}", trouble(&gateway).await);
    }
    for command in heal {
        broker.fault(command);
    }
    if producers_blocked {
        produce(&broker.bootstrap(), "faulty", &records(BATCH..2 * BATCH)).await;
    }
    let produced = 2 * BATCH;
    // At-most-once may lose the one record in flight when the fault struck; at-least-once must bring every one (a
    // wait for all but one then read the tally while the last was still on its way).
    let wanted = if qos == "at-least-once" { produced } else { produced - 1 };
    let complete = eventually(WAIT, || async { receiver.tally().len() >= wanted }).await;
    let seen = receiver.tally();
    let duplicated = seen.values().filter(|times| **times > 1).count();
    println!("{qos} under {fault:?}: delivered {} of {produced}, duplicated {duplicated}", seen.len());
    assert!(complete, "delivery recovers: {} of {produced}\n{}", seen.len(), gateway.output());
    let shown = gateway.api().subscription("faulty", "faulty-sub").await;
    assert_eq!(shown["consumerStatus"], "STARTED", "{shown}");
    assert!(shows(&gateway, None).await, "no cause once recovered: {:?}", trouble(&gateway).await);
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
    under_fault("at-least-once", &["down 2"], &["up 2"], Some("partitions faulty/1")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_coordinators_move() {
    let moves = ["coordinator faulty-sub 3", "coordinator gateway-feed.faulty 3"];
    under_fault("at-least-once", &moves, &[], None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_answered_rebalance_in_progress_and_not_coordinator_are_retried_at_least_once() {
    let errors = "errors OffsetCommit REBALANCE_IN_PROGRESS REBALANCE_IN_PROGRESS NOT_COORDINATOR NOT_COORDINATOR";
    under_fault("at-least-once", &[errors], &[], None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_answered_rebalance_in_progress_and_not_coordinator_are_retried_at_most_once() {
    let errors = "errors OffsetCommit REBALANCE_IN_PROGRESS REBALANCE_IN_PROGRESS NOT_COORDINATOR NOT_COORDINATOR";
    under_fault("at-most-once", &[errors], &[], None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_refused_for_a_while_show_the_cause_until_one_is_taken() {
    let errors = format!("errors OffsetCommit{}", " GROUP_AUTHORIZATION_FAILED".repeat(8));
    under_fault("at-least-once", &[&errors], &[], Some("committing positions is refused: ")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_answered_not_leader_or_follower_recover() {
    let errors = "errors Fetch NOT_LEADER_OR_FOLLOWER NOT_LEADER_OR_FOLLOWER NOT_LEADER_OR_FOLLOWER";
    under_fault("at-least-once", &[errors], &[], None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_milliseconds_added_to_every_round_trip() {
    let slow = ["rtt 1 200", "rtt 2 200", "rtt 3 200"];
    let fast = ["rtt 1 0", "rtt 2 0", "rtt 3 0"];
    under_fault("at-least-once", &slow, &fast, None).await;
    under_fault("at-most-once", &slow, &fast, None).await;
}
