//! One unreachable Kafka cluster never holds up another: subscriptions of APIs whose brokers refuse connections (a
//! free loopback port) or accept them and never answer (a listening socket that reads nothing: how a network
//! partition looks) beside a healthy subscription on the real broker. Its start, its pause, a redeploy and a
//! SIGTERM are as prompt as without them.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::broker::{free_port, Broker};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{produce, Record};
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, subscription};

const WAIT: Duration = Duration::from_secs(30);
/// How much later a healthy subscription may start beside unreachable clusters than alone.
const START_SLACK: Duration = Duration::from_secs(2);
/// The longest a lifecycle action or a redeploy may take whatever the brokers do.
const PROMPT: Duration = Duration::from_secs(1);
const REDEPLOY_PROMPT: Duration = Duration::from_secs(2);

/// How brokers that do not answer look.
#[derive(Debug, Clone, Copy)]
enum Unreachable {
    /// Nothing listens: every connection is refused.
    Refusing,
    /// A socket listens and never reads: connections open, requests are never answered.
    Silent,
}

/// Kafka clusters that never answer, kept so until dropped.
struct DeadClusters {
    bootstraps: Vec<String>,
    _listening: Vec<TcpListener>,
}

impl DeadClusters {
    fn new(kind: Unreachable, count: usize) -> Self {
        let mut listening = Vec::new();
        let bootstraps = (0..count)
            .map(|_| match kind {
                Unreachable::Refusing => format!("127.0.0.1:{}", free_port()),
                Unreachable::Silent => {
                    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
                    let address = listener.local_addr().expect("address");
                    listening.push(listener);
                    address.to_string()
                }
            })
            .collect();
        Self { bootstraps, _listening: listening }
    }

    /// Deploys an API per cluster (`dead-<n>`), each with one subscription (`dead-<n>-sub`).
    async fn subscribe_all(&self, gateway: &Gateway, callback: &str) {
        for (index, bootstrap) in self.bootstraps.iter().enumerate() {
            let api = format!("dead-{index}");
            gateway.api().deploy(&kafka_api(&api, "at-least-once", bootstrap, "gone")).await;
            let mut body = subscription(callback);
            body["id"] = json!(format!("{api}-sub"));
            gateway.api().subscribe(&api, &body).await;
        }
    }

    /// Whether every subscription of these clusters shows why it waits, and is still STARTED.
    async fn all_show_their_cause(&self, gateway: &Gateway) -> bool {
        for index in 0..self.bootstraps.len() {
            let api = format!("dead-{index}");
            let shown = gateway.api().subscription(&api, &format!("{api}-sub")).await;
            let cause = shown["failureCause"].as_str().unwrap_or_default();
            if !cause.starts_with("Kafka unreachable") || shown["consumerStatus"] != "STARTED" {
                return false;
            }
        }
        true
    }
}

/// How a healthy subscription fared.
struct Healthy {
    first_delivery: Duration,
    pause: Duration,
}

/// A gateway with `dead` unreachable clusters' subscriptions, then a healthy one on `broker` reading five records of
/// a topic of its own: how long until its first delivery, and how long its pause takes once all five arrived.
async fn healthy_beside(broker: &Broker, kind: Unreachable, dead: usize) -> Healthy {
    let topic = format!("healthy-{kind:?}-{dead}").to_lowercase();
    broker.create_topic(&topic, 1).await;
    let records: Vec<Record> = (0..5).map(|index| Record::new(&format!("k{index}"), &format!("r{index}"))).collect();
    produce(&broker.bootstrap(), &topic, &records).await;
    let clusters = DeadClusters::new(kind, dead);
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let idle = Receiver::answering(200).await;
    clusters.subscribe_all(&gateway, &idle.url("/hook")).await;
    gateway.api().deploy(&kafka_api("healthy", "at-least-once", &broker.bootstrap(), &topic)).await;

    let subscribed = Instant::now();
    let id = gateway.api().subscribe("healthy", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(1, WAIT).await, "nothing delivered:\n{}", gateway.output());
    let first_delivery = subscribed.elapsed();
    assert!(receiver.wait_for(5, WAIT).await, "{} of 5 delivered", receiver.count());

    let pausing = Instant::now();
    let paused = gateway.api().act("healthy", &id, "_pause").await;
    let pause = pausing.elapsed();
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.body["status"], "PAUSED");
    let told = eventually(WAIT, || clusters.all_show_their_cause(&gateway)).await;
    assert!(told, "the unreachable clusters' subscriptions keep their cause:\n{}", gateway.output());
    assert_eq!(idle.count(), 0);
    println!("{dead} {kind:?} clusters beside: first delivery after {first_delivery:?}, pause took {pause:?}");
    Healthy { first_delivery, pause }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_subscription_starts_and_pauses_as_fast_beside_unreachable_clusters() {
    let broker = Broker::start();
    let alone = healthy_beside(&broker, Unreachable::Refusing, 0).await;
    for (kind, dead) in [(Unreachable::Refusing, 4), (Unreachable::Refusing, 8), (Unreachable::Silent, 4)] {
        let beside = healthy_beside(&broker, kind, dead).await;
        assert!(
            beside.first_delivery <= alone.first_delivery + START_SLACK,
            "{dead} {kind:?} clusters beside: first delivery after {:?}, alone after {:?}",
            beside.first_delivery,
            alone.first_delivery
        );
        assert!(beside.pause <= PROMPT, "{dead} {kind:?} clusters beside: the pause took {:?}", beside.pause);
    }
}

