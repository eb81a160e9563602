//! Three gateway processes and one tansu broker: a cluster on Kafka itself (`store.kind = "kafka"`). APIs,
//! subscriptions and their statuses, and webhook logs are shared through the store's topics; Kafka-fed subscriptions
//! share their partitions through consumer groups; a mock subscription runs on exactly one live node.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{produce, Record};
use crate::support::notifications::{notifications, notifying};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{kafka_api, mock_api, subscription};

const WAIT: Duration = Duration::from_secs(60);
/// The same key on every node: each opens the secrets the others sealed.
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Long enough for a node gaining partitions or shares to have waited for their previous owner.
const SETTLE: Duration = Duration::from_secs(4);

/// A node's folder (its webhook log index), kept across its restarts.
struct Node {
    home: GatewayHome,
    gateway: Option<Gateway>,
    /// Its configuration file, when it has one.
    config: Option<String>,
}

impl Node {
    fn start(bootstrap: &str) -> Self {
        Self::configured(bootstrap, None)
    }

    /// A node started with the configuration `text`, when given.
    fn configured(bootstrap: &str, text: Option<&str>) -> Self {
        let home = GatewayHome::new();
        let config = text.map(|text| home.write_config(text).to_str().expect("a path").to_string());
        let mut node = Self { home, gateway: None, config };
        node.restart(bootstrap);
        node
    }

    fn restart(&mut self, bootstrap: &str) {
        let mut env = node_settings(bootstrap, KEY).to_vec();
        if let Some(config) = &self.config {
            env.push(("GATEWAY_CONFIG", config));
        }
        self.gateway = Some(self.home.start_with_env(&env));
    }

    fn gateway(&self) -> &Gateway {
        self.gateway.as_ref().expect("the node runs")
    }
}

/// The settings of a node of the cluster on `bootstrap` whose store key is `key`.
fn node_settings<'a>(bootstrap: &'a str, key: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("GATEWAY_STORE_KIND", "kafka"),
        ("GATEWAY_STORE_BOOTSTRAP_SERVERS", bootstrap),
        ("GATEWAY_STORE_TOPIC_PREFIX", "cluster"),
        ("GATEWAY_STORE_ENCRYPTION_KEY", key),
    ]
}

/// The store's topics, as an administrator creates them beforehand where the gateway may not (the mock cluster
/// serves no CreateTopics); on tansu the first node creates them.
async fn create_store_topics(broker: &Broker) {
    if broker.kind() == Kind::MockCluster {
        for (topic, partitions) in [("cluster.config", 1), ("cluster.webhook-logs", 6), ("cluster.work", 12)] {
            broker.create_topic(topic, partitions).await;
        }
    }
}

/// One cluster at a time: a cluster is three gateways, their consumer groups and a broker, on a machine of two
/// cores; two of them side by side starved each other's group sessions into rebalances that redelivered records.
async fn one_cluster_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Three nodes of one cluster.
fn three_nodes(bootstrap: &str) -> Vec<Node> {
    (0..3).map(|_| Node::start(bootstrap)).collect()
}

/// The sum of the samples of `gateway`'s metrics whose series starts with `series`.
async fn metric(gateway: &Gateway, series: &str) -> u64 {
    gateway.api().metric(series).await as u64
}

/// How many subscriptions `gateway` delivers for now.
async fn running(gateway: &Gateway) -> u64 {
    metric(gateway, "gateway_subscriptions_running{}").await
}

/// How many of `nodes` deliver the one subscription, as each says.
async fn running_on(nodes: &[&Gateway]) -> Vec<u64> {
    let mut counts = Vec::new();
    for gateway in nodes {
        counts.push(running(gateway).await);
    }
    counts
}

fn records(range: std::ops::Range<usize>) -> Vec<Record> {
    range.map(|index| Record::new(&format!("k{index}"), &format!("record-{index}"))).collect()
}

/// How many times each body arrived.
fn tally(receiver: &Receiver) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for request in receiver.requests() {
        *seen.entry(String::from_utf8_lossy(&request.body).into_owned()).or_insert(0) += 1;
    }
    seen
}

