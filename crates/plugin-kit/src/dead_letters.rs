//! Dead letter records, as the `webhook-advanced` plugin writes them and endpoint plugins read them back for a
//! replay: the headers that say why a message was dead-lettered, which records a replay takes, and the finite
//! source that hands them over.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use plugin_api::abi_stable::sabi_trait::TD_Opaque;
use plugin_api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_api::async_ffi::{FfiFuture, FutureExt};
use plugin_api::{Batch, Header, Message, RawSource, RawSource_TO, ReplayRequest, SourceBox};

/// The subscription the message was delivered for.
pub const SUBSCRIPTION_HEADER: &str = "x-gravitee-dlq-subscription-id";
/// The callback that did not take it.
pub const CALLBACK_URL_HEADER: &str = "x-gravitee-dlq-callback-url";
/// The last answer's status, 0 without answer.
pub const LAST_STATUS_HEADER: &str = "x-gravitee-dlq-last-status";
/// Why the last attempt failed.
pub const LAST_ERROR_HEADER: &str = "x-gravitee-dlq-last-error";
/// Calls made, replays included.
pub const ATTEMPTS_HEADER: &str = "x-gravitee-dlq-attempts";
/// The first call, RFC 3339.
pub const FIRST_ATTEMPT_HEADER: &str = "x-gravitee-dlq-first-attempt-at";
/// The last call, RFC 3339.
pub const LAST_ATTEMPT_HEADER: &str = "x-gravitee-dlq-last-attempt-at";

/// Every header a dead letter record adds.
pub const RECORD_HEADERS: [&str; 7] = [
    SUBSCRIPTION_HEADER,
    CALLBACK_URL_HEADER,
    LAST_STATUS_HEADER,
    LAST_ERROR_HEADER,
    ATTEMPTS_HEADER,
    FIRST_ATTEMPT_HEADER,
    LAST_ATTEMPT_HEADER,
];

/// Which records a replay takes.
#[derive(Debug, Clone)]
pub struct ReplayFilter {
    subscription_id: String,
    from_ms: i64,
    to_ms: i64,
}

impl ReplayFilter {
    /// The filter a replay request describes.
    pub fn new(request: &ReplayRequest) -> Self {
        Self { subscription_id: request.subscription_id.to_string(), from_ms: request.from_ms, to_ms: request.to_ms }
    }

    /// Whether a record with `headers` is one of the subscription's, last attempted within the range.
    pub fn takes(&self, headers: &[Header]) -> bool {
        let value = |name: &str| {
            headers.iter().find(|header| header.name.eq_ignore_ascii_case(name)).map(|header| header.value.as_slice())
        };
        if value(SUBSCRIPTION_HEADER) != Some(self.subscription_id.as_bytes()) {
            return false;
        }
        let Some(at) = value(LAST_ATTEMPT_HEADER).and_then(|value| std::str::from_utf8(value).ok()).and_then(millis)
        else {
            return false;
        };
        (self.from_ms..=self.to_ms).contains(&at)
    }
}

fn millis(text: &str) -> Option<i64> {
    let at = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?;
    i64::try_from(at.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()
}

/// The message a record becomes for its replay: its dead letter headers move to its metadata, where the callback
/// does not see them and a new dead letter record finds its history.
pub fn replayed(mut record: Message) -> Message {
    let (history, headers): (Vec<Header>, Vec<Header>) = record
        .headers
        .into_iter()
        .partition(|header| RECORD_HEADERS.iter().any(|name| header.name.eq_ignore_ascii_case(name)));
    record.headers = headers.into();
    let mut metadata = record.metadata.into_vec();
    metadata.extend(history);
    record.metadata = metadata.into();
    record
}

/// The attempts a replayed message had before, and when its first attempt was (RFC 3339), from its metadata.
pub fn history(message: &Message) -> (u32, Option<String>) {
    let value = |name: &str| {
        message
            .metadata
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .and_then(|header| std::str::from_utf8(&header.value).ok().map(str::to_string))
    };
    let attempts = value(ATTEMPTS_HEADER).and_then(|attempts| attempts.parse().ok()).unwrap_or(0);
    (attempts, value(FIRST_ATTEMPT_HEADER))
}

/// A finite source of the messages given, in order; acknowledging them commits nothing.
pub fn finite_source(messages: Vec<Message>) -> SourceBox {
    RawSource_TO::from_value(FiniteSource { messages: Mutex::new(messages.into()) }, TD_Opaque)
}

struct FiniteSource {
    messages: Mutex<VecDeque<Message>>,
}

impl RawSource for FiniteSource {
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>> {
        let mut messages = self.messages.lock().expect("messages lock");
        let count = messages.len().min(max as usize);
        let batch: Vec<Message> = messages.drain(..count).collect();
        let end = messages.is_empty();
        std::future::ready(RResult::ROk(Batch { messages: batch.into(), end })).into_ffi()
    }

    fn ack(&self, _tokens: RVec<u64>) -> FfiFuture<RResult<RVec<u64>, RString>> {
        std::future::ready(RResult::ROk(RVec::new())).into_ffi()
    }

    fn close(&self) -> FfiFuture<()> {
        std::future::ready(()).into_ffi()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(subscription: &str, last: &str) -> Message {
        Message {
            id: "1".into(),
            content: RVec::new(),
            headers: vec![
                Header::new("x-origin", "billing"),
                Header::new(SUBSCRIPTION_HEADER, subscription),
                Header::new(ATTEMPTS_HEADER, "3"),
                Header::new(LAST_ATTEMPT_HEADER, last),
            ]
            .into(),
            metadata: RVec::new(),
            key: None.into(),
            ack_token: 0,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn a_replay_takes_its_subscriptions_records_within_the_range() {
        let at = millis("2026-11-29T12:00:00.000Z").unwrap();
        let filter = ReplayFilter { subscription_id: "s1".into(), from_ms: at - 1000, to_ms: at + 1000 };
        assert!(filter.takes(&record("s1", "2026-11-29T12:00:00.500Z").headers));
        assert!(!filter.takes(&record("s2", "2026-11-29T12:00:00.500Z").headers), "another subscription's");
        assert!(!filter.takes(&record("s1", "2026-11-29T12:00:02.000Z").headers), "after the range");
        assert!(!filter.takes(&record("s1", "yesterday").headers));
    }

    #[test]
    fn a_replayed_message_keeps_its_history_out_of_its_headers() {
        let message = replayed(record("s1", "2026-11-29T12:00:00.500Z"));
        assert_eq!(message.headers.len(), 1, "only the message's own header is sent");
        assert_eq!(history(&message), (3, None));
    }
}
