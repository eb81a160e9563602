//! Webhook log entries (SPEC §8): one per sampled delivery, built here and handed to the host, which stores them.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, PROXY_AUTHORIZATION};
use http::HeaderMap;
use serde::Serialize;

use super::log_batch::LogBatch;
use crate::config::{LoggedParts, LoggingOptions};
use crate::transport::attempt::{Answer, AttemptResult};

/// Shown instead of a credential.
const MASK: &str = "***";

/// The webhook log of one subscription.
pub(crate) struct DeliveryLogger {
    /// The host's end, and the entries on their way to it.
    pub(crate) batch: Arc<LogBatch>,
    pub(crate) options: LoggingOptions,
    pub(crate) api_id: String,
    pub(crate) subscription_id: String,
    pub(crate) application_id: String,
    pub(crate) plan_id: String,
    /// Where every call of the subscription goes.
    pub(crate) callback_url: String,
}

/// One call made for a delivery.
#[derive(Debug, Clone)]
pub(crate) struct AttemptRecord {
    pub(crate) started_at: SystemTime,
    pub(crate) duration: Duration,
    pub(crate) result: AttemptResult,
    /// The wait before the next attempt, when there was one (the strategy's, or what `Retry-After` asked).
    pub(crate) wait: Option<Duration>,
}

/// What a delivery did, for its log entry.
pub(crate) struct DeliveryRecord<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) message_id: &'a str,
    /// The message's ordering key, under `ordering.mode = key`.
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) method: &'a str,
    pub(crate) attempts: &'a [AttemptRecord],
    pub(crate) request_headers: Option<&'a HeaderMap>,
    pub(crate) request_body: &'a Bytes,
    pub(crate) answer: Option<&'a Answer>,
    pub(crate) dead_lettered: bool,
}

impl DeliveryLogger {
    /// Whether this delivery is logged (logging on, and the host's sampling says so).
    pub(crate) fn sample(&self) -> bool {
        self.options.enabled && self.batch.sample()
    }

    /// Hands the entries that wait to the host now (a run's end: before the host learns how it ended).
    pub(crate) fn flush(&self) {
        self.batch.flush();
    }

    /// Hands the entry of `delivery` to the host (with the others of its batch).
    pub(crate) fn record(&self, delivery: &DeliveryRecord<'_>) {
        if let Err(error) = self.batch.append(|lines| serde_json::to_writer(lines, &self.entry(delivery))) {
            tracing::warn!(error = %error, "webhook log entry not serializable; dropped");
        }
    }

    fn entry<'a>(&'a self, delivery: &'a DeliveryRecord<'a>) -> Entry<'a> {
        let first = delivery.attempts.first();
        let last = delivery.attempts.last();
        let started = first.map_or(SystemTime::now(), |attempt| attempt.started_at);
        let (error_key, last_error) = match last.map(|attempt| &attempt.result) {
            Some(AttemptResult::Failed(error)) => (Some(error.kind.key()), Some(error.to_string())),
            _ => (None, None),
        };
        Entry {
            request_id: delivery.request_id,
            message_id: delivery.message_id,
            key: delivery.key.map(String::from_utf8_lossy),
            api_id: &self.api_id,
            subscription_id: &self.subscription_id,
            application_id: &self.application_id,
            plan_id: &self.plan_id,
            callback_url: &self.callback_url,
            method: delivery.method,
            request_timestamp: millis(started),
            status: last.map_or(0, |attempt| status(&attempt.result)),
            response_time: last.map_or(0, |attempt| attempt.duration.as_millis() as u64),
            duration: elapsed_between(started, last).as_millis() as u64,
            response_body_size: delivery.answer.map_or(0, |answer| answer.body.len()),
            error_key,
            last_error,
            retries: delivery.attempts.len().saturating_sub(1),
            attempts: delivery
                .attempts
                .iter()
                .enumerate()
                .map(|(index, attempt)| AttemptEntry {
                    attempt: index + 1,
                    timestamp: millis(attempt.started_at),
                    status: status(&attempt.result),
                    duration: attempt.duration.as_millis() as u64,
                    reason: reason(&attempt.result),
                    wait_ms: attempt.wait.map(|wait| wait.as_millis() as u64),
                })
                .collect(),
            dlq: delivery.dead_lettered,
            request: Self::parts(self.options.request, delivery.request_headers, Some(delivery.request_body)),
            response: Self::parts(
                self.options.response,
                delivery.answer.map(|answer| &answer.headers),
                delivery.answer.map(|answer| &answer.body),
            ),
        }
    }

    fn parts<'a>(wanted: LoggedParts, headers: Option<&'a HeaderMap>, body: Option<&'a Bytes>) -> Option<Parts<'a>> {
        (wanted.headers || wanted.payload).then(|| Parts {
            headers: if wanted.headers { Wanted::Shown(headers.map(MaskedHeaders)) } else { Wanted::Left },
            body: if wanted.payload {
                Wanted::Shown(body.map(|body| String::from_utf8_lossy(body)))
            } else {
                Wanted::Left
            },
        })
    }
}