/// A Kafka-fed API whose webhook logs every delivery.
fn logged_kafka_api(id: &str, qos: &str, bootstrap: &str, topic: &str) -> Value {
    let mut api = kafka_api(id, qos, bootstrap, topic);
    api["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "logging": { "enabled": true } });
    api
}

async fn subscribe_as(gateway: &Gateway, api: &str, id: &str, callback: &str) {
    let mut body = subscription(callback);
    body["id"] = json!(id);
    gateway.api().subscribe(api, &body).await;
}

async fn log_count(gateway: &Gateway, api: &str) -> u64 {
    let reply = gateway.api().get(&format!("/management/v2/apis/{api}/webhook-logs?perPage=1")).await;
    reply.body["pagination"]["totalCount"].as_u64().unwrap_or(0)
}

async fn a_change_through_any_node_reaches_every_node_and_the_state_survives_a_restart_of_every_node(kind: Kind) {
    let _turn = one_cluster_at_a_time().await;
    let broker = Broker::of(kind);
    create_store_topics(&broker).await;
    let bootstrap = broker.bootstrap();
    broker.create_topic("orders", 6).await;
    let receiver = Receiver::answering(200).await;
    let mut nodes = three_nodes(&bootstrap);
    let api = logged_kafka_api("orders", "at-least-once", &bootstrap, "orders");
    nodes[0].gateway().api().deploy(&api).await;
    subscribe_as(nodes[0].gateway(), "orders", "orders-sub", &receiver.url("/hook")).await;

    // Created on node 1: visible on nodes 2 and 3, and running on every node.
    for node in &nodes[1..] {
        let shown = eventually(WAIT, || async {
            node.gateway().api().get("/management/v2/apis/orders/subscriptions/orders-sub").await.status == 200
        })
        .await;
        assert!(shown, "the subscription reaches every node:\n{}", node.gateway().output());
        assert_eq!(node.gateway().api().get("/management/v2/apis/orders").await.status, 200);
    }
    let gateways: Vec<&Gateway> = nodes.iter().map(Node::gateway).collect();
    let everywhere = eventually(WAIT, || async { running_on(&gateways).await == [1, 1, 1] }).await;
    assert!(everywhere, "running on every node: {:?}", running_on(&gateways).await);
    // Steady state: the six partitions shared two by two (cooperative rebalances may take several rounds).
    let shared = eventually(WAIT, || async { gateways.iter().all(|gateway| gateway.feed_partitions() == 2) }).await;
    let spread: Vec<i64> = gateways.iter().map(|gateway| gateway.feed_partitions()).collect();
    assert!(shared, "the partitions are shared two by two: {spread:?}");
    tokio::time::sleep(SETTLE).await;
    produce(&bootstrap, "orders", &records(0..300)).await;
    assert!(receiver.wait_for(300, WAIT).await, "got {}", receiver.count());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = tally(&receiver);
    assert_eq!(seen.len(), 300, "every record");
    assert!(seen.values().all(|times| *times == 1), "no duplicates in steady state");
    let delivering: Vec<usize> = gateways.iter().map(|gateway| gateway.count_lines("partitions assigned")).collect();
    assert!(delivering.iter().all(|count| *count >= 1), "each node reads some partitions: {delivering:?}");

    // Paused through node 3: delivery stops on every node within 2 s.
    let paused = gateways[2].api().act("orders", "orders-sub", "_pause").await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(running_on(&gateways).await, [0, 0, 0], "stopped everywhere");
    for gateway in &gateways {
        assert_eq!(gateway.api().subscription("orders", "orders-sub").await["status"], "PAUSED");
    }
    produce(&bootstrap, "orders", &records(300..400)).await;
    receiver.assert_stays_at(300, Duration::from_secs(3)).await;
    let resumed = gateways[1].api().act("orders", "orders-sub", "_resume").await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert!(receiver.wait_for(400, WAIT).await, "got {}", receiver.count());

    // Every node answers for every node's deliveries: those node 1 made are found through node 3.
    let by_node_1 = metric(gateways[0], "gateway_deliveries_total{").await;
    assert!(by_node_1 > 0, "node 1 delivered some");
    for gateway in &gateways {
        let all = eventually(WAIT, || async { log_count(gateway, "orders").await >= 400 }).await;
        assert!(all, "entries of every node: {}", log_count(gateway, "orders").await);
    }
    let entries = log_count(gateways[2], "orders").await;
    drop(gateways);

    // Every node stopped, then every node started again: APIs, subscriptions, statuses and webhook logs are intact,
    // and delivery goes on.
    for node in &mut nodes {
        node.gateway.as_mut().expect("running").terminate();
    }
    for node in &mut nodes {
        node.restart(&bootstrap);
    }
    for node in &nodes {
        let shown = node.gateway().api().subscription("orders", "orders-sub").await;
        assert_eq!((shown["status"].as_str(), shown["consumerStatus"].as_str()), (Some("ACCEPTED"), Some("STARTED")));
        let indexed = eventually(WAIT, || async { log_count(node.gateway(), "orders").await == entries }).await;
        assert!(indexed, "the index is rebuilt from the topic: {}", log_count(node.gateway(), "orders").await);
    }
    produce(&bootstrap, "orders", &records(400..450)).await;
    // Partitions a restart left to members gone (tansu) are found within the coverage wait (30 s) and reassigned.
    let delivered = eventually(Duration::from_secs(90), || async { receiver.distinct() == 450 }).await;
    assert!(delivered, "delivery goes on after the restart: {} of 450 records", receiver.distinct());
}

async fn at_least_once_loses_nothing_when_a_node_is_killed_mid_stream(kind: Kind) {
    let _turn = one_cluster_at_a_time().await;
    const RECORDS: usize = 600;
    let broker = Broker::of(kind);
    create_store_topics(&broker).await;
    let bootstrap = broker.bootstrap();
    broker.create_topic("stream", 6).await;
    // A few milliseconds a call: the kill strikes while deliveries are in flight on every node.
    let receiver = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(5))).await;
    let mut nodes = three_nodes(&bootstrap);
    nodes[0].gateway().api().deploy(&kafka_api("stream", "at-least-once", &bootstrap, "stream")).await;
    subscribe_as(nodes[0].gateway(), "stream", "stream-sub", &receiver.url("/hook")).await;
    let gateways: Vec<&Gateway> = nodes.iter().map(Node::gateway).collect();
    let everywhere = eventually(WAIT, || async { running_on(&gateways).await == [1, 1, 1] }).await;
    assert!(everywhere, "running on every node: {:?}", running_on(&gateways).await);
    drop(gateways);
    tokio::time::sleep(SETTLE).await;
    produce(&bootstrap, "stream", &records(0..RECORDS)).await;
    assert!(receiver.wait_for(RECORDS / 4, WAIT).await, "got {}", receiver.count());
    nodes[1].gateway.take().expect("running").kill();
    let expected: BTreeSet<String> = (0..RECORDS).map(|index| format!("record-{index}")).collect();
    let complete = eventually(Duration::from_secs(90), || async {
        tally(&receiver).keys().cloned().collect::<BTreeSet<String>>() == expected
    })
    .await;
    let lost = RECORDS - tally(&receiver).len();
    assert!(complete, "{lost} records lost:\n{}", nodes[0].gateway().output());
}

