//! The bounded queue between the delivery-log handles and the writer: it counts entries, not hand-overs, since a
//! plugin hands several at once (one per line).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// What the writer is asked to do.
pub(super) enum Command {
    /// Entries to write: `count` JSON documents, one per line of `text`.
    Entries { text: String, count: usize },
    /// Answer once everything queued before is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// At most `capacity` entries wait; past that, new ones are dropped and counted (delivery is never slowed).
pub(super) struct EntryQueue {
    sender: SyncSender<Command>,
    waiting: AtomicUsize,
    capacity: usize,
    dropped: AtomicU64,
}

impl EntryQueue {
    /// A queue of `capacity` entries and the writer's end of it.
    pub(super) fn new(capacity: usize) -> (Self, Receiver<Command>) {
        let capacity = capacity.max(1);
        // Each hand-over carries an entry at least; a few more places for flushes.
        let (sender, commands) = sync_channel(capacity + 16);
        (Self { sender, waiting: AtomicUsize::new(0), capacity, dropped: AtomicU64::new(0) }, commands)
    }

    /// Queues `count` entries, one per line of `text`, or drops them all when they do not fit.
    pub(super) fn push(&self, text: String, count: usize) {
        if count == 0 {
            return;
        }
        let fits = self.waiting.fetch_add(count, Ordering::Relaxed) + count <= self.capacity;
        if !fits || self.sender.try_send(Command::Entries { text, count }).is_err() {
            self.waiting.fetch_sub(count, Ordering::Relaxed);
            let before = self.dropped.fetch_add(count as u64, Ordering::Relaxed);
            // Said when the count passes a power of two, not for every entry.
            if (before + count as u64).ilog2() != before.checked_ilog2().unwrap_or(u32::MAX) {
                tracing::warn!(
                    dropped = before + count as u64,
                    "webhook log queue full; entries dropped (delivery is not slowed)"
                );
            }
        }
    }

    /// The writer took `count` entries off the queue.
    pub(super) fn taken(&self, count: usize) {
        self.waiting.fetch_sub(count, Ordering::Relaxed);
    }

    /// Entries dropped so far.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues a flush, waiting for room (never on an async worker).
    pub(super) fn flush_blocking(&self, done: tokio::sync::oneshot::Sender<()>) -> bool {
        self.sender.send(Command::Flush(done)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_counts_entries_and_a_batch_that_does_not_fit_is_dropped_whole() {
        let (queue, commands) = EntryQueue::new(4);
        queue.push("{}\n{}\n{}\n".into(), 3);
        queue.push("{}\n{}\n".into(), 2);
        assert_eq!(queue.dropped(), 2, "3 + 2 entries exceed 4");
        let Ok(Command::Entries { count, .. }) = commands.try_recv() else { panic!("the first batch waits") };
        assert_eq!(count, 3);
        queue.taken(count);
        queue.push("{}\n{}\n".into(), 2);
        assert_eq!(queue.dropped(), 2, "room again once the writer took the first");
        assert!(matches!(commands.try_recv(), Ok(Command::Entries { count: 2, .. })));
    }
}
