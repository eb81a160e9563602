//! Delivering one message: call the callback (authenticated, retried), judge the answer, and settle, skip,
//! dead-letter or fail.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use plugin_api::Message;

use crate::attempt::{send, AttemptResult};
use crate::client::CallbackClient;
use crate::config::RetryConfig;
use crate::layers::{DeadLetterContext, Layers};
use crate::outcome::{InterruptFlags, Outcome};
use crate::request::RequestTemplate;

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
}

/// Everything needed to call one subscription's callback.
pub(crate) struct Deliverer {
    pub(crate) client: CallbackClient,
    pub(crate) template: RequestTemplate,
    pub(crate) read_timeout: Duration,
    pub(crate) interrupts: InterruptFlags,
    pub(crate) retry: RetryConfig,
    pub(crate) layers: Layers,
    pub(crate) subscription_id: String,
}

/// The calls made for one message.
struct Calls {
    last: AttemptResult,
    attempts: u32,
    first_at: SystemTime,
    last_at: SystemTime,
}

impl Deliverer {
    /// POSTs `message` (retrying as configured) and says what became of it.
    pub(crate) async fn deliver(self: Arc<Self>, mut message: Message) -> Verdict {
        let body = Bytes::from(std::mem::take(&mut message.content).into_vec());
        let request_id = uuid::Uuid::new_v4().to_string();
        let calls = self.call_with_retries(&message, &body, &request_id).await;
        tracing::debug!(message_id = %message.id, request_id = %request_id, attempts = calls.attempts, result = ?calls.last, "callback called");
        let reason = match self.interrupts.judge(&calls.last) {
            Outcome::Delivered => return Verdict::Settled,
            Outcome::Unavailable { reason, interrupt: true } => return Verdict::Fail(reason),
            Outcome::Refused { reason } | Outcome::Unavailable { reason, interrupt: false } => reason,
        };
        let Some(dead_letter) = &self.layers.dead_letter else {
            return match calls.last {
                AttemptResult::Answered(status) if !status.is_server_error() => Verdict::Fail(reason),
                _ => Verdict::Skipped(reason),
            };
        };
        let context = DeadLetterContext {
            subscription_id: self.subscription_id.clone(),
            callback_url: self.template.callback_url(),
            last_status: match calls.last {
                AttemptResult::Answered(status) => status.as_u16(),
                AttemptResult::Failed(_) => 0,
            },
            last_error: reason,
            attempts: calls.attempts,
            first_attempt_at: calls.first_at,
            last_attempt_at: calls.last_at,
        };
        message.content = body.to_vec().into();
        match dead_letter.publish(message, context).await {
            Ok(()) => Verdict::DeadLettered,
            Err(error) => Verdict::Fail(format!("dead letter queue publish failed: {error}")),
        }
    }

    async fn call_with_retries(&self, message: &Message, body: &Bytes, request_id: &str) -> Calls {
        let first_at = SystemTime::now();
        let mut refreshed = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last_at = SystemTime::now();
            let last = self.call(message, body, request_id, &mut refreshed).await;
            let retryable = match &last {
                AttemptResult::Answered(status) => status.is_server_error(),
                AttemptResult::Failed(_) => true,
            };
            match self.retry.delay_before(attempts).filter(|_| retryable) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Calls { last, attempts, first_at, last_at },
            }
        }
    }

    /// One call; with an authorizer, a 401 gets one fresh credential and one more call per delivery.
    async fn call(&self, message: &Message, body: &Bytes, request_id: &str, refreshed: &mut bool) -> AttemptResult {
        let Some(authorizer) = &self.layers.authorizer else {
            return self.send(message, body, request_id, None).await;
        };
        let authorization = match authorizer.authorization().await {
            Ok(value) => value,
            Err(error) => return AttemptResult::Failed(error),
        };
        let result = self.send(message, body, request_id, Some(authorization.clone())).await;
        if result != AttemptResult::Answered(StatusCode::UNAUTHORIZED) || *refreshed {
            return result;
        }
        *refreshed = true;
        match authorizer.refresh(authorization).await {
            Ok(fresh) => self.send(message, body, request_id, Some(fresh)).await,
            Err(error) => AttemptResult::Failed(error),
        }
    }

    async fn send(
        &self,
        message: &Message,
        body: &Bytes,
        request_id: &str,
        authorization: Option<HeaderValue>,
    ) -> AttemptResult {
        let request = self.template.build(message, body.clone(), request_id, authorization);
        send(&self.client, request, self.read_timeout).await
    }
}
