//! The entrypoint's API-level `configuration` (SPEC §3).

use std::time::Duration;

use plugin_api::{ConfigError, Qos};
use serde::Deserialize;

use super::ordering::{Ordering, OrderingConfig};
use super::proxy::ProxyOptions;

/// Requests in flight per subscription may not exceed this (SPEC §3).
pub(crate) const MAX_CONCURRENT_CONNECTIONS: u32 = 20;
/// `http.connectTimeout` may not exceed one minute.
pub(crate) const MAX_CONNECT_TIMEOUT_MS: u64 = 60_000;
/// `http.readTimeout` (the whole call) may not exceed five minutes.
pub(crate) const MAX_READ_TIMEOUT_MS: u64 = 300_000;
/// `http.idleTimeout` may not exceed one hour.
pub(crate) const MAX_IDLE_TIMEOUT_MS: u64 = 3_600_000;

/// The entrypoint's configuration, as written in the API definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntrypointConfig {
    /// Timeouts and concurrency of callback calls.
    #[serde(default)]
    pub http: HttpOptions,
    /// Proxy settings.
    #[serde(default)]
    pub proxy: ProxyOptions,
    /// Stop the subscription when a 5xx outlives its retries.
    #[serde(default = "interrupt_by_default")]
    pub interrupt_consumption_on_server_error: bool,
    /// Stop the subscription when a connection error or timeout outlives its retries.
    #[serde(default = "interrupt_by_default")]
    pub interrupt_consumption_on_exception: bool,
    /// What webhook logs keep.
    #[serde(default)]
    pub logging: LoggingOptions,
    /// Which messages are delivered one after the other.
    #[serde(default)]
    pub ordering: OrderingConfig,
}

/// The reference product stops on failures unless told otherwise.
fn interrupt_by_default() -> bool {
    true
}

/// HTTP options of callback calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpOptions {
    /// Time to open the connection, in milliseconds.
    #[serde(default = "default_connect_timeout_ms", rename = "connectTimeout")]
    pub connect_timeout_ms: u64,
    /// Time for the whole request and response, in milliseconds.
    #[serde(default = "default_read_timeout_ms", rename = "readTimeout")]
    pub read_timeout_ms: u64,
    /// A pooled connection unused this long is closed, in milliseconds.
    #[serde(default = "default_idle_timeout_ms", rename = "idleTimeout")]
    pub idle_timeout_ms: u64,
    /// Requests in flight per subscription.
    #[serde(default = "default_max_concurrent_connections")]
    pub max_concurrent_connections: u32,
    /// Bytes of an answer's body read at most (a callback's, a token endpoint's); the rest is never read.
    #[serde(default = "default_max_response_body_bytes")]
    pub max_response_body_bytes: usize,
    /// Which HTTP the calls speak.
    #[serde(default)]
    pub version: HttpVersion,
}

/// `http.version`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum HttpVersion {
    /// HTTP/1.1, or HTTP/2 where an `https` callback offers it (ALPN `h2`).
    #[default]
    #[serde(rename = "HTTP_1_1")]
    Http11,
    /// HTTP/2 only: with prior knowledge on `http` (h2c), by ALPN on `https`.
    #[serde(rename = "HTTP_2")]
    Http2,
}

/// SPEC §3 defaults.
fn default_connect_timeout_ms() -> u64 {
    3_000
}
fn default_read_timeout_ms() -> u64 {
    10_000
}
fn default_idle_timeout_ms() -> u64 {
    60_000
}
fn default_max_concurrent_connections() -> u32 {
    5
}
/// Enough for a webhook log's response body and any token answer.
fn default_max_response_body_bytes() -> usize {
    64 * 1024
}
/// `http.maxResponseBodyBytes` may not exceed 16 MiB.
pub(crate) const MAX_RESPONSE_BODY_BYTES: usize = 16 * 1024 * 1024;

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout_ms: default_connect_timeout_ms(),
            read_timeout_ms: default_read_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
            max_concurrent_connections: default_max_concurrent_connections(),
            max_response_body_bytes: default_max_response_body_bytes(),
            version: HttpVersion::default(),
        }
    }
}

impl HttpOptions {
    /// Time to open the connection.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// Time for the whole request and response.
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms)
    }

    /// Idle time after which a pooled connection is closed.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
}

