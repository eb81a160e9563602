//! The writer: entries queued by the delivery-log handles are parsed and inserted in batches by a thread of its own
//! (no async worker and no blocking-pool hand-over per batch); the retention limit is applied by the same thread
//! between batches. Under load the writer rests a moment after each batch rather than wait on its queue: a waiting
//! writer is woken by every entry (a thread switch on the delivering thread each) and writes a handful at a time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plugin_api::DeliveryLogBox;
use tokio::sync::oneshot;

use super::queue::{Command, EntryQueue};
use super::sampling::Sampling;
use super::sink::delivery_log;
use crate::store::{LogRow, Store};

/// Entries inserted in one transaction at most: under load, batches grow to this and commits stay few.
const BATCH: usize = 1024;
/// How long the writer rests after a batch that emptied its queue before it looks again: what arrives meanwhile is the
/// next batch. An entry waits this much more at most, well within the second it may take to be readable; a query
/// asks for a flush first, which is answered within the same rest.
const REST: Duration = Duration::from_millis(10);

/// How long and how many entries are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Entries older than this are dropped.
    pub max_age: Duration,
    /// Only the newest this many are kept.
    pub max_entries: u64,
    /// How often the limits are applied.
    pub every: Duration,
}

/// The webhook logs of the gateway.
pub struct WebhookLogs {
    queue: Arc<EntryQueue>,
    written: Arc<AtomicU64>,
}

impl WebhookLogs {
    /// Starts the writer thread; at most `capacity` entries wait to be written.
    pub fn start(store: Arc<dyn Store>, retention: Retention, capacity: usize) -> std::io::Result<Arc<Self>> {
        let (queue, commands) = EntryQueue::new(capacity);
        let queue = Arc::new(queue);
        let written = Arc::new(AtomicU64::new(0));
        let (counted, taken) = (Arc::clone(&written), Arc::clone(&queue));
        std::thread::Builder::new()
            .name("webhook-logs".to_string())
            .spawn(move || write(store.as_ref(), retention, &commands, &taken, &counted))?;
        Ok(Arc::new(Self { queue, written }))
    }

    /// Entries written to the store, and entries dropped because the queue was full, so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.written.load(Ordering::Relaxed), self.queue.dropped())
    }

    /// The handle a running subscription of an API sampled per `sampling` logs through.
    pub fn delivery_log(&self, sampling: Sampling) -> DeliveryLogBox {
        delivery_log(sampling, Arc::clone(&self.queue))
    }

    /// Waits until every entry queued so far is in the store.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        let queue = Arc::clone(&self.queue);
        // The queue may be full: the send waits for room off the async workers.
        let queued = tokio::task::spawn_blocking(move || queue.flush_blocking(done)).await;
        if queued.unwrap_or(false) {
            let _ = written.await;
        }
    }
}

/// Writes until every sender is gone.
fn write(
    store: &dyn Store,
    retention: Retention,
    commands: &Receiver<Command>,
    queue: &EntryQueue,
    written: &AtomicU64,
) {
    let mut next_trim = Instant::now() + retention.every;
    loop {
        let first = match commands.recv_timeout(next_trim.saturating_duration_since(Instant::now())) {
            Ok(command) => command,
            Err(RecvTimeoutError::Timeout) => {
                trim_store(store, retention);
                next_trim = Instant::now() + retention.every;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = Vec::new();
        let mut flushed = Vec::new();
        let mut next = Some(first);
        // What waits, at once: an entry is readable as soon as it is written, and a quiet API's small blocks are
        // merged when the store trims.
        while let Some(command) = next.take() {
            match command {
                Command::Entries { text, count } => {
                    queue.taken(count);
                    // Only the indexed fields are read; each entry is stored as the plugin wrote it.
                    for line in text.lines().filter(|line| !line.is_empty()) {
                        match LogRow::parse(line.to_owned()) {
                            Ok(row) => batch.push(row),
                            Err(error) => tracing::warn!(error = %error, "webhook log entry unreadable; dropped"),
                        }
                    }
                }
                Command::Flush(done) => flushed.push(done),
            }
            if batch.len() < BATCH {
                next = commands.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            match store.insert_webhook_logs(&batch) {
                Ok(()) => {
                    written.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                Err(error) => tracing::error!(error = %error, "webhook log entries could not be written"),
            }
        }
        let full = batch.len() >= BATCH;
        for done in flushed {
            let _ = done.send(());
        }
        if Instant::now() >= next_trim {
            trim_store(store, retention);
            next_trim = Instant::now() + retention.every;
        }
        if !full {
            std::thread::sleep(REST);
        }
    }
}

fn trim_store(store: &dyn Store, retention: Retention) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let oldest = now.saturating_sub(retention.max_age).as_millis() as i64;
    match store.trim_webhook_logs(oldest, retention.max_entries) {
        Ok(0) => {}
        Ok(dropped) => tracing::info!(dropped, "webhook log retention applied"),
        Err(error) => tracing::error!(error = %error, "webhook log retention failed"),
    }
}
