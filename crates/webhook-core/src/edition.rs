//! What distinguishes the webhook plugins: the settings each edition serves.

use plugin_api::{ConfigError, EntrypointSpec};

use crate::config::SubscriptionConfig;
use crate::layers::{LayerSetup, Layers};

/// The rules of one webhook plugin on top of the shared schema.
pub trait Edition: Send + Sync + 'static {
    /// Problems with an entrypoint's API-level settings that this edition does not serve.
    fn check_entrypoint(&self, spec: &EntrypointSpec) -> Vec<ConfigError>;

    /// Problems with a consumer's settings that this edition does not serve.
    fn check_subscription(&self, config: &SubscriptionConfig) -> Vec<ConfigError>;

    /// The layers this edition adds to one subscription's delivery; none unless overridden.
    fn layers(&self, setup: LayerSetup<'_>) -> Result<Layers, String> {
        let _ = setup;
        Ok(Layers::default())
    }
}
