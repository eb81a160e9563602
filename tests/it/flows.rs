//! Subscribe-phase flows through the real host and plugins: `message-filtering` giving each subscription exactly its
//! messages (on the real broker, positions of dropped messages committed), plan flows before API flows, disabled
//! flows and steps not run, `channel` and `condition` selectors, headers set, appended, removed and whitelisted on
//! the callback request, a refused expression named by its path and position, and dropped messages never holding
//! their key under `ordering: key`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{kafka_api, mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(60);

/// A `message-filtering` step on `filter`.
fn filtering(filter: &str) -> Value {
    json!({ "name": "filter", "policy": "message-filtering", "configuration": { "filter": filter } })
}

/// A `transform-headers` step appending `name: value`.
fn appending(name: &str, value: &str) -> Value {
    json!({ "policy": "transform-headers", "configuration": { "appendHeaders": [{ "name": name, "value": value }] } })
}

/// `subscription(callback)` with `metadata`.
fn subscription_with(callback: &str, metadata: Value) -> Value {
    let mut body = subscription(callback);
    body["metadata"] = metadata;
    body
}

/// The values of header `name` of every call, in arrival order.
fn header_values(receiver: &Receiver, name: &str) -> Vec<Vec<String>> {
    let value = |value: &hyper::header::HeaderValue| value.to_str().unwrap_or_default().to_string();
    receiver.requests().iter().map(|request| request.headers.get_all(name).iter().map(value).collect()).collect()
}

