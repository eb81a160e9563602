//! The source of one subscription: a consumer in the group named after the subscription, polled by a thread of
//! its own ([`Poller`]), committing per QoS.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::{FfiFuture, FutureExt};
use plugin_kit::api::{Batch, Qos, RawSource};
use plugin_kit::spawn_ffi;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::committer::Committer;
use crate::context::KafkaContext;
use crate::lag::Lags;
use crate::offsets::{to_partition_list, CommitPoint, Offsets};
use crate::poller::{PollSetup, Polled, Poller};

/// The consumer type of a source.
pub(crate) type KafkaConsumer = BaseConsumer<KafkaContext>;

/// How long an at-most-once commit is retried (the broker may be restarting) before the subscription fails.
const AT_MOST_ONCE_COMMIT_DEADLINE: Duration = Duration::from_secs(30);
/// Messages polled ahead of delivery at most (beyond them, fetching is paused).
const POLLED_AHEAD: usize = 256;

/// Commits under `auto` gather this long: the "periodic commit of what was delivered".
const AUTO_COMMIT_PACE: Duration = Duration::from_secs(1);

/// One subscription's consumer.
pub(crate) struct KafkaSource {
    runtime: Handle,
    consumer: Mutex<Option<Arc<KafkaConsumer>>>,
    offsets: Arc<Mutex<Offsets>>,
    /// Held while an at-most-once commit is made and while partitions are revoked: a message is either committed
    /// before its partition moves (and delivered here) or refused (and delivered by the new owner), never both.
    ownership: Arc<Mutex<()>>,
    polled: Arc<tokio::sync::Mutex<mpsc::Receiver<Polled>>>,
    poller: Mutex<Option<Poller>>,
    /// Commits in the background under `auto` and `at-least-once`.
    committer: Mutex<Option<Committer>>,
    qos: Qos,
    subscription_id: String,
    /// Where the consumer's lag is kept; forgotten when it closes.
    lags: Arc<Lags>,
}

/// What a source is made of.
pub(crate) struct SourceParts {
    pub(crate) runtime: Handle,
    pub(crate) consumer: KafkaConsumer,
    pub(crate) offsets: Arc<Mutex<Offsets>>,
    pub(crate) ownership: Arc<Mutex<()>>,
    pub(crate) qos: Qos,
    pub(crate) encode_message_id: bool,
    pub(crate) subscription_id: String,
    pub(crate) lags: Arc<Lags>,
}

impl KafkaSource {
    /// Starts polling and, under `auto` and `at-least-once`, committing.
    pub(crate) fn start(parts: SourceParts) -> std::io::Result<Self> {
        let SourceParts { runtime, consumer, offsets, ownership, qos, encode_message_id, subscription_id, lags } =
            parts;
        let consumer = Arc::new(consumer);
        let (messages, polled) = mpsc::channel(POLLED_AHEAD);
        let poller = Poller::start(PollSetup {
            consumer: Arc::clone(&consumer),
            offsets: Arc::clone(&offsets),
            encode_message_id,
            messages,
            subscription_id: subscription_id.clone(),
        })?;
        let pace = match qos {
            Qos::Auto => Some(AUTO_COMMIT_PACE),
            Qos::AtLeastOnce => Some(Duration::ZERO),
            Qos::None | Qos::AtMostOnce => None,
        };
        let committer = pace.map(|pace| {
            Committer::start(&runtime, Arc::clone(&consumer), Arc::clone(&offsets), pace, subscription_id.clone())
        });
        Ok(Self {
            runtime,
            consumer: Mutex::new(Some(consumer)),
            offsets,
            ownership,
            polled: Arc::new(tokio::sync::Mutex::new(polled)),
            poller: Mutex::new(Some(poller)),
            committer: Mutex::new(committer),
            qos,
            subscription_id,
            lags,
        })
    }

    fn consumer(&self) -> Option<Arc<KafkaConsumer>> {
        self.consumer.lock().expect("consumer lock").clone()
    }
}

impl RawSource for KafkaSource {
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>> {
        let (polled, offsets) = (Arc::clone(&self.polled), Arc::clone(&self.offsets));
        spawn_ffi(&self.runtime, async move {
            let mut polled = polled.lock().await;
            let mut messages = Vec::new();
            while messages.is_empty() {
                let first = polled.recv().await.ok_or("the source is closed")??;
                messages.push(first);
                while messages.len() < max as usize {
                    match polled.try_recv() {
                        Ok(next) => messages.push(next?),
                        Err(_) => break,
                    }
                }
                // Messages of partitions revoked since they were polled are delivered by their new owner.
                let offsets = offsets.lock().expect("offsets lock");
                messages.retain(|message| offsets.is_tracked(message.ack_token));
            }
            Ok(Batch { messages: messages.into(), end: false })
        })
    }

