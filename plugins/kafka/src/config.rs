//! The kafka endpoint's configuration (SPEC §6): `configuration.bootstrapServers` on the endpoint, `security`,
//! `consumer` and `producer` in the (group's or overriding) shared configuration.

use plugin_kit::api::{ConfigError, ConfigErrors, EndpointSpec, Mode};
use std::collections::BTreeMap;

use serde::Deserialize;

/// Everything one endpoint says.
#[derive(Debug, Clone)]
pub(crate) struct KafkaSettings {
    /// `host:port[,host:port]`.
    pub(crate) bootstrap_servers: String,
    /// How to reach the brokers.
    pub(crate) security: Security,
    /// Reading.
    pub(crate) consumer: ConsumerOptions,
    /// Writing.
    pub(crate) producer: ProducerOptions,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndpointConfiguration {
    bootstrap_servers: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SharedConfiguration {
    #[serde(default)]
    security: Security,
    #[serde(default)]
    consumer: ConsumerOptions,
    #[serde(default)]
    producer: ProducerOptions,
}

/// `security`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Security {
    /// The protocol to the brokers.
    #[serde(default)]
    pub(crate) protocol: Protocol,
    /// SASL settings, for `SASL_*`.
    #[serde(default)]
    pub(crate) sasl: Option<Sasl>,
    /// TLS settings, for `SSL` and `SASL_SSL`.
    #[serde(default)]
    pub(crate) ssl: Option<Ssl>,
}

/// `security.protocol`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Protocol {
    /// No TLS, no authentication.
    #[default]
    Plaintext,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS.
    SaslSsl,
    /// TLS.
    Ssl,
}

/// `security.sasl`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sasl {
    /// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`.
    pub(crate) sasl_mechanism: String,
    /// A JAAS line as the reference product takes it: `... required username="u" password="p";`.
    #[serde(default)]
    pub(crate) sasl_jaas_config: Option<String>,
}

/// `security.ssl`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Ssl {
    /// CA certificates to trust.
    #[serde(default)]
    pub(crate) trust_store: Option<StoreSource>,
    /// The client certificate and key.
    #[serde(default)]
    pub(crate) key_store: Option<StoreSource>,
    /// `https` (verify the broker's host name, the default) or empty (do not).
    #[serde(default)]
    pub(crate) endpoint_identification_algorithm: Option<String>,
}

/// A trust or key store: PEM (content or path) or PKCS12 (path).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoreSource {
    /// `PEM`, `PKCS12` or `JKS`.
    #[serde(rename = "type")]
    pub(crate) store_type: String,
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) password: Option<String>,
    #[serde(default)]
    pub(crate) cert_path: Option<String>,
    #[serde(default)]
    pub(crate) cert_content: Option<String>,
    #[serde(default)]
    pub(crate) key_path: Option<String>,
    #[serde(default)]
    pub(crate) key_content: Option<String>,
}

/// `consumer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsumerOptions {
    #[serde(default)]
    pub(crate) enabled: bool,
    #[serde(default)]
    pub(crate) topics: Vec<String>,
    #[serde(default)]
    pub(crate) auto_offset_reset: OffsetReset,
    /// Message ids as base64 of `topic@partition#offset`.
    #[serde(default = "encode_by_default")]
    pub(crate) encode_message_id: bool,
    /// librdkafka consumer properties passed through as given (`max.poll.interval.ms`, `fetch.wait.max.ms`, ...),
    /// applied after the gateway's own defaults; those the gateway owns are refused.
    #[serde(default)]
    pub(crate) properties: BTreeMap<String, String>,
}

/// Consumer properties the gateway sets itself: commits follow the QoS. (`group.id` is allowed: it names the feed
/// group.)
const OWNED_PROPERTIES: [&str; 4] =
    ["enable.auto.commit", "enable.auto.offset.store", "bootstrap.servers", "enable.partition.eof"];

/// The reference product encodes message ids unless told otherwise.
fn encode_by_default() -> bool {
    true
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            enabled: false,
            topics: Vec::new(),
            auto_offset_reset: OffsetReset::default(),
            encode_message_id: true,
            properties: BTreeMap::new(),
        }
    }
}

/// `consumer.autoOffsetReset`: where a group without a committed offset starts.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OffsetReset {
    /// At the end.
    #[default]
    Latest,
    /// At the beginning.
    Earliest,
    /// Nowhere: an error.
    None,
}

/// `producer`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProducerOptions {
    #[serde(default)]
    pub(crate) enabled: bool,
    #[serde(default)]
    pub(crate) topics: Vec<String>,
    #[serde(default)]
    pub(crate) compression_type: Compression,
}

/// `producer.compressionType`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Compression {
    #[default]
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    /// librdkafka's spelling.
    pub(crate) fn as_librdkafka(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Snappy => "snappy",
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }
}

