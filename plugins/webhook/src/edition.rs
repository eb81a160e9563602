//! What the OSS edition refuses: the settings only `webhook-advanced` serves.

use plugin_kit::api::{ConfigError, EntrypointSpec};
use webhook_core::config::SubscriptionConfig;
use webhook_core::Edition;

/// The OSS webhook: no DLQ, no callback authentication, no retry.
pub(crate) struct OpenSource;

const ADVANCED_ONLY: &str =
    "is served by the `webhook-advanced` entrypoint; set the entrypoint type to `webhook-advanced`";

impl Edition for OpenSource {
    fn check_entrypoint(&self, spec: &EntrypointSpec) -> Vec<ConfigError> {
        if spec.dlq_endpoint.is_some() {
            vec![ConfigError::new("dlq", format!("a dead letter queue {ADVANCED_ONLY}"))]
        } else {
            Vec::new()
        }
    }

    fn check_subscription(&self, config: &SubscriptionConfig) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !config.auth.is_none() {
            errors.push(ConfigError::new("auth", format!("callback authentication {ADVANCED_ONLY}")));
        }
        if config.retry.is_enabled() {
            errors.push(ConfigError::new("retry", format!("retrying {ADVANCED_ONLY}")));
        }
        if config.signature.is_some() {
            errors.push(ConfigError::new("signature", format!("signing {ADVANCED_ONLY}")));
        }
        errors
    }
}
