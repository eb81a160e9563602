//! `analytics.messageSampling` (SPEC §8): which deliveries get a webhook log entry, as a definition says it.

use std::time::Duration;

use serde_json::Value;

use crate::FieldError;

/// How deliveries are sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Each delivery with this probability (0 to 1).
    Probability(f64),
    /// One delivery in N: the first, then every Nth.
    Count(u64),
    /// At most one delivery per period.
    Temporal(Duration),
    /// At most N deliveries per window.
    WindowedCount(u64, Duration),
}

const PATH: &str = "analytics.messageSampling";
/// Where the reference product's export keeps it.
const EXPORTED_PATH: &str = "analytics.sampling";

impl Sampling {
    /// Every delivery, when the API says nothing.
    pub const ALL: Sampling = Sampling::Count(1);

    /// Reads `analytics.messageSampling` of a definition, or `analytics.sampling` as the reference product's export
    /// writes it (upper-case types); absent means every delivery.
    pub fn from_analytics(analytics: Option<&Value>) -> Result<Self, FieldError> {
        let found = analytics.and_then(|analytics| {
            [("messageSampling", PATH), ("sampling", EXPORTED_PATH)]
                .into_iter()
                .find_map(|(key, path)| analytics.get(key).map(|sampling| (sampling, path)))
        });
        let Some((sampling, path)) = found else {
            return Ok(Self::ALL);
        };
        Self::from_sampling(sampling, path)
    }

    fn from_sampling(sampling: &Value, path: &str) -> Result<Self, FieldError> {
        let kind = sampling.get("type").and_then(Value::as_str).unwrap_or("count").to_ascii_lowercase();
        let value = match sampling.get("value") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => return Err(FieldError::new(format!("{path}.value"), "required")),
        };
        let invalid = |message: &str| FieldError::new(format!("{path}.value"), format!("`{value}`: {message}"));
        match kind.as_str() {
            "probability" => match value.parse::<f64>() {
                Ok(probability) if (0.0..=1.0).contains(&probability) => Ok(Self::Probability(probability)),
                _ => Err(invalid("a probability between 0 and 1")),
            },
            "count" => match value.parse::<u64>() {
                Ok(count) if count >= 1 => Ok(Self::Count(count)),
                _ => Err(invalid("a whole number of at least 1 (one in N)")),
            },
            "temporal" => iso_duration(&value)
                .map(Self::Temporal)
                .ok_or_else(|| invalid("an ISO 8601 duration such as PT1S, at most P365D")),
            "windowed_count" => {
                let (count, window) =
                    value.split_once('/').ok_or_else(|| invalid("N/ISO duration, such as 10/PT1M"))?;
                match (count.trim().parse::<u64>(), iso_duration(window.trim())) {
                    (Ok(count), Some(window)) if count >= 1 => Ok(Self::WindowedCount(count, window)),
                    _ => Err(invalid("N/ISO duration, such as 10/PT1M, at most P365D")),
                }
            }
            other => Err(FieldError::new(
                format!("{path}.type"),
                format!("`{other}` is not probability, count, temporal or windowed_count"),
            )),
        }
    }
}

/// The longest sampling period or window: a year.
const MAX_PERIOD: Duration = Duration::from_secs(365 * 86_400);

/// An ISO 8601 duration of fixed length (weeks, days, hours, minutes, seconds: `P1D`, `PT1H30M`, `PT0.5S`; years
/// and months have none), read by the `iso8601` crate case-insensitively as Java's `Duration.parse` does, more than
/// nothing and at most [`MAX_PERIOD`].
pub(crate) fn iso_duration(text: &str) -> Option<Duration> {
    let period = match iso8601::duration(&text.to_ascii_uppercase()).ok()? {
        iso8601::Duration::Weeks(weeks) => Duration::from_secs(u64::from(weeks) * 7 * 86_400),
        iso8601::Duration::YMDHMS { year: 0, month: 0, day, hour, minute, second, millisecond } => {
            let seconds =
                u64::from(day) * 86_400 + u64::from(hour) * 3_600 + u64::from(minute) * 60 + u64::from(second);
            Duration::from_secs(seconds) + Duration::from_millis(u64::from(millisecond))
        }
        iso8601::Duration::YMDHMS { .. } => return None,
    };
    Some(period).filter(|period| !period.is_zero() && *period <= MAX_PERIOD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sampling(kind: &str, value: &str) -> Result<Sampling, FieldError> {
        Sampling::from_analytics(Some(&json!({ "messageSampling": { "type": kind, "value": value } })))
    }

    #[test]
    fn each_type_parses_and_bad_values_name_their_path() {
        assert_eq!(sampling("count", "3").unwrap(), Sampling::Count(3));
        assert_eq!(sampling("probability", "0.5").unwrap(), Sampling::Probability(0.5));
        assert_eq!(sampling("temporal", "PT1S").unwrap(), Sampling::Temporal(Duration::from_secs(1)));
        assert_eq!(
            sampling("windowed_count", "10/PT1M").unwrap(),
            Sampling::WindowedCount(10, Duration::from_secs(60))
        );
        assert_eq!(sampling("count", "0").unwrap_err().path, "analytics.messageSampling.value");
        assert_eq!(sampling("temporal", "soon").unwrap_err().path, "analytics.messageSampling.value");
        for endless in ["P999999999999999D", "P366D", "PT99999999999999999999999S", "PT0S", "P."] {
            assert_eq!(sampling("temporal", endless).unwrap_err().path, "analytics.messageSampling.value", "{endless}");
        }
        assert_eq!(sampling("sometimes", "1").unwrap_err().path, "analytics.messageSampling.type");
        assert_eq!(Sampling::from_analytics(None).unwrap(), Sampling::ALL);
        let exported = json!({ "sampling": { "type": "TEMPORAL", "value": "PT10S" } });
        assert_eq!(Sampling::from_analytics(Some(&exported)).unwrap(), Sampling::Temporal(Duration::from_secs(10)));
        let wrong = json!({ "sampling": { "type": "COUNT", "value": "0" } });
        assert_eq!(Sampling::from_analytics(Some(&wrong)).unwrap_err().path, "analytics.sampling.value");
        assert_eq!(iso_duration("P1DT1H"), Some(Duration::from_secs(90_000)));
        assert_eq!(iso_duration("pt0.5s"), Some(Duration::from_millis(500)), "case-insensitive, fractions");
        assert_eq!(iso_duration("PT90S"), Some(Duration::from_secs(90)));
        assert_eq!(iso_duration("P2W"), Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(iso_duration("P1M"), None, "a month has no fixed length");
    }
}
