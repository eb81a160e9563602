//! The configuration schema both webhook plugins share: the API-level entrypoint `configuration` and the
//! consumer's `entrypointConfiguration`.

mod entrypoint;
mod subscription;

pub use entrypoint::{EntrypointConfig, HttpOptions, ProxyOptions, MAX_CONCURRENT_CONNECTIONS};
pub use subscription::{CallbackTarget, HeaderEntry, SubscriptionConfig};
