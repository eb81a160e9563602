//! Callbacks through real proxies: tinyproxy (HTTP CONNECT with basic authentication) and dante (SOCKS4, SOCKS5
//! with username and password), custom and from the gateway's own settings.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::certs::Pki;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::proxies::{ProxyServer, SOCKS_PASSWORD, SOCKS_USER};
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages, subscription};
use crate::support::secrets::{assert_secret_kept, debug_gateway, log_everything};

const WAIT: Duration = Duration::from_secs(20);
const HTTP_USER: &str = "gateway";
const HTTP_PASSWORD: &str = "tiny-pass-never-logged";

fn proxy(kind: &str, port: u16, credentials: Option<(&str, &str)>) -> Value {
    let mut proxy =
        json!({ "enabled": true, "useSystemProxy": false, "type": kind, "host": "127.0.0.1", "port": port });
    if let Some((user, password)) = credentials {
        proxy["username"] = json!(user);
        proxy["password"] = json!(password);
    }
    proxy
}

/// Deploys an API whose callbacks go through `proxy`, every delivery logged with headers and bodies, subscribes
/// `receiver`, returns the subscription id.
async fn through(gateway: &Gateway, api: &str, proxy: Value, receiver: &Receiver) -> String {
    through_to(gateway, api, proxy, &subscription(&receiver.url("/hook"))).await
}

async fn through_to(gateway: &Gateway, api: &str, proxy: Value, subscription: &Value) -> String {
    let configuration = json!({ "proxy": proxy, "http": { "connectTimeout": 2000, "readTimeout": 5000 },
                                "logging": log_everything() });
    gateway.api().deploy(&mock_api(api, "at-least-once", configuration, mock_messages(2, 10, "proxied"))).await;
    gateway.api().subscribe(api, subscription).await
}

