//! Keyed admission: which message taken from the source may start now. Under `ordering.mode = key`, a message whose
//! key has a delivery under way waits (is held) behind it, in source order, until that delivery is settled; messages
//! without a key, and those of other keys, start at once. The other orderings admit everything (strict ordering is a
//! concurrency of one).

use std::collections::{HashMap, VecDeque};

use plugin_api::{Message, Qos};

use crate::config::{Ordering, OrderingKey};

/// Messages held at most per subscription before the loop stops taking more from the source: a key that is retried
/// for long holds this much memory, never more (about 64 batches).
pub(crate) const HELD_LIMIT: usize = 4_096;

/// A message's ordering key.
pub(crate) type Key = Vec<u8>;

/// A message that may start, with its ordering key when it has one.
pub(crate) struct Admitted {
    /// The message.
    pub(crate) message: Message,
    /// Its key, under `ordering.mode = key`.
    pub(crate) key: Option<Key>,
}

/// The keys with a delivery under way, and what waits behind each.
pub(crate) struct Scheduler {
    /// Where keys are read; `None` when nothing is ordered by key.
    keys_from: Option<OrderingKey>,
    /// Each busy key's waiting messages, in source order.
    waiting: HashMap<Key, VecDeque<Message>>,
    /// The key of each admitted message not yet settled, by its token.
    admitted: HashMap<u64, Key>,
    /// Messages waiting in all.
    held: usize,
    /// Messages waiting at most before no more is taken from the source.
    held_limit: usize,
}

impl Scheduler {
    /// A scheduler for `ordering` under `qos`, with `concurrency` requests in flight at most. At-most-once commits
    /// a message before it is held (the source commits only past settled messages, and a later key may start
    /// first): what is held is lost in a crash, so it holds no more than it has in flight.
    pub(crate) fn new(ordering: &Ordering, qos: Qos, concurrency: usize) -> Self {
        let keys_from = match ordering {
            Ordering::Key(source) => Some(source.clone()),
            Ordering::None | Ordering::Strict => None,
        };
        let held_limit = if qos == Qos::AtMostOnce { concurrency.max(1) } else { HELD_LIMIT };
        Self { keys_from, waiting: HashMap::new(), admitted: HashMap::new(), held: 0, held_limit }
    }

    /// Messages held at most before no more is taken from the source.
    pub(crate) fn held_limit(&self) -> usize {
        self.held_limit
    }

    /// Whether messages are ordered by key.
    pub(crate) fn is_keyed(&self) -> bool {
        self.keys_from.is_some()
    }

    /// The message if it may start now; else it is held behind its key's delivery under way.
    pub(crate) fn admit(&mut self, message: Message) -> Option<Admitted> {
        let Some(key) = self.keys_from.as_ref().and_then(|source| key_of(source, &message)) else {
            return Some(Admitted { message, key: None });
        };
        match self.waiting.get_mut(&key) {
            Some(queue) => {
                queue.push_back(message);
                self.held += 1;
                None
            }
            None => {
                self.waiting.insert(key.clone(), VecDeque::new());
                self.admitted.insert(message.ack_token, key.clone());
                Some(Admitted { message, key: Some(key) })
            }
        }
    }

    /// The delivery of `token` is settled: the next message of its key, if one waits, may start.
    pub(crate) fn settled(&mut self, token: u64) -> Option<Admitted> {
        if self.admitted.is_empty() {
            return None; // nothing ordered by key under way (always so without keys)
        }
        let key = self.admitted.remove(&token)?;
        let queue = self.waiting.get_mut(&key)?;
        match queue.pop_front() {
            Some(next) => {
                self.held -= 1;
                self.admitted.insert(next.ack_token, key.clone());
                Some(Admitted { message: next, key: Some(key) })
            }
            None => {
                self.waiting.remove(&key);
                None
            }
        }
    }

    /// Messages held behind a delivery of their key.
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}

