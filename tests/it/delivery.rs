//! Delivery: counts, headers, outcomes of each kind of answer, timeouts, concurrency and isolation.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::gateway::GatewayHome;
use crate::support::receiver::{refused_url, Receiver, Reply};
use crate::support::scenario::{mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(15);
const QUIET: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_mock_messages_arrive_with_their_content_and_the_client_identifier() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let mut mock = mock_messages(5, 10, "hello webhook");
    mock["headers"] = json!([{ "name": "X-Source", "value": "mock" }]);
    gateway.api().deploy(&mock_api("five", "auto", json!({}), mock)).await;
    let mut body = subscription(&receiver.url("/hooks/five?tenant=a"));
    body["consumerConfiguration"]["entrypointConfiguration"]["headers"] =
        json!([{ "name": "X-Team", "value": "billing" }, { "name": "X-Source", "value": "subscription" }]);
    let id = gateway.api().subscribe("five", &body).await;

    assert!(receiver.wait_for(5, WAIT).await, "got {} calls", receiver.count());
    receiver.assert_stays_at(5, QUIET).await;
    for request in receiver.requests() {
        assert_eq!(request.path, "/hooks/five?tenant=a");
        assert_eq!(request.body.as_ref(), b"hello webhook");
        assert_eq!(request.headers["x-gravitee-client-identifier"], id.as_str());
        assert_eq!(request.headers["x-team"], "billing");
        assert_eq!(request.headers["x-source"], "mock", "message headers win over subscription headers");
        assert!(request.headers.contains_key("x-gravitee-request-id"));
    }
    let request_ids: std::collections::HashSet<_> =
        receiver.requests().iter().map(|request| request.headers["x-gravitee-request-id"].clone()).collect();
    assert_eq!(request_ids.len(), 5, "every call has its own request id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_stops_the_subscription_with_its_status_as_the_cause() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver =
        Receiver::scripted(vec![Reply::Status(200), Reply::Status(200), Reply::Status(400)], Reply::Status(200)).await;
    gateway.api().deploy(&mock_api("refusing", "at-least-once", json!({}), mock_messages(10, 10, "m"))).await;
    let id = gateway.api().subscribe("refusing", &subscription(&receiver.url("/hook"))).await;

    let failed = gateway.api().wait_consumer_status("refusing", &id, "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback answered 400 Bad Request");
    assert_eq!(failed["status"], "ACCEPTED");
    receiver.assert_stays_at(3, QUIET).await;
}

/// Runs three messages against a callback that answers 500, with `interruptConsumptionOnServerError` = `interrupt`.
async fn server_errors(interrupt: bool) -> (usize, Value) {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(500).await;
    let configuration = json!({ "interruptConsumptionOnServerError": interrupt });
    gateway.api().deploy(&mock_api("failing", "at-least-once", configuration, mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("failing", &subscription(&receiver.url("/hook"))).await;
    let expected = if interrupt { 1 } else { 3 };
    assert!(receiver.wait_for(expected, WAIT).await);
    receiver.assert_stays_at(expected, QUIET).await;
    (receiver.count(), gateway.api().subscription("failing", &id).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_stops_the_subscription_when_told_to() {
    let (calls, subscription) = server_errors(true).await;
    assert_eq!(calls, 1);
    assert_eq!(subscription["consumerStatus"], "FAILURE");
    assert_eq!(subscription["failureCause"], "callback answered 500 Internal Server Error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_skipped_when_not_told_to_stop() {
    let (calls, subscription) = server_errors(false).await;
    assert_eq!(calls, 3);
    assert_eq!(subscription["consumerStatus"], "STARTED");
    assert!(subscription.get("failureCause").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_stops_the_subscription_when_told_to() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&mock_api("refused", "auto", json!({}), mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("refused", &subscription(&refused_url())).await;
    let failed = gateway.api().wait_consumer_status("refused", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert!(cause.starts_with("callback call failed:") && cause.ends_with("(CONNECTION_REFUSED)"), "{cause}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_skipped_when_not_told_to_stop() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "interruptConsumptionOnException": false });
    gateway.api().deploy(&mock_api("skipping", "at-least-once", configuration, mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("skipping", &subscription(&refused_url())).await;
    let skipped = crate::support::eventually(WAIT, || async { gateway.count_lines("message skipped") >= 3 }).await;
    assert!(skipped, "three skips expected:\n{}", gateway.output());
    tokio::time::sleep(QUIET).await;
    assert_eq!(gateway.count_lines("message skipped"), 3);
    assert_eq!(gateway.api().subscription("skipping", &id).await["consumerStatus"], "STARTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_timeout_bounds_a_hanging_callback() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(vec![Reply::Hang], Reply::Status(200)).await;
    let configuration = json!({ "http": { "readTimeout": 300 } });
    gateway.api().deploy(&mock_api("slow", "at-least-once", configuration, mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("slow", &subscription(&receiver.url("/hook"))).await;
    let failed = gateway.api().wait_consumer_status("slow", &id, "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback call failed: no answer within 300 ms (READ_TIMEOUT)");
    assert_eq!(receiver.count(), 1);
}

/// Delivers 20 messages to a receiver that takes 200 ms per call; returns the most calls ever in flight.
async fn in_flight_at_most(qos: &str, max_concurrent: u32) -> usize {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(Vec::new(), Reply::Delayed(200, Duration::from_millis(200))).await;
    let configuration = json!({ "http": { "maxConcurrentConnections": max_concurrent } });
    let count = if qos == "auto" { 20 } else { 4 };
    gateway.api().deploy(&mock_api("busy", qos, configuration, mock_messages(count, 0, "m"))).await;
    gateway.api().subscribe("busy", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(count as usize, WAIT).await, "got {} calls", receiver.count());
    receiver.max_in_flight()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_max_concurrent_connections_are_in_flight() {
    assert_eq!(in_flight_at_most("auto", 5).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_delivers_one_at_a_time() {
    assert_eq!(in_flight_at_most("at-least-once", 5).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_callback_does_not_slow_another_subscription() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let hanging = Receiver::scripted(Vec::new(), Reply::Hang).await;
    let healthy = Receiver::answering(200).await;
    let configuration = json!({ "http": { "readTimeout": 60000, "maxConcurrentConnections": 5 } });
    gateway.api().deploy(&mock_api("shared", "auto", configuration, mock_messages(50, 0, "m"))).await;
    gateway.api().subscribe("shared", &subscription(&hanging.url("/stuck"))).await;
    assert!(hanging.wait_for(5, WAIT).await, "the hanging callback holds its 5 connections");
    gateway.api().subscribe("shared", &subscription(&healthy.url("/ok"))).await;
    assert!(healthy.wait_for(50, WAIT).await, "the healthy callback got {} of 50", healthy.count());
    assert_eq!(hanging.count(), 5, "the hanging subscription takes nothing more while its calls hang");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let elsewhere = Receiver::answering(200).await;
    let receiver = Receiver::scripted(vec![], Reply::Redirect(elsewhere.url("/moved"))).await;
    gateway.api().deploy(&mock_api("redirected", "at-least-once", json!({}), mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("redirected", &subscription(&receiver.url("/hook"))).await;
    let failed = gateway.api().wait_consumer_status("redirected", &id, "FAILURE").await;
    assert_eq!(failed["failureCause"], "callback answered 302 Found");
    assert_eq!(receiver.count(), 1);
    assert_eq!(elsewhere.count(), 0, "the gateway never follows a redirect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_once_keeps_one_call_in_flight_whatever_the_concurrency() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(50))).await;
    let configuration = json!({ "http": { "maxConcurrentConnections": 5 } });
    gateway.api().deploy(&mock_api("ordered", "at-most-once", configuration.clone(), mock_messages(10, 0, "m"))).await;
    gateway.api().deploy(&mock_api("parallel", "auto", configuration, mock_messages(10, 0, "m"))).await;
    let ordered = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(50))).await;
    gateway.api().subscribe("ordered", &subscription(&ordered.url("/ordered"))).await;
    gateway.api().subscribe("parallel", &subscription(&receiver.url("/parallel"))).await;
    assert!(ordered.wait_for(10, WAIT).await && receiver.wait_for(10, WAIT).await);
    assert_eq!(ordered.max_in_flight(), 1, "at-most-once is ordered: one call at a time");
    assert_eq!(receiver.max_in_flight(), 5, "the same settings under auto use the five connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_timeout_closes_pooled_connections() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let (short, long) = (Receiver::answering(200).await, Receiver::answering(200).await);
    // Three messages a second apart: a connection idle for 300 ms is closed in between, one idle for 60 s is kept.
    let mock = mock_messages(3, 1000, "m");
    gateway
        .api()
        .deploy(&mock_api("short", "at-least-once", json!({ "http": { "idleTimeout": 300 } }), mock.clone()))
        .await;
    gateway.api().deploy(&mock_api("long", "at-least-once", json!({ "http": { "idleTimeout": 60000 } }), mock)).await;
    gateway.api().subscribe("short", &subscription(&short.url("/hook"))).await;
    gateway.api().subscribe("long", &subscription(&long.url("/hook"))).await;
    assert!(short.wait_for(3, WAIT).await && long.wait_for(3, WAIT).await);
    assert_eq!(short.connections(), 3, "a new connection after each idle period");
    assert_eq!(long.connections(), 1, "one pooled connection for all three calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_timeout_fires_when_no_connection_can_be_opened() {
    // A listener with a backlog of one whose queue is filled and never accepted: the kernel drops further
    // connection attempts, which then hang until the client gives up.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let address = socket.local_addr().expect("address");
    let listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(300), tokio::net::TcpStream::connect(address)).await
        {
            fillers.push(stream);
        }
    }
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "http": { "connectTimeout": 500, "readTimeout": 10000 } });
    gateway.api().deploy(&mock_api("unreachable", "at-least-once", configuration, mock_messages(1, 10, "m"))).await;
    let id = gateway.api().subscribe("unreachable", &subscription(&format!("http://{address}/hook"))).await;
    let failed = gateway.api().wait_consumer_status("unreachable", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert!(cause.ends_with("(CONNECT_TIMEOUT)"), "{cause}");
    drop((listener, fillers));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_chooses_post_put_or_patch() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let configuration = json!({ "logging": { "enabled": true } });
    gateway.api().deploy(&mock_api("methods", "auto", configuration, mock_messages(1, 10, "m"))).await;
    for method in ["PUT", "PATCH"] {
        let mut body = subscription(&receiver.url(&format!("/{method}")));
        body["consumerConfiguration"]["entrypointConfiguration"]["method"] = json!(method);
        gateway.api().subscribe("methods", &body).await;
    }
    gateway.api().subscribe("methods", &subscription(&receiver.url("/POST"))).await;
    assert!(receiver.wait_for(3, WAIT).await);
    for request in receiver.requests() {
        assert_eq!(format!("/{}", request.method), request.path, "each subscription's method");
    }
    let logged = crate::support::eventually(WAIT, || async {
        let entries = gateway.api().get("/management/v2/apis/methods/webhook-logs").await.body;
        let mut methods: Vec<String> = entries["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["method"].as_str().unwrap_or_default().to_string())
            .collect();
        methods.sort();
        methods == ["PATCH", "POST", "PUT"]
    })
    .await;
    assert!(logged, "the webhook log shows the method used");

    let mut bad = subscription(&receiver.url("/x"));
    bad["consumerConfiguration"]["entrypointConfiguration"]["method"] = json!("DELETE");
    let reply = gateway.api().post("/management/v2/apis/methods/subscriptions", &bad).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"]["path"], "consumerConfiguration.entrypointConfiguration.method");
}
