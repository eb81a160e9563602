//! The gateway's configuration: the embedded default, a file over it, environment variables over both.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use abi_stable::std_types::RString;
use plugin_api::EgressSettings;
use serde::Deserialize;
use toml::Value;

/// The embedded default; documents every key.
const DEFAULT_CONFIG: &str = include_str!("../default-config.toml");
/// Prefix of the environment variables that override keys.
const ENV_PREFIX: &str = "GATEWAY";

/// The gateway's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Plugin folder.
    pub plugins: DirSection,
    /// API definitions folder.
    pub definitions: DirSection,
    /// Where APIs, subscriptions and webhook logs are kept.
    pub store: StoreSection,
    /// Management API.
    pub management: ManagementSection,
    /// What consumers' callbacks may reach.
    pub egress: EgressSection,
    /// Prometheus metrics.
    pub metrics: MetricsSection,
    /// Logging.
    pub log: LogSection,
    /// Graceful shutdown.
    pub shutdown: ShutdownSection,
    /// Webhook logs.
    pub webhook_logs: WebhookLogsSection,
    /// OpenTelemetry traces.
    pub tracing: TracingSection,
    /// Operational webhooks.
    pub notifications: NotificationsSection,
}

/// Webhook logs: retention and queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookLogsSection {
    /// Entries older than this many hours are dropped.
    pub max_age_hours: u64,
    /// Only the newest this many entries are kept.
    pub max_entries: u64,
    /// Entries waiting to be written, at most.
    pub queue_capacity: u64,
    /// How often the retention limits are applied, in milliseconds.
    pub trim_interval_ms: u64,
}

/// A section naming a folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirSection {
    /// The folder.
    pub dir: PathBuf,
}

/// Where APIs, subscriptions and webhook logs are kept: an embedded file (one gateway) or Kafka topics (a cluster).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// `sqlite` or `kafka`.
    pub kind: StoreKind,
    /// The SQLite file (with `kafka`: this node's index of the webhook logs).
    pub path: PathBuf,
    /// Base64 of the 32-byte key sealing the store's secrets; generated beside the store when empty.
    pub encryption_key: String,
    /// `kafka`: the brokers.
    pub bootstrap_servers: String,
    /// `kafka`: the start of the store's topic names and consumer groups.
    pub topic_prefix: String,
    /// `kafka`: plaintext, ssl, sasl_plaintext or sasl_ssl.
    pub security_protocol: String,
    /// `kafka` with SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    pub sasl_mechanism: String,
    /// `kafka` with SASL: the user.
    pub sasl_username: String,
    /// `kafka` with SASL: the password.
    pub sasl_password: String,
    /// `kafka` with TLS: a PEM file of the certificate authorities to trust; empty: the system's.
    pub ssl_ca_location: String,
}

/// The kinds of store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// One embedded SQLite file: one gateway.
    Sqlite,
    /// Kafka topics shared by every node of a cluster.
    Kafka,
}

/// The management API listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementSection {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Bearer token; generated when empty.
    pub token: String,
    /// The environment id the reference product's paths accept besides `DEFAULT`.
    pub environment_id: String,
    /// The organization id the reference product's paths accept besides `DEFAULT`.
    pub organization_id: String,
    /// Users who sign in with HTTP Basic authentication besides the bearer token.
    pub users: Vec<ManagementUser>,
}

/// A management user: a name and the Argon2 PHC hash of its password (`gateway-host hash-password`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementUser {
    /// The name it signs in with.
    pub username: String,
    /// `$argon2id$v=19$...`.
    pub password_hash: String,
}

/// What consumers' callbacks may reach, and which files their subscriptions may name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressSection {
    /// Networks reachable besides public addresses.
    pub allow_networks: Vec<String>,
    /// The folder of files subscriptions may name; empty: none.
    pub subscription_files_dir: String,
}

impl EgressSection {
    /// The settings handed to plugins, once every network parses and the folder exists.
    pub fn settings(&self) -> Result<EgressSettings, ConfigError> {
        for network in &self.allow_networks {
            egress::parse_network(network).map_err(|error| {
                ConfigError::Invalid(format!("egress.allow_networks (GATEWAY_EGRESS_ALLOW_NETWORKS): {error}"))
            })?;
        }
        let files_dir = match self.subscription_files_dir.trim() {
            "" => None,
            dir if Path::new(dir).is_dir() => Some(RString::from(dir)),
            dir => {
                return Err(ConfigError::Invalid(format!(
                    "egress.subscription_files_dir (GATEWAY_EGRESS_SUBSCRIPTION_FILES_DIR): `{dir}` is not a folder"
                )))
            }
        };
        Ok(EgressSettings {
            allow_networks: self.allow_networks.iter().map(|network| RString::from(network.trim())).collect(),
            subscription_files_dir: files_dir.into(),
        })
    }
}