/// The proxy logged a connection to the receiver's port.
fn relayed(proxy: &ProxyServer, receiver: &Receiver) -> bool {
    let port = receiver.url("").rsplit(':').next().unwrap().to_string();
    proxy.log().contains(&port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_callback_goes_through_an_http_proxy_as_a_forward_request() {
    // As most proxies are set up: CONNECT to port 443 only. A tunnel to the receiver's port would be refused.
    let tinyproxy = ProxyServer::tinyproxy_connect_443_only(HTTP_USER, HTTP_PASSWORD);
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = debug_gateway(&home);
    through(&gateway, "http-proxy", proxy("HTTP", tinyproxy.port, Some((HTTP_USER, HTTP_PASSWORD))), &receiver).await;
    assert!(receiver.wait_for(2, WAIT).await, "{}\n{}", tinyproxy.log(), gateway.output());
    assert!(relayed(&tinyproxy, &receiver), "tinyproxy relayed the calls:\n{}", tinyproxy.log());
    for request in receiver.requests() {
        let via = request.headers.get("via").and_then(|value| value.to_str().ok()).unwrap_or_default();
        assert!(via.contains("tinyproxy"), "the proxy forwarded the request: Via `{via}`");
        assert_eq!(request.path, "/hook", "the callback gets its path back in origin form");
        assert!(request.headers.get("proxy-authorization").is_none(), "the proxy's credentials stop at the proxy");
    }
    assert_secret_kept(&gateway, "http-proxy", 2, HTTP_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarding_proxy_refusing_the_credentials_is_a_proxy_failure() {
    // A "proxy" that answers 407 Proxy Authentication Required to every forwarded request.
    let refusing = Receiver::answering(407).await;
    let port: u16 = refusing.url("").rsplit(':').next().unwrap().parse().unwrap();
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let id =
        through(&gateway, "refused-proxy", proxy("HTTP", port, Some((HTTP_USER, "wrong-password"))), &receiver).await;
    let failed = gateway.api().wait_consumer_status("refused-proxy", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert!(cause.ends_with("(PROXY_FAILED)") && cause.contains("407"), "{cause}");
    assert_eq!(receiver.count(), 0);
    assert_eq!(refusing.requests()[0].target, receiver.url("/hook"), "the request reached the proxy in absolute form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_http_proxy_password_is_a_clear_failure_cause() {
    let tinyproxy = ProxyServer::tinyproxy(HTTP_USER, HTTP_PASSWORD);
    let pki = Pki::new();
    let receiver = Receiver::https(pki.server(&pki.issue(&["localhost"]), false), 200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut body = subscription(&receiver.https_url("/hook"));
    body["consumerConfiguration"]["entrypointConfiguration"]["ssl"] =
        json!({ "trustStore": { "type": "PEM", "content": pki.ca_pem } });
    let proxy = proxy("HTTP", tinyproxy.port, Some((HTTP_USER, "wrong-password")));
    let id = through_to(&gateway, "bad-proxy", proxy, &body).await;
    let failed = gateway.api().wait_consumer_status("bad-proxy", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    // tinyproxy answers a refused password with 401 rather than 407, which the tunnel reports as "unsuccessful".
    let prefix = format!("callback call failed: proxy 127.0.0.1:{}: tunnel error: ", tinyproxy.port);
    assert!(cause.starts_with(&prefix) && cause.ends_with("(PROXY_FAILED)"), "{cause}");
    assert!(!cause.contains("wrong-password"), "{cause}");
    assert_eq!(receiver.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socks5_proxy_with_username_and_password_relays_the_callback() {
    let dante = ProxyServer::dante(true);
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    through(&gateway, "socks5", proxy("SOCKS5", dante.port, Some((SOCKS_USER, SOCKS_PASSWORD))), &receiver).await;
    assert!(receiver.wait_for(2, WAIT).await, "{}", dante.log());
    assert!(relayed(&dante, &receiver), "dante relayed the calls:\n{}", dante.log());

    // The definition read back shows the proxy password masked; sent back as it is, it keeps the password.
    let shown = gateway.api().get("/management/v2/apis/socks5").await.body["definition"].clone();
    assert_eq!(shown["listeners"][0]["entrypoints"][0]["configuration"]["proxy"]["password"], "********");
    assert_eq!(gateway.api().put("/management/v2/apis/socks5", &shown).await.status, 200);
    let again = Receiver::answering(200).await;
    gateway.api().subscribe("socks5", &subscription(&again.url("/hook"))).await;
    assert!(again.wait_for(2, WAIT).await, "the kept password still opens the proxy:\n{}", dante.log());

    let refused = Receiver::answering(200).await;
    let id = through(&gateway, "socks5-bad", proxy("SOCKS5", dante.port, Some((SOCKS_USER, "wrong"))), &refused).await;
    let failed = gateway.api().wait_consumer_status("socks5-bad", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert!(cause.starts_with(&format!("callback call failed: proxy 127.0.0.1:{}: ", dante.port)), "{cause}");
    assert!(cause.ends_with("(PROXY_FAILED)") && !cause.contains("wrong"), "{cause}");
    assert_eq!(refused.count(), 0);
    assert!(!gateway.output().contains(SOCKS_PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socks4_proxy_relays_the_callback() {
    let dante = ProxyServer::dante(false);
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    through(&gateway, "socks4", proxy("SOCKS4", dante.port, None), &receiver).await;
    assert!(receiver.wait_for(2, WAIT).await, "{}", dante.log());
    assert!(relayed(&dante, &receiver), "dante relayed the calls:\n{}", dante.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_proxy_comes_from_the_gateways_environment() {
    let tinyproxy = ProxyServer::tinyproxy(HTTP_USER, HTTP_PASSWORD);
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let proxy_url = format!("http://{HTTP_USER}:{HTTP_PASSWORD}@127.0.0.1:{}", tinyproxy.port);
    let gateway = home.start_with_env(&[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "")]);
    through(&gateway, "system", json!({ "enabled": true, "useSystemProxy": true }), &receiver).await;
    assert!(receiver.wait_for(2, WAIT).await, "{}", tinyproxy.log());
    let went_through = eventually(WAIT, || async { relayed(&tinyproxy, &receiver) }).await;
    assert!(went_through, "tinyproxy relayed the calls:\n{}", tinyproxy.log());
    assert!(!gateway.output().contains(HTTP_PASSWORD));
}
