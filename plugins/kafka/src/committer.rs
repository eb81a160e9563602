//! Commits settled offsets in the background, so that delivery never waits for the broker: synchronous commits
//! from a task of their own, coalesced (one commit carries every point that became due meanwhile), paced under
//! `auto`, retried when the broker is unreachable.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::offsets::{to_partition_list, Offsets};
use crate::source::KafkaConsumer;

/// Pause after a failed commit before trying again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The background committer of one source.
pub(crate) struct Committer {
    due: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Committer {
    /// Starts committing what `offsets` makes due, waiting `pace` after each wake-up to gather more.
    pub(crate) fn start(
        runtime: &Handle,
        consumer: Arc<KafkaConsumer>,
        offsets: Arc<Mutex<Offsets>>,
        pace: Duration,
        subscription: String,
    ) -> Self {
        let due = Arc::new(Notify::new());
        let task = runtime.spawn(run(consumer, offsets, Arc::clone(&due), pace, subscription));
        Self { due, task }
    }

    /// Says that commit points became due.
    pub(crate) fn wake(&self) {
        self.due.notify_one();
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    consumer: Arc<KafkaConsumer>,
    offsets: Arc<Mutex<Offsets>>,
    due: Arc<Notify>,
    pace: Duration,
    subscription: String,
) {
    loop {
        due.notified().await;
        tokio::time::sleep(pace).await;
        let points = offsets.lock().expect("offsets lock").take_due();
        if points.is_empty() {
            continue;
        }
        let (committing, attempt) = (Arc::clone(&consumer), points.clone());
        let result = tokio::task::spawn_blocking(move || {
            to_partition_list(&attempt).and_then(|list| committing.commit(&list, CommitMode::Sync))
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(subscription = %subscription, error = %error, "offset commit failed; retrying");
                offsets.lock().expect("offsets lock").retry(points);
                tokio::time::sleep(RETRY_PAUSE).await;
                due.notify_one();
            }
            Err(_) => return, // the runtime is shutting down
        }
    }
}
