//! This node's copy of the configuration topic: APIs and subscriptions (sealed, as produced) by id, applied in the
//! topic's order by the follower, with the offset reached (a write waits until its own record is applied).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::store::{Change, StoreError};

/// Record keys: `api/<id>`, `subscription/<id>`, `application/<id>`, and the check value of the store's key.
pub(super) const API: &str = "api/";
/// See [`API`].
pub(super) const APPLICATION: &str = "application/";
/// See [`API`].
pub(super) const SUBSCRIPTION: &str = "subscription/";
/// See [`API`].
pub(super) const CHECK: &str = "sealing/check";

/// How many changes may wait for a slow follower of the change feed before it resynchronises.
const CHANGE_BACKLOG: usize = 4096;

/// A subscription as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Kept {
    /// The order it first appeared in.
    pub(super) order: u64,
    /// Its sealed document.
    pub(super) document: String,
    /// The offset of the record it comes from (an edit names it as the version it changes).
    pub(super) offset: i64,
}

/// The configuration as applied so far.
#[derive(Default)]
pub(super) struct Tables {
    /// Sealed API documents by id.
    pub(super) apis: BTreeMap<String, String>,
    /// Sealed subscription documents by id.
    pub(super) subscriptions: HashMap<String, Kept>,
    /// Application documents by id (they hold no secret).
    pub(super) applications: BTreeMap<String, String>,
    /// The store key's check value.
    pub(super) check: Option<String>,
    /// The next order number.
    order: u64,
    /// The offset after the last record applied.
    pub(super) next_offset: i64,
}

impl Tables {
    /// Applies one record (`None`: a tombstone) at `offset`; returns the change it makes, if any. A subscription
    /// record that names the version it changes (`base`: the offset of the record it was edited from, -1 for none)
    /// is applied only if that is still the current one: of two edits of one version, the first in the topic wins,
    /// and the other's writer edits again.
    fn apply(&mut self, key: &str, value: Option<String>, offset: i64, base: Option<i64>) -> Option<Change> {
        self.next_offset = self.next_offset.max(offset + 1);
        if let Some(id) = key.strip_prefix(API) {
            let changed = match value {
                Some(document) => self.apis.insert(id.to_string(), document.clone()).as_ref() != Some(&document),
                None => self.apis.remove(id).is_some(),
            };
            return changed.then(|| Change::Api(id.to_string()));
        }
        if let Some(id) = key.strip_prefix(SUBSCRIPTION) {
            let current = self.subscriptions.get(id);
            if base.is_some_and(|base| current.map_or(-1, |kept| kept.offset) != base) {
                return None; // an edit of a version another write replaced
            }
            match value {
                Some(document) => {
                    let (order, same) = match current {
                        Some(kept) => (kept.order, kept.document == document),
                        None => {
                            self.order += 1;
                            (self.order, false)
                        }
                    };
                    self.subscriptions.insert(id.to_string(), Kept { order, document, offset });
                    if same {
                        return None;
                    }
                }
                None => {
                    self.subscriptions.remove(id)?;
                }
            }
            return Some(Change::Subscription(id.to_string()));
        }
        if let Some(id) = key.strip_prefix(APPLICATION) {
            match value {
                Some(document) => self.applications.insert(id.to_string(), document),
                None => self.applications.remove(id),
            };
            return None; // read when asked for: nothing runs on an application
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
    pub(super) fn apply(&self, key: &str, value: Option<String>, offset: i64, base: Option<i64>) {
        let change = self.tables().apply(key, value, offset, base);
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
        assert_eq!(tables.apply("api/a", Some("{1}".into()), 0, None), Some(Change::Api("a".into())));
        assert_eq!(tables.apply("api/a", Some("{1}".into()), 1, None), None, "the same document again");
        assert_eq!(tables.apply("subscription/s", Some("{}".into()), 2, None), Some(Change::Subscription("s".into())));
        assert_eq!(tables.apply("subscription/t", Some("{}".into()), 3, None), Some(Change::Subscription("t".into())));
        assert_eq!(
            tables.apply("subscription/s", Some("{2}".into()), 4, Some(2)),
            Some(Change::Subscription("s".into()))
        );
        assert_eq!(tables.subscriptions["s"].order, 1, "an update keeps the creation order");
        assert_eq!(
            tables.apply("subscription/s", Some("{3}".into()), 5, Some(2)),
            None,
            "an edit of a replaced version"
        );
        assert_eq!(tables.subscriptions["s"].document, "{2}");
        assert_eq!(tables.apply("subscription/s", None, 6, None), Some(Change::Subscription("s".into())));
        assert_eq!(tables.apply("subscription/s", None, 7, None), None, "a tombstone of nothing");
        assert_eq!(
            tables.apply("subscription/u", Some("{}".into()), 8, Some(-1)),
            Some(Change::Subscription("u".into()))
        );
        assert_eq!(tables.apply("subscription/u", Some("{}".into()), 9, Some(-1)), None, "created twice");
        assert_eq!(tables.apply("api/a", None, 10, None), Some(Change::Api("a".into())));
        assert_eq!(tables.next_offset, 11);
        assert!(tables.apis.is_empty() && tables.subscriptions.len() == 2);
    }
}
