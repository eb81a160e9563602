//! The kafka endpoint on a real broker: record mapping, the QoS guarantees under crashes, resume at a failed
//! record, two gateways sharing a subscription, and broker outages.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::json;

use crate::support::broker::{Broker, Kind};
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{kafka_api, subscription};

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(500);

fn numbered(count: usize) -> Vec<Record> {
    (0..count).map(|index| Record::new(&format!("key-{index}"), &format!("record-{index}"))).collect()
}

fn bodies(receiver: &Receiver) -> Vec<String> {
    receiver.requests().iter().map(|request| String::from_utf8_lossy(&request.body).into_owned()).collect()
}

/// Subscribes with a chosen id to the API `api` of `gateway`.
async fn subscribe_as(gateway: &Gateway, api: &str, id: &str, callback: &str) {
    let mut body = subscription(callback);
    body["id"] = json!(id);
    gateway.api().subscribe(api, &body).await;
}

async fn keyed_records_with_headers_arrive_as_posts(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("orders", 1).await;
    let records: Vec<Record> = (0..5)
        .map(|index| Record {
            key: format!("order-{index}"),
            value: format!("{{\"order\":{index}}}"),
            headers: vec![("x-order".into(), index.to_string()), ("x-kind".into(), "created".into())],
        })
        .collect();
    produce(&broker.bootstrap(), "orders", &records).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&kafka_api("orders", "auto", &broker.bootstrap(), "orders")).await;
    subscribe_as(&gateway, "orders", "orders-sub", &receiver.url("/hook")).await;

    assert!(receiver.wait_for(5, WAIT).await, "got {} calls", receiver.count());
    receiver.assert_stays_at(5, QUIET).await;
    let mut seen = BTreeSet::new();
    for request in receiver.requests() {
        let order = request.headers["x-order"].to_str().unwrap().to_string();
        assert_eq!(String::from_utf8_lossy(&request.body), format!("{{\"order\":{order}}}"));
        assert_eq!(request.headers["x-kind"], "created");
        assert_eq!(request.headers["x-gravitee-client-identifier"], "orders-sub");
        seen.insert(order);
    }
    assert_eq!(seen.len(), 5);
    let all_committed =
        eventually(WAIT, || async { committed(&broker.bootstrap(), "orders-sub", "orders", 1) == [5] }).await;
    assert!(
        all_committed,
        "auto commits what was delivered: {:?}",
        committed(&broker.bootstrap(), "orders-sub", "orders", 1)
    );
}

/// Produces 100 records, kills the gateway with SIGKILL after 30 were delivered, restarts it and waits until every
/// record was delivered at least once; returns how many times each body arrived.
async fn crash_mid_stream(kind: Kind, qos: &str) -> HashMap<String, usize> {
    let broker = Broker::of(kind);
    broker.create_topic("stream", 1).await;
    produce(&broker.bootstrap(), "stream", &numbered(100)).await;
    let home = GatewayHome::new();
    let receiver = Receiver::scripted(Vec::new(), Reply::Delayed(200, Duration::from_millis(5))).await;
    let gateway = home.start();
    gateway.api().deploy(&kafka_api("stream", qos, &broker.bootstrap(), "stream")).await;
    subscribe_as(&gateway, "stream", "crashing", &receiver.url("/hook")).await;
    assert!(receiver.wait_for(30, WAIT).await);
    gateway.kill();
    let before_restart = receiver.count();
    let gateway = home.start();
    let expected: BTreeSet<String> = (0..100).map(|index| format!("record-{index}")).collect();
    let complete = eventually(Duration::from_secs(60), || async {
        let seen: BTreeSet<String> = bodies(&receiver).into_iter().collect();
        if qos == "at-most-once" {
            seen.len() >= 99 && seen.contains("record-99")
        } else {
            seen == expected
        }
    })
    .await;
    assert!(complete, "delivery did not finish after the restart:\n{}", gateway.output());
    receiver.assert_stays_at(receiver.count(), QUIET).await;
    let mut counts = HashMap::new();
    for body in bodies(&receiver) {
        *counts.entry(body).or_insert(0) += 1;
    }
    let duplicates: usize = counts.values().map(|count| count - 1).sum();
    println!("{qos}: {before_restart} calls before the kill, {} in all, {duplicates} duplicates", receiver.count());
    counts
}

async fn at_least_once_delivers_every_record_across_a_crash(kind: Kind) {
    let counts = crash_mid_stream(kind, "at-least-once").await;
    assert_eq!(counts.len(), 100, "every record delivered");
    let duplicates: usize = counts.values().map(|count| count - 1).sum();
    // Commits follow each settled delivery without waiting for the broker: only the deliveries whose commit had
    // not reached the broker when the process died come again.
    assert!(duplicates <= 3, "{duplicates} duplicates");
}

