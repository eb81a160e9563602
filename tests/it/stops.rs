//! Stops that wait for nobody: gateways sharing an at-least-once subscription, stopped one after the other, at
//! once, or while another joins; each exits promptly (a group rebalancing after a member left is not waited for),
//! and the positions it settled are committed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, subscription};

const WAIT: Duration = Duration::from_secs(60);
const RECORDS: usize = 400;
const PARTITIONS: i32 = 4;
/// How long a SIGTERM may take to end a gateway here: its drain and a bounded leave, not a rebalance.
const PROMPT: Duration = Duration::from_secs(2);

/// Two gateways sharing the at-least-once subscription `stops-sub`, after both delivered `RECORDS` records.
struct Pair {
    broker: Broker,
    _receiver: Receiver,
    _homes: [GatewayHome; 2],
    gateways: [Gateway; 2],
}

async fn deliver_through_two_gateways(kind: Kind) -> Pair {
    let broker = Broker::of(kind);
    broker.create_topic("stops", PARTITIONS).await;
    let records: Vec<Record> =
        (0..RECORDS).map(|index| Record::new(&format!("k{index}"), &format!("r{index}"))).collect();
    produce(&broker.bootstrap(), "stops", &records).await;
    let receiver = Receiver::answering(200).await;
    let definition = kafka_api("stops", "at-least-once", &broker.bootstrap(), "stops");
    let homes = [GatewayHome::new(), GatewayHome::new()];
    let gateways = [homes[0].start(), homes[1].start()];
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("stops-sub");
    for gateway in &gateways {
        gateway.api().deploy(&definition).await;
        gateway.api().subscribe("stops", &body).await;
    }
    // Every record delivered (at least once: two gateways joining on tansu may deliver some twice).
    let distinct = || receiver.requests().into_iter().map(|request| request.body).collect::<HashSet<_>>().len();
    let all = eventually(WAIT, || async { distinct() == RECORDS }).await;
    assert!(all, "delivered {} of {RECORDS}", distinct());
    if kind == Kind::Tansu {
        // tansu can hand a partition to both gateways at once (no join barrier), and the commit of the one that
        // lost it may land last until positions are fenced by the group's generation: here the stops start from
        // positions settled on the broker, which they must leave as they are.
        let settled = eventually(WAIT, || async { committed_sum(&broker) == RECORDS as i64 }).await;
        assert!(settled, "positions settle before the stops: {}", committed_sum(&broker));
    }
    Pair { broker, _receiver: receiver, _homes: homes, gateways }
}

/// Sends SIGTERM and returns how long the gateway took to exit.
fn stop(gateway: &mut Gateway) -> Duration {
    let began = Instant::now();
    assert_eq!(gateway.terminate(), Some(0), "a clean exit:\n{}", gateway.output());
    began.elapsed()
}

/// The sum of the subscription's committed positions.
fn committed_sum(broker: &Broker) -> i64 {
    committed(&broker.bootstrap(), "stops-sub", "stops", PARTITIONS).iter().sum()
}

/// Every record delivered is committed: the positions sum to `RECORDS`.
async fn assert_all_committed(broker: &Broker) {
    let all = eventually(Duration::from_secs(5), || async { committed_sum(broker) == RECORDS as i64 }).await;
    assert!(all, "settled positions committed: {:?}", committed(&broker.bootstrap(), "stops-sub", "stops", PARTITIONS));
}

async fn two_gateways_stopped_one_after_the_other_each_exit_promptly(kind: Kind) {
    let Pair { broker, mut gateways, .. } = deliver_through_two_gateways(kind).await;
    let [first, second] = &mut gateways;
    let first_took = stop(first);
    let second_took = stop(second);
    println!("{kind:?} one after the other: {first_took:?}, then {second_took:?}");
    assert!(first_took < PROMPT && second_took < PROMPT, "{first_took:?}, {second_took:?}:\n{}", second.output());
    assert_all_committed(&broker).await;
}

async fn two_gateways_stopped_at_once_each_exit_promptly(kind: Kind) {
    let Pair { broker, mut gateways, .. } = deliver_through_two_gateways(kind).await;
    let [first, second] = &mut gateways;
    let (first_took, second_took) = std::thread::scope(|scope| {
        let first = scope.spawn(|| stop(first));
        let second = scope.spawn(|| stop(second));
        (first.join().expect("first"), second.join().expect("second"))
    });
    println!("{kind:?} at once: {first_took:?} and {second_took:?}");
    assert!(first_took < PROMPT && second_took < PROMPT, "{first_took:?}, {second_took:?}");
    assert_all_committed(&broker).await;
}

async fn a_gateway_stopped_while_another_joins_exits_promptly(kind: Kind) {
    let Pair { broker, mut gateways, .. } = deliver_through_two_gateways(kind).await;
    let home = GatewayHome::new();
    let mut third = home.start();
    third.api().deploy(&kafka_api("stops", "at-least-once", &broker.bootstrap(), "stops")).await;
    let mut body = subscription("http://127.0.0.1:9/unused");
    body["id"] = json!("stops-sub");
    third.api().subscribe("stops", &body).await;
    // The third gateway's feed is joining the group now: the first is stopped during that rebalance.
    let first_took = stop(&mut gateways[0]);
    let third_took = stop(&mut third);
    let second_took = stop(&mut gateways[1]);
    println!("{kind:?} while one joins: {first_took:?}, {third_took:?}, {second_took:?}");
    for took in [first_took, third_took, second_took] {
        assert!(took < PROMPT, "{first_took:?}, {third_took:?}, {second_took:?}\n{}", gateways[1].output());
    }
    assert_all_committed(&broker).await;
}

crate::on_both_brokers!(
    two_gateways_stopped_one_after_the_other_each_exit_promptly,
    two_gateways_stopped_at_once_each_exit_promptly,
    a_gateway_stopped_while_another_joins_exits_promptly,
);
