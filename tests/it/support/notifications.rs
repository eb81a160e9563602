//! The operator's end of operational webhooks: a gateway configured to notify a receiver, and what it got.

use serde_json::Value;

use super::receiver::Receiver;

/// The Standard Webhooks secret notifications are signed with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A configuration whose notifications go to `url`, keeping at most `capacity` per endpoint.
pub fn notifying(url: &str, capacity: u64) -> String {
    notifying_of(url, capacity, &[])
}

/// The same, of the event types `events` only (none: all).
pub fn notifying_of(url: &str, capacity: u64, events: &[&str]) -> String {
    format!(
        "[notifications]\nqueue_capacity = {capacity}\n\n[[notifications.webhooks]]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\nevents = {events:?}\n"
    )
}

/// The notifications `receiver` got, in order, as JSON.
pub fn notifications(receiver: &Receiver) -> Vec<Value> {
    receiver.requests().iter().map(|request| serde_json::from_slice(&request.body).expect("JSON")).collect()
}
