//! OpenTelemetry traces: spans exported over OTLP/HTTP to a collector whose decoder is the OpenTelemetry project's
//! own (Python `opentelemetry-proto`), the record's trace context continued, and the callbacks' `traceparent`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::GatewayHome;
use crate::support::kafka::{consume, produce, Record};
use crate::support::otlp::Collector;
use crate::support::receiver::{Receiver, Reply, REFUSING_PORT};
use crate::support::scenario::{
    advanced_kafka_api, advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription, with_kafka_dlq,
};

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "s3cret-never-traced";
/// OTLP's span kinds and status codes.
const CONSUMER: u64 = 5;
const CLIENT: u64 = 3;
const PRODUCER: u64 = 4;
const OK: u64 = 1;
const ERROR: u64 = 2;

/// The trace id and the span id of a W3C `traceparent` the producer of a record set.
fn producer_context(index: u8, sampled: bool) -> (String, String, String) {
    let trace_id = format!("{:032x}", 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4700u128 + u128::from(index));
    let span_id = format!("{:016x}", 0x00f0_67aa_0ba9_0200u64 + u64::from(index));
    let traceparent = format!("00-{trace_id}-{span_id}-{}", if sampled { "01" } else { "00" });
    (trace_id, span_id, traceparent)
}

fn named<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|span| span["name"] == name).collect()
}

/// The one span named `name`.
fn one<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    let found = named(spans, name);
    assert_eq!(found.len(), 1, "one `{name}` span expected: {spans:#?}");
    found[0]
}