async fn a_failure_on_one_node_stops_the_subscription_everywhere_and_a_resume_through_another_restarts_it(kind: Kind) {
    let _turn = one_cluster_at_a_time().await;
    let broker = Broker::of(kind);
    create_store_topics(&broker).await;
    let bootstrap = broker.bootstrap();
    broker.create_topic("resume", 1).await;
    produce(&bootstrap, "resume", &records(0..10)).await;
    // Every node tells the same endpoint; each event must reach it once.
    let notified = Receiver::answering(200).await;
    let config = notifying(&notified.url("/ops"), 100);
    let nodes: Vec<Node> = (0..3).map(|_| Node::configured(&bootstrap, Some(&config))).collect();
    let script = vec![Reply::Status(200), Reply::Status(200), Reply::Status(200), Reply::Status(400)];
    let receiver = Receiver::scripted(script, Reply::Status(200)).await;
    nodes[0].gateway().api().deploy(&kafka_api("resume", "at-least-once", &bootstrap, "resume")).await;
    subscribe_as(nodes[0].gateway(), "resume", "resuming", &receiver.url("/hook")).await;
    let gateways: Vec<&Gateway> = nodes.iter().map(Node::gateway).collect();
    for gateway in &gateways {
        let failed = gateway.api().wait_consumer_status("resume", "resuming", "FAILURE").await;
        assert_eq!(failed["failureCause"], "callback answered 400 Bad Request");
    }
    let stopped = eventually(WAIT, || async { running_on(&gateways).await == [0, 0, 0] }).await;
    assert!(stopped, "stopped on every node: {:?}", running_on(&gateways).await);
    let failed_on =
        gateways.iter().position(|gateway| gateway.count_lines("subscription failed") > 0).expect("a node failed");
    receiver.assert_stays_at(4, Duration::from_secs(2)).await;

    let other = gateways[(failed_on + 1) % 3];
    let resumed = other.api().act("resume", "resuming", "_resumeFailure").await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert!(receiver.wait_for(11, WAIT).await, "got {}", receiver.count());
    receiver.assert_stays_at(11, Duration::from_secs(2)).await;
    let bodies: Vec<String> =
        receiver.requests().iter().map(|request| String::from_utf8_lossy(&request.body).into_owned()).collect();
    let mut expected: Vec<String> = (0..4).map(|index| format!("record-{index}")).collect();
    expected.extend((3..10).map(|index| format!("record-{index}")));
    assert_eq!(bodies, expected, "resumed at the record that failed");
    for gateway in &gateways {
        assert_eq!(gateway.api().subscription("resume", "resuming").await["consumerStatus"], "STARTED");
    }
    notified.assert_stays_at(2, Duration::from_secs(1)).await;
    let told: Vec<Value> = notifications(&notified).iter().map(|body| body["type"].clone()).collect();
    assert_eq!(told, ["subscription.failed", "subscription.resumed"], "each event once, from one node");
}

