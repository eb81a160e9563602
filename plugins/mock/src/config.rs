//! The mock endpoint's `configuration` (SPEC §6).

use std::time::Duration;

use plugin_kit::api::{ConfigError, ConfigErrors, Header};
use serde::Deserialize;

/// What the mock generates.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MockSettings {
    /// Time between two messages, in milliseconds.
    #[serde(default = "default_interval_ms", rename = "messageInterval")]
    pub(crate) message_interval_ms: u64,
    /// Body of every message.
    #[serde(default = "default_content")]
    pub(crate) message_content: String,
    /// How many messages in all; unlimited when absent.
    #[serde(default)]
    pub(crate) message_count: Option<u64>,
    /// Headers of every message.
    #[serde(default)]
    pub(crate) headers: Vec<NameValue>,
    /// Metadata of every message.
    #[serde(default)]
    pub(crate) metadata: Vec<NameValue>,
    /// With a number of keys, message `n` has the record key `key-<n mod keys>`; without, no key.
    #[serde(default)]
    pub(crate) message_keys: Option<u64>,
}

/// The longest time between two messages: a day.
const MAX_INTERVAL_MS: u64 = 86_400_000;

/// One second between messages, as the reference product's mock.
fn default_interval_ms() -> u64 {
    1_000
}

fn default_content() -> String {
    "mock message".to_string()
}

/// A `{name, value}` pair.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NameValue {
    name: String,
    #[serde(default)]
    value: String,
}

impl MockSettings {
    /// Parses the endpoint's `configuration`; errors are named under `configuration`.
    pub(crate) fn parse(json: &str) -> Result<Self, ConfigErrors> {
        let settings: Self = plugin_kit::parse_config(json, "configuration")?;
        if settings.message_interval_ms > MAX_INTERVAL_MS {
            let message =
                format!("must be at most {MAX_INTERVAL_MS} milliseconds, got {}", settings.message_interval_ms);
            return Err(vec![ConfigError::new("configuration.messageInterval", message)].into());
        }
        if settings.message_keys == Some(0) {
            return Err(vec![ConfigError::new("configuration.messageKeys", "must be at least 1")].into());
        }
        Ok(settings)
    }

    /// Time between two messages.
    pub(crate) fn interval(&self) -> Duration {
        Duration::from_millis(self.message_interval_ms)
    }

    /// The record key of message `id`, when keys are asked for.
    pub(crate) fn key_of(&self, id: u64) -> Option<String> {
        self.message_keys.map(|keys| format!("key-{}", id % keys))
    }

    /// Headers as message headers.
    pub(crate) fn message_headers(&self) -> Vec<Header> {
        to_headers(&self.headers)
    }

    /// Metadata as message metadata.
    pub(crate) fn message_metadata(&self) -> Vec<Header> {
        to_headers(&self.metadata)
    }
}

fn to_headers(pairs: &[NameValue]) -> Vec<Header> {
    pairs.iter().map(|pair| Header::new(&pair.name, &pair.value)).collect()
}
