//! HTTP/2 to callbacks, against a real HTTP/2 server (nginx): an `https` callback that offers h2 gets HTTP/2 (ALPN),
//! `http.version: "HTTP_2"` speaks it with prior knowledge to an `http` one (h2c), and the default stays HTTP/1.1
//! on plain connections.

use std::time::Duration;

use serde_json::json;

use crate::support::certs::Pki;
use crate::support::eventually;
use crate::support::gateway::GatewayHome;
use crate::support::nginx::{Nginx, Sites};
use crate::support::scenario::{mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_by_alpn_on_tls_h2c_when_asked_and_http_1_1_otherwise() {
    let pki = Pki::new();
    let server = pki.issue(&["127.0.0.1"]);
    let nginx = Nginx::serving(Sites {
        h2c: true,
        tls: Some((server.cert_pem.clone(), server.key_pem.clone())),
        access_log: true,
    })
    .expect("nginx");
    let home = GatewayHome::new();
    let gateway = home.start();
    let api = gateway.api();
    let messages = mock_messages(10, 5, "m");
    api.deploy(&mock_api("plain", "auto", json!({}), messages.clone())).await;
    api.deploy(&mock_api("prior", "auto", json!({ "http": { "version": "HTTP_2" } }), messages.clone())).await;
    api.deploy(&mock_api("secure", "at-least-once", json!({}), messages)).await;
    api.subscribe("plain", &subscription(&format!("{}?via=h1", nginx.url))).await;
    api.subscribe("prior", &subscription(&format!("{}?via=h2c", nginx.h2c_url.as_ref().unwrap()))).await;
    let mut secure = subscription(&format!("{}?via=tls", nginx.tls_url.as_ref().unwrap()));
    secure["consumerConfiguration"]["entrypointConfiguration"]["ssl"] =
        json!({ "trustStore": { "type": "PEM", "content": pki.ca_pem } });
    api.subscribe("secure", &secure).await;

    let all = eventually(WAIT, || async { nginx.hooks().len() >= 30 }).await;
    let hooks = nginx.hooks();
    assert!(all && hooks.len() == 30, "{hooks:#?}");
    for (via, protocol) in [("h1", "HTTP/1.1"), ("h2c", "HTTP/2.0"), ("tls", "HTTP/2.0")] {
        let calls: Vec<&String> = hooks.iter().filter(|line| line.ends_with(&format!("?via={via}"))).collect();
        assert_eq!(calls.len(), 10, "{via}: {hooks:#?}");
        assert!(calls.iter().all(|line| line.starts_with(&format!("{protocol} POST "))), "{via}: {calls:#?}");
    }
    for (api_id, via) in [("plain", "h1"), ("prior", "h2c"), ("secure", "tls")] {
        let delivered = gateway.api().metric(&format!("gateway_deliveries_total{{api=\"{api_id}\"")).await;
        assert!(delivered >= 10.0, "{via}: {delivered}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_2_against_a_server_that_speaks_only_http_1_1_fails_with_a_clear_cause() {
    let nginx = Nginx::serving(Sites { access_log: true, ..Sites::default() }).expect("nginx");
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "http": { "version": "HTTP_2" }, "interruptConsumptionOnException": true });
    gateway.api().deploy(&mock_api("prior", "at-least-once", configuration, mock_messages(3, 5, "m"))).await;
    let id = gateway.api().subscribe("prior", &subscription(&nginx.url)).await;
    let failed = gateway.api().wait_consumer_status("prior", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap_or_default();
    assert!(!cause.is_empty(), "{failed}");
    assert!(nginx.hooks().is_empty(), "nothing was delivered over HTTP/1.1: {:?}", nginx.hooks());
}