async fn a_mock_subscription_runs_on_exactly_one_node_and_moves_when_it_dies(kind: Kind) {
    let _turn = one_cluster_at_a_time().await;
    let broker = Broker::of(kind);
    create_store_topics(&broker).await;
    let bootstrap = broker.bootstrap();
    let receiver = Receiver::answering(200).await;
    let mut nodes = three_nodes(&bootstrap);
    let api = mock_api("ticks", "at-least-once", json!({}), json!({ "messageInterval": 20, "messageContent": "tick" }));
    nodes[0].gateway().api().deploy(&api).await;
    subscribe_as(nodes[0].gateway(), "ticks", "ticking", &receiver.url("/hook")).await;
    let gateways: Vec<&Gateway> = nodes.iter().map(Node::gateway).collect();
    let placed = eventually(WAIT, || async { running_on(&gateways).await.iter().sum::<u64>() == 1 }).await;
    assert!(placed, "runs on one node: {:?}", running_on(&gateways).await);
    tokio::time::sleep(SETTLE).await;
    let counts = running_on(&gateways).await;
    assert_eq!(counts.iter().sum::<u64>(), 1, "still on exactly one node: {counts:?}");
    let owner = counts.iter().position(|count| *count == 1).expect("an owner");
    for gateway in &gateways {
        assert!(
            gateway.count_lines("subscription started") <= 1,
            "never started twice on a node:\n{}",
            gateway.output()
        );
    }
    let started: usize = gateways.iter().map(|gateway| gateway.count_lines("subscription started")).sum();
    assert_eq!(started, 1, "started on one node only");
    assert!(receiver.wait_for(20, WAIT).await);
    drop(gateways);

    nodes[owner].gateway.take().expect("running").kill();
    let survivors: Vec<&Gateway> = nodes.iter().filter_map(|node| node.gateway.as_ref()).collect();
    let moved = eventually(WAIT, || async { running_on(&survivors).await.iter().sum::<u64>() == 1 }).await;
    assert!(moved, "moved to one survivor: {:?}", running_on(&survivors).await);
    let before = receiver.count();
    assert!(receiver.wait_for(before + 20, WAIT).await, "delivery goes on from the new node");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(running_on(&survivors).await.iter().sum::<u64>(), 1, "on exactly one survivor");
}

