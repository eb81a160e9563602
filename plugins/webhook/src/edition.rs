//! What the OSS edition refuses: the settings only `webhook-advanced` serves.

use plugin_kit::api::{ConfigError, EntrypointSpec};
use serde_json::Value;
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
        if config.auth.as_ref().is_some_and(|auth| field(auth, "type").is_some_and(|kind| kind != "none")) {
            errors.push(ConfigError::new("auth", format!("callback authentication {ADVANCED_ONLY}")));
        }
        if config
            .retry
            .as_ref()
            .is_some_and(|retry| field(retry, "retryOption").is_some_and(|option| option != "No Retry"))
        {
            errors.push(ConfigError::new("retry", format!("retrying {ADVANCED_ONLY}")));
        }
        errors
    }
}

fn field<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}