/// The key of `message` read from `source`; `None` when it cannot be read (the message is then ordered with nothing).
fn key_of(source: &OrderingKey, message: &Message) -> Option<Key> {
    match source {
        OrderingKey::RecordKey => message.key.as_ref().into_option().map(|key| key.to_vec()),
        OrderingKey::Header(name) => message
            .headers
            .iter()
            .find(|header| header.name.as_str().eq_ignore_ascii_case(name))
            .map(|header| header.value.to_vec()),
        OrderingKey::JsonPointer(pointer) => {
            let body: serde_json::Value = serde_json::from_slice(&message.content).ok()?;
            body.pointer(pointer).map(|value| match value {
                serde_json::Value::String(text) => text.as_bytes().to_vec(),
                other => other.to_string().into_bytes(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use plugin_api::abi_stable::std_types::{ROption, RVec};
    use plugin_api::Header;

    use super::*;

    fn message(token: u64, key: Option<&str>, body: &str) -> Message {
        Message {
            id: token.to_string().into(),
            content: body.as_bytes().to_vec().into(),
            headers: RVec::from(vec![Header::new("X-Account", key.unwrap_or("none"))]),
            metadata: RVec::new(),
            key: key.map(|key| RVec::from(key.as_bytes().to_vec())).map_or(ROption::RNone, ROption::RSome),
            ack_token: token,
            timestamp_ms: 0,
        }
    }

    fn tokens(admitted: impl IntoIterator<Item = Option<Admitted>>) -> Vec<Option<u64>> {
        admitted.into_iter().map(|admitted| admitted.map(|admitted| admitted.message.ack_token)).collect()
    }

    #[test]
    fn a_key_waits_for_its_delivery_under_way_and_others_do_not() {
        let mut scheduler = Scheduler::new(&Ordering::Key(OrderingKey::RecordKey), Qos::AtLeastOnce, 20);
        let admitted: Vec<_> = [(1, Some("a")), (2, Some("b")), (3, Some("a")), (4, None), (5, Some("a"))]
            .into_iter()
            .map(|(token, key)| scheduler.admit(message(token, key, "{}")))
            .collect();
        assert_eq!(tokens(admitted), [Some(1), Some(2), None, Some(4), None]);
        assert_eq!(scheduler.held(), 2);
        assert_eq!(tokens([scheduler.settled(2), scheduler.settled(4)]), [None, None]);
        assert_eq!(tokens([scheduler.settled(1)]), [Some(3)]);
        assert_eq!(tokens([scheduler.settled(3)]), [Some(5)]);
        assert_eq!(tokens([scheduler.settled(5)]), [None]);
        assert_eq!(scheduler.held(), 0);
        assert!(scheduler.waiting.is_empty() && scheduler.admitted.is_empty());
    }

    #[test]
    fn keys_come_from_a_header_or_a_json_pointer() {
        let mut by_header = Scheduler::new(&Ordering::Key(OrderingKey::Header("x-account".into())), Qos::Auto, 20);
        assert!(by_header.admit(message(1, Some("a"), "{}")).is_some());
        assert!(by_header.admit(message(2, Some("a"), "{}")).is_none());
        let mut by_pointer =
            Scheduler::new(&Ordering::Key(OrderingKey::JsonPointer("/order/id".into())), Qos::None, 20);
        assert!(by_pointer.admit(message(1, None, r#"{"order":{"id":7}}"#)).is_some());
        assert!(by_pointer.admit(message(2, None, r#"{"order":{"id":8}}"#)).is_some());
        assert!(by_pointer.admit(message(3, None, r#"{"order":{"id":7}}"#)).is_none());
        assert!(by_pointer.admit(message(4, None, "not json")).is_some_and(|admitted| admitted.key.is_none()));
        let text = by_pointer.admit(message(5, None, r#"{"order":{"id":"x"}}"#));
        assert_eq!(text.and_then(|admitted| admitted.key), Some(b"x".to_vec()));
    }

    #[test]
    fn other_orderings_admit_everything() {
        let mut scheduler = Scheduler::new(&Ordering::Strict, Qos::AtMostOnce, 1);
        assert!(scheduler.admit(message(1, Some("a"), "{}")).is_some());
        assert!(scheduler.admit(message(2, Some("a"), "{}")).is_some());
        assert!(!scheduler.is_keyed());
    }
}