async fn a_node_with_another_key_is_refused_and_the_cluster_goes_on(kind: Kind) {
    let _turn = one_cluster_at_a_time().await;
    let broker = Broker::of(kind);
    create_store_topics(&broker).await;
    let bootstrap = broker.bootstrap();
    let node = Node::start(&bootstrap);
    let other_key = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";
    let (code, said) = GatewayHome::new().run_refused(&node_settings(&bootstrap, other_key));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("store.encryption_key") && said.contains("not the key"), "{said}");
    assert!(!said.contains(other_key) && !said.contains(KEY), "no key in the log: {said}");
    assert_eq!(node.gateway().api().get("/_node/health").await.status, 200, "the cluster goes on");
    let (code, said) = GatewayHome::new().run_refused(&[("GATEWAY_STORE_KIND", "kafka")]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("GATEWAY_STORE_BOOTSTRAP_SERVERS"), "{said}");
}

async fn lifecycle_actions_crossing_on_two_nodes_are_never_lost(kind: Kind) {
    let _turn = one_cluster_at_a_time().await;
    const ROUNDS: usize = 8;
    let broker = Broker::of(kind);
    create_store_topics(&broker).await;
    let bootstrap = broker.bootstrap();
    broker.create_topic("crossing", 2).await;
    let receiver = Receiver::answering(200).await;
    let nodes: Vec<Node> = (0..2).map(|_| Node::start(&bootstrap)).collect();
    let (first, second) = (nodes[0].gateway(), nodes[1].gateway());
    first.api().deploy(&kafka_api("crossing", "at-least-once", &bootstrap, "crossing")).await;
    for round in 0..ROUNDS {
        subscribe_as(first, "crossing", &format!("crossing-{round}"), &receiver.url("/hook")).await;
    }
    let everywhere = eventually(WAIT, || async { running_on(&[first, second]).await == [ROUNDS as u64; 2] }).await;
    assert!(everywhere, "running on both nodes: {:?}", running_on(&[first, second]).await);
    // A pause through node 1 and a close through node 2 at once: whatever the order, the close is kept (a pause
    // first is then closed; a close first refuses the pause). Without versions, the pause could land on the
    // record as it was before the close and undo it.
    for round in 0..ROUNDS {
        let id = format!("crossing-{round}");
        let (paused, closed) =
            tokio::join!(first.api().act("crossing", &id, "_pause"), second.api().act("crossing", &id, "_close"));
        assert_eq!(closed.status, 200, "{}", closed.body);
        assert!(paused.status == 200 || paused.status == 400, "{}: {}", paused.status, paused.body);
        for gateway in [first, second] {
            let kept =
                eventually(WAIT, || async { gateway.api().subscription("crossing", &id).await["status"] == "CLOSED" })
                    .await;
            let shown = gateway.api().subscription("crossing", &id).await;
            assert!(kept, "the close was undone by the pause answered {}: {shown}", paused.status);
        }
    }
    let stopped = eventually(WAIT, || async { running_on(&[first, second]).await == [0, 0] }).await;
    assert!(stopped, "closed subscriptions run nowhere: {:?}", running_on(&[first, second]).await);
}

/// On a cluster where the store's topics cannot be created (the mock cluster serves no CreateTopics, as where ACLs
/// forbid it) and are not there, a node stops and names each missing topic with the settings it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_names_the_store_topics_it_needs_where_it_cannot_create_them() {
    let broker = Broker::of(Kind::MockCluster);
    broker.create_topic("cluster.work", 12).await;
    let (code, said) = GatewayHome::new().run_refused(&node_settings(&broker.bootstrap(), KEY));
    assert_eq!(code, Some(1), "{said}");
    let needed = [
        "cluster.config (1 partitions, cleanup.policy=compact)",
        "cluster.webhook-logs (6 partitions, cleanup.policy=delete, retention.ms=",
        "docs/cluster.md",
    ];
    for need in needed {
        assert!(said.contains(need), "names {need}: {said}");
    }
    assert!(!said.contains("cluster.work ("), "the work topic is there: {said}");
}

