//! `Retry-After` of a 429 or 503 answer: how long the callback asks the gateway to wait before the next attempt.

use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};

/// The wait a `status` answer with `headers` asks for: its `Retry-After` (seconds, or an HTTP date, a date past
/// meaning no wait) on a 429 or a 503; `None` otherwise or when it cannot be read.
pub(crate) fn asked_wait(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        headers
    }

    #[test]
    fn seconds_or_a_date_on_429_and_503_only() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 12:00:00 GMT").unwrap();
        let slow_down = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(asked_wait(slow_down, &headers("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(
            asked_wait(StatusCode::SERVICE_UNAVAILABLE, &headers("Sun, 29 Nov 2026 12:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(asked_wait(slow_down, &headers("Sun, 29 Nov 2026 11:00:00 GMT"), now), Some(Duration::ZERO));
        assert_eq!(asked_wait(slow_down, &headers("soon"), now), None);
        assert_eq!(asked_wait(StatusCode::INTERNAL_SERVER_ERROR, &headers("7"), now), None);
        assert_eq!(asked_wait(slow_down, &HeaderMap::new(), now), None);
    }
}
