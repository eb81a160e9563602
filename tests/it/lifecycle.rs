//! The subscription lifecycle: restart, pause, resume, close, resume after failure, graceful shutdown.

use std::time::Duration;

use serde_json::json;

use crate::support::gateway::GatewayHome;
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(15);
const QUIET: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apis_and_subscriptions_survive_a_restart() {
    let home = GatewayHome::new();
    let receiver = Receiver::answering(200).await;
    let id = {
        let mut gateway = home.start();
        gateway.api().deploy(&mock_api("durable", "auto", json!({}), mock_messages(2, 10, "m"))).await;
        let id = gateway.api().subscribe("durable", &subscription(&receiver.url("/hook"))).await;
        assert!(receiver.wait_for(2, WAIT).await);
        assert_eq!(gateway.terminate(), Some(0));
        id
    };
    let gateway = home.start();
    let kept = gateway.api().subscription("durable", &id).await;
    assert_eq!(kept["status"], "ACCEPTED");
    assert_eq!(kept["consumerStatus"], "STARTED");
    assert_eq!(kept["consumerConfiguration"]["entrypointConfiguration"]["callbackUrl"], receiver.url("/hook"));
    let listed = gateway.api().get("/management/v2/apis/durable/subscriptions").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    // The mock keeps no offsets on disk: after a restart it generates its stream again.
    assert!(receiver.wait_for(4, WAIT).await, "the subscription runs again after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_delivery_and_resume_continues_it() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&mock_api("pausable", "at-least-once", json!({}), mock_messages(1000, 20, "m"))).await;
    let id = gateway.api().subscribe("pausable", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(3, WAIT).await);

    let paused = gateway.api().act("pausable", &id, "_pause").await;
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.body["status"], "PAUSED");
    let at_pause = receiver.count();
    receiver.assert_stays_at(at_pause, QUIET).await;
    assert_eq!(gateway.api().act("pausable", &id, "_pause").await.status, 400, "a paused subscription cannot pause");

    let resumed = gateway.api().act("pausable", &id, "_resume").await;
    assert_eq!(resumed.body["status"], "ACCEPTED");
    assert!(receiver.wait_for(at_pause + 3, WAIT).await, "delivery continues after resume");

    let closed = gateway.api().act("pausable", &id, "_close").await;
    assert_eq!(closed.body["status"], "CLOSED");
    let at_close = receiver.count();
    receiver.assert_stays_at(at_close, QUIET).await;
    assert_eq!(gateway.api().act("pausable", &id, "_resume").await.status, 400, "a closed subscription stays closed");
    assert_eq!(gateway.api().act("pausable", &id, "_unknown").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_failure_continues_at_the_failed_message() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::scripted(vec![Reply::Status(200), Reply::Status(400)], Reply::Status(200)).await;
    gateway.api().deploy(&mock_api("recovering", "at-least-once", json!({}), mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("recovering", &subscription(&receiver.url("/hook"))).await;
    gateway.api().wait_consumer_status("recovering", &id, "FAILURE").await;
    assert_eq!(receiver.count(), 2);

    let resumed = gateway.api().act("recovering", &id, "_resumeFailure").await;
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_eq!(resumed.body["consumerStatus"], "STARTED");
    assert!(resumed.body.get("failureCause").is_none());
    // Message 1 (the one refused) and message 2: nothing before the failure is delivered again.
    assert!(receiver.wait_for(4, WAIT).await);
    receiver.assert_stays_at(4, QUIET).await;
    assert_eq!(gateway.api().act("recovering", &id, "_resumeFailure").await.status, 400, "not failed any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_continues_at_the_failed_message_on_the_new_callback() {
    let home = GatewayHome::new();
    let gateway = home.start();
    // Message 0 is delivered, message 1 is refused: the subscription fails on message 1.
    let first = Receiver::scripted(vec![Reply::Status(200), Reply::Status(404)], Reply::Status(200)).await;
    let second = Receiver::answering(200).await;
    gateway.api().deploy(&mock_api("moving", "at-least-once", json!({}), mock_messages(3, 10, "m"))).await;
    let id = gateway.api().subscribe("moving", &subscription(&first.url("/old"))).await;
    gateway.api().wait_consumer_status("moving", &id, "FAILURE").await;
    assert_eq!(first.count(), 2);

    let update = json!({ "consumerConfiguration": {
        "entrypointId": "webhook", "entrypointConfiguration": { "callbackUrl": second.url("/new") } } });
    let updated = gateway.api().put(&format!("/management/v2/apis/moving/subscriptions/{id}"), &update).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["consumerStatus"], "STARTED");
    // Messages 1 and 2, not 0 again: delivery continues where it stopped.
    assert!(second.wait_for(2, WAIT).await, "the failed message and the next go to the new callback");
    second.assert_stays_at(2, QUIET).await;
    assert_eq!(first.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_deliveries_in_flight_finish() {
    let home = GatewayHome::new();
    let mut gateway = home.start();
    let receiver = Receiver::scripted(vec![], Reply::Delayed(200, Duration::from_millis(1500))).await;
    let configuration = json!({ "http": { "maxConcurrentConnections": 3 } });
    gateway.api().deploy(&mock_api("draining", "auto", configuration, mock_messages(100, 10, "m"))).await;
    gateway.api().subscribe("draining", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(3, WAIT).await);
    assert_eq!(gateway.terminate(), Some(0));
    assert_eq!(receiver.max_in_flight(), 3, "three calls were in flight at the SIGTERM");
    assert_eq!(receiver.answered(), receiver.count(), "every call in flight got its answer before the exit");
    let output = gateway.output();
    assert!(output.contains("subscription stopped"), "{output}");
    assert!(!output.contains("abandoned"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_abandons_what_outlives_the_drain_timeout() {
    let home = GatewayHome::new();
    let mut gateway = home.start_with_env(&[("GATEWAY_SHUTDOWN_DRAIN_TIMEOUT_MS", "500")]);
    let receiver = Receiver::scripted(vec![], Reply::Hang).await;
    let configuration = json!({ "http": { "readTimeout": 300000, "maxConcurrentConnections": 2 } });
    gateway.api().deploy(&mock_api("stuck", "auto", configuration, mock_messages(100, 10, "m"))).await;
    gateway.api().subscribe("stuck", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(2, WAIT).await);
    assert_eq!(gateway.terminate(), Some(0));
    assert_eq!(receiver.answered(), 0);
    let output = gateway.output();
    assert!(output.contains("abandoned=2") && output.contains("abandoned unacknowledged"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_stops_and_forgets_a_subscription() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&mock_api("forgotten", "auto", json!({}), mock_messages(1000, 20, "m"))).await;
    let id = gateway.api().subscribe("forgotten", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(3, WAIT).await);
    let path = format!("/management/v2/apis/forgotten/subscriptions/{id}");
    assert_eq!(gateway.api().delete(&path).await.status, 204);
    let at_delete = receiver.count();
    receiver.assert_stays_at(at_delete, QUIET).await;
    assert_eq!(gateway.api().get(&path).await.status, 404);
    assert_eq!(gateway.api().delete(&path).await.status, 404, "deleted once");
    let listed = gateway.api().get("/management/v2/apis/forgotten/subscriptions").await;
    assert_eq!(listed.body["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_redeploy_restarts_its_subscriptions_on_the_new_definition_and_delete_needs_them_closed() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    gateway.api().deploy(&mock_api("evolving", "auto", json!({}), mock_messages(1000, 20, "before"))).await;
    let id = gateway.api().subscribe("evolving", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(2, WAIT).await);

    let updated = mock_api("evolving", "auto", json!({}), mock_messages(1000, 20, "after"));
    let reply = gateway.api().put("/management/v2/apis/evolving", &updated).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let switched = crate::support::eventually(WAIT, || async {
        receiver.requests().last().is_some_and(|request| request.body == "after")
    })
    .await;
    assert!(switched, "the subscription runs on the new definition");
    let at_switch = receiver.requests().iter().position(|request| request.body == "after").unwrap();
    assert!(receiver.requests()[at_switch..].iter().all(|request| request.body == "after"), "never both at once");

    let refused = gateway.api().delete("/management/v2/apis/evolving").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body["message"].as_str().unwrap().contains("not closed"), "{}", refused.body);
    assert_eq!(gateway.api().act("evolving", &id, "_close").await.status, 200);
    assert_eq!(gateway.api().delete("/management/v2/apis/evolving").await.status, 204);
    assert_eq!(gateway.api().get("/management/v2/apis/evolving").await.status, 404);
    let at_delete = receiver.count();
    receiver.assert_stays_at(at_delete, QUIET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_kept_returned_and_updated_on_its_own() {
    let home = GatewayHome::new();
    let receiver = Receiver::answering(200).await;
    let id = {
        let mut gateway = home.start();
        gateway.api().deploy(&mock_api("tagged", "auto", json!({}), mock_messages(1, 10, "m"))).await;
        let mut body = subscription(&receiver.url("/hook"));
        body["metadata"] = json!({ "team": "billing", "ticket": "OPS-42" });
        let id = gateway.api().subscribe("tagged", &body).await;
        let shown = gateway.api().subscription("tagged", &id).await;
        assert_eq!(shown["metadata"], json!({ "team": "billing", "ticket": "OPS-42" }));
        let path = format!("/management/v2/apis/tagged/subscriptions/{id}");
        let updated = gateway.api().put(&path, &json!({ "metadata": { "team": "payments" } })).await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        assert_eq!(updated.body["metadata"], json!({ "team": "payments" }));
        assert_eq!(
            updated.body["consumerConfiguration"]["entrypointConfiguration"]["callbackUrl"],
            receiver.url("/hook")
        );
        assert_eq!(gateway.terminate(), Some(0));
        id
    };
    let gateway = home.start();
    assert_eq!(gateway.api().subscription("tagged", &id).await["metadata"], json!({ "team": "payments" }));
}
