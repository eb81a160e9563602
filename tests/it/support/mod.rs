//! Helpers shared by the end-to-end tests.

pub mod api;
pub mod broker;
pub mod browser;
pub mod certs;
pub mod gateway;
pub mod kafka;
pub mod nginx;
pub mod notifications;
pub mod otlp;
pub mod pictures;
pub mod prometheus;
pub mod proxies;
pub mod python;
pub mod receiver;
pub mod scenario;
pub mod secrets;
pub mod standard_webhooks;

use std::future::Future;
use std::time::Duration;

/// Polls `check` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
