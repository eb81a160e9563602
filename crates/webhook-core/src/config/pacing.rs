//! `pacing` of the consumer's configuration: how fast the callback is called (beyond the reference, as Svix and
//! Convoy let an endpoint set a rate), and whether the in-flight limit adapts to the callback.

use plugin_api::ConfigError;
use serde::Deserialize;

/// The fastest rate a subscription may ask for, in deliveries per second (beyond it, pacing means nothing).
pub(crate) const MAX_PER_SECOND: f64 = 1_000_000.0;
/// The slowest: one delivery a day.
pub(crate) const MIN_PER_SECOND: f64 = 1.0 / 86_400.0;

/// `pacing`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PacingConfig {
    /// Deliveries started per second at most (fractional: 0.5 is one every 2 s); unlimited when absent.
    #[serde(default)]
    pub max_per_second: Option<f64>,
    /// Whether the in-flight limit adapts to the callback: halved on 429, 503 or a read timeout, raised by one after
    /// a run of successes, up to `http.maxConcurrentConnections`.
    #[serde(default)]
    pub adaptive: bool,
}

impl PacingConfig {
    /// What is wrong with it, with paths under `pacing`.
    pub(crate) fn check(&self) -> Vec<ConfigError> {
        match self.max_per_second {
            Some(rate) if !(MIN_PER_SECOND..=MAX_PER_SECOND).contains(&rate) => vec![ConfigError::new(
                "pacing.maxPerSecond",
                format!("must be between {MIN_PER_SECOND:.6} (one a day) and {MAX_PER_SECOND}, got {rate}"),
            )],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PacingConfig, String> {
        serde_json::from_str(json).map_err(|error| error.to_string())
    }

    #[test]
    fn rates_are_bounded_and_fractional() {
        assert!(parse(r#"{"maxPerSecond": 0.5}"#).unwrap().check().is_empty());
        let errors = parse(r#"{"maxPerSecond": 0}"#).unwrap().check();
        assert_eq!(errors[0].path.as_str(), "pacing.maxPerSecond");
        assert!(!parse(r#"{"maxPerSecond": -3}"#).unwrap().check().is_empty());
        assert!(parse(r#"{"adaptive": "yes"}"#).is_err());
        assert!(parse(r#"{"burst": 3}"#).is_err());
    }
}