/// Prometheus metrics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Series per subscription; else summed per API.
    pub subscription_labels: bool,
    /// The time between two points of the console's plots.
    pub history_interval_ms: u64,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// A tracing filter.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

/// Operational webhooks (`docs/observability.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsSection {
    /// The endpoints.
    pub webhooks: Vec<NotificationWebhook>,
    /// Notifications kept per endpoint while it does not take them; past that the oldest are dropped.
    pub queue_capacity: u64,
}

/// One notification endpoint.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationWebhook {
    /// Where notifications are POSTed.
    pub url: String,
    /// `whsec_` + base64: the Standard Webhooks key they are signed with.
    pub secret: String,
    /// The event types it wants; empty: all.
    #[serde(default)]
    pub events: Vec<String>,
}

impl std::fmt::Debug for NotificationWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationWebhook").field("url", &self.url).field("events", &self.events).finish()
    }
}

/// OpenTelemetry traces (`docs/observability.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingSection {
    /// Where spans are exported.
    pub otlp: OtlpSection,
    /// The same as `otlp.endpoint`, as a key of this section (`otlp.endpoint` wins where both are set).
    pub otlp_endpoint: String,
    /// The share of new traces recorded, 0 to 1.
    pub sampling_ratio: f64,
    /// `service.name`; empty: `OTEL_SERVICE_NAME`, else `webhook-gateway`.
    pub service_name: String,
    /// `key=value` resource attributes, over `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource_attributes: Vec<String>,
}

/// An OTLP/HTTP collector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpSection {
    /// Its base URL (`http://collector:4318`); empty: the OpenTelemetry variables', else no export.
    pub endpoint: String,
}

/// Graceful shutdown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownSection {
    /// Time in-flight deliveries get to finish.
    pub drain_timeout_ms: u64,
}

impl ShutdownSection {
    /// Time in-flight deliveries get to finish.
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.drain_timeout_ms)
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        message: String,
    },
    /// A key the gateway does not know (a typo, most likely).
    #[error("unknown configuration key `{0}`")]
    UnknownKey(String),
    /// An environment variable whose value does not fit its key.
    #[error("environment variable {variable}: {message}")]
    Environment {
        /// The variable.
        variable: String,
        /// What is wrong.
        message: String,
    },
    /// A value of the wrong type or shape.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl GatewayConfig {
    /// Loads the embedded default, then `file` over it, then `GATEWAY_*` variables from `env` over both; checks the
    /// values no type says enough about (the egress networks and folder).
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config: Value = DEFAULT_CONFIG.parse().expect("the embedded default is valid TOML");
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
            let overrides: Value = text.parse().map_err(|error: toml::de::Error| ConfigError::Syntax {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
            merge(&mut config, overrides, "")?;
        }
        apply_environment(&mut config, "", &env)?;
        let config: Self =
            config.try_into().map_err(|error: toml::de::Error| ConfigError::Invalid(error.message().to_string()))?;
        config.egress.settings()?;
        if config.store.kind == StoreKind::Kafka {
            for (value, key) in [
                (&config.store.bootstrap_servers, "store.bootstrap_servers (GATEWAY_STORE_BOOTSTRAP_SERVERS)"),
                (&config.store.topic_prefix, "store.topic_prefix (GATEWAY_STORE_TOPIC_PREFIX)"),
                // Every node opens the others' secrets: a key generated per node would not.
                (&config.store.encryption_key, "store.encryption_key (GATEWAY_STORE_ENCRYPTION_KEY)"),
            ] {
                if value.trim().is_empty() {
                    return Err(ConfigError::Invalid(format!(
                        "{key} is required with store.kind = \"kafka\", the same on every node of the cluster"
                    )));
                }
            }
        }
        Ok(config)
    }
}

/// Lays `overrides` over `base`; a key absent from the default is refused.
fn merge(base: &mut Value, overrides: Value, path: &str) -> Result<(), ConfigError> {
    match (base, overrides) {
        (Value::Table(base), Value::Table(overrides)) => {
            for (key, value) in overrides {
                let key_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let slot = base.get_mut(&key).ok_or_else(|| ConfigError::UnknownKey(key_path.clone()))?;
                merge(slot, value, &key_path)?;
            }
            Ok(())
        }
        (base, value) => {
            *base = value;
            Ok(())
        }
    }
}