/// A configuration topic of several partitions would lose the one order of changes: a node refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_a_configuration_topic_of_several_partitions() {
    let broker = Broker::of(Kind::MockCluster);
    broker.create_topic("cluster.config", 3).await;
    let (code, said) = GatewayHome::new().run_refused(&node_settings(&broker.bootstrap(), KEY));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("cluster.config has 3 partitions; it needs exactly 1"), "{said}");
}

/// The reference's lifecycle through one node is followed by every node: a stop, a start, an edit that waits for its
/// deployment, and the deployment (on tansu: the store's mechanism is the same on both brokers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_a_start_and_a_deployment_through_one_node_are_followed_by_every_node() {
    let _turn = one_cluster_at_a_time().await;
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    broker.create_topic("followed", 1).await;
    let nodes: Vec<Node> = (0..2).map(|_| Node::start(&bootstrap)).collect();
    let gateways: Vec<&Gateway> = nodes.iter().map(Node::gateway).collect();
    let receiver = Receiver::answering(200).await;
    gateways[0].api().deploy(&kafka_api("followed", "at-least-once", &bootstrap, "followed")).await;
    subscribe_as(gateways[0], "followed", "follower", &receiver.url("/hook")).await;
    produce(&bootstrap, "followed", &records(0..5)).await;
    assert!(receiver.wait_for(5, WAIT).await, "got {}", receiver.count());

    assert_eq!(gateways[1].api().post("/management/v2/apis/followed/_stop", &Value::Null).await.status, 204);
    let stopped = eventually(WAIT, || async { running_on(&gateways).await == [0, 0] }).await;
    assert!(stopped, "stopped on every node: {:?}", running_on(&gateways).await);
    produce(&bootstrap, "followed", &records(5..10)).await;
    receiver.assert_stays_at(5, Duration::from_secs(2)).await;
    assert_eq!(gateways[0].api().post("/management/v2/apis/followed/_start", &Value::Null).await.status, 204);
    assert!(receiver.wait_for(10, WAIT).await, "went on from its position: {}", receiver.count());

    // An edit through one node waits for its deployment on every node.
    let reference = "/management/v2/environments/DEFAULT/apis/followed";
    let mut edited = kafka_api("followed", "at-least-once", &bootstrap, "followed");
    edited["flows"] = json!([{ "subscribe": [{ "policy": "transform-headers",
        "configuration": { "addHeaders": [{ "name": "x-deployed", "value": "yes" }] } }] }]);
    let reply = gateways[1]
        .api()
        .send(hyper::Method::PUT, reference, Some(&edited), Some(crate::support::gateway::TOKEN))
        .await;
    assert_eq!((reply.status, reply.body["deploymentState"].as_str()), (200, Some("NEED_REDEPLOY")), "{}", reply.body);
    produce(&bootstrap, "followed", &records(10..12)).await;
    assert!(receiver.wait_for(12, WAIT).await);
    assert!(receiver.requests()[10..12].iter().all(|request| !request.headers.contains_key("x-deployed")));
    let deployed = gateways[0].api().post(&format!("{reference}/deployments"), &json!({})).await;
    assert_eq!(deployed.status, 202, "{}", deployed.body);
    let shown =
        eventually(WAIT, || async { gateways[1].api().get(reference).await.body["deploymentState"] == "DEPLOYED" })
            .await;
    assert!(shown, "the other node shows the deployment");
    produce(&bootstrap, "followed", &records(12..14)).await;
    assert!(receiver.wait_for(14, WAIT).await);
    assert!(receiver.requests()[12..14].iter().all(|request| request.headers["x-deployed"] == "yes"));
    receiver.assert_stays_at(14, Duration::from_secs(1)).await;
}

crate::on_both_brokers!(
    a_change_through_any_node_reaches_every_node_and_the_state_survives_a_restart_of_every_node,
    at_least_once_loses_nothing_when_a_node_is_killed_mid_stream,
    a_failure_on_one_node_stops_the_subscription_everywhere_and_a_resume_through_another_restarts_it,
    a_mock_subscription_runs_on_exactly_one_node_and_moves_when_it_dies,
    a_node_with_another_key_is_refused_and_the_cluster_goes_on,
    lifecycle_actions_crossing_on_two_nodes_are_never_lost,
);
