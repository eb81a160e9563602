//! Dead letter records: the original content, headers and key, plus headers that say why (their names are
//! `plugin_kit::dead_letters`', which endpoints read back for a replay). A replayed message that fails again keeps
//! its history: its attempts add up and its first attempt stays.

use std::time::SystemTime;

use plugin_kit::api::abi_stable::std_types::{RResult, RVec};
use plugin_kit::api::{Header, Message, PublisherBox};
use plugin_kit::dead_letters::{
    history, ATTEMPTS_HEADER, CALLBACK_URL_HEADER, FIRST_ATTEMPT_HEADER, LAST_ATTEMPT_HEADER, LAST_ERROR_HEADER,
    LAST_STATUS_HEADER, SUBSCRIPTION_HEADER,
};
use webhook_core::{BoxFuture, DeadLetter, DeadLetterContext};

/// A dead letter queue behind an endpoint plugin's publisher.
pub(crate) struct QueueDeadLetter {
    publisher: PublisherBox,
}

impl QueueDeadLetter {
    pub(crate) fn new(publisher: PublisherBox) -> Self {
        Self { publisher }
    }
}

impl DeadLetter for QueueDeadLetter {
    fn publish(&self, message: Message, context: DeadLetterContext) -> BoxFuture<'_, Result<(), String>> {
        let record = record(message, &context);
        let published = self.publisher.publish(RVec::from(vec![record]));
        Box::pin(async move {
            match published.await {
                RResult::ROk(()) => Ok(()),
                RResult::RErr(error) => Err(error.into()),
            }
        })
    }
}

/// The record for the queue: the message, its context headers replacing any of the same name.
fn record(mut message: Message, context: &DeadLetterContext) -> Message {
    let (earlier_attempts, first_attempt) = history(&message);
    let added = [
        (SUBSCRIPTION_HEADER, context.subscription_id.clone()),
        (CALLBACK_URL_HEADER, context.callback_url.clone()),
        (LAST_STATUS_HEADER, context.last_status.to_string()),
        (LAST_ERROR_HEADER, context.last_error.clone()),
        (ATTEMPTS_HEADER, (earlier_attempts + context.attempts).to_string()),
        (FIRST_ATTEMPT_HEADER, first_attempt.unwrap_or_else(|| timestamp(context.first_attempt_at))),
        (LAST_ATTEMPT_HEADER, timestamp(context.last_attempt_at)),
    ];
    let mut headers: Vec<Header> = message
        .headers
        .into_iter()
        .filter(|header| !added.iter().any(|(name, _)| header.name.eq_ignore_ascii_case(name)))
        .collect();
    headers.extend(added.iter().map(|(name, value)| Header::new(name, value)));
    message.headers = headers.into();
    message
}

fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_keeps_the_message_and_says_why() {
        let message = Message {
            id: "7".into(),
            content: b"payload".to_vec().into(),
            headers: vec![Header::new("x-origin", "source"), Header::new(ATTEMPTS_HEADER, "spoofed")].into(),
            metadata: Default::default(),
            key: Some(RVec::from(b"key-7".to_vec())).into(),
            ack_token: 7,
            timestamp_ms: 0,
        };
        let context = DeadLetterContext {
            subscription_id: "sub".into(),
            callback_url: "http://127.0.0.1:9/hook".into(),
            last_status: 400,
            last_error: "callback answered 400 Bad Request".into(),
            attempts: 1,
            first_attempt_at: SystemTime::UNIX_EPOCH,
            last_attempt_at: SystemTime::UNIX_EPOCH,
        };
        let record = record(message, &context);
        assert_eq!(record.content.as_slice(), b"payload");
        assert_eq!(record.key.as_ref().map(|key| key.as_slice()).into_option(), Some(&b"key-7"[..]));
        let value = |name: &str| {
            let found: Vec<_> = record.headers.iter().filter(|header| header.name.as_str() == name).collect();
            assert_eq!(found.len(), 1, "{name}");
            String::from_utf8(found[0].value.to_vec()).unwrap()
        };
        assert_eq!(value("x-origin"), "source");
        assert_eq!(value(ATTEMPTS_HEADER), "1");
        assert_eq!(value(LAST_STATUS_HEADER), "400");
        assert_eq!(value(SUBSCRIPTION_HEADER), "sub");
        assert_eq!(value(FIRST_ATTEMPT_HEADER), "1970-01-01T00:00:00.000Z");
    }
}