async fn at_most_once_never_delivers_a_record_twice_across_a_crash(kind: Kind) {
    let counts = crash_mid_stream(kind, "at-most-once").await;
    assert!(counts.values().all(|count| *count == 1), "a record came twice: {counts:?}");
    assert!(counts.len() >= 99, "at most the record in flight at the crash is lost");
}

async fn a_failed_subscription_resumes_at_the_record_that_failed(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("resume", 1).await;
    produce(&broker.bootstrap(), "resume", &numbered(10)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let script = vec![Reply::Status(200), Reply::Status(200), Reply::Status(200), Reply::Status(400)];
    let receiver = Receiver::scripted(script, Reply::Status(200)).await;
    gateway.api().deploy(&kafka_api("resume", "at-least-once", &broker.bootstrap(), "resume")).await;
    subscribe_as(&gateway, "resume", "resuming", &receiver.url("/hook")).await;
    let failed = gateway.api().wait_consumer_status("resume", "resuming", "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback answered 400 Bad Request");
    assert_eq!(committed(&broker.bootstrap(), "resuming", "resume", 1), [3], "nothing past the failed record");
    tokio::time::sleep(QUIET).await;
    assert_eq!(committed(&broker.bootstrap(), "resuming", "resume", 1), [3], "and nothing later either");

    let resumed = gateway.api().act("resume", "resuming", "_resumeFailure").await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_eq!(resumed.body["consumerStatus"], "STARTED");
    assert!(receiver.wait_for(11, WAIT).await);
    receiver.assert_stays_at(11, QUIET).await;
    let mut expected: Vec<String> = (0..4).map(|index| format!("record-{index}")).collect();
    expected.extend((3..10).map(|index| format!("record-{index}")));
    assert_eq!(bodies(&receiver), expected);
    let all_committed =
        eventually(WAIT, || async { committed(&broker.bootstrap(), "resuming", "resume", 1) == [10] }).await;
    assert!(all_committed, "{:?}", committed(&broker.bootstrap(), "resuming", "resume", 1));
}

async fn two_gateways_share_one_subscription_without_duplicates(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("shared", 2).await;
    let receiver = Receiver::answering(200).await;
    let (first_home, second_home) = (GatewayHome::new(), GatewayHome::new());
    let (first, second) = (first_home.start(), second_home.start());
    for gateway in [&first, &second] {
        gateway.api().deploy(&kafka_api("shared", "at-least-once", &broker.bootstrap(), "shared")).await;
        subscribe_as(gateway, "shared", "shared-sub", &receiver.url("/hook")).await;
    }
    let one_partition_each = || async { first.feed_partitions() == 1 && second.feed_partitions() == 1 };
    assert!(eventually(WAIT, one_partition_each).await, "the two gateways share the two partitions");

    let records: Vec<Record> =
        (0..40).map(|index| Record::new(&format!("k{index}"), &format!("record-{index}"))).collect();
    produce(&broker.bootstrap(), "shared", &records).await;
    assert!(receiver.wait_for(40, WAIT).await, "got {}", receiver.count());
    receiver.assert_stays_at(40, QUIET).await;
    let distinct: BTreeSet<String> = bodies(&receiver).into_iter().collect();
    assert_eq!(distinct.len(), 40, "every record once");
    assert!(
        first.count_lines("kafka subscription reading its feed") == 1
            && second.count_lines("kafka subscription reading its feed") == 1
    );
}

async fn delivery_resumes_by_itself_after_a_broker_restart(kind: Kind) {
    let mut broker = Broker::of(kind);
    broker.create_topic("outage", 1).await;
    produce(&broker.bootstrap(), "outage", &numbered(10)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&kafka_api("outage", "at-least-once", &broker.bootstrap(), "outage")).await;
    subscribe_as(&gateway, "outage", "surviving", &receiver.url("/hook")).await;
    assert!(receiver.wait_for(10, WAIT).await);

    broker.restart();
    let more: Vec<Record> =
        (10..20).map(|index| Record::new(&format!("key-{index}"), &format!("record-{index}"))).collect();
    produce(&broker.bootstrap(), "outage", &more).await;
    let expected: BTreeSet<String> = (0..20).map(|index| format!("record-{index}")).collect();
    let complete = eventually(Duration::from_secs(60), || async {
        bodies(&receiver).into_iter().collect::<BTreeSet<_>>() == expected
    })
    .await;
    assert!(complete, "records produced after the restart are delivered:\n{}", gateway.output());
    assert_eq!(gateway.api().subscription("outage", "surviving").await["consumerStatus"], "STARTED");
}

/// A port for a broker started later, held until then by a listener that never answers (so that no parallel test
/// takes it), and its bootstrap address.
fn broker_not_there_yet() -> (std::net::TcpListener, u16, String) {
    let placeholder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = placeholder.local_addr().expect("address").port();
    (placeholder, port, format!("127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_is_a_clear_cause_until_it_comes_back() {
    let (placeholder, port, bootstrap) = broker_not_there_yet();
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&kafka_api("later", "at-least-once", &bootstrap, "later")).await;
    subscribe_as(&gateway, "later", "waiting", &receiver.url("/hook")).await;
    let cause_shown = eventually(WAIT, || async {
        let subscription = gateway.api().subscription("later", "waiting").await;
        subscription["failureCause"]
            .as_str()
            .is_some_and(|cause| cause.starts_with(&format!("Kafka unreachable at {bootstrap}")))
    })
    .await;
    assert!(cause_shown, "{}", gateway.api().subscription("later", "waiting").await);
    assert_eq!(gateway.api().subscription("later", "waiting").await["consumerStatus"], "STARTED");

    drop(placeholder);
    let broker = Broker::start_on(port);
    broker.create_topic("later", 1).await;
    produce(&broker.bootstrap(), "later", &numbered(3)).await;
    assert!(
        receiver.wait_for(3, Duration::from_secs(60)).await,
        "delivery starts once the broker is up:\n{}",
        gateway.output()
    );
    let recovered = gateway.api().subscription("later", "waiting").await;
    assert!(recovered.get("failureCause").is_none(), "{recovered}");
}

async fn qos_none_never_commits_and_a_restart_starts_at_auto_offset_reset(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("uncommitted", 1).await;
    produce(&broker.bootstrap(), "uncommitted", &numbered(4)).await;
    let home = GatewayHome::new();
    let receiver = Receiver::answering(200).await;
    {
        let mut gateway = home.start();
        gateway.api().deploy(&kafka_api("uncommitted", "none", &broker.bootstrap(), "uncommitted")).await;
        subscribe_as(&gateway, "uncommitted", "forgetful", &receiver.url("/hook")).await;
        assert!(receiver.wait_for(4, WAIT).await);
        receiver.assert_stays_at(4, QUIET).await;
        assert_eq!(gateway.terminate(), Some(0));
    }
    let nothing = committed(&broker.bootstrap(), "forgetful", "uncommitted", 1);
    assert!(nothing[0] < 0, "none never commits: {nothing:?}");
    // Nothing committed: the restarted consumer starts at autoOffsetReset (earliest here) and reads all again.
    let _gateway = home.start();
    assert!(receiver.wait_for(8, WAIT).await, "got {}", receiver.count());
    receiver.assert_stays_at(8, QUIET).await;
    assert!(committed(&broker.bootstrap(), "forgetful", "uncommitted", 1)[0] < 0);
}

async fn message_ids_are_encoded_unless_told_otherwise_and_latest_is_the_default_start(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("ids", 1).await;
    produce(&broker.bootstrap(), "ids", &numbered(2)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let logging = json!({ "logging": { "enabled": true } });
    let mut encoded = kafka_api("encoded", "at-least-once", &broker.bootstrap(), "ids");
    encoded["listeners"][0]["entrypoints"][0]["configuration"] = logging.clone();
    let mut plain = kafka_api("plain", "at-least-once", &broker.bootstrap(), "ids");
    plain["listeners"][0]["entrypoints"][0]["configuration"] = logging.clone();
    plain["endpointGroups"][0]["sharedConfiguration"]["consumer"]["encodeMessageId"] = json!(false);
    // No autoOffsetReset: the default, latest, skips what was produced before the subscription.
    let mut latest = kafka_api("latest", "at-least-once", &broker.bootstrap(), "ids");
    latest["endpointGroups"][0]["sharedConfiguration"]["consumer"].as_object_mut().unwrap().remove("autoOffsetReset");
    for definition in [&encoded, &plain, &latest] {
        gateway.api().deploy(definition).await;
    }
    subscribe_as(&gateway, "encoded", "encoded-sub", &receiver.url("/encoded")).await;
    subscribe_as(&gateway, "plain", "plain-sub", &receiver.url("/plain")).await;
    subscribe_as(&gateway, "latest", "latest-sub", &receiver.url("/latest")).await;
    let assigned = eventually(WAIT, || async { gateway.count_lines("partitions assigned") >= 3 }).await;
    assert!(assigned, "{}", gateway.output());
    assert!(receiver.wait_for(4, WAIT).await);
    let later: Vec<Record> = vec![Record::new("key-late", "record-late")];
    produce(&broker.bootstrap(), "ids", &later).await;
    assert!(receiver.wait_for(7, WAIT).await, "got {}", receiver.count());
    receiver.assert_stays_at(7, QUIET).await;
    let latest_bodies: Vec<String> = receiver
        .requests()
        .iter()
        .filter(|request| request.path == "/latest")
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    assert_eq!(latest_bodies, ["record-late"], "latest starts after what was there");

    let ids = |api: &'static str| {
        let gateway = &gateway;
        async move {
            let path = format!("/management/v2/apis/{api}/webhook-logs?perPage=100");
            let reached = eventually(WAIT, || async {
                gateway.api().get(&path).await.body["data"].as_array().is_some_and(|data| data.len() == 3)
            })
            .await;
            let body = gateway.api().get(&path).await.body;
            assert!(reached, "{body}");
            let mut ids: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| entry["messageId"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(ids("plain").await, ["ids@0#0", "ids@0#1", "ids@0#2"]);
    use base64::Engine;
    let encoded_ids: Vec<String> = ["ids@0#0", "ids@0#1", "ids@0#2"]
        .iter()
        .map(|id| base64::engine::general_purpose::STANDARD.encode(id))
        .collect();
    let mut expected = encoded_ids.clone();
    expected.sort();
    assert_eq!(ids("encoded").await, expected);
}

async fn an_update_resumes_at_the_failed_record_as_committed_on_the_broker(kind: Kind) {
    let broker = Broker::of(kind);
    broker.create_topic("moving", 1).await;
    produce(&broker.bootstrap(), "moving", &numbered(6)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let first =
        Receiver::scripted(vec![Reply::Status(200), Reply::Status(200), Reply::Status(404)], Reply::Status(200)).await;
    let second = Receiver::answering(200).await;
    gateway.api().deploy(&kafka_api("moving", "at-least-once", &broker.bootstrap(), "moving")).await;
    subscribe_as(&gateway, "moving", "mover", &first.url("/old")).await;
    gateway.api().wait_consumer_status("moving", "mover", "FAILURE").await;
    assert_eq!(committed(&broker.bootstrap(), "mover", "moving", 1), [2], "committed up to the failed record");

    let update = json!({ "consumerConfiguration": {
        "entrypointId": "webhook", "entrypointConfiguration": { "callbackUrl": second.url("/new") } } });
    let updated = gateway.api().put("/management/v2/apis/moving/subscriptions/mover", &update).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert!(second.wait_for(4, WAIT).await);
    second.assert_stays_at(4, QUIET).await;
    let expected: Vec<String> = (2..6).map(|index| format!("record-{index}")).collect();
    assert_eq!(bodies(&second), expected, "the new callback starts at the failed record");
    let all = eventually(WAIT, || async { committed(&broker.bootstrap(), "mover", "moving", 1) == [6] }).await;
    assert!(all, "{:?}", committed(&broker.bootstrap(), "mover", "moving", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_subscriptions_of_an_unreachable_broker_hear_it_at_once_and_all_start_when_it_comes() {
    const SUBSCRIPTIONS: usize = 20;
    let (placeholder, port, bootstrap) = broker_not_there_yet();
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&kafka_api("many", "at-least-once", &bootstrap, "many")).await;
    for index in 0..SUBSCRIPTIONS {
        subscribe_as(&gateway, "many", &format!("many-{index}"), &receiver.url("/hook")).await;
    }
    // One reachability timeout (5 s) tells every subscription waiting for the same feed; waiting it out one after
    // the other took 5 s each.
    let all_told = eventually(Duration::from_secs(20), || async {
        let subscriptions = gateway.api().get("/management/v2/apis/many/subscriptions").await.body;
        let told = subscriptions["data"].as_array().map_or(0, |all| {
            all.iter()
                .filter(|subscription| {
                    subscription["failureCause"].as_str().is_some_and(|cause| cause.starts_with("Kafka unreachable"))
                })
                .count()
        });
        told == SUBSCRIPTIONS
    })
    .await;
    let listed = gateway.api().get("/management/v2/apis/many/subscriptions").await.body;
    assert!(all_told, "{listed}");

    drop(placeholder);
    let broker = Broker::start_on(port);
    broker.create_topic("many", 1).await;
    produce(&broker.bootstrap(), "many", &numbered(2)).await;
    assert!(
        receiver.wait_for(2 * SUBSCRIPTIONS, Duration::from_secs(90)).await,
        "every subscription delivers once the broker is up: {}",
        receiver.count()
    );
}

crate::on_both_brokers!(
    at_most_once_never_delivers_a_record_twice_across_a_crash,
    at_least_once_delivers_every_record_across_a_crash,
    keyed_records_with_headers_arrive_as_posts,
    a_failed_subscription_resumes_at_the_record_that_failed,
    two_gateways_share_one_subscription_without_duplicates,
    delivery_resumes_by_itself_after_a_broker_restart,
    qos_none_never_commits_and_a_restart_starts_at_auto_offset_reset,
    message_ids_are_encoded_unless_told_otherwise_and_latest_is_the_default_start,
    an_update_resumes_at_the_failed_record_as_committed_on_the_broker,
);
