//! `retry` of the consumer's configuration (SPEC §4).

use std::time::Duration;

use plugin_api::ConfigError;
use serde::Deserialize;

/// When and how often a failed call (5xx, no answer) is tried again.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    /// Retry or not.
    #[serde(default)]
    pub retry_option: RetryOption,
    /// How the delay grows.
    #[serde(default)]
    pub retry_strategy: RetryStrategy,
    /// Retries after the first attempt.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Delay before the first retry.
    #[serde(default = "default_initial_delay_seconds")]
    pub initial_delay_seconds: u64,
    /// Longest delay between two attempts.
    #[serde(default = "default_max_delay_seconds")]
    pub max_delay_seconds: u64,
}

/// Retries after the first attempt may not exceed this: a message is given up on (skipped, dead-lettered or the
/// subscription stopped) after at most a bounded time.
pub(crate) const MAX_ATTEMPTS: u32 = 100;
/// Neither delay may exceed this many seconds.
pub(crate) const MAX_DELAY_SECONDS: u64 = 300;

/// SPEC §4 default.
fn default_max_attempts() -> u32 {
    3
}
/// One second, then doubling under EXPONENTIAL.
fn default_initial_delay_seconds() -> u64 {
    1
}
/// Half a minute: long enough for a restart of the callback, short enough not to stall a subscription for long.
fn default_max_delay_seconds() -> u64 {
    30
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            retry_option: RetryOption::NoRetry,
            retry_strategy: RetryStrategy::Linear,
            max_attempts: default_max_attempts(),
            initial_delay_seconds: default_initial_delay_seconds(),
            max_delay_seconds: default_max_delay_seconds(),
        }
    }
}

/// `retryOption`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum RetryOption {
    /// One attempt.
    #[default]
    #[serde(rename = "No Retry")]
    NoRetry,
    /// Retry 5xx and failures without an answer.
    #[serde(rename = "Retry On Fail")]
    RetryOnFail,
}

/// `retryStrategy`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum RetryStrategy {
    /// The same delay each time.
    #[default]
    Linear,
    /// Doubling from the initial delay, capped at the maximum.
    Exponential,
}

impl RetryConfig {
    /// Whether calls are retried.
    pub fn is_enabled(&self) -> bool {
        self.retry_option == RetryOption::RetryOnFail
    }

    /// The delay before retry number `retry` when the callback asked to wait `asked` (`Retry-After`): that wait,
    /// capped by `maxDelaySeconds`, instead of the strategy's; `None` when no retry is left.
    pub fn delay_asked(&self, retry: u32, asked: Option<Duration>) -> Option<Duration> {
        let planned = self.delay_before(retry)?;
        Some(asked.map_or(planned, |asked| asked.min(Duration::from_secs(self.max_delay_seconds))))
    }

    /// The delay before retry number `retry` (1 for the first retry), or `None` when no retry is left.
    pub fn delay_before(&self, retry: u32) -> Option<Duration> {
        if !self.is_enabled() || retry == 0 || retry > self.max_attempts {
            return None;
        }
        let seconds = match self.retry_strategy {
            RetryStrategy::Linear => self.initial_delay_seconds,
            RetryStrategy::Exponential => self.initial_delay_seconds.saturating_mul(1u64 << (retry - 1).min(32)),
        };
        Some(Duration::from_secs(seconds.min(self.max_delay_seconds)))
    }

    pub(super) fn check(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.max_attempts > MAX_ATTEMPTS {
            errors.push(ConfigError::new(
                "retry.maxAttempts",
                format!("must be at most {MAX_ATTEMPTS}, got {}", self.max_attempts),
            ));
        }
        for (name, value) in
            [("initialDelaySeconds", self.initial_delay_seconds), ("maxDelaySeconds", self.max_delay_seconds)]
        {
            if value > MAX_DELAY_SECONDS {
                errors.push(ConfigError::new(
                    format!("retry.{name}"),
                    format!("must be at most {MAX_DELAY_SECONDS} seconds, got {value}"),
                ));
            }
        }
        if errors.is_empty() && self.initial_delay_seconds > self.max_delay_seconds {
            errors.push(ConfigError::new(
                "retry.initialDelaySeconds",
                format!("{} is more than maxDelaySeconds ({})", self.initial_delay_seconds, self.max_delay_seconds),
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(json: &str) -> RetryConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn linear_waits_the_same_and_stops_after_max_attempts() {
        let linear = retry(
            r#"{"retryOption":"Retry On Fail","retryStrategy":"LINEAR","maxAttempts":2,"initialDelaySeconds":1}"#,
        );
        assert_eq!(linear.delay_before(1), Some(Duration::from_secs(1)));
        assert_eq!(linear.delay_before(2), Some(Duration::from_secs(1)));
        assert_eq!(linear.delay_before(3), None);
    }

    #[test]
    fn exponential_doubles_up_to_the_maximum() {
        let exponential = retry(
            r#"{"retryOption":"Retry On Fail","retryStrategy":"EXPONENTIAL","maxAttempts":5,"initialDelaySeconds":2,"maxDelaySeconds":10}"#,
        );
        let delays: Vec<u64> = (1..=5).map(|n| exponential.delay_before(n).unwrap().as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 10, 10]);
    }

    #[test]
    fn no_retry_is_the_default_and_bad_bounds_are_refused() {
        assert_eq!(RetryConfig::default().delay_before(1), None);
        let errors = retry(r#"{"initialDelaySeconds":40,"maxDelaySeconds":30}"#).check();
        assert_eq!(errors[0].path.as_str(), "retry.initialDelaySeconds");
    }

    #[test]
    fn a_wait_asked_by_the_callback_replaces_the_strategys_up_to_the_maximum() {
        let linear =
            retry(r#"{"retryOption":"Retry On Fail","maxAttempts":2,"initialDelaySeconds":1,"maxDelaySeconds":5}"#);
        assert_eq!(linear.delay_asked(1, Some(Duration::from_secs(3))), Some(Duration::from_secs(3)));
        assert_eq!(linear.delay_asked(1, Some(Duration::from_secs(60))), Some(Duration::from_secs(5)));
        assert_eq!(linear.delay_asked(1, None), Some(Duration::from_secs(1)));
        assert_eq!(linear.delay_asked(3, Some(Duration::from_secs(3))), None, "no retry left");
        assert_eq!(RetryConfig::default().delay_asked(1, Some(Duration::from_secs(3))), None, "no retry configured");
    }

    #[test]
    fn attempts_and_delays_have_upper_bounds() {
        let errors = retry(r#"{"maxAttempts":4294967295,"initialDelaySeconds":301,"maxDelaySeconds":86400}"#).check();
        let paths: Vec<_> = errors.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["retry.maxAttempts", "retry.initialDelaySeconds", "retry.maxDelaySeconds"]);
        assert!(retry(r#"{"maxAttempts":100,"initialDelaySeconds":300,"maxDelaySeconds":300}"#).check().is_empty());
    }
}
