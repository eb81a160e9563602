//! What every client of the plugin starts from (brokers and security settings), and the error of an opening refused
//! for good.

use plugin_kit::api::OpenError;
use rdkafka::config::ClientConfig;

use crate::config::KafkaSettings;
use crate::security::client_settings;

/// Settings every client of `settings` shares: brokers and security.
pub(crate) fn base_config(settings: &KafkaSettings) -> Result<ClientConfig, OpenError> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &settings.bootstrap_servers);
    for (key, value) in client_settings(&settings.security).map_err(|error| refused(&error.message))? {
        config.set(key, value);
    }
    Ok(config)
}

/// An opening refused for good (a configuration the plugin cannot use), with `message`.
pub(crate) fn refused(message: &str) -> OpenError {
    OpenError { message: message.into(), retryable: false }
}
