//! The writer: entries queued by the delivery-log handles are parsed and inserted in batches on a blocking thread;
//! the retention limit is applied periodically.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plugin_api::DeliveryLogBox;
use tokio::sync::{mpsc, oneshot};

use super::sampling::Sampling;
use super::sink::delivery_log;
use crate::store::{LogRow, Store};

/// Entries inserted in one transaction at most.
const BATCH: usize = 256;

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

pub(super) enum Command {
    Entry(String),
    Flush(oneshot::Sender<()>),
}

/// The webhook logs of the gateway.
pub struct WebhookLogs {
    queue: mpsc::Sender<Command>,
    dropped: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl WebhookLogs {
    /// Starts the writer on the current runtime; at most `capacity` entries wait to be written.
    pub fn start(store: Arc<Store>, retention: Retention, capacity: usize) -> Arc<Self> {
        let (queue, commands) = mpsc::channel(capacity.max(1));
        let written = Arc::new(AtomicU64::new(0));
        tokio::spawn(write(store, retention, commands, Arc::clone(&written)));
        Arc::new(Self { queue, dropped: Arc::new(AtomicU64::new(0)), written })
    }

    /// Entries written to the store, and entries dropped because the queue was full, so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.written.load(Ordering::Relaxed), self.dropped.load(Ordering::Relaxed))
    }

    /// The handle a running subscription of an API sampled per `sampling` logs through.
    pub fn delivery_log(&self, sampling: Sampling) -> DeliveryLogBox {
        delivery_log(sampling, self.queue.clone(), Arc::clone(&self.dropped))
    }

    /// Waits until every entry queued so far is in the store.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Command::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write(
    store: Arc<Store>,
    retention: Retention,
    mut commands: mpsc::Receiver<Command>,
    written: Arc<AtomicU64>,
) {
    let mut trim = tokio::time::interval(retention.every);
    loop {
        let first = tokio::select! {
            command = commands.recv() => match command {
                Some(command) => command,
                None => return,
            },
            _ = trim.tick() => {
                trim_store(&store, retention).await;
                continue;
            }
        };
        let mut batch = Vec::new();
        let mut flushed = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                // Only the indexed fields are read; the entry is stored as the plugin wrote it.
                Command::Entry(text) => match serde_json::from_str::<LogRow>(&text) {
                    Ok(row) => batch.push(LogRow { document: text, ..row }),
                    Err(error) => tracing::warn!(error = %error, "webhook log entry unreadable; dropped"),
                },
                Command::Flush(done) => flushed.push(done),
            }
            if batch.len() < BATCH {
                next = commands.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let (store, count) = (Arc::clone(&store), batch.len() as u64);
            match tokio::task::spawn_blocking(move || store.insert_webhook_logs(&batch)).await {
                Ok(Ok(())) => {
                    written.fetch_add(count, Ordering::Relaxed);
                }
                Ok(Err(error)) => tracing::error!(error = %error, "webhook log entries could not be written"),
                Err(_) => {}
            }
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

async fn trim_store(store: &Arc<Store>, retention: Retention) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let oldest = now.saturating_sub(retention.max_age).as_millis() as i64;
    let store = Arc::clone(store);
    match tokio::task::spawn_blocking(move || store.trim_webhook_logs(oldest, retention.max_entries)).await {
        Ok(Ok(0)) | Err(_) => {}
        Ok(Ok(dropped)) => tracing::info!(dropped, "webhook log retention applied"),
        Ok(Err(error)) => tracing::error!(error = %error, "webhook log retention failed"),
    }
}