/// The `filtered` deliveries of `api` counted by the gateway.
async fn filtered_count(gateway: &Gateway, api: &str) -> f64 {
    let series = format!("gateway_deliveries_total{{api=\"{api}\"");
    let text = gateway.api().get("/metrics").await.body.as_str().unwrap_or_default().to_string();
    text.lines()
        .filter(|line| line.starts_with(&series) && line.contains("outcome=\"filtered\""))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_each_receive_exactly_their_messages_and_every_position_is_committed() {
    let broker = Broker::start();
    broker.create_topic("tenants", 2).await;
    let records: Vec<Record> = (0..40)
        .map(|index| {
            let tenant = if index % 2 == 0 { "eu" } else { "us" };
            Record::new(&format!("k{index}"), &json!({ "tenant": tenant, "n": index }).to_string())
        })
        .collect();
    produce(&broker.bootstrap(), "tenants", &records).await;
    let mut api = kafka_api("tenants", "at-least-once", &broker.bootstrap(), "tenants");
    api["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "logging": { "enabled": true } });
    api["flows"] = json!([{ "subscribe": [filtering("{#jsonPath(#message.content, '$.tenant') == #subscription.metadata.tenant}")] }]);
    let (eu, us) = (Receiver::answering(200).await, Receiver::answering(200).await);
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    for (id, receiver, tenant) in [("eu-sub", &eu, "eu"), ("us-sub", &us, "us")] {
        let mut body = subscription_with(&receiver.url("/hook"), json!({ "tenant": tenant }));
        body["id"] = json!(id);
        gateway.api().subscribe("tenants", &body).await;
    }
    assert!(eu.wait_for(20, WAIT).await && us.wait_for(20, WAIT).await, "eu {}, us {}", eu.count(), us.count());
    let all_committed = eventually(WAIT, || async {
        ["eu-sub", "us-sub"].iter().all(|group| {
            committed(&broker.bootstrap(), group, "tenants", 2).iter().map(|offset| offset.max(&0)).sum::<i64>() == 40
        })
    })
    .await;
    assert!(all_committed, "the positions of dropped messages are committed as delivered ones");
    eu.assert_stays_at(20, Duration::from_millis(500)).await;
    us.assert_stays_at(20, Duration::from_millis(0)).await;
    for (receiver, tenant) in [(&eu, "eu"), (&us, "us")] {
        let tenants: Vec<String> = receiver
            .requests()
            .iter()
            .map(|request| {
                serde_json::from_slice::<Value>(&request.body).unwrap()["tenant"].as_str().unwrap().to_string()
            })
            .collect();
        assert!(tenants.iter().all(|got| got == tenant), "{tenant} received {tenants:?}");
    }
    assert_eq!(filtered_count(&gateway, "tenants").await, 40.0, "20 dropped for each subscription");
    // A dropped message makes no webhook log entry: one per delivery.
    let logged = eventually(WAIT, || async {
        let logs = gateway.api().get("/management/v2/apis/tenants/webhook-logs?perPage=100").await;
        logs.body["pagination"]["totalCount"] == 40
    })
    .await;
    assert!(logged);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let logs = gateway.api().get("/management/v2/apis/tenants/webhook-logs?perPage=100").await;
    assert_eq!(logs.body["pagination"]["totalCount"], 40, "{}", logs.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_flows_run_before_api_flows_and_disabled_flows_and_steps_never() {
    let mut api = mock_api("ordered", "auto", json!({}), mock_messages(3, 10, "{}"));
    api["flows"] = json!([
        { "subscribe": [appending("x-order", "api"), { "policy": "transform-headers", "enabled": false,
            "configuration": { "addHeaders": [{ "name": "x-disabled-step", "value": "1" }] } }] },
        { "enabled": false, "subscribe": [appending("x-disabled-flow", "1")] }
    ]);
    api["plans"] = json!([{ "id": "push-plan", "name": "push", "mode": "PUSH", "flows": [{ "subscribe": [appending("x-order", "plan")] }] }]);
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["planId"] = json!("push-plan");
    gateway.api().subscribe("ordered", &body).await;
    assert!(receiver.wait_for(3, WAIT).await);
    assert_eq!(header_values(&receiver, "x-order"), vec![vec!["plan".to_string(), "api".to_string()]; 3]);
    assert!(header_values(&receiver, "x-disabled-step").iter().all(Vec::is_empty));
    assert!(header_values(&receiver, "x-disabled-flow").iter().all(Vec::is_empty));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_and_condition_selectors_choose_the_flows_of_each_subscription() {
    let mut api = mock_api("selected", "auto", json!({}), mock_messages(2, 10, "{}"));
    api["flows"] = json!([
        { "selectors": [{ "type": "channel", "channel": "/orders", "channelOperator": "EQUALS", "operations": ["subscribe"] }],
          "subscribe": [appending("x-channel", "orders")] },
        { "selectors": [{ "type": "condition", "condition": "{#subscription.metadata.tier == 'gold'}" }],
          "subscribe": [appending("x-tier", "gold")] }
    ]);
    let (gold_orders, plain_refunds) = (Receiver::answering(200).await, Receiver::answering(200).await);
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    let mut body = subscription_with(&gold_orders.url("/hook"), json!({ "tier": "gold" }));
    body["consumerConfiguration"]["channel"] = json!("orders");
    gateway.api().subscribe("selected", &body).await;
    let mut body = subscription(&plain_refunds.url("/hook"));
    body["consumerConfiguration"]["channel"] = json!("refunds");
    gateway.api().subscribe("selected", &body).await;
    assert!(gold_orders.wait_for(2, WAIT).await && plain_refunds.wait_for(2, WAIT).await);
    assert_eq!(header_values(&gold_orders, "x-channel"), vec![vec!["orders".to_string()]; 2]);
    assert_eq!(header_values(&gold_orders, "x-tier"), vec![vec!["gold".to_string()]; 2]);
    assert!(header_values(&plain_refunds, "x-channel").iter().all(Vec::is_empty));
    assert!(header_values(&plain_refunds, "x-tier").iter().all(Vec::is_empty));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_set_appended_removed_and_whitelisted_on_the_callback_request() {
    let mut mock = mock_messages(1, 10, r#"{"feature":"search"}"#);
    mock["headers"] = json!([{ "name": "x-replaced", "value": "old" }, { "name": "x-removed", "value": "1" },
        { "name": "x-dropped-by-whitelist", "value": "1" }, { "name": "x-multi", "value": "one" }]);
    let mut api = mock_api("headers", "auto", json!({}), mock);
    api["flows"] = json!([{ "subscribe": [{ "policy": "transform-headers", "configuration": {
        "addHeaders": [{ "name": "x-replaced", "value": "new" },
                       { "name": "x-feature", "value": "{#jsonPath(#message.content, '$.feature')}-{#subscription.metadata.team}" }],
        "appendHeaders": [{ "name": "x-multi", "value": "two" }],
        "removeHeaders": ["X-Removed"],
        "whitelistHeaders": ["x-replaced", "x-feature", "x-multi", "x-removed"]
    } }] }]);
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    gateway.api().subscribe("headers", &subscription_with(&receiver.url("/hook"), json!({ "team": "blue" }))).await;
    assert!(receiver.wait_for(1, WAIT).await);
    assert_eq!(header_values(&receiver, "x-replaced"), [["new"]]);
    assert_eq!(header_values(&receiver, "x-feature"), [["search-blue"]]);
    assert_eq!(header_values(&receiver, "x-multi"), [["one", "two"]]);
    assert_eq!(header_values(&receiver, "x-removed"), [Vec::<String>::new()]);
    assert_eq!(header_values(&receiver, "x-dropped-by-whitelist"), [Vec::<String>::new()]);
    // The gateway's own headers are not the message's: the whitelist leaves them.
    assert_eq!(header_values(&receiver, "x-gravitee-client-identifier").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expression_that_does_not_parse_refuses_the_api_with_its_path_and_position() {
    let mut api = mock_api("refused", "auto", json!({}), mock_messages(1, 10, "{}"));
    api["flows"] = json!([{ "subscribe": [appending("x-ok", "1"), filtering("{#message.content == }")] }]);
    let home = GatewayHome::new();
    let gateway = home.start();
    let reply = gateway.api().post("/management/v2/apis", &api).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let text = reply.body.to_string();
    assert!(
        text.contains("flows[0].subscribe[1].configuration.filter")
            && text.contains("at character 22: expected a value"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_message_never_holds_its_key() {
    let broker = Broker::start();
    broker.create_topic("keyed-filter", 3).await;
    let records: Vec<Record> = (0..30)
        .map(|index| {
            let key = format!("key-{}", index % 3);
            Record::new(&key, &json!({ "key": key, "seq": index / 3 }).to_string())
        })
        .collect();
    produce(&broker.bootstrap(), "keyed-filter", &records).await;
    let mut api = kafka_api("keyed-filter", "at-least-once", &broker.bootstrap(), "keyed-filter");
    api["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "ordering": { "mode": "key" }, "http": { "maxConcurrentConnections": 5 } });
    api["flows"] = json!([{ "subscribe": [filtering("{#jsonPath(#message.content, '$.seq') % 2 == 0}")] }]);
    let receiver =
        Receiver::scripted(Vec::new(), Reply::Varying(200, Duration::from_millis(5), Duration::from_millis(40))).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&api).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("keyed-filter-sub");
    gateway.api().subscribe("keyed-filter", &body).await;
    assert!(receiver.wait_for(15, WAIT).await, "{} of 15", receiver.count());
    receiver.assert_stays_at(15, Duration::from_millis(500)).await;
    let mut per_key: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for request in receiver.requests() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        per_key.entry(body["key"].as_str().unwrap().to_string()).or_default().push(body["seq"].as_u64().unwrap());
    }
    for (key, seqs) in &per_key {
        assert_eq!(seqs, &[0, 2, 4, 6, 8], "{key}: the kept messages, in order");
    }
    let all_committed = eventually(WAIT, || async {
        committed(&broker.bootstrap(), "keyed-filter-sub", "keyed-filter", 3)
            .iter()
            .map(|offset| offset.max(&0))
            .sum::<i64>()
            == 30
    })
    .await;
    assert!(all_committed, "{:?}", committed(&broker.bootstrap(), "keyed-filter-sub", "keyed-filter", 3));
    assert_eq!(gateway.api().metric("gateway_messages_held{").await, 0.0);
}