/// A request's or an answer's logged parts: each present when asked for, `null` when there was none.
#[derive(Serialize)]
struct Parts<'a> {
    #[serde(skip_serializing_if = "Wanted::is_left")]
    headers: Wanted<MaskedHeaders<'a>>,
    #[serde(skip_serializing_if = "Wanted::is_left")]
    body: Wanted<std::borrow::Cow<'a, str>>,
}

/// A part the options leave out, or the part (`None`: there was none).
enum Wanted<T> {
    Left,
    Shown(Option<T>),
}

impl<T> Wanted<T> {
    fn is_left(&self) -> bool {
        matches!(self, Wanted::Left)
    }
}

impl<T: Serialize> Serialize for Wanted<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Wanted::Shown(Some(part)) => part.serialize(serializer),
            Wanted::Left | Wanted::Shown(None) => serializer.serialize_none(),
        }
    }
}

/// Headers as an object (a repeated name shows its last value), credentials masked; written straight to JSON.
struct MaskedHeaders<'a>(&'a HeaderMap);

impl Serialize for MaskedHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut object = serializer.serialize_map(Some(self.0.keys_len()))?;
        // One pass: a name's values come one after another, and only its last is shown (no lookup per name).
        let mut headers = self.0.iter().peekable();
        while let Some((name, value)) = headers.next() {
            if headers.peek().is_some_and(|(next, _)| *next == name) {
                continue;
            }
            if name == AUTHORIZATION || name == PROXY_AUTHORIZATION || value.is_sensitive() {
                object.serialize_entry(name.as_str(), MASK)?;
            } else {
                object.serialize_entry(name.as_str(), &String::from_utf8_lossy(value.as_bytes()))?;
            }
        }
        object.end()
    }
}

/// One entry, serialized straight to JSON (`docs/webhook-logs.md`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    request_id: &'a str,
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<std::borrow::Cow<'a, str>>,
    api_id: &'a str,
    subscription_id: &'a str,
    application_id: &'a str,
    plan_id: &'a str,
    callback_url: &'a str,
    method: &'a str,
    request_timestamp: u64,
    status: u16,
    response_time: u64,
    duration: u64,
    response_body_size: usize,
    error_key: Option<&'static str>,
    last_error: Option<String>,
    retries: usize,
    attempts: Vec<AttemptEntry>,
    dlq: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Parts<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<Parts<'a>>,
}

/// One call of the entry's timeline.
#[derive(Serialize)]
struct AttemptEntry {
    attempt: usize,
    timestamp: u64,
    status: u16,
    duration: u64,
    reason: Option<String>,
    /// Milliseconds waited before the next attempt.
    #[serde(rename = "waitMs", skip_serializing_if = "Option::is_none")]
    wait_ms: Option<u64>,
}

fn status(result: &AttemptResult) -> u16 {
    match result {
        AttemptResult::Answered(status) => status.as_u16(),
        AttemptResult::Failed(_) => 0,
    }
}

fn reason(result: &AttemptResult) -> Option<String> {
    match result {
        AttemptResult::Answered(status) if status.is_success() => None,
        AttemptResult::Answered(status) => Some(format!("callback answered {status}")),
        AttemptResult::Failed(error) => Some(error.to_string()),
    }
}

fn elapsed_between(started: SystemTime, last: Option<&AttemptRecord>) -> Duration {
    last.map_or(Duration::ZERO, |attempt| {
        (attempt.started_at + attempt.duration).duration_since(started).unwrap_or_default()
    })
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn logged(parts: Option<Parts<'_>>) -> serde_json::Value {
        serde_json::to_value(parts).unwrap()
    }

    #[test]
    fn parts_show_what_is_asked_credentials_masked_and_null_when_absent() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer secret"));
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        let mut sensitive = HeaderValue::from_static("token");
        sensitive.set_sensitive(true);
        headers.insert("x-api-key", sensitive);
        let body = Bytes::from_static(b"hi");
        let both = LoggedParts { headers: true, payload: true };
        assert_eq!(
            logged(DeliveryLogger::parts(both, Some(&headers), Some(&body))),
            json!({ "headers": { "authorization": "***", "x-a": "2", "x-api-key": "***" }, "body": "hi" })
        );
        assert_eq!(logged(DeliveryLogger::parts(both, None, None)), json!({ "headers": null, "body": null }));
        let headers_only = LoggedParts { headers: true, payload: false };
        assert_eq!(logged(DeliveryLogger::parts(headers_only, None, Some(&body))), json!({ "headers": null }));
        assert!(DeliveryLogger::parts(LoggedParts::default(), Some(&headers), Some(&body)).is_none());
    }
}
