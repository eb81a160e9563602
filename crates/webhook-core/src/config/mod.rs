//! The configuration schema both webhook plugins share: the API-level entrypoint `configuration` and the
//! consumer's `entrypointConfiguration`.

mod auth;
mod entrypoint;
mod jwt_profile;
mod ordering;
mod pacing;
mod proxy;
mod retry;
mod secret;
mod signature;
mod ssl;
mod subscription;

pub use auth::{AuthConfig, BasicAuth, OAuth2Auth, TokenAuth};
pub use entrypoint::{EntrypointConfig, HttpOptions, HttpVersion, LoggedParts, LoggingOptions};
pub use jwt_profile::{CertChain, Claim, JwtProfileAuth, KeySource, KeystoreOptions, SignatureAlgorithm, TimeUnit};
pub use ordering::{Ordering, OrderingConfig, OrderingKey, OrderingMode};
pub use pacing::PacingConfig;
pub use proxy::{ProxyOptions, ProxyType};
pub use retry::{RetryConfig, RetryOption, RetryStrategy};
pub use secret::Secret;
pub use signature::SignatureConfig;
pub use ssl::{SslConfig, StoreConfig, StoreType};
pub use subscription::{CallbackMethod, CallbackTarget, HeaderEntry, SubscriptionConfig};
