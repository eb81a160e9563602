//! The source of one subscription: a [`Reader`] of the feed of its topics, taking records at its own cursors (or from
//! its catch-up consumer while it is behind), committing to its consumer group (the subscription id) per QoS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::{FfiFuture, FutureExt};
use plugin_kit::api::{Batch, Message, Qos, RawSource};
use plugin_kit::spawn_ffi;
use tokio::runtime::Handle;

use crate::catch_up::CatchUp;
use crate::feed::{Feed, Feeds};
use crate::message::Record;
use crate::offsets::CommitPoint;
use crate::reader::Reader;
use crate::readers::OpenReaders;

/// How long an at-most-once commit is retried (the broker may be restarting) before the subscription fails.
const AT_MOST_ONCE_COMMIT_DEADLINE: Duration = Duration::from_secs(30);
/// How often a waiting source looks again without being woken: a safety net only (the feed wakes a waiting reader
/// with new records, a rebalance and a failure; a waiting reader is at the head and cannot fall behind). Ten thousand
/// idle subscriptions looking every second cost 6.3 % of a core.
const IDLE_LOOK: Duration = Duration::from_secs(30);

/// One subscription's source.
pub(crate) struct KafkaSource {
    runtime: Handle,
    feeds: Arc<Feeds>,
    feed: Arc<Feed>,
    reader: Arc<Reader>,
    /// Held by each `next_batch` (one at a time); keeps the catch-up consumer while the subscription is behind.
    catching_up: Arc<tokio::sync::Mutex<Option<CatchUp>>>,
    /// Where the endpoint finds open readers (their lag); left when the source closes.
    open: Arc<OpenReaders>,
}

/// What a source is made of.
pub(crate) struct SourceParts {
    pub(crate) runtime: Handle,
    pub(crate) feeds: Arc<Feeds>,
    pub(crate) feed: Arc<Feed>,
    pub(crate) reader: Arc<Reader>,
    pub(crate) open: Arc<OpenReaders>,
}

impl KafkaSource {
    /// A source reading `parts.feed` (under `auto` and `at-least-once`, the feed's commit thread commits for it).
    pub(crate) fn start(parts: SourceParts) -> Self {
        let SourceParts { runtime, feeds, feed, reader, open } = parts;
        open.insert(&reader, &feed.shared);
        Self { runtime, feeds, feed, reader, catching_up: Arc::default(), open }
    }
}

impl RawSource for KafkaSource {
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>> {
        let (feed, reader) = (Arc::clone(&self.feed), Arc::clone(&self.reader));
        let (catching_up, turns) = (Arc::clone(&self.catching_up), Arc::clone(&self.feed.catch_up_turns));
        spawn_ffi(&self.runtime, async move {
            let max = max.max(1) as usize;
            let mut catching_up = catching_up.lock().await;
            loop {
                if let Some(cause) = reader.failure() {
                    return Err(cause);
                }
                let woken = reader.wake.notified();
                let taken = feed.shared.take(&reader, max)?;
                let messages = messages_of(&reader, &taken.records);
                if !messages.is_empty() {
                    return Ok(Batch { messages: messages.into(), end: false });
                }
                if taken.behind.is_empty() {
                    if let Some(caught_up) = catching_up.take() {
                        tracing::info!(subscription = %reader.subscription_id, "caught up with the feed");
                        drop(tokio::task::spawn_blocking(move || drop(caught_up)));
                    }
                    let _ = tokio::time::timeout(IDLE_LOOK, woken).await;
                    continue;
                }
                let opened = catching_up.take();
                let turn = match opened {
                    Some(_) => None,
                    None => Some(Arc::clone(&turns).acquire_owned().await.map_err(|error| error.to_string())?),
                };
                let (behind, feed_for_open, subscription) =
                    (taken.behind, Arc::clone(&feed), reader.subscription_id.clone());
                // Creating, reading and dropping a client block: off the async workers.
                let (read, catch_up) = tokio::task::spawn_blocking(move || {
                    let mut catch_up = match (opened, turn) {
                        (Some(catch_up), _) => catch_up,
                        (None, Some(turn)) => CatchUp::open(&feed_for_open.catch_up_config, &subscription, turn)?,
                        (None, None) => return Err("no catch-up turn".to_string()),
                    };
                    Ok((catch_up.read(&behind, max), catch_up))
                })
                .await
                .map_err(|error| error.to_string())??;
                *catching_up = Some(catch_up);
                let records: Vec<Arc<Record>> = read?.into_iter().map(Arc::new).collect();
                let messages = messages_of(&reader, &records);
                if !messages.is_empty() {
                    return Ok(Batch { messages: messages.into(), end: false });
                }
            }
        })
    }

