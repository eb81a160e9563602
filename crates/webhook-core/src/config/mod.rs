//! The configuration schema both webhook plugins share: the API-level entrypoint `configuration` and the
//! consumer's `entrypointConfiguration`.

mod auth;
mod entrypoint;
mod retry;
mod secret;
mod subscription;

pub use auth::{AuthConfig, BasicAuth, OAuth2Auth, TokenAuth};
pub use entrypoint::{EntrypointConfig, HttpOptions, ProxyOptions, MAX_CONCURRENT_CONNECTIONS};
pub use retry::{RetryConfig, RetryOption, RetryStrategy};
pub use secret::Secret;
pub use subscription::{CallbackTarget, HeaderEntry, SubscriptionConfig};
