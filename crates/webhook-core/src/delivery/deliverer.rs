//! Delivering one message: call the callback (authenticated, retried), judge the answer, settle, skip,
//! dead-letter or fail, and log the delivery when it is sampled.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use plugin_api::abi_stable::std_types::RArc;
use plugin_api::{DeliveryMetrics, DeliveryOutcome, Header, Message, SpanStatus};
use plugin_kit::traces::{in_context, TRACEPARENT};
use tokio::sync::watch;

use crate::config::RetryConfig;
use crate::delivery::limit::adaptive::InFlightLimit;
use crate::delivery::log::{AttemptRecord, DeliveryLogger, DeliveryRecord};
use crate::delivery::outcome::{InterruptFlags, Outcome};
use crate::delivery::request::RequestTemplate;
use crate::delivery::retry_after::asked_wait;
use crate::delivery::scheduler::Key;
use crate::delivery::trace::{dead_letter_published, AttemptTrace, DeliveryTrace, TraceLabels};
use crate::layers::{DeadLetterContext, Layers};
use crate::transport::attempt::{send, Answer, AttemptResult};
use crate::transport::client::CallbackClient;

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Delivered: acknowledge it.
    Settled,
    /// Not delivered and not to stop for (interrupt flag off, no DLQ): acknowledge it.
    Skipped(String),
    /// Handed to the dead letter queue, which acknowledged it: acknowledge it.
    DeadLettered,
    /// The subscription stops on it; it is not acknowledged.
    Fail(String),
    /// The subscription was stopped before its retries ended: it is not acknowledged, and a later run delivers it
    /// again (at-least-once) or never (at-most-once, which committed it before the first call).
    Abandoned,
}

impl Verdict {
    /// How the delivery counts in the metrics; an abandoned one does not (it is delivered again, or never).
    fn outcome(&self) -> Option<DeliveryOutcome> {
        match self {
            Verdict::Settled => Some(DeliveryOutcome::Delivered),
            Verdict::Skipped(_) => Some(DeliveryOutcome::Skipped),
            Verdict::DeadLettered => Some(DeliveryOutcome::DeadLettered),
            Verdict::Fail(_) => Some(DeliveryOutcome::Failed),
            Verdict::Abandoned => None,
        }
    }

    /// How its delivery span says it: the outcome and the span's status.
    fn traced(&self) -> (&'static str, SpanStatus) {
        match self {
            Verdict::Settled => ("delivered", SpanStatus::Ok),
            Verdict::Skipped(reason) => ("skipped", SpanStatus::Error(reason.as_str().into())),
            Verdict::DeadLettered => ("dead_lettered", SpanStatus::Error("dead-lettered".into())),
            Verdict::Fail(reason) => ("failed", SpanStatus::Error(reason.as_str().into())),
            Verdict::Abandoned => ("abandoned", SpanStatus::Unset),
        }
    }
}

/// A delivery counted in flight until it ends, or is dropped by a stop.
struct InFlight<'a>(&'a DeliveryMetrics);

