//! Callbacks over TLS: certificates made at test time, real TLS servers on loopback.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::certs::Pki;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages, subscription};
use crate::support::secrets::{assert_secret_kept, debug_gateway, log_everything};

const WAIT: Duration = Duration::from_secs(20);
const STORE_PASSWORD: &str = "store-pass-never-logged";

/// A gateway logging at debug level with an API of two mock messages that stops on the first exception, every
/// delivery logged with headers and bodies (where a store password would leak).
async fn gateway(home: &GatewayHome) -> Gateway {
    let gateway = debug_gateway(home);
    let configuration = json!({ "logging": log_everything() });
    gateway.api().deploy(&mock_api("secure", "at-least-once", configuration, mock_messages(2, 10, "over tls"))).await;
    gateway
}

fn with_ssl(callback: &str, ssl: Value) -> Value {
    let mut body = subscription(callback);
    body["consumerConfiguration"]["entrypointConfiguration"]["ssl"] = ssl;
    body
}

fn pem_trust(pki: &Pki) -> Value {
    json!({ "trustStore": { "type": "PEM", "content": pki.ca_pem } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_certificate_is_refused_by_default() {
    let pki = Pki::new();
    let receiver = Receiver::https(pki.server(&pki.issue(&["localhost"]), false), 200).await;
    let home = GatewayHome::new();
    let gateway = gateway(&home).await;
    let id = gateway.api().subscribe("secure", &subscription(&receiver.https_url("/hook"))).await;
    let failed = gateway.api().wait_consumer_status("secure", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert_eq!(cause, "callback call failed: invalid peer certificate: UnknownIssuer (TLS_FAILED)");
    assert_eq!(receiver.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_in_a_pem_or_pkcs12_trust_store_or_trust_all_is_accepted() {
    let pki = Pki::new();
    let receiver = Receiver::https(pki.server(&pki.issue(&["localhost"]), false), 200).await;
    let home = GatewayHome::new();
    let gateway = gateway(&home).await;
    let pkcs12 = json!({ "trustStore": { "type": "PKCS12", "content": pki.ca_pkcs12(STORE_PASSWORD), "password": STORE_PASSWORD } });
    for ssl in [pem_trust(&pki), pkcs12, json!({ "trustAll": true })] {
        gateway.api().subscribe("secure", &with_ssl(&receiver.https_url("/hook"), ssl)).await;
    }
    assert!(receiver.wait_for(6, WAIT).await, "two messages for each of the three subscriptions: {}", receiver.count());
    assert_secret_kept(&gateway, "secure", 6, STORE_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostname_mismatch_is_refused_unless_hostname_verification_is_off() {
    let pki = Pki::new();
    let receiver = Receiver::https(pki.server(&pki.issue(&["other.example"]), false), 200).await;
    let home = GatewayHome::new();
    let gateway = gateway(&home).await;
    let checked = gateway.api().subscribe("secure", &with_ssl(&receiver.https_url("/checked"), pem_trust(&pki))).await;
    let failed = gateway.api().wait_consumer_status("secure", &checked, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert!(
        cause.contains("certificate not valid for name \"localhost\"") && cause.ends_with("(TLS_FAILED)"),
        "{cause}"
    );

    let mut lenient = pem_trust(&pki);
    lenient["hostnameVerifier"] = json!(false);
    gateway.api().subscribe("secure", &with_ssl(&receiver.https_url("/lenient"), lenient)).await;
    assert!(receiver.wait_for(2, WAIT).await);
    assert!(receiver.requests().iter().all(|request| request.path == "/lenient"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_requires_a_client_certificate_gets_the_key_stores() {
    let pki = Pki::new();
    let client = pki.issue(&["gateway-client"]);
    let receiver = Receiver::https(pki.server(&pki.issue(&["localhost"]), true), 200).await;
    let home = GatewayHome::new();
    let gateway = gateway(&home).await;

    let anonymous =
        gateway.api().subscribe("secure", &with_ssl(&receiver.https_url("/anonymous"), pem_trust(&pki))).await;
    gateway.api().wait_consumer_status("secure", &anonymous, "FAILURE").await;

    let mut pem = pem_trust(&pki);
    pem["keyStore"] = json!({ "type": "PEM", "certContent": client.cert_pem, "keyContent": client.key_pem });
    let mut pkcs12 = pem_trust(&pki);
    pkcs12["keyStore"] =
        json!({ "type": "PKCS12", "content": client.pkcs12(STORE_PASSWORD), "password": STORE_PASSWORD });
    for (path, ssl) in [("/pem", pem), ("/pkcs12", pkcs12)] {
        gateway.api().subscribe("secure", &with_ssl(&receiver.https_url(path), ssl)).await;
    }
    assert!(receiver.wait_for(4, WAIT).await);
    for request in receiver.requests() {
        assert_eq!(request.client_certificate.as_deref(), Some(client.cert_der.as_slice()), "{}", request.path);
    }
    assert_secret_kept(&gateway, "secure", 5, STORE_PASSWORD).await;
    assert_secret_kept(&gateway, "secure", 5, "PRIVATE KEY").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_stores_are_refused_when_subscribing() {
    let pki = Pki::new();
    let home = GatewayHome::new();
    let gateway = gateway(&home).await;
    let path = "/management/v2/apis/secure/subscriptions";
    let gateway = &gateway;
    let refuse = |ssl: Value| {
        let body = with_ssl("https://localhost:9/hook", ssl);
        async move { gateway.api().post(path, &body).await }
    };

    let reply = refuse(json!({ "trustStore": { "type": "PEM", "content": "not a certificate" } })).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["parameters"]["path"], "consumerConfiguration.entrypointConfiguration.ssl.trustStore");

    let wrong_password =
        json!({ "trustStore": { "type": "PKCS12", "content": pki.ca_pkcs12(STORE_PASSWORD), "password": "wrong" } });
    let reply = refuse(wrong_password).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body["message"].as_str().unwrap().contains("wrong password"), "{}", reply.body);
    assert!(!reply.body.to_string().contains(STORE_PASSWORD));

    let reply = refuse(json!({ "trustStore": { "type": "JKS", "content": "/u3+7QAAAAI=" } })).await;
    assert_eq!(reply.body["parameters"]["path"], "consumerConfiguration.entrypointConfiguration.ssl.trustStore.type");
    assert!(reply.body["message"].as_str().unwrap().contains("keytool -importkeystore"), "{}", reply.body);

    let reply = refuse(json!({ "keyStore": { "type": "PEM", "certContent": pki.ca_pem, "keyContent": "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n" } })).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body["parameters"]["path"]
        .as_str()
        .unwrap()
        .starts_with("consumerConfiguration.entrypointConfiguration.ssl.keyStore"));
}