    fn ack(&self, tokens: RVec<u64>) -> FfiFuture<RResult<RVec<u64>, RString>> {
        if self.reader.qos == Qos::AtMostOnce {
            let (feed, reader) = (Arc::clone(&self.feed), Arc::clone(&self.reader));
            return spawn_ffi(&self.runtime, async move {
                commit_before_delivery(&feed, &reader, tokens.into_vec()).await.map(RVec::from)
            });
        }
        let (refused, moved) = {
            let mut offsets = self.reader.offsets.lock().expect("offsets lock");
            let mut refused = Vec::new();
            let mut moved = false;
            for token in tokens {
                match offsets.is_tracked(token) {
                    true => moved |= offsets.settle(token),
                    false => refused.push(token),
                }
            }
            (refused, moved)
        };
        if moved && matches!(self.reader.qos, Qos::Auto | Qos::AtLeastOnce) {
            self.feed.commits.due(&self.reader);
        }
        std::future::ready(RResult::ROk(RVec::from(refused))).into_ffi()
    }

    fn close(&self) -> FfiFuture<()> {
        self.open.remove(&self.reader);
        self.reader.fail("the source is closed".to_string());
        let catch_up = self.catching_up.try_lock().ok().and_then(|mut catching_up| catching_up.take());
        let (feeds, feed, reader) = (Arc::clone(&self.feeds), Arc::clone(&self.feed), Arc::clone(&self.reader));
        let closing = self.runtime.spawn_blocking(move || {
            drop(catch_up);
            let stamp = feed.shared.stamp();
            let points = reader.offsets.lock().expect("offsets lock").commit_points();
            if reader.qos != Qos::None && !points.is_empty() {
                if let Err(error) = feed.commit(&reader, &points, stamp) {
                    tracing::warn!(subscription = %reader.subscription_id, error = %error, "final offset commit failed");
                }
            }
            feeds.leave(&feed, &reader);
            tracing::info!(subscription = %reader.subscription_id, "kafka source closed");
        });
        async move {
            let _ = closing.await;
        }
        .into_ffi()
    }
}

/// The records the reader has not handed out yet, as messages with their tokens (those of partitions it no longer
/// owns are left out).
fn messages_of(reader: &Reader, records: &[Arc<Record>]) -> Vec<Message> {
    let mut offsets = reader.offsets.lock().expect("offsets lock");
    records
        .iter()
        .filter_map(|record| {
            let token = offsets.track(&record.topic, record.partition, record.offset)?;
            Some(record.message(token, reader.encode_message_id))
        })
        .collect()
}

/// At-most-once: marks `tokens` settled and has the feed's commit thread commit past them before they are delivered.
/// Returns the tokens refused: those of partitions this subscription no longer owns (the next owner delivers them).
async fn commit_before_delivery(feed: &Feed, reader: &Arc<Reader>, tokens: Vec<u64>) -> Result<Vec<u64>, String> {
    let deadline = Instant::now() + AT_MOST_ONCE_COMMIT_DEADLINE;
    let mut pause = Duration::from_millis(100);
    let mut refused = Vec::new();
    let mut owned = Vec::new();
    {
        let mut offsets = reader.offsets.lock().expect("offsets lock");
        for token in tokens {
            match offsets.partition_of(token) {
                Some(partition) => {
                    offsets.settle(token);
                    owned.push((token, partition));
                }
                None => refused.push(token),
            }
        }
    }
    loop {
        let owner = reader.ownership.lock().await;
        let stamp = feed.shared.stamp();
        let due: Vec<CommitPoint> = {
            let mut offsets = reader.offsets.lock().expect("offsets lock");
            // A partition revoked since: its messages go to the new owner.
            owned.retain(|(token, partition)| {
                offsets.owns(partition) || {
                    refused.push(*token);
                    false
                }
            });
            let due = offsets.take_due();
            due.into_iter().filter(|(partition, _)| offsets.owns(partition)).collect()
        };
        if owned.is_empty() || due.is_empty() {
            return Ok(refused);
        }
        let answer = feed.commits.commit_now(reader, due.clone(), stamp).await;
        match answer.unwrap_or_else(|_| Err("the Kafka feed is closed".to_string())) {
            Ok(()) => return Ok(refused),
            Err(error) if Instant::now() >= deadline => {
                return Err(format!("offset commit failed for {} s: {error}", AT_MOST_ONCE_COMMIT_DEADLINE.as_secs()))
            }
            Err(error) => {
                tracing::warn!(subscription = %reader.subscription_id, error = %error, "offset commit failed; retrying before delivery");
                reader.offsets.lock().expect("offsets lock").retry(due);
                drop(owner);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
