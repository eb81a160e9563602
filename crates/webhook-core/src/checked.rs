//! A consumer configuration checked against the schema both webhook plugins share: parsed, its callback target
//! and headers valid, its TLS configuration built (so that a bad certificate is an error at subscription time).

use plugin_api::ConfigError;

use crate::config::{CallbackTarget, SubscriptionConfig};
use crate::tls;

/// A consumer configuration that passed every check.
pub struct CheckedSubscription {
    /// The configuration.
    pub config: SubscriptionConfig,
    /// Where and with which headers to call.
    pub target: CallbackTarget,
    /// The TLS client configuration of its callback.
    pub tls: rustls::ClientConfig,
}

impl CheckedSubscription {
    /// Parses and checks `json` (a consumer's `entrypointConfiguration`); every error names its path.
    pub fn parse(json: &str) -> Result<Self, Vec<ConfigError>> {
        Self::check(SubscriptionConfig::parse(json)?, Vec::new())
    }

    /// Checks a parsed configuration; `errors` found already (an edition's refusals) are reported with the rest.
    pub(crate) fn check(config: SubscriptionConfig, mut errors: Vec<ConfigError>) -> Result<Self, Vec<ConfigError>> {
        let target = config.target().map_err(|target_errors| errors.extend(target_errors)).ok();
        let tls = tls::client_config(&config.ssl).map_err(|tls_errors| errors.extend(tls_errors)).ok();
        match (target, tls) {
            (Some(target), Some(tls)) if errors.is_empty() => Ok(Self { config, target, tls }),
            _ => Err(errors),
        }
    }
}
