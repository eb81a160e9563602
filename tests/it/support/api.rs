//! A client of the gateway's management API.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::eventually;

/// The management API of one gateway.
pub struct Api {
    base: String,
    token: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An answer: status and JSON body (`null` when empty, a string when not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed body.
    pub body: Value,
}

impl Api {
    /// The management API's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn new(base: String, token: &str) -> Self {
        Self { base, token: token.to_string(), client: Client::builder(TokioExecutor::new()).build_http() }
    }

    /// Sends a request with the given token (none: no `Authorization` header).
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, token: Option<&str>) -> Reply {
        let authorization = token.map(|token| format!("Bearer {token}"));
        self.send_as(method, path, body, authorization.as_deref()).await
    }

    /// Sends a request with HTTP Basic credentials, as the reference product's clients do.
    pub async fn send_basic(&self, method: Method, path: &str, body: Option<&Value>, user: (&str, &str)) -> Reply {
        use base64::Engine;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", user.0, user.1));
        self.send_as(method, path, body, Some(&format!("Basic {credentials}"))).await
    }

    /// Sends a request with the given `Authorization` header value (none: no header).
    async fn send_as(&self, method: Method, path: &str, body: Option<&Value>, authorization: Option<&str>) -> Reply {
        let mut request = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let body = body.map(|body| Bytes::from(body.to_string())).unwrap_or_default();
        let request = request.header("content-type", "application/json").body(Full::new(body)).expect("request");
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.request(request))
            .await
            .expect("management API answers within 30 s")
            .expect("management API reachable");
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        // JSON, or the text itself (`/metrics`, pages).
        let body = match serde_json::from_slice(&bytes) {
            _ if bytes.is_empty() => Value::Null,
            Ok(json) => json,
            Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        };
        Reply { status, body }
    }

    /// The status of a `GET` of `path`, or `None` while nothing answers (a server still starting).
    pub async fn try_get(&self, path: &str) -> Option<u16> {
        let request = Request::builder().uri(format!("{}{path}", self.base)).body(Full::new(Bytes::new())).ok()?;
        let answer = tokio::time::timeout(Duration::from_secs(5), self.client.request(request)).await.ok()?.ok()?;
        Some(answer.status().as_u16())
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, Some(&self.token)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), Some(&self.token)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some(body), Some(&self.token)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, Some(&self.token)).await
    }

    /// Deploys `definition`, asserting it was accepted.
    pub async fn deploy(&self, definition: &Value) -> Value {
        let reply = self.post("/management/v2/apis", definition).await;
        assert_eq!(reply.status, 201, "deploy refused: {}", reply.body);
        reply.body
    }

    /// Subscribes to `api_id`, asserting it was accepted; returns the subscription id.
    pub async fn subscribe(&self, api_id: &str, body: &Value) -> String {
        let reply = self.post(&format!("/management/v2/apis/{api_id}/subscriptions"), body).await;
        assert_eq!(reply.status, 201, "subscription refused: {}", reply.body);
        reply.body["id"].as_str().expect("subscription id").to_string()
    }

    /// The subscription as the gateway shows it.
    pub async fn subscription(&self, api_id: &str, id: &str) -> Value {
        let reply = self.get(&format!("/management/v2/apis/{api_id}/subscriptions/{id}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// The sum of the samples of `/metrics` whose series starts with `series` (0 when there is none).
    pub async fn metric(&self, series: &str) -> f64 {
        let reply = self.get("/metrics").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let text = reply.body.as_str().unwrap_or_default().to_string();
        text.lines()
            .filter(|line| line.starts_with(series))
            .filter_map(|line| line.rsplit_once(' ')?.1.trim().parse::<f64>().ok())
            .sum()
    }

    /// Posts a lifecycle action (`_pause`, ...).
    pub async fn act(&self, api_id: &str, id: &str, action: &str) -> Reply {
        self.post(&format!("/management/v2/apis/{api_id}/subscriptions/{id}/{action}"), &Value::Null).await
    }

    /// Waits until the subscription's consumer status is `status`; returns the subscription.
    pub async fn wait_consumer_status(&self, api_id: &str, id: &str, status: &str) -> Value {
        let reached = eventually(Duration::from_secs(15), || async {
            self.subscription(api_id, id).await["consumerStatus"] == status
        })
        .await;
        let subscription = self.subscription(api_id, id).await;
        assert!(reached, "consumer status never became {status}: {subscription}");
        subscription
    }
}