/// Every leaf key `a.b` can be set by `GATEWAY_A_B`; the value is read as the leaf's type.
fn apply_environment(node: &mut Value, path: &str, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    if let Value::Table(table) = node {
        for (key, value) in table.iter_mut() {
            let key_path = if path.is_empty() { key.clone() } else { format!("{path}_{key}") };
            apply_environment(value, &key_path, env)?;
        }
        return Ok(());
    }
    let variable = format!("{ENV_PREFIX}_{}", path.to_ascii_uppercase());
    let Some(text) = env(&variable) else {
        return Ok(());
    };
    *node = match node {
        Value::Integer(_) => Value::Integer(
            text.trim()
                .parse()
                .map_err(|_| ConfigError::Environment { variable, message: format!("`{text}` is not an integer") })?,
        ),
        Value::Array(_) => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.into()))
                .collect(),
        ),
        Value::Float(_) => Value::Float(
            text.trim()
                .parse()
                .map_err(|_| ConfigError::Environment { variable, message: format!("`{text}` is not a number") })?,
        ),
        Value::Boolean(_) => {
            Value::Boolean(text.trim().parse().map_err(|_| ConfigError::Environment {
                variable,
                message: format!("`{text}` is not true or false"),
            })?)
        }
        _ => Value::String(text),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn the_embedded_default_loads() {
        let config = GatewayConfig::load(None, env(&[])).unwrap();
        assert_eq!(config.management.listen.to_string(), "127.0.0.1:18082");
        assert_eq!(config.plugins.dir, PathBuf::from("plugins"));
    }

    #[test]
    fn environment_overrides_every_key() {
        let config = GatewayConfig::load(
            None,
            env(&[
                ("GATEWAY_MANAGEMENT_TOKEN", "t0k"),
                ("GATEWAY_SHUTDOWN_DRAIN_TIMEOUT_MS", "5"),
                ("GATEWAY_PLUGINS_DIR", "/p"),
            ]),
        )
        .unwrap();
        assert_eq!(config.management.token, "t0k");
        assert_eq!(config.shutdown.drain_timeout_ms, 5);
        assert_eq!(config.plugins.dir, PathBuf::from("/p"));
        let error = GatewayConfig::load(None, env(&[("GATEWAY_SHUTDOWN_DRAIN_TIMEOUT_MS", "soon")])).unwrap_err();
        assert!(error.to_string().contains("GATEWAY_SHUTDOWN_DRAIN_TIMEOUT_MS"), "{error}");
    }

    #[test]
    fn a_file_overrides_and_unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("gateway-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gateway.toml");
        std::fs::write(&file, "[management]\nlisten = \"127.0.0.1:9\"\n").unwrap();
        let config = GatewayConfig::load(Some(&file), env(&[])).unwrap();
        assert_eq!(config.management.listen.port(), 9);
        std::fs::write(&file, "[managment]\nlisten = \"127.0.0.1:9\"\n").unwrap();
        let error = GatewayConfig::load(Some(&file), env(&[])).unwrap_err();
        assert_eq!(error.to_string(), "unknown configuration key `managment`");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_kafka_store_needs_its_brokers_and_the_clusters_key() {
        assert_eq!(GatewayConfig::load(None, env(&[])).unwrap().store.kind, StoreKind::Sqlite, "sqlite by default");
        let error = GatewayConfig::load(None, env(&[("GATEWAY_STORE_KIND", "kafka")])).unwrap_err();
        assert!(error.to_string().contains("GATEWAY_STORE_BOOTSTRAP_SERVERS"), "{error}");
        let error = GatewayConfig::load(
            None,
            env(&[("GATEWAY_STORE_KIND", "kafka"), ("GATEWAY_STORE_BOOTSTRAP_SERVERS", "127.0.0.1:9092")]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("GATEWAY_STORE_ENCRYPTION_KEY"), "{error}");
        let config = GatewayConfig::load(
            None,
            env(&[
                ("GATEWAY_STORE_KIND", "kafka"),
                ("GATEWAY_STORE_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                ("GATEWAY_STORE_ENCRYPTION_KEY", "k"),
            ]),
        )
        .unwrap();
        assert_eq!((config.store.kind, config.store.topic_prefix.as_str()), (StoreKind::Kafka, "webhook-gateway"));
        let error = GatewayConfig::load(None, env(&[("GATEWAY_STORE_KIND", "etcd")])).unwrap_err();
        assert!(error.to_string().contains("etcd"), "{error}");
    }

    #[test]
    fn egress_networks_come_comma_separated_and_a_bad_one_is_named() {
        let config = GatewayConfig::load(None, env(&[("GATEWAY_EGRESS_ALLOW_NETWORKS", "127.0.0.0/8, ::1")])).unwrap();
        assert_eq!(config.egress.allow_networks, ["127.0.0.0/8", "::1"]);
        assert!(GatewayConfig::load(None, env(&[])).unwrap().egress.allow_networks.is_empty(), "nothing by default");
        let error = GatewayConfig::load(None, env(&[("GATEWAY_EGRESS_ALLOW_NETWORKS", "10.0.0.0/33")])).unwrap_err();
        assert!(
            error.to_string().contains("GATEWAY_EGRESS_ALLOW_NETWORKS") && error.to_string().contains("10.0.0.0/33")
        );
        let error =
            GatewayConfig::load(None, env(&[("GATEWAY_EGRESS_SUBSCRIPTION_FILES_DIR", "/nonexistent")])).unwrap_err();
        assert!(error.to_string().contains("egress.subscription_files_dir"), "{error}");
    }
}
