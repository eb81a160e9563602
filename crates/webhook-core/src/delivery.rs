//! Delivering one message: build the request, send it, judge the answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use plugin_api::Message;

use crate::attempt::send;
use crate::client::CallbackClient;
use crate::outcome::{InterruptFlags, Outcome};
use crate::request::RequestTemplate;

/// Everything needed to call one subscription's callback.
pub(crate) struct Deliverer {
    client: CallbackClient,
    template: RequestTemplate,
    read_timeout: Duration,
    interrupts: InterruptFlags,
}

impl Deliverer {
    /// A deliverer with its own pooled client.
    pub(crate) fn new(
        client: CallbackClient,
        template: RequestTemplate,
        read_timeout: Duration,
        interrupts: InterruptFlags,
    ) -> Arc<Self> {
        Arc::new(Self { client, template, read_timeout, interrupts })
    }

    /// POSTs `message` once and says what that means for it.
    pub(crate) async fn deliver(&self, mut message: Message) -> Outcome {
        let body = Bytes::from(std::mem::take(&mut message.content).into_vec());
        let request_id = uuid::Uuid::new_v4().to_string();
        let request = self.template.build(&message, body, &request_id);
        let result = send(&self.client, request, self.read_timeout).await;
        let outcome = self.interrupts.judge(&result);
        tracing::debug!(message_id = %message.id, request_id = %request_id, result = ?result, "callback called");
        outcome
    }
}
