//! A consumer configuration checked against the schema both webhook plugins share: within the egress policy, parsed,
//! its callback target and headers valid, its TLS configuration built (so that a bad certificate is an error at
//! subscription time).

use egress::EgressPolicy;
use plugin_api::ConfigError;

use crate::config::{CallbackTarget, SubscriptionConfig};
use crate::egress_rules;
use crate::transport::tls;

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
    /// Parses and checks `json` (a consumer's `entrypointConfiguration`) under `policy`; every error names its path.
    pub fn parse(json: &str, policy: &EgressPolicy) -> Result<Self, Vec<ConfigError>> {
        Self::check(SubscriptionConfig::parse(json)?, policy, |_| Vec::new())
    }

    /// Checks a parsed configuration: first the egress policy (a file outside the operator's folder is never read),
    /// then `edition`'s refusals with the shared schema's.
    pub(crate) fn check(
        mut config: SubscriptionConfig,
        policy: &EgressPolicy,
        edition: impl FnOnce(&SubscriptionConfig) -> Vec<ConfigError>,
    ) -> Result<Self, Vec<ConfigError>> {
        let mut errors = egress_rules::apply(policy, &mut config);
        if !errors.is_empty() {
            return Err(errors);
        }
        errors.extend(edition(&config));
        let target = config.target().map_err(|target_errors| errors.extend(target_errors)).ok();
        let tls = tls::client_config(&config.ssl).map_err(|tls_errors| errors.extend(tls_errors)).ok();
        match (target, tls) {
            (Some(target), Some(tls)) if errors.is_empty() => Ok(Self { config, target, tls }),
            _ => Err(errors),
        }
    }
}
