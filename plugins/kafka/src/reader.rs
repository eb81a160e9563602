//! One subscription's place in a feed: the partitions it owns with its cursors and settled offsets, its committed
//! positions (its consumer group's offsets), and how the feed wakes it when records arrive.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use plugin_kit::api::Qos;
use tokio::sync::Notify;

use crate::config::OffsetReset;
use crate::group_offsets::Committed;
use crate::offsets::{CommitPoint, Offsets, Partition};
use crate::trouble::CommitRefusal;

/// A subscription reading a feed.
pub(crate) struct Reader {
    /// Its id, which is also its consumer group.
    pub(crate) subscription_id: String,
    /// When it commits (SPEC §5).
    pub(crate) qos: Qos,
    /// Where it starts on a partition its group has no committed offset for.
    pub(crate) reset: OffsetReset,
    /// Message ids as base64 of `topic@partition#offset`.
    pub(crate) encode_message_id: bool,
    /// The partitions it owns, its cursors there, and what it may commit.
    pub(crate) offsets: Mutex<Offsets>,
    /// Held while an at-most-once commit is made and while partitions are revoked: a message is either committed
    /// before its partition moves (and delivered here) or refused (and delivered by the new owner), never both.
    /// An async lock: an at-most-once acknowledgement holds it while its commit is made by the feed's commit thread.
    pub(crate) ownership: tokio::sync::Mutex<()>,
    /// Its group's committed offsets as last read or written (its lag is measured from them).
    committed: Mutex<Committed>,
    /// Set by the feed when it waits at the head of every ring (the feed then wakes it with the next records).
    pub(crate) hungry: AtomicBool,
    /// Woken with new records, a rebalance, a failure.
    pub(crate) wake: Notify,
    /// Whether it waits for the feed's commit thread.
    pub(crate) commit_queued: AtomicBool,
    /// When its last background commit was accepted (`auto` commits are paced from it).
    pub(crate) last_commit: Mutex<Instant>,
    /// Why it cannot go on (its committed position could not be read), told to the delivery loop.
    failure: Mutex<Option<String>>,
    /// The brokers' last answer to its commits, when they refused it.
    pub(crate) commit_refusal: CommitRefusal,
}

impl Reader {
    /// A reader for `subscription_id` owning nothing yet.
    pub(crate) fn new(subscription_id: &str, qos: Qos, reset: OffsetReset, encode_message_id: bool) -> Self {
        Self {
            subscription_id: subscription_id.to_string(),
            qos,
            reset,
            encode_message_id,
            offsets: Mutex::new(Offsets::default()),
            ownership: tokio::sync::Mutex::new(()),
            committed: Mutex::new(HashMap::new()),
            hungry: AtomicBool::new(false),
            wake: Notify::new(),
            commit_queued: AtomicBool::new(false),
            last_commit: Mutex::new(Instant::now()),
            failure: Mutex::new(None),
            commit_refusal: CommitRefusal::default(),
        }
    }

    /// Takes partitions over: per partition, where it starts and its group's committed offset there, if any.
    pub(crate) fn assign_all(&self, starts: HashMap<Partition, (i64, Option<i64>)>) {
        if starts.is_empty() {
            return;
        }
        tracing::info!(subscription = %self.subscription_id, partitions = starts.len(), "partitions assigned");
        // Offsets before committed, as everywhere both are taken.
        let mut offsets = self.offsets.lock().expect("offsets lock");
        let mut committed = self.committed.lock().expect("committed lock");
        for (partition, (start, offset)) in starts {
            if let Some(offset) = offset {
                committed.insert(partition.clone(), offset);
            }
            offsets.assign(partition, start);
        }
    }

    /// Remembers commit points the broker accepted.
    pub(crate) fn committed_at(&self, points: &[CommitPoint]) {
        let mut committed = self.committed.lock().expect("committed lock");
        for (partition, offset) in points {
            committed.insert(partition.clone(), *offset);
        }
    }

    /// Its committed offset on each partition it owns.
    pub(crate) fn committed(&self) -> Committed {
        let offsets = self.offsets.lock().expect("offsets lock");
        let committed = self.committed.lock().expect("committed lock");
        committed.iter().filter(|(partition, _)| offsets.owns(partition)).map(|(p, o)| (p.clone(), *o)).collect()
    }

    /// Stops the reader with `cause`.
    pub(crate) fn fail(&self, cause: String) {
        *self.failure.lock().expect("failure lock") = Some(cause);
        self.wake.notify_one();
    }

    /// Why the reader cannot go on, if it cannot.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().expect("failure lock").clone()
    }

    /// Wakes the reader if it waits for records; returns whether it did.
    pub(crate) fn feed_if_hungry(&self) -> bool {
        let hungry = self.hungry.swap(false, Ordering::AcqRel);
        if hungry {
            self.wake.notify_one();
        }
        hungry
    }
}