/// Redeploys `dead-0` twice: at once (its first opening under way) and once its cause is shown (retrying).
async fn redeploy_beside(kind: Unreachable) {
    let clusters = DeadClusters::new(kind, 5);
    let home = GatewayHome::new();
    let gateway = home.start();
    let idle = Receiver::answering(200).await;
    clusters.subscribe_all(&gateway, &idle.url("/hook")).await;
    for round in 0..2 {
        if round == 1 {
            let told = eventually(WAIT, || clusters.all_show_their_cause(&gateway)).await;
            assert!(told, "causes shown:\n{}", gateway.output());
        }
        let mut changed = kafka_api("dead-0", "at-least-once", &clusters.bootstraps[0], "gone");
        changed["name"] = json!(format!("dead, round {round}"));
        let redeploying = Instant::now();
        let redeployed = gateway.api().put("/management/v2/apis/dead-0", &changed).await;
        let took = redeploying.elapsed();
        assert_eq!(redeployed.status, 200, "{}", redeployed.body);
        assert!(took <= REDEPLOY_PROMPT, "{kind:?} round {round}: the redeploy took {took:?}");
    }
    let told = eventually(WAIT, || clusters.all_show_their_cause(&gateway)).await;
    assert!(told, "the redeployed API's subscription waits for its brokers again:\n{}", gateway.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploying_an_api_whose_brokers_refuse_connections_answers_promptly() {
    redeploy_beside(Unreachable::Refusing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploying_an_api_whose_brokers_never_answer_answers_promptly() {
    redeploy_beside(Unreachable::Silent).await;
}

/// SIGTERM to a gateway delivering from the real broker beside four unreachable clusters: it exits within its drain
/// time, with code 0.
async fn terminate_beside(kind: Unreachable) {
    const DRAIN: Duration = Duration::from_secs(3);
    let broker = Broker::start();
    broker.create_topic("draining", 1).await;
    produce(&broker.bootstrap(), "draining", &[Record::new("k", "r")]).await;
    let clusters = DeadClusters::new(kind, 4);
    let home = GatewayHome::new();
    let drain = DRAIN.as_millis().to_string();
    let mut gateway = home.start_with_env(&[("GATEWAY_SHUTDOWN_DRAIN_TIMEOUT_MS", &drain)]);
    let receiver = Receiver::answering(200).await;
    clusters.subscribe_all(&gateway, &receiver.url("/dead")).await;
    gateway.api().deploy(&kafka_api("healthy", "at-least-once", &broker.bootstrap(), "draining")).await;
    gateway.api().subscribe("healthy", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(1, WAIT).await, "nothing delivered:\n{}", gateway.output());

    let terminating = Instant::now();
    assert_eq!(gateway.terminate(), Some(0));
    let took = terminating.elapsed();
    assert!(took <= DRAIN, "{kind:?}: the gateway took {took:?} to exit:\n{}", gateway.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_beside_brokers_refusing_connections_exits_within_the_drain_time() {
    terminate_beside(Unreachable::Refusing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_beside_brokers_that_never_answer_exits_within_the_drain_time() {
    terminate_beside(Unreachable::Silent).await;
}