/// The `traceparent` the receiver's call number `index` carried.
fn callback_traceparent(receiver: &Receiver, index: usize) -> String {
    receiver.requests()[index].headers["traceparent"].to_str().expect("text").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_trace_is_continued_through_each_attempt_and_the_dead_letter_queue() {
    let collector = Collector::start();
    let broker = Broker::start();
    for topic in ["orders", "orders-dlq"] {
        broker.create_topic(topic, 1).await;
    }
    // One key: the records are delivered in order, so that the receiver's script meets them in order.
    let contexts: Vec<_> = (0..4).map(|index| producer_context(index, index != 3)).collect();
    let records: Vec<Record> = contexts
        .iter()
        .enumerate()
        .map(|(index, (_, _, traceparent))| Record {
            key: "one-key".into(),
            value: format!("record-{index}"),
            headers: vec![("traceparent".into(), traceparent.clone()), ("tracestate".into(), "vendor=7".into())],
        })
        .collect();
    produce(&broker.bootstrap(), "orders", &records).await;
    let mut definition = advanced_kafka_api("orders", "at-least-once", &broker.bootstrap(), "orders");
    with_kafka_dlq(&mut definition, "orders-dlq", &broker.bootstrap());
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_TRACING_OTLP_ENDPOINT", &collector.endpoint())]);
    gateway.api().deploy(&definition).await;
    // record-0: 200; record-1: 500 then 200; record-2: 400 (dead-lettered); record-3 (not sampled): 200.
    let receiver = Receiver::scripted(
        vec![Reply::Status(200), Reply::Status(500), Reply::Status(200), Reply::Status(400)],
        Reply::Status(200),
    )
    .await;
    let retry = json!({ "retry": { "retryOption": "Retry On Fail", "retryStrategy": "LINEAR", "maxAttempts": 3,
                                   "initialDelaySeconds": 1, "maxDelaySeconds": 5 } });
    let callback = receiver.url(&format!("/hook?token={SECRET}"));
    let mut body = advanced_subscription(&callback, retry);
    body["id"] = json!("traced");
    gateway.api().subscribe("orders", &body).await;
    assert!(receiver.wait_for(5, WAIT).await, "{} calls", receiver.count());

    // record-0: a delivery under the producer's span, and one attempt under the delivery.
    let (trace, producer_span, _) = &contexts[0];
    let spans = collector.trace(trace, 2, WAIT).await;
    let delivery = one(&spans, "webhook delivery");
    assert_eq!(delivery["parent_span_id"], *producer_span);
    assert_eq!(delivery["kind"], CONSUMER);
    assert_eq!(delivery["status"]["code"], OK);
    assert_eq!(delivery["trace_state"], "vendor=7");
    let attributes = &delivery["attributes"];
    assert_eq!(attributes["gateway.api.id"], "orders");
    assert_eq!(attributes["gateway.subscription.id"], "traced");
    assert_eq!(attributes["gateway.qos"], "at-least-once");
    assert_eq!(attributes["gateway.delivery.outcome"], "delivered");
    assert_eq!(attributes["messaging.destination.name"], "orders");
    assert_eq!(attributes["messaging.destination.partition.id"], "0");
    assert_eq!(attributes["messaging.kafka.offset"], 0);
    assert_eq!(attributes["messaging.message.id"], "b3JkZXJzQDAjMA==", "the id of `orders@0#0`, encoded");
    let attempt = one(&spans, "POST");
    assert_eq!(attempt["parent_span_id"], delivery["span_id"]);
    assert_eq!(attempt["kind"], CLIENT);
    assert_eq!(attempt["status"]["code"], OK);
    assert_eq!(attempt["attributes"]["http.request.method"], "POST");
    assert_eq!(attempt["attributes"]["url.full"], receiver.url("/hook"), "no query, no credentials");
    assert_eq!(attempt["attributes"]["http.response.status_code"], 200);
    assert_eq!(attempt["attributes"]["gateway.attempt"], 1);
    assert_eq!(delivery["resource"]["service.name"], "webhook-gateway");
    assert_eq!(delivery["scope"], "webhook-advanced");
    // The receiver's parent is the exported attempt span, in the same trace; the trace state goes on unchanged.
    assert_eq!(callback_traceparent(&receiver, 0), format!("00-{trace}-{}-01", attempt["span_id"].as_str().unwrap()));
    assert_eq!(receiver.requests()[0].headers["tracestate"], "vendor=7");

    // record-1: a 500, a retry a second later, then a 200.
    let (trace, _, _) = &contexts[1];
    let spans = collector.trace(trace, 3, WAIT).await;
    let delivery = one(&spans, "webhook delivery");
    assert_eq!(delivery["status"]["code"], OK);
    let mut attempts = named(&spans, "POST");
    attempts.sort_by_key(|span| span["start"].as_u64());
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    let (failed, retried) = (attempts[0], attempts[1]);
    assert_eq!(failed["status"], json!({ "code": ERROR, "message": "HTTP 500" }));
    assert_eq!(failed["attributes"]["http.response.status_code"], 500);
    assert_eq!(failed["attributes"]["gateway.retry.wait_ms"], 1000);
    assert_eq!(retried["status"]["code"], OK);
    assert_eq!(retried["attributes"]["gateway.attempt"], 2);
    assert_eq!(retried["attributes"]["http.request.resend_count"], 1);
    for (index, attempt) in [(1, failed), (2, retried)] {
        assert_eq!(attempt["parent_span_id"], delivery["span_id"]);
        let expected = format!("00-{trace}-{}-01", attempt["span_id"].as_str().unwrap());
        assert_eq!(callback_traceparent(&receiver, index), expected);
    }

    // record-2: a 400, then the dead letter queue, whose record carries the publish span's context.
    let (trace, _, _) = &contexts[2];
    let spans = collector.trace(trace, 3, WAIT).await;
    let delivery = one(&spans, "webhook delivery");
    assert_eq!(delivery["attributes"]["gateway.delivery.outcome"], "dead_lettered");
    assert_eq!(delivery["status"]["code"], ERROR);
    let attempt = one(&spans, "POST");
    assert_eq!(attempt["attributes"]["http.response.status_code"], 400);
    assert_eq!(attempt["status"]["code"], ERROR);
    let publish = one(&spans, "dead letter publish");
    assert_eq!(publish["parent_span_id"], delivery["span_id"]);
    assert_eq!(publish["kind"], PRODUCER);
    assert_eq!(publish["status"]["code"], OK);
    let dead = consume(&broker.bootstrap(), "orders-dlq", 1, WAIT);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].header("traceparent"), format!("00-{trace}-{}-01", publish["span_id"].as_str().unwrap()));

    // record-3: its producer did not sample it: nothing exported, and the callback is told so in the same trace.
    let (trace, producer_span, _) = &contexts[3];
    let unsampled = callback_traceparent(&receiver, 4);
    assert!(unsampled.starts_with(&format!("00-{trace}-")) && unsampled.ends_with("-00"), "{unsampled}");
    assert!(!unsampled.contains(producer_span.as_str()), "the producer's own traceparent went on unchanged");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let all = collector.spans();
    assert!(all.iter().all(|span| span["trace_id"] != *trace), "an unsampled trace was exported");
    assert_eq!(all.len(), 8, "{all:#?}");
    assert!(!serde_json::to_string(&all).unwrap().contains(SECRET), "a secret in a span");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opentelemetry_variables_alone_turn_export_on_and_each_message_starts_a_trace() {
    let collector = Collector::start();
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint()),
        ("OTEL_SERVICE_NAME", "orders-push"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
    ]);
    gateway.api().deploy(&mock_api("plain", "auto", json!({}), mock_messages(3, 10, "m"))).await;
    let receiver = Receiver::answering(200).await;
    gateway.api().subscribe("plain", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(3, WAIT).await);
    let arrived = eventually(WAIT, || async { collector.spans().len() >= 6 }).await;
    let spans = collector.spans();
    assert!(arrived && spans.len() == 6, "{spans:#?}");
    let deliveries = named(&spans, "webhook delivery");
    assert_eq!(deliveries.len(), 3);
    let mut traces: Vec<&str> = deliveries.iter().map(|span| span["trace_id"].as_str().unwrap()).collect();
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 3, "one new trace per message");
    for delivery in &deliveries {
        assert_eq!(delivery["parent_span_id"], "", "a root span");
        assert_eq!(delivery["resource"]["service.name"], "orders-push");
        assert_eq!(delivery["resource"]["deployment.environment"], "test");
        assert_eq!(delivery["scope"], "webhook");
    }
    for request in receiver.requests() {
        let traceparent = request.headers["traceparent"].to_str().unwrap().to_string();
        let attempt = spans
            .iter()
            .find(|span| {
                traceparent
                    == format!("00-{}-{}-01", span["trace_id"].as_str().unwrap(), span["span_id"].as_str().unwrap())
            })
            .unwrap_or_else(|| panic!("no exported span is the parent of {traceparent}: {spans:#?}"));
        assert_eq!(attempt["name"], "POST");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_collector_down_delivery_goes_on_and_the_dropped_spans_are_counted() {
    let home = GatewayHome::new();
    let gateway =
        home.start_with_env(&[("GATEWAY_TRACING_OTLP_ENDPOINT", &format!("http://127.0.0.1:{REFUSING_PORT}"))]);
    gateway.api().deploy(&mock_api("plain", "at-least-once", json!({}), mock_messages(50, 0, "m"))).await;
    let receiver = Receiver::answering(200).await;
    gateway.api().subscribe("plain", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(50, WAIT).await, "{} delivered", receiver.count());
    let counted = eventually(WAIT, || async {
        gateway.api().metric("gateway_trace_spans_total{result=\"dropped\"}").await == 100.0
    })
    .await;
    assert!(counted, "{}", gateway.api().metric("gateway_trace_spans_total{result=\"dropped\"}").await);
    assert_eq!(gateway.api().metric("gateway_trace_spans_total{result=\"exported\"}").await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_request_is_a_span_under_the_attempt_that_needed_it() {
    let collector = Collector::start();
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_TRACING_OTLP_ENDPOINT", &collector.endpoint())]);
    gateway
        .api()
        .deploy(&advanced_mock_api("secured", "at-least-once", json!({}), mock_messages(1, 10, "m"), false))
        .await;
    let token = json!({ "access_token": "t0k3n", "token_type": "Bearer", "expires_in": 300 }).to_string();
    let token_server = Receiver::scripted(vec![Reply::Json(200, token)], Reply::Status(500)).await;
    let receiver = Receiver::answering(200).await;
    let auth = json!({ "auth": { "type": "oauth2", "oauth2": {
        "endpoint": token_server.url("/token"), "clientId": "gateway", "clientSecret": SECRET } } });
    gateway.api().subscribe("secured", &advanced_subscription(&receiver.url("/hook"), auth)).await;
    assert!(receiver.wait_for(1, WAIT).await);
    let traceparent = callback_traceparent(&receiver, 0);
    let trace = traceparent.split('-').nth(1).unwrap().to_string();
    let spans = collector.trace(&trace, 3, WAIT).await;
    let attempt = one(&spans, "POST");
    let fetch = one(&spans, "oauth2 token");
    assert_eq!(fetch["parent_span_id"], attempt["span_id"]);
    assert_eq!(fetch["kind"], CLIENT);
    assert_eq!(fetch["status"]["code"], OK);
    assert_eq!(fetch["attributes"]["url.full"], token_server.url("/token"));
    assert!(!serde_json::to_string(&spans).unwrap().contains(SECRET), "a secret in a span");
    assert!(!serde_json::to_string(&spans).unwrap().contains("t0k3n"), "a token in a span");
}
