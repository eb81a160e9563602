//! The pooled HTTP client of one subscription: built once, never per request.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::HttpOptions;

/// The client type every callback call goes through.
pub type CallbackClient = Client<HttpConnector, Full<Bytes>>;

/// A client with the subscription's connect timeout, idle timeout and pool size. Redirects are never followed
/// (hyper's client does not follow them).
pub fn build_client(options: &HttpOptions, concurrency: usize) -> CallbackClient {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(options.connect_timeout()));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(options.idle_timeout())
        .pool_max_idle_per_host(concurrency)
        .build(connector)
}