    fn ack(&self, tokens: RVec<u64>) -> FfiFuture<RResult<RVec<u64>, RString>> {
        if self.qos == Qos::AtMostOnce {
            let Some(consumer) = self.consumer() else {
                return std::future::ready(RResult::RErr("the source is closed".into())).into_ffi();
            };
            let (offsets, ownership) = (Arc::clone(&self.offsets), Arc::clone(&self.ownership));
            let subscription = self.subscription_id.clone();
            return spawn_ffi(&self.runtime, async move {
                tokio::task::spawn_blocking(move || {
                    commit_before_delivery(&consumer, &offsets, &ownership, tokens.into_vec(), &subscription)
                })
                .await
                .map_err(|error| error.to_string())?
                .map(RVec::from)
            });
        }
        let (refused, moved) = {
            let mut offsets = self.offsets.lock().expect("offsets lock");
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
        if moved {
            if let Some(committer) = self.committer.lock().expect("committer lock").as_ref() {
                committer.wake();
            }
        }
        std::future::ready(RResult::ROk(RVec::from(refused))).into_ffi()
    }

    fn close(&self) -> FfiFuture<()> {
        self.lags.forget(&self.subscription_id);
        drop(self.committer.lock().expect("committer lock").take());
        let poller = self.poller.lock().expect("poller lock").take();
        let Some(consumer) = self.consumer.lock().expect("consumer lock").take() else {
            return std::future::ready(()).into_ffi();
        };
        let offsets = Arc::clone(&self.offsets);
        let (qos, subscription) = (self.qos, self.subscription_id.clone());
        let closing = self.runtime.spawn_blocking(move || {
            if let Some(poller) = poller {
                poller.stop();
            }
            let points = offsets.lock().expect("offsets lock").commit_points();
            if qos != Qos::None && !points.is_empty() {
                let committed = to_partition_list(&points).and_then(|list| consumer.commit(&list, CommitMode::Sync));
                if let Err(error) = committed {
                    tracing::warn!(subscription = %subscription, error = %error, "final offset commit failed");
                }
            }
            drop(consumer); // leaves the group
            tracing::info!(subscription = %subscription, "kafka consumer closed");
        });
        async move {
            let _ = closing.await;
        }
        .into_ffi()
    }
}

/// At-most-once: marks `tokens` settled and commits past them before they are delivered. Returns the tokens
/// refused: those of partitions this consumer no longer owns, and those whose commit the group refused because
/// their partition is moving (the next owner delivers them). Blocking.
fn commit_before_delivery(
    consumer: &KafkaConsumer,
    offsets: &Mutex<Offsets>,
    ownership: &Mutex<()>,
    tokens: Vec<u64>,
    subscription: &str,
) -> Result<Vec<u64>, String> {
    let deadline = Instant::now() + AT_MOST_ONCE_COMMIT_DEADLINE;
    let mut pause = Duration::from_millis(100);
    let mut refused = Vec::new();
    let mut owned = Vec::new();
    {
        let mut offsets = offsets.lock().expect("offsets lock");
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
        let _owner = ownership.lock().expect("ownership lock");
        let due: Vec<CommitPoint> = {
            let mut offsets = offsets.lock().expect("offsets lock");
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
        let result = to_partition_list(&due).and_then(|list| consumer.commit(&list, CommitMode::Sync));
        match result {
            Ok(()) => return Ok(refused),
            Err(error) if moving_partitions(&error) => {
                tracing::info!(subscription = %subscription, error = %error, "commit refused while partitions move; their next owner delivers them");
                refused.extend(owned.iter().map(|(token, _)| *token));
                return Ok(refused);
            }
            Err(error) if Instant::now() >= deadline => {
                return Err(format!("offset commit failed for {} s: {error}", AT_MOST_ONCE_COMMIT_DEADLINE.as_secs()))
            }
            Err(error) => {
                tracing::warn!(subscription = %subscription, error = %error, "offset commit failed; retrying before delivery");
                offsets.lock().expect("offsets lock").retry(due);
                drop(_owner);
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Commit errors saying that this member's partitions are being reassigned (or that it is no longer a member).
fn moving_partitions(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::RebalanceInProgress
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::UnknownMemberId
                | RDKafkaErrorCode::FencedInstanceId
                | RDKafkaErrorCode::AssignmentLost
                | RDKafkaErrorCode::State
        )
    )
}
