//! The advanced edition: serves every setting of the shared schema and adds the auth and DLQ layers.

use std::sync::Arc;

use plugin_kit::api::{ConfigError, EntrypointSpec};
use webhook_core::config::SubscriptionConfig;
use webhook_core::{Edition, LayerSetup, Layers};

use crate::auth::{self, authorizer};
use crate::dlq::QueueDeadLetter;

/// The `webhook-advanced` edition.
pub(crate) struct Advanced;

impl Edition for Advanced {
    fn check_entrypoint(&self, _spec: &EntrypointSpec) -> Vec<ConfigError> {
        Vec::new()
    }

    fn check_subscription(&self, config: &SubscriptionConfig) -> Vec<ConfigError> {
        auth::check(&config.auth)
    }

    fn layers(&self, setup: LayerSetup<'_>) -> Result<Layers, String> {
        Ok(Layers {
            authorizer: authorizer(&setup)?,
            dead_letter: setup
                .dead_letter
                .map(|publisher| Arc::new(QueueDeadLetter::new(publisher)) as Arc<dyn webhook_core::DeadLetter>),
        })
    }
}
