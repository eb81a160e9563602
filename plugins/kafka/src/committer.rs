//! Commits settled offsets in the background, so that delivery never waits for the broker: commits to the
//! subscription's group from a task of their own, coalesced (one commit carries every point that became due
//! meanwhile), paced under `auto`, retried when the broker is unreachable.

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::feed::Shared;
use crate::reader::Reader;

/// Pause after a failed commit before trying again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The background committer of one source.
pub(crate) struct Committer {
    due: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Committer {
    /// Starts committing what `reader` makes due, waiting `pace` after each wake-up to gather more.
    pub(crate) fn start(runtime: &Handle, feed: Arc<Shared>, reader: Arc<Reader>, pace: Duration) -> Self {
        let due = Arc::new(Notify::new());
        let task = runtime.spawn(run(feed, reader, Arc::clone(&due), pace));
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

async fn run(feed: Arc<Shared>, reader: Arc<Reader>, due: Arc<Notify>, pace: Duration) {
    loop {
        due.notified().await;
        tokio::time::sleep(pace).await;
        let points = reader.offsets.lock().expect("offsets lock").take_due();
        if points.is_empty() {
            continue;
        }
        let (committing, attempt) = ((Arc::clone(&feed), Arc::clone(&reader)), points.clone());
        let result = tokio::task::spawn_blocking(move || committing.0.commit(&committing.1, &attempt)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(subscription = %reader.subscription_id, error = %error, "offset commit failed; retrying");
                reader.offsets.lock().expect("offsets lock").retry(points);
                tokio::time::sleep(RETRY_PAUSE).await;
                due.notify_one();
            }
            Err(_) => return, // the runtime is shutting down
        }
    }
}
