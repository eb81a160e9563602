//! QoS names as definitions spell them.

use plugin_api::Qos;
use serde::{Deserialize, Deserializer};

/// Parses `at-least-once`, `AT_LEAST_ONCE`, `auto`, ... (case and `-`/`_` do not matter).
pub(crate) fn parse_qos(name: &str) -> Option<Qos> {
    let normalized = name.trim().to_ascii_lowercase().replace('_', "-");
    Qos::ALL.into_iter().find(|qos| qos.as_str() == normalized)
}

pub(crate) fn deserialize_qos<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Qos>, D::Error> {
    let Some(name) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_qos(&name).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown QoS `{name}`, expected one of none, auto, at-most-once, at-least-once"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_spellings() {
        assert_eq!(parse_qos("AT_LEAST_ONCE"), Some(Qos::AtLeastOnce));
        assert_eq!(parse_qos("at-most-once"), Some(Qos::AtMostOnce));
        assert_eq!(parse_qos("Auto"), Some(Qos::Auto));
        assert_eq!(parse_qos("exactly-once"), None);
    }
}
