//! `ordering` of the entrypoint configuration: which messages of a subscription are delivered one after the other.

use plugin_api::{ConfigError, Qos};
use serde::Deserialize;

/// `ordering`, as written in the API definition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderingConfig {
    /// `none`, `strict` or `key`; unset: the QoS's own (`strict` under at-most-once and at-least-once).
    #[serde(default)]
    pub mode: Option<OrderingMode>,
    /// With `key`: the message header whose value is the key (else the record key).
    #[serde(default)]
    pub key_header: Option<String>,
    /// With `key`: the RFC 6901 pointer to the key in the JSON body (else the record key).
    #[serde(default)]
    pub key_json_pointer: Option<String>,
}

/// How deliveries are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderingMode {
    /// No order: up to `http.maxConcurrentConnections` in flight.
    None,
    /// One message at a time, in source order.
    Strict,
    /// The messages of one key one at a time in source order; different keys at once.
    Key,
}

/// Where a message's ordering key is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderingKey {
    /// The record key the source gives (Kafka's).
    RecordKey,
    /// The value of this message header (compared without regard to case).
    Header(String),
    /// The JSON value at this pointer in the body.
    JsonPointer(String),
}

/// The ordering a run applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ordering {
    /// No order.
    None,
    /// One at a time.
    Strict,
    /// One at a time per key read from the source given.
    Key(OrderingKey),
}

impl Ordering {
    /// Requests in flight at most under this ordering, with `max_concurrent_connections` configured.
    pub fn concurrency(&self, max_concurrent_connections: u32) -> usize {
        match self {
            Self::Strict => 1,
            Self::None | Self::Key(_) => max_concurrent_connections as usize,
        }
    }
}

impl OrderingConfig {
    /// The ordering applied under `qos`.
    pub fn resolve(&self, qos: Qos) -> Ordering {
        let mode = self.mode.unwrap_or(if qos.is_ordered() { OrderingMode::Strict } else { OrderingMode::None });
        match mode {
            OrderingMode::None => Ordering::None,
            OrderingMode::Strict => Ordering::Strict,
            OrderingMode::Key => Ordering::Key(match (&self.key_header, &self.key_json_pointer) {
                (Some(header), _) => OrderingKey::Header(header.clone()),
                (None, Some(pointer)) => OrderingKey::JsonPointer(pointer.clone()),
                (None, None) => OrderingKey::RecordKey,
            }),
        }
    }

    /// What is wrong with it, each with its path under `configuration`.
    pub(crate) fn check(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let keyed = self.mode == Some(OrderingMode::Key);
        for (name, given) in [("keyHeader", &self.key_header), ("keyJsonPointer", &self.key_json_pointer)] {
            if given.is_some() && !keyed {
                errors.push(ConfigError::new(format!("ordering.{name}"), "applies only with mode `key`"));
            }
        }
        if self.key_header.is_some() && self.key_json_pointer.is_some() {
            errors
                .push(ConfigError::new("ordering.keyJsonPointer", "give either keyHeader or keyJsonPointer, not both"));
        }
        if self.key_header.as_deref().is_some_and(|header| header.trim().is_empty()) {
            errors.push(ConfigError::new("ordering.keyHeader", "must not be empty"));
        }
        if let Some(pointer) = &self.key_json_pointer {
            if let Err(reason) = check_pointer(pointer) {
                errors.push(ConfigError::new("ordering.keyJsonPointer", reason));
            }
        }
        errors
    }
}

/// Whether `pointer` is an RFC 6901 JSON pointer: empty, or `/`-separated tokens where `~` is only `~0` or `~1`.
fn check_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!("`{pointer}` is not a JSON pointer (RFC 6901): it must start with `/`"));
    }
    let mut chars = pointer.chars();
    while let Some(char) = chars.next() {
        if char == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!("`{pointer}` is not a JSON pointer (RFC 6901): `~` must be followed by 0 or 1"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> OrderingConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_qos_decides_when_no_mode_is_given() {
        assert_eq!(parse("{}").resolve(Qos::AtLeastOnce), Ordering::Strict);
        assert_eq!(parse("{}").resolve(Qos::AtMostOnce), Ordering::Strict);
        assert_eq!(parse("{}").resolve(Qos::Auto), Ordering::None);
        assert_eq!(parse(r#"{"mode":"none"}"#).resolve(Qos::AtLeastOnce), Ordering::None);
    }

    #[test]
    fn a_key_comes_from_the_record_a_header_or_a_pointer() {
        assert_eq!(parse(r#"{"mode":"key"}"#).resolve(Qos::Auto), Ordering::Key(OrderingKey::RecordKey));
        let header = parse(r#"{"mode":"key","keyHeader":"x-account"}"#);
        assert_eq!(header.resolve(Qos::None), Ordering::Key(OrderingKey::Header("x-account".into())));
        let pointer = parse(r#"{"mode":"key","keyJsonPointer":"/order/id"}"#);
        assert_eq!(pointer.resolve(Qos::AtMostOnce), Ordering::Key(OrderingKey::JsonPointer("/order/id".into())));
        assert_eq!(pointer.resolve(Qos::AtMostOnce).concurrency(20), 20);
        assert_eq!(Ordering::Strict.concurrency(20), 1);
    }

    #[test]
    fn wrong_settings_name_their_path() {
        let paths = |json: &str| -> Vec<String> {
            parse(json).check().into_iter().map(|error| error.path.to_string()).collect()
        };
        assert_eq!(paths(r#"{"mode":"key","keyHeader":"a","keyJsonPointer":"/a"}"#), ["ordering.keyJsonPointer"]);
        assert_eq!(paths(r#"{"mode":"key","keyJsonPointer":"a/b"}"#), ["ordering.keyJsonPointer"]);
        assert_eq!(paths(r#"{"mode":"key","keyJsonPointer":"/a~2"}"#), ["ordering.keyJsonPointer"]);
        assert_eq!(paths(r#"{"mode":"strict","keyHeader":"a"}"#), ["ordering.keyHeader"]);
        assert!(paths(r#"{"mode":"key","keyJsonPointer":"/a~0b/~1c/0"}"#).is_empty());
        assert!(paths(r#"{"mode":"key","keyJsonPointer":""}"#).is_empty());
    }
}
