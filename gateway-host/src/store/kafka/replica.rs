//! This node's copy of the configuration topic: APIs and subscriptions (sealed, as produced) by id, applied in the
//! topic's order by the follower, with the offset reached (a write waits until its own record is applied).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::store::{Change, StoreError};

/// Record keys: `api/<id>`, `subscription/<id>`, and the check value of the store's key.
pub(super) const API: &str = "api/";
/// See [`API`].
pub(super) const SUBSCRIPTION: &str = "subscription/";
/// See [`API`].
pub(super) const CHECK: &str = "sealing/check";

/// How many changes may wait for a slow follower of the change feed before it resynchronises.
const CHANGE_BACKLOG: usize = 4096;

/// The configuration as applied so far.
#[derive(Default)]
pub(super) struct Tables {
    /// Sealed API documents by id.
    pub(super) apis: BTreeMap<String, String>,
    /// Sealed subscription documents by id, with the order they first appeared in.
    pub(super) subscriptions: HashMap<String, (u64, String)>,
    /// The store key's check value.
    pub(super) check: Option<String>,
    /// The next order number.
    order: u64,
    /// The offset after the last record applied.
    pub(super) next_offset: i64,
}

impl Tables {
    /// Applies one record (`None`: a tombstone) at `offset`; returns the change it makes, if any.
    fn apply(&mut self, key: &str, value: Option<String>, offset: i64) -> Option<Change> {
        self.next_offset = self.next_offset.max(offset + 1);
        if let Some(id) = key.strip_prefix(API) {
            let changed = match value {
                Some(document) => self.apis.insert(id.to_string(), document.clone()).as_ref() != Some(&document),
                None => self.apis.remove(id).is_some(),
            };
            return changed.then(|| Change::Api(id.to_string()));
        }
        if let Some(id) = key.strip_prefix(SUBSCRIPTION) {
            match value {
                Some(document) => {
                    let order = match self.subscriptions.get(id) {
                        Some((_, old)) if *old == document => return None,
                        Some((order, _)) => *order,
                        None => {
                            self.order += 1;
                            self.order
                        }
                    };
                    self.subscriptions.insert(id.to_string(), (order, document));
                }
                None => {
                    self.subscriptions.remove(id)?;
                }
            }
            return Some(Change::Subscription(id.to_string()));
        }
        if key == CHECK {
            self.check = value;
        }
        None
    }
}

/// The replica the follower fills and the store reads.
pub(super) struct Replica {
    tables: Mutex<Tables>,
    /// Signalled after every record applied.
    applied: Condvar,
    /// Every change applied, for the nodes' dispatchers.
    changes: broadcast::Sender<Change>,
}

impl Replica {
    pub(super) fn new() -> Self {
        Self { tables: Mutex::default(), applied: Condvar::new(), changes: broadcast::channel(CHANGE_BACKLOG).0 }
    }

    /// The tables as applied so far.
    pub(super) fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().expect("replica lock")
    }

    /// Applies one record of the topic and tells the change feed.
    pub(super) fn apply(&self, key: &str, value: Option<String>, offset: i64) {
        let change = self.tables().apply(key, value, offset);
        self.applied.notify_all();
        if let Some(change) = change {
            let _ = self.changes.send(change); // nobody listening yet: the start reads everything anyway
        }
    }

    /// Waits until the record at `offset` (and so every one before it) is applied. Blocking.
    pub(super) fn wait_for(&self, offset: i64, timeout: Duration) -> Result<(), StoreError> {
        let deadline = Instant::now() + timeout;
        let mut tables = self.tables();
        while tables.next_offset <= offset {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Kafka(format!(
                    "the write at offset {offset} was not read back within {} s",
                    timeout.as_secs()
                )));
            }
            tables = self.applied.wait_timeout(tables, left).expect("replica lock").0;
        }
        Ok(())
    }

    /// A new follower of the change feed.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_apply_in_order_and_only_real_changes_are_told() {
        let mut tables = Tables::default();
        assert_eq!(tables.apply("api/a", Some("{1}".into()), 0), Some(Change::Api("a".into())));
        assert_eq!(tables.apply("api/a", Some("{1}".into()), 1), None, "the same document again");
        assert_eq!(tables.apply("subscription/s", Some("{}".into()), 2), Some(Change::Subscription("s".into())));
        assert_eq!(tables.apply("subscription/t", Some("{}".into()), 3), Some(Change::Subscription("t".into())));
        assert_eq!(tables.apply("subscription/s", Some("{2}".into()), 4), Some(Change::Subscription("s".into())));
        assert_eq!(tables.subscriptions["s"].0, 1, "an update keeps the creation order");
        assert_eq!(tables.apply("subscription/s", None, 5), Some(Change::Subscription("s".into())));
        assert_eq!(tables.apply("subscription/s", None, 6), None, "a tombstone of nothing");
        assert_eq!(tables.apply("api/a", None, 7), Some(Change::Api("a".into())));
        assert_eq!(tables.next_offset, 8);
        assert!(tables.apis.is_empty() && tables.subscriptions.len() == 1);
    }
}
