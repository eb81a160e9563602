//! What an edition may add to one subscription's delivery: callback authentication and a dead letter queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderValue;
use plugin_api::abi_stable::std_types::RArc;
use plugin_api::{DeliveryMetrics, Message, PublisherBox};
use tokio::runtime::Handle;

use crate::config::SubscriptionConfig;
use crate::transport::attempt::CallbackError;
use crate::transport::client::CallbackClient;

/// A boxed future, for the hooks' async methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Gives the `Authorization` value of callback calls.
pub trait Authorizer: Send + Sync {
    /// The value for the next call. An error means the callback must not be called; it counts as a call that got
    /// no answer.
    fn authorization(&self) -> BoxFuture<'_, Result<HeaderValue, CallbackError>>;

    /// A fresh value after the callback answered 401 to `rejected`.
    fn refresh(&self, rejected: HeaderValue) -> BoxFuture<'_, Result<HeaderValue, CallbackError>>;
}

/// Takes the messages the callback refused, or that outlived their retries.
pub trait DeadLetter: Send + Sync {
    /// Publishes `message` with `context`; resolves once the queue acknowledged it.
    fn publish(&self, message: Message, context: DeadLetterContext) -> BoxFuture<'_, Result<(), String>>;
}

/// Why a message went to the dead letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetterContext {
    /// The subscription.
    pub subscription_id: String,
    /// The callback.
    pub callback_url: String,
    /// The last HTTP status; 0 when there was no answer.
    pub last_status: u16,
    /// The last error, when there was no answer (`... (CONNECTION_REFUSED)`), or the refusal.
    pub last_error: String,
    /// Calls made.
    pub attempts: u32,
    /// When the first call started.
    pub first_attempt_at: SystemTime,
    /// When the last call started.
    pub last_attempt_at: SystemTime,
}

/// The layers of one subscription; none by default.
#[derive(Default, Clone)]
pub struct Layers {
    /// Authenticates callback calls.
    pub authorizer: Option<Arc<dyn Authorizer>>,
    /// Takes failed messages.
    pub dead_letter: Option<Arc<dyn DeadLetter>>,
}

/// What an edition gets to build the layers of one subscription.
pub struct LayerSetup<'a> {
    /// The consumer's configuration.
    pub config: &'a SubscriptionConfig,
    /// The subscription id.
    pub subscription_id: &'a str,
    /// The dead letter queue the host opened, when the entrypoint names one.
    pub dead_letter: Option<PublisherBox>,
    /// The subscription's client (its proxy and TLS settings), for side calls such as a token endpoint.
    pub client: &'a CallbackClient,
    /// The time a side call may take.
    pub read_timeout: std::time::Duration,
    /// Bytes of an answer's body read at most (a token endpoint's included).
    pub body_limit: usize,
    /// The plugin's runtime.
    pub runtime: &'a Handle,
    /// The subscription's delivery metrics (token requests are counted there).
    pub metrics: &'a RArc<DeliveryMetrics>,
}