impl KafkaSettings {
    /// Parses both documents; error paths start with `configuration` or `sharedConfiguration`.
    pub(crate) fn parse(spec: &EndpointSpec) -> Result<Self, ConfigErrors> {
        let endpoint = plugin_kit::parse_config::<EndpointConfiguration>(&spec.configuration, "configuration");
        let shared = plugin_kit::parse_config::<SharedConfiguration>(&spec.shared_configuration, "sharedConfiguration");
        let (endpoint, shared) = match (endpoint, shared) {
            (Ok(endpoint), Ok(shared)) => (endpoint, shared),
            (endpoint, shared) => {
                let errors: Vec<ConfigError> =
                    endpoint.err().into_iter().chain(shared.err()).flat_map(|errors| errors.into_vec()).collect();
                return Err(errors.into());
            }
        };
        let settings = Self {
            bootstrap_servers: endpoint.bootstrap_servers,
            security: shared.security,
            consumer: shared.consumer,
            producer: shared.producer,
        };
        let errors = settings.check();
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors.into())
        }
    }

    /// The modes this endpoint enables.
    pub(crate) fn modes(&self) -> Vec<Mode> {
        let mut modes = Vec::new();
        if self.consumer.enabled {
            modes.push(Mode::Subscribe);
        }
        if self.producer.enabled {
            modes.push(Mode::Publish);
        }
        modes
    }

    fn check(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.bootstrap_servers.trim().is_empty() {
            errors.push(ConfigError::new("configuration.bootstrapServers", "must name at least one broker"));
        }
        if self.consumer.enabled && self.consumer.topics.is_empty() {
            errors.push(ConfigError::new("sharedConfiguration.consumer.topics", "must name at least one topic"));
        }
        if self.producer.enabled && self.producer.topics.is_empty() {
            errors.push(ConfigError::new("sharedConfiguration.producer.topics", "must name at least one topic"));
        }
        if let Err(error) = crate::security::client_settings(&self.security) {
            errors.push(error);
        }
        for key in self.consumer.properties.keys() {
            if OWNED_PROPERTIES.contains(&key.as_str()) || key.starts_with("security.") || key.starts_with("sasl.") {
                errors.push(ConfigError::new(
                    format!("sharedConfiguration.consumer.properties.{key}"),
                    "is set by the gateway (the group is the subscription, commits follow the QoS, security has its own section)",
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(shared: &str, configuration: &str) -> EndpointSpec {
        EndpointSpec { shared_configuration: shared.into(), configuration: configuration.into() }
    }

    #[test]
    fn the_spec_example_parses_with_its_defaults() {
        let settings = KafkaSettings::parse(&spec(
            r#"{"security":{"protocol":"PLAINTEXT"},"consumer":{"enabled":true,"topics":["orders"],"autoOffsetReset":"earliest"}}"#,
            r#"{"bootstrapServers":"127.0.0.1:9092"}"#,
        ))
        .unwrap();
        assert_eq!(settings.modes(), vec![Mode::Subscribe]);
        assert_eq!(settings.consumer.auto_offset_reset, OffsetReset::Earliest);
        assert!(settings.consumer.encode_message_id);
    }

    #[test]
    fn errors_name_the_document_and_the_field() {
        let errors = KafkaSettings::parse(&spec(r#"{"consumer":{"enabled":true}}"#, "{}")).unwrap_err();
        assert_eq!(errors[0].path.as_str(), "configuration");
        assert!(errors[0].message.contains("bootstrapServers"));
        let errors =
            KafkaSettings::parse(&spec(r#"{"consumer":{"enabled":true}}"#, r#"{"bootstrapServers":"b:9092"}"#))
                .unwrap_err();
        assert_eq!(errors[0].path.as_str(), "sharedConfiguration.consumer.topics");
        let errors = KafkaSettings::parse(&spec(r#"{"security":{"protocol":"TLS"}}"#, r#"{"bootstrapServers":"b"}"#))
            .unwrap_err();
        assert_eq!(errors[0].path.as_str(), "sharedConfiguration.security.protocol");
    }

    #[test]
    fn consumer_properties_pass_through_except_those_the_gateway_owns() {
        let ok = KafkaSettings::parse(&spec(
            r#"{"consumer":{"enabled":true,"topics":["t"],"properties":{"max.poll.interval.ms":"10000"}}}"#,
            r#"{"bootstrapServers":"b:9092"}"#,
        ))
        .unwrap();
        assert_eq!(ok.consumer.properties["max.poll.interval.ms"], "10000");
        let errors = KafkaSettings::parse(&spec(
            r#"{"consumer":{"enabled":true,"topics":["t"],"properties":{"enable.auto.commit":"true"}}}"#,
            r#"{"bootstrapServers":"b:9092"}"#,
        ))
        .unwrap_err();
        assert_eq!(errors[0].path.as_str(), "sharedConfiguration.consumer.properties.enable.auto.commit");
    }
}