impl<'a> InFlight<'a> {
    fn enter(metrics: &'a DeliveryMetrics) -> Self {
        metrics.in_flight.fetch_add(1, Relaxed);
        Self(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// How the cause of a subscription stopped by a dead letter the queue refused starts (the host tells it apart).
pub const DEAD_LETTER_FAILURE: &str = "dead letter queue publish failed";

/// A fresh request id: a version 7 UUID, time-ordered, with random bits from a fast, non-cryptographic generator (an
/// id, not a secret; the system's generator cost a system call per message). Time-ordered ids keep the webhook log
/// index appending at its end: random ones made every stored entry rewrite a page of it (4 KB of writes per entry).
fn request_id() -> String {
    let random: [u8; 10] = std::array::from_fn(|_| fastrand::u8(..));
    let millis = plugin_kit::now_ms().max(0) as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().to_string()
}

/// Everything needed to call one subscription's callback.
pub(crate) struct Deliverer {
    pub(crate) client: Arc<CallbackClient>,
    pub(crate) template: RequestTemplate,
    pub(crate) read_timeout: Duration,
    /// Bytes of an answer's body read at most.
    pub(crate) body_limit: usize,
    pub(crate) interrupts: InterruptFlags,
    pub(crate) retry: RetryConfig,
    pub(crate) layers: Layers,
    pub(crate) subscription_id: String,
    pub(crate) log: DeliveryLogger,
    /// The subscription's delivery metrics, counted for every delivery.
    pub(crate) metrics: RArc<DeliveryMetrics>,
    /// Set when the subscription is asked to stop: no further attempt is made.
    pub(crate) stop: watch::Receiver<Option<Duration>>,
    /// How many deliveries may be in flight, fed with every call's result (`pacing.adaptive`).
    pub(crate) limit: InFlightLimit,
    /// What the subscription's spans say about it.
    pub(crate) trace_labels: TraceLabels,
}

/// The calls made for one message.
struct Calls {
    attempts: Vec<AttemptRecord>,
    /// A stop came before the retries ended.
    abandoned: bool,
    /// The last request's headers, kept when the delivery is logged.
    request_headers: Option<HeaderMap>,
    answer: Option<Answer>,
}

impl Calls {
    fn last(&self) -> &AttemptResult {
        &self.attempts.last().expect("a delivery makes at least one call").result
    }
}

impl Deliverer {
    /// POSTs `message` (retrying as configured), says what became of it, and logs it (with its ordering `key`) when
    /// sampled.
    pub(crate) async fn deliver(self: Arc<Self>, mut message: Message, key: Option<Key>) -> Verdict {
        let _in_flight = InFlight::enter(&self.metrics);
        // The source's buffer itself (freed by the library that allocated it), not a copy of it.
        let body = Bytes::from_owner(std::mem::take(&mut message.content));
        let request_id = request_id();
        let logged = self.log.sample();
        let trace = DeliveryTrace::start(&message, &self.trace_labels);
        let calls = self.call_with_retries(&message, &body, &request_id, logged, &trace).await;
        if matches!(calls.last(), AttemptResult::Answered(_)) {
            let age_ms = plugin_kit::now_ms().saturating_sub(message.timestamp_ms).max(0);
            self.metrics.message_age.observe(age_ms as f64 / 1000.0);
        }
        tracing::debug!(message_id = %message.id, request_id = %request_id, attempts = calls.attempts.len(), result = ?calls.last(), "callback called");
        let message_id = logged.then(|| message.id.to_string());
        let verdict =
            if calls.abandoned { Verdict::Abandoned } else { self.settle(message, &body, &calls, &trace).await };
        let (outcome, status) = verdict.traced();
        trace.end(outcome, status);
        if let Some(outcome) = verdict.outcome() {
            self.metrics.delivery(outcome);
        }
        if let Some(message_id) = &message_id {
            self.log.record(&DeliveryRecord {
                request_id: &request_id,
                message_id,
                key: key.as_deref(),
                method: self.template.method().as_str(),
                attempts: &calls.attempts,
                request_headers: calls.request_headers.as_ref(),
                request_body: &body,
                answer: calls.answer.as_ref(),
                dead_lettered: verdict == Verdict::DeadLettered,
            });
        }
        verdict
    }

    async fn settle(&self, mut message: Message, body: &Bytes, calls: &Calls, trace: &DeliveryTrace) -> Verdict {
        let (reason, refused) = match self.interrupts.judge(calls.last()) {
            Outcome::Delivered => return Verdict::Settled,
            Outcome::Unavailable { reason, interrupt: true } => return Verdict::Fail(reason),
            Outcome::Refused { reason } => (reason, true),
            Outcome::Unavailable { reason, interrupt: false } => (reason, false),
        };
        let Some(dead_letter) = &self.layers.dead_letter else {
            // Without a DLQ, a refused message stops the subscription; an unavailable callback is skipped.
            return if refused { Verdict::Fail(reason) } else { Verdict::Skipped(reason) };
        };
        let first = calls.attempts.first().expect("at least one call");
        let last = calls.attempts.last().expect("at least one call");
        let context = DeadLetterContext {
            subscription_id: self.subscription_id.clone(),
            callback_url: self.template.callback_url(),
            last_status: match calls.last() {
                AttemptResult::Answered(status) => status.as_u16(),
                AttemptResult::Failed(_) => 0,
            },
            last_error: reason,
            attempts: calls.attempts.len() as u32,
            first_attempt_at: first.started_at,
            last_attempt_at: last.started_at,
        };
        message.content = body.to_vec().into();
        let span = trace.dead_letter();
        if let Some(span) = &span {
            continue_trace(&mut message, span.context().traceparent());
        }
        let published = dead_letter.publish(message, context).await;
        dead_letter_published(span, &published);
        self.metrics.dlq_publishes.record(published.is_ok());
        match published {
            Ok(()) => Verdict::DeadLettered,
            Err(error) => Verdict::Fail(format!("{DEAD_LETTER_FAILURE}: {error}")),
        }
    }

    async fn call_with_retries(
        &self,
        message: &Message,
        body: &Bytes,
        request_id: &str,
        logged: bool,
        trace: &DeliveryTrace,
    ) -> Calls {
        let mut calls =
            Calls { attempts: Vec::with_capacity(1), abandoned: false, request_headers: None, answer: None };
        let mut stop = self.stop.clone();
        let mut refreshed = false;
        loop {
            let call = if calls.attempts.is_empty() {
                self.limit.call()
            } else {
                let Some(call) = self.limit.room(&mut stop).await else {
                    calls.abandoned = true;
                    return calls;
                };
                self.metrics.retries.fetch_add(1, Relaxed);
                call
            };
            let mut attempt =
                trace.attempt(calls.attempts.len() as u32 + 1, self.template.method().as_str(), &self.trace_labels);
            let started_at = SystemTime::now();
            let clock = Instant::now();
            let (result, answer, request_headers) =
                self.call(message, body, request_id, &mut refreshed, logged, &attempt).await;
            attempt.result(&result);
            drop(call);
            let duration = clock.elapsed();
            match &result {
                AttemptResult::Answered(status) => self.metrics.answered(status.as_u16()),
                AttemptResult::Failed(error) => self.metrics.unanswered(error.kind.key()),
            }
            self.metrics.callback_duration.observe(duration.as_secs_f64());
            self.limit.observe(&result);
            let asked =
                answer.as_ref().and_then(|answer| asked_wait(answer.status, &answer.headers, SystemTime::now()));
            calls.attempts.push(AttemptRecord { started_at, duration, result: result.clone(), wait: None });
            calls.answer = answer;
            calls.request_headers = request_headers;
            // 5xx and 429 (slow down) are worth another attempt; so is no answer.
            let retryable = match &result {
                AttemptResult::Answered(status) => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
                AttemptResult::Failed(_) => true,
            };
            let Some(delay) = self.retry.delay_asked(calls.attempts.len() as u32, asked).filter(|_| retryable) else {
                return calls;
            };
            if let Some(attempt) = calls.attempts.last_mut() {
                attempt.wait = Some(delay);
            }
            attempt.retry_wait(delay);
            drop(attempt);
            let slept = tokio::select! {
                _ = tokio::time::sleep(delay) => true,
                _ = stop.wait_for(Option::is_some) => false,
            };
            if !slept {
                calls.abandoned = true;
                return calls;
            }
        }
    }

    /// One call; with an authorizer, a 401 gets one fresh credential and one more call per delivery.
    async fn call(
        &self,
        message: &Message,
        body: &Bytes,
        request_id: &str,
        refreshed: &mut bool,
        logged: bool,
        attempt: &AttemptTrace,
    ) -> Exchange {
        let traceparent = attempt.traceparent();
        let Some(authorizer) = &self.layers.authorizer else {
            return self.send(message, body, request_id, None, traceparent, logged).await;
        };
        let authorization = match in_context(attempt.context(), authorizer.authorization()).await {
            Ok(value) => value,
            Err(error) => return (AttemptResult::Failed(error), None, None),
        };
        let exchange =
            self.send(message, body, request_id, Some(authorization.clone()), traceparent.clone(), logged).await;
        if exchange.0 != AttemptResult::Answered(StatusCode::UNAUTHORIZED) || *refreshed {
            return exchange;
        }
        *refreshed = true;
        match in_context(attempt.context(), authorizer.refresh(authorization)).await {
            Ok(fresh) => self.send(message, body, request_id, Some(fresh), traceparent, logged).await,
            Err(error) => (AttemptResult::Failed(error), None, None),
        }
    }

    async fn send(
        &self,
        message: &Message,
        body: &Bytes,
        request_id: &str,
        authorization: Option<HeaderValue>,
        traceparent: Option<HeaderValue>,
        logged: bool,
    ) -> Exchange {
        let request = self.template.build(message, body.clone(), request_id, authorization, traceparent);
        let request_headers = logged.then(|| request.headers().clone());
        let (result, answer) = send(&self.client, request, self.read_timeout, self.body_limit).await;
        (result, answer, request_headers)
    }
}

/// Makes `traceparent` the context a dead letter record carries on (replacing the one it came with).
fn continue_trace(message: &mut Message, traceparent: String) {
    let mut headers: Vec<Header> =
        message.headers.iter().filter(|header| !header.name.eq_ignore_ascii_case(TRACEPARENT)).cloned().collect();
    headers.push(Header::new(TRACEPARENT, &traceparent));
    message.headers = headers.into();
}

/// A call's result, the answer when there was one, and the request's headers when the delivery is logged.
type Exchange = (AttemptResult, Option<Answer>, Option<HeaderMap>);
