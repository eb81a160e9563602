//! Webhook log entries (SPEC §8): one per sampled delivery, built here and handed to the host, which stores them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, PROXY_AUTHORIZATION};
use http::HeaderMap;
use plugin_api::DeliveryLogBox;
use serde_json::{json, Map, Value};

use crate::attempt::{Answer, AttemptResult};
use crate::config::LoggingOptions;

/// Shown instead of a credential.
const MASK: &str = "***";

/// The webhook log of one subscription.
pub(crate) struct DeliveryLogger {
    pub(crate) sink: DeliveryLogBox,
    pub(crate) options: LoggingOptions,
    pub(crate) api_id: String,
    pub(crate) subscription_id: String,
    pub(crate) application_id: String,
    pub(crate) plan_id: String,
}

/// One call made for a delivery.
#[derive(Debug, Clone)]
pub(crate) struct AttemptRecord {
    pub(crate) started_at: SystemTime,
    pub(crate) duration: Duration,
    pub(crate) result: AttemptResult,
}

/// What a delivery did, for its log entry.
pub(crate) struct DeliveryRecord<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) message_id: &'a str,
    pub(crate) callback_url: String,
    pub(crate) attempts: &'a [AttemptRecord],
    pub(crate) request_headers: Option<&'a HeaderMap>,
    pub(crate) request_body: &'a Bytes,
    pub(crate) answer: Option<&'a Answer>,
    pub(crate) dead_lettered: bool,
}

impl DeliveryLogger {
    /// Whether this delivery is logged (logging on, and the host's sampling says so).
    pub(crate) fn sample(&self) -> bool {
        self.options.enabled && self.sink.sample()
    }

    /// Hands the entry of `delivery` to the host.
    pub(crate) fn record(&self, delivery: &DeliveryRecord<'_>) {
        self.sink.record(self.entry(delivery).to_string().into());
    }

    fn entry(&self, delivery: &DeliveryRecord<'_>) -> Value {
        let first = delivery.attempts.first();
        let last = delivery.attempts.last();
        let started = first.map_or(SystemTime::now(), |attempt| attempt.started_at);
        let duration = elapsed_between(started, last);
        let (error_key, last_error) = match last.map(|attempt| &attempt.result) {
            Some(AttemptResult::Failed(error)) => (Some(error.kind.key()), Some(error.to_string())),
            _ => (None, None),
        };
        let timeline: Vec<Value> = delivery
            .attempts
            .iter()
            .enumerate()
            .map(|(index, attempt)| {
                json!({
                    "attempt": index + 1,
                    "timestamp": millis(attempt.started_at),
                    "status": status(&attempt.result),
                    "duration": attempt.duration.as_millis() as u64,
                    "reason": reason(&attempt.result),
                })
            })
            .collect();
        let mut entry = json!({
            "requestId": delivery.request_id,
            "messageId": delivery.message_id,
            "apiId": self.api_id,
            "subscriptionId": self.subscription_id,
            "applicationId": self.application_id,
            "planId": self.plan_id,
            "callbackUrl": delivery.callback_url,
            "method": "POST",
            "requestTimestamp": millis(started),
            "status": last.map_or(0, |attempt| status(&attempt.result)),
            "responseTime": last.map_or(0, |attempt| attempt.duration.as_millis() as u64),
            "duration": duration.as_millis() as u64,
            "responseBodySize": delivery.answer.map_or(0, |answer| answer.body.len()),
            "errorKey": error_key,
            "lastError": last_error,
            "retries": delivery.attempts.len().saturating_sub(1),
            "attempts": timeline,
            "dlq": delivery.dead_lettered,
        });
        let request = self.parts(self.options.request, delivery.request_headers, Some(delivery.request_body));
        let response = self.parts(
            self.options.response,
            delivery.answer.map(|answer| &answer.headers),
            delivery.answer.map(|answer| &answer.body),
        );
        if let Some(object) = entry.as_object_mut() {
            if let Some(request) = request {
                object.insert("request".into(), request);
            }
            if let Some(response) = response {
                object.insert("response".into(), response);
            }
        }
        entry
    }

    fn parts(
        &self,
        wanted: crate::config::LoggedParts,
        headers: Option<&HeaderMap>,
        body: Option<&Bytes>,
    ) -> Option<Value> {
        if !wanted.headers && !wanted.payload {
            return None;
        }
        let mut parts = Map::new();
        if wanted.headers {
            parts.insert("headers".into(), headers.map_or(Value::Null, masked));
        }
        if wanted.payload {
            parts.insert(
                "body".into(),
                body.map_or(Value::Null, |body| Value::String(String::from_utf8_lossy(body).into_owned())),
            );
        }
        Some(Value::Object(parts))
    }
}

/// Headers as an object, credentials masked.
fn masked(headers: &HeaderMap) -> Value {
    let mut object = Map::new();
    for (name, value) in headers {
        let shown = if name == AUTHORIZATION || name == PROXY_AUTHORIZATION || value.is_sensitive() {
            MASK.to_string()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        object.insert(name.as_str().to_string(), Value::String(shown));
    }
    Value::Object(object)
}

fn status(result: &AttemptResult) -> u16 {
    match result {
        AttemptResult::Answered(status) => status.as_u16(),
        AttemptResult::Failed(_) => 0,
    }
}

fn reason(result: &AttemptResult) -> Value {
    match result {
        AttemptResult::Answered(status) if status.is_success() => Value::Null,
        AttemptResult::Answered(status) => Value::String(format!("callback answered {status}")),
        AttemptResult::Failed(error) => Value::String(error.to_string()),
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