/// `logging`: whether deliveries are logged, and which parts (SPEC §8).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LoggingOptions {
    /// Log sampled deliveries.
    #[serde(default)]
    pub enabled: bool,
    /// Request headers and body.
    #[serde(default)]
    pub request: LoggedParts,
    /// Response headers and body.
    #[serde(default)]
    pub response: LoggedParts,
}

/// Which parts of a request or response are kept.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LoggedParts {
    /// The headers (credentials masked).
    #[serde(default)]
    pub headers: bool,
    /// The body.
    #[serde(default)]
    pub payload: bool,
}

impl EntrypointConfig {
    /// Parses the configuration; every error names its path relative to `configuration`.
    pub fn parse(json: &str) -> Result<Self, Vec<ConfigError>> {
        let config: Self = plugin_kit::parse_config(json, "").map_err(|errors| errors.into_vec())?;
        let errors = config.check();
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    /// The ordering applied under `qos`.
    pub fn ordering(&self, qos: Qos) -> Ordering {
        self.ordering.resolve(qos)
    }

    /// Requests in flight per subscription under `qos`: one under strict ordering.
    pub fn concurrency(&self, qos: Qos) -> usize {
        self.ordering(qos).concurrency(self.http.max_concurrent_connections)
    }

    /// Warnings for settings that are accepted but do not apply under `qos`.
    pub fn warnings(&self, qos: Qos) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.ordering(qos) == Ordering::Strict && self.http.max_concurrent_connections > 1 {
            warnings.push(format!(
                "http.maxConcurrentConnections {} is forced to 1 under {} with strict ordering (ordering.mode `key` \
                 delivers different keys at once)",
                self.http.max_concurrent_connections,
                qos.as_str()
            ));
        }
        warnings
    }

    fn check(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let http = &self.http;
        for (name, value, max) in [
            ("connectTimeout", http.connect_timeout_ms, MAX_CONNECT_TIMEOUT_MS),
            ("readTimeout", http.read_timeout_ms, MAX_READ_TIMEOUT_MS),
            ("idleTimeout", http.idle_timeout_ms, MAX_IDLE_TIMEOUT_MS),
        ] {
            if !(1..=max).contains(&value) {
                errors.push(ConfigError::new(
                    format!("http.{name}"),
                    format!("must be between 1 and {max} milliseconds, got {value}"),
                ));
            }
        }
        if !(1..=MAX_CONCURRENT_CONNECTIONS).contains(&http.max_concurrent_connections) {
            errors.push(ConfigError::new(
                "http.maxConcurrentConnections",
                format!("must be between 1 and {MAX_CONCURRENT_CONNECTIONS}, got {}", http.max_concurrent_connections),
            ));
        }
        if http.max_response_body_bytes > MAX_RESPONSE_BODY_BYTES {
            errors.push(ConfigError::new(
                "http.maxResponseBodyBytes",
                format!("must be at most {MAX_RESPONSE_BODY_BYTES} bytes, got {}", http.max_response_body_bytes),
            ));
        }
        errors.extend(self.proxy.check());
        errors.extend(self.ordering.check());
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_configuration_takes_the_spec_defaults() {
        let config = EntrypointConfig::parse("{}").unwrap();
        assert_eq!(config.http.connect_timeout_ms, 3_000);
        assert_eq!(config.http.read_timeout_ms, 10_000);
        assert_eq!(config.http.idle_timeout_ms, 60_000);
        assert_eq!(config.concurrency(Qos::Auto), 5);
        assert_eq!(config.concurrency(Qos::AtLeastOnce), 1);
        assert!(config.interrupt_consumption_on_server_error && config.interrupt_consumption_on_exception);
    }

    #[test]
    fn concurrency_above_twenty_is_refused_with_its_path() {
        let errors = EntrypointConfig::parse(r#"{"http":{"maxConcurrentConnections":21}}"#).unwrap_err();
        assert_eq!(errors[0].path.as_str(), "http.maxConcurrentConnections");
    }

    #[test]
    fn timeouts_have_upper_bounds() {
        let errors =
            EntrypointConfig::parse(r#"{"http":{"connectTimeout":60001,"readTimeout":300001,"idleTimeout":0}}"#)
                .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["http.connectTimeout", "http.readTimeout", "http.idleTimeout"]);
    }

    #[test]
    fn a_wrong_type_names_its_path() {
        let errors = EntrypointConfig::parse(r#"{"http":{"readTimeout":"soon"}}"#).unwrap_err();
        assert_eq!(errors[0].path.as_str(), "http.readTimeout");
    }
}
