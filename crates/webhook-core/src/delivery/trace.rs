//! The spans of one delivery (when the host exports traces): the delivery's own, under the trace context the
//! message carried; one per attempt, whose context is the `traceparent` of that call; and the dead letter's.

use std::time::Duration;

use http::{HeaderValue, Uri};
use plugin_api::abi_stable::std_types::RString;
use plugin_api::{Message, Qos, SpanKind, SpanStatus};
use plugin_kit::traces::{tracer, Span, TraceContext, TRACEPARENT, TRACESTATE};

use crate::transport::attempt::AttemptResult;

/// What every span of one subscription says about it.
#[derive(Debug, Clone)]
pub(crate) struct TraceLabels {
    pub(crate) api_id: String,
    pub(crate) subscription_id: String,
    pub(crate) qos: Qos,
    /// The callback URL without its query or credentials.
    pub(crate) url: String,
}

impl TraceLabels {
    /// The labels of `subscription_id` of `api_id` calling `callback`.
    pub(crate) fn new(api_id: &str, subscription_id: &str, qos: Qos, callback: &Uri) -> Self {
        Self { api_id: api_id.into(), subscription_id: subscription_id.into(), qos, url: traced_url(callback) }
    }
}

/// `url` as spans show it: without its query or credentials.
pub fn traced_url(url: &Uri) -> String {
    match (url.scheme_str(), url.host()) {
        (Some(scheme), Some(host)) => {
            let port = url.port_u16().map(|port| format!(":{port}")).unwrap_or_default();
            format!("{scheme}://{host}{port}{}", url.path())
        }
        _ => url.path().to_string(),
    }
}

/// The delivery span of one message; nothing when traces are off.
pub(crate) struct DeliveryTrace(Option<Span>);

impl DeliveryTrace {
    /// Starts the delivery of `message`: a child of the span its `traceparent` names, or the root of a new trace.
    pub(crate) fn start(message: &Message, labels: &TraceLabels) -> Self {
        let Some(tracer) = tracer() else {
            return Self(None);
        };
        let parent = header(message, TRACEPARENT).and_then(TraceContext::parse);
        let trace_state = header(message, TRACESTATE)
            .and_then(|value| std::str::from_utf8(value).ok())
            .map(RString::from)
            .unwrap_or_default();
        let mut span = tracer.start("webhook delivery", SpanKind::Consumer, parent, true, trace_state);
        if span.is_recording() {
            span.set("gateway.api.id", labels.api_id.clone());
            span.set("gateway.subscription.id", labels.subscription_id.clone());
            span.set("gateway.qos", labels.qos.as_str());
            span.set("messaging.message.id", message.id.to_string());
            for (name, key) in [
                ("topic", "messaging.destination.name"),
                ("partition", "messaging.destination.partition.id"),
                ("offset", "messaging.kafka.offset"),
            ] {
                if let Some(value) = metadata(message, name) {
                    match value.parse::<i64>() {
                        Ok(number) if name == "offset" => span.set(key, number),
                        _ => span.set(key, value.to_string()),
                    }
                }
            }
        }
        Self(Some(span))
    }

    /// The span of attempt `number` (from 1), and the `traceparent` its call carries.
    pub(crate) fn attempt(&self, number: u32, method: &str, labels: &TraceLabels) -> AttemptTrace {
        let Some(delivery) = &self.0 else {
            return AttemptTrace(None);
        };
        let name = method_name(method);
        let mut span = delivery.child(name, SpanKind::Client);
        if span.is_recording() {
            span.set("http.request.method", name);
            span.set("url.full", labels.url.clone());
            span.set("gateway.attempt", u64::from(number));
            if number > 1 {
                span.set("http.request.resend_count", u64::from(number - 1));
            }
        }
        AttemptTrace(Some(span))
    }

    /// The span of handing the message to the dead letter queue, whose context the record carries on.
    pub(crate) fn dead_letter(&self) -> Option<Span> {
        self.0.as_ref().map(|delivery| delivery.child("dead letter publish", SpanKind::Producer))
    }

    /// Ends the delivery with what became of the message: its `outcome` and how the span ends.
    pub(crate) fn end(self, outcome: &'static str, status: SpanStatus) {
        let Some(mut span) = self.0 else {
            return;
        };
        span.set("gateway.delivery.outcome", outcome);
        span.set_status(status);
    }
}

/// The span of one callback attempt; nothing when traces are off.
pub(crate) struct AttemptTrace(Option<Span>);

impl AttemptTrace {
    /// Its context, for the calls made during it (a token request).
    pub(crate) fn context(&self) -> Option<TraceContext> {
        self.0.as_ref().map(Span::context)
    }

    /// The `traceparent` value of the call: this attempt as the receiver's parent.
    pub(crate) fn traceparent(&self) -> Option<HeaderValue> {
        let context = self.context()?;
        HeaderValue::try_from(context.traceparent()).ok()
    }

    /// Records the attempt's result.
    pub(crate) fn result(&mut self, result: &AttemptResult) {
        let Some(span) = &mut self.0 else {
            return;
        };
        match result {
            AttemptResult::Answered(status) => {
                span.set("http.response.status_code", i64::from(status.as_u16()));
                if status.is_success() {
                    span.set_status(SpanStatus::Ok);
                } else {
                    span.set("error.type", status.as_u16().to_string());
                    span.set_status(SpanStatus::Error(format!("HTTP {}", status.as_u16()).into()));
                }
            }
            AttemptResult::Failed(error) => {
                span.set("error.type", error.kind.key());
                span.set_status(SpanStatus::Error(error.kind.key().into()));
            }
        }
    }

    /// Records the wait before the next attempt.
    pub(crate) fn retry_wait(&mut self, wait: Duration) {
        if let Some(span) = &mut self.0 {
            span.set("gateway.retry.wait_ms", wait.as_millis() as u64);
        }
    }
}

/// Ends a dead letter's span with the queue's answer.
pub(crate) fn dead_letter_published(span: Option<Span>, published: &Result<(), String>) {
    if let Some(mut span) = span {
        span.set_status(match published {
            Ok(()) => SpanStatus::Ok,
            Err(error) => SpanStatus::Error(error.as_str().into()),
        });
    }
}

/// The span names of attempts: the method, as HTTP client spans are named.
fn method_name(method: &str) -> &'static str {
    match method {
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        _ => "POST",
    }
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a [u8]> {
    message.headers.iter().find(|header| header.name.eq_ignore_ascii_case(name)).map(|header| header.value.as_slice())
}

fn metadata<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .metadata
        .iter()
        .find(|entry| entry.name.as_str() == name)
        .and_then(|entry| std::str::from_utf8(entry.value.as_slice()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traced_url_keeps_neither_query_nor_credentials() {
        let uri: Uri = "https://user:secret@hooks.example.com:8443/in/orders?token=abc".parse().unwrap();
        let labels = TraceLabels::new("api", "sub", Qos::AtLeastOnce, &uri);
        assert_eq!(labels.url, "https://hooks.example.com:8443/in/orders");
    }
}
