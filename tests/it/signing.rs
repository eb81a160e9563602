//! Standard Webhooks v1 signatures on `webhook-advanced` requests, verified by the `standardwebhooks` library from
//! PyPI: every secret of a rotation verifies, a tampered body does not, a retry keeps its `webhook-id`.

use std::time::Duration;

use serde_json::json;

use crate::support::gateway::GatewayHome;
use crate::support::receiver::{Receiver, Recorded, Reply};
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_api, mock_messages, subscription};
use crate::support::standard_webhooks::verify;

const WAIT: Duration = Duration::from_secs(20);
const CURRENT: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const UNKNOWN: &str = "whsec_dW5rbm93bi1zZWNyZXQtMTIzNDU2Nzg=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_verify_with_every_secret_of_a_rotation_and_a_retry_keeps_its_id() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway
        .api()
        .deploy(&advanced_mock_api(
            "signed",
            "at-least-once",
            json!({}),
            mock_messages(3, 10, r#"{"event":"order.created"}"#),
            false,
        ))
        .await;
    let receiver = Receiver::scripted(vec![Reply::Status(500)], Reply::Status(200)).await;
    let extra = json!({ "signature": { "secrets": [CURRENT, PREVIOUS] },
        "retry": { "retryOption": "Retry On Fail", "maxAttempts": 1, "initialDelaySeconds": 1, "maxDelaySeconds": 1 } });
    gateway.api().subscribe("signed", &advanced_subscription(&receiver.url("/hook"), extra)).await;
    assert!(receiver.wait_for(4, WAIT).await, "three messages, the first retried once");
    let requests = receiver.requests();

    assert_eq!(verify(CURRENT, &requests, false), vec!["ok"; 4], "the current secret verifies every request");
    assert_eq!(verify(PREVIOUS, &requests, false), vec!["ok"; 4], "the previous one too, during the rotation");
    assert!(
        verify(UNKNOWN, &requests, false).iter().all(|line| line.starts_with("refused")),
        "another secret does not"
    );
    assert!(
        verify(CURRENT, &requests, true).iter().all(|line| line.starts_with("refused")),
        "a tampered body does not"
    );

    let id = |request: &Recorded| request.headers["webhook-id"].to_str().unwrap().to_string();
    assert_eq!(id(&requests[0]), id(&requests[1]), "a retry carries the same webhook-id");
    assert_ne!(id(&requests[1]), id(&requests[2]));
    let signatures = requests[0].headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').filter(|signature| signature.starts_with("v1,")).count(), 2, "{signatures}");
    assert!(!gateway.output().contains(&CURRENT[6..]), "no secret in the gateway's log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_is_not_whsec_base64_is_refused_and_the_oss_webhook_signs_nothing() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&advanced_mock_api("checked", "auto", json!({}), mock_messages(1, 10, "m"), false)).await;
    let bad = advanced_subscription(
        "http://127.0.0.1:1/hook",
        json!({ "signature": { "secrets": [CURRENT, "not-a-secret"] } }),
    );
    let reply = gateway.api().post("/management/v2/apis/checked/subscriptions", &bad).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"]["path"], "consumerConfiguration.entrypointConfiguration.signature.secrets[1]");

    gateway.api().deploy(&mock_api("plain", "auto", json!({}), mock_messages(1, 10, "m"))).await;
    let mut oss = subscription("http://127.0.0.1:1/hook");
    oss["consumerConfiguration"]["entrypointConfiguration"]["signature"] = json!({ "secrets": [CURRENT] });
    let reply = gateway.api().post("/management/v2/apis/plain/subscriptions", &oss).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.to_string().contains("webhook-advanced"), "{}", reply.body);
}
