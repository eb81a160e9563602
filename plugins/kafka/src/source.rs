//! The source of one subscription: a consumer in the group named after the subscription, committing per QoS.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::{FfiFuture, FutureExt};
use plugin_kit::api::{Batch, Header, Message, Qos, RawSource};
use plugin_kit::spawn_ffi;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers, Message as _};
use tokio::runtime::Handle;

use crate::committer::Committer;
use crate::context::KafkaContext;
use crate::offsets::{to_partition_list, CommitPoint, Offsets};

/// The consumer type of a source.
pub(crate) type KafkaConsumer = StreamConsumer<KafkaContext>;

/// How long an at-most-once commit is retried (the broker may be restarting) before the subscription fails.
const AT_MOST_ONCE_COMMIT_DEADLINE: Duration = Duration::from_secs(60);
/// Pause after a consumer error, so that a broker that stays down does not spin the loop.
const ERROR_PAUSE: Duration = Duration::from_millis(200);

/// Commits under `auto` gather this long: the "periodic commit of what was delivered".
const AUTO_COMMIT_PACE: Duration = Duration::from_secs(1);

/// One subscription's consumer.
pub(crate) struct KafkaSource {
    runtime: Handle,
    consumer: Mutex<Option<Arc<KafkaConsumer>>>,
    offsets: Arc<Mutex<Offsets>>,
    /// Commits in the background under `auto` and `at-least-once`.
    committer: Mutex<Option<Committer>>,
    qos: Qos,
    encode_message_id: bool,
    subscription_id: String,
}

impl KafkaSource {
    pub(crate) fn new(
        runtime: Handle,
        consumer: KafkaConsumer,
        offsets: Arc<Mutex<Offsets>>,
        qos: Qos,
        encode_message_id: bool,
        subscription_id: String,
    ) -> Self {
        let consumer = Arc::new(consumer);
        let pace = match qos {
            Qos::Auto => Some(AUTO_COMMIT_PACE),
            Qos::AtLeastOnce => Some(Duration::ZERO),
            Qos::None | Qos::AtMostOnce => None,
        };
        let committer = pace.map(|pace| {
            Committer::start(&runtime, Arc::clone(&consumer), Arc::clone(&offsets), pace, subscription_id.clone())
        });
        Self {
            runtime,
            consumer: Mutex::new(Some(consumer)),
            offsets,
            committer: Mutex::new(committer),
            qos,
            encode_message_id,
            subscription_id,
        }
    }

    fn consumer(&self) -> Option<Arc<KafkaConsumer>> {
        self.consumer.lock().expect("consumer lock").clone()
    }
}

impl RawSource for KafkaSource {
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>> {
        let Some(consumer) = self.consumer() else {
            return std::future::ready(RResult::RErr("the source is closed".into())).into_ffi();
        };
        let offsets = Arc::clone(&self.offsets);
        let encode = self.encode_message_id;
        spawn_ffi(&self.runtime, async move {
            let first = loop {
                match consumer.recv().await {
                    Ok(message) => break message,
                    Err(error) if is_fatal(&error) => return Err(format!("the Kafka consumer failed: {error}")),
                    Err(error) => {
                        tracing::warn!(error = %error, "kafka consumer error; still consuming");
                        tokio::time::sleep(ERROR_PAUSE).await;
                    }
                }
            };
            consumer.context().recovered();
            let mut messages = vec![to_message(&first, &offsets, encode)];
            while messages.len() < max as usize {
                // Take what is already fetched, without waiting for more.
                match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
                    Ok(Ok(message)) => messages.push(to_message(&message, &offsets, encode)),
                    Ok(Err(_)) | Err(_) => break,
                }
            }
            Ok(Batch { messages: messages.into(), end: false })
        })
    }

    fn ack(&self, tokens: RVec<u64>) -> FfiFuture<RResult<(), RString>> {
        let (moved, due) = {
            let mut offsets = self.offsets.lock().expect("offsets lock");
            let moved = tokens.into_iter().fold(false, |moved, token| offsets.settle(token) | moved);
            // At-most-once commits here, before the delivery; the others leave it to the committer.
            let due = if self.qos == Qos::AtMostOnce { offsets.take_due() } else { Vec::new() };
            (moved, due)
        };
        match self.qos {
            Qos::None => {}
            Qos::Auto | Qos::AtLeastOnce if moved => {
                if let Some(committer) = self.committer.lock().expect("committer lock").as_ref() {
                    committer.wake();
                }
            }
            Qos::Auto | Qos::AtLeastOnce => {}
            Qos::AtMostOnce => {
                if let (Some(consumer), false) = (self.consumer(), due.is_empty()) {
                    return spawn_ffi(&self.runtime, commit_confirmed(consumer, due));
                }
            }
        }
        std::future::ready(RResult::ROk(())).into_ffi()
    }

    fn close(&self) -> FfiFuture<()> {
        drop(self.committer.lock().expect("committer lock").take());
        let Some(consumer) = self.consumer.lock().expect("consumer lock").take() else {
            return std::future::ready(()).into_ffi();
        };
        let points = self.offsets.lock().expect("offsets lock").commit_points();
        let (qos, subscription) = (self.qos, self.subscription_id.clone());
        let closing = self.runtime.spawn_blocking(move || {
            if qos != Qos::None && !points.is_empty() {
                let committed = to_partition_list(&points).and_then(|list| consumer.commit(&list, CommitMode::Sync));
                warn_on_error(&subscription, "final commit", committed);
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

/// Commits synchronously, retrying while the broker is unreachable, up to a deadline.
async fn commit_confirmed(consumer: Arc<KafkaConsumer>, points: Vec<CommitPoint>) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + AT_MOST_ONCE_COMMIT_DEADLINE;
    let mut pause = Duration::from_millis(100);
    loop {
        let attempt = Arc::clone(&consumer);
        let list = to_partition_list(&points).map_err(|error| error.to_string())?;
        let result = tokio::task::spawn_blocking(move || attempt.commit(&list, CommitMode::Sync))
            .await
            .map_err(|error| error.to_string())?;
        match result {
            Ok(()) => return Ok(()),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("offset commit failed for {} s: {error}", AT_MOST_ONCE_COMMIT_DEADLINE.as_secs()))
            }
            Err(error) => {
                tracing::warn!(error = %error, "offset commit failed; retrying before delivery");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn warn_on_error(subscription: &str, action: &str, result: Result<(), KafkaError>) {
    if let Err(error) = result {
        tracing::warn!(subscription = %subscription, error = %error, "offset {action} failed");
    }
}

/// Errors after which consuming cannot go on: the rest (an unreachable broker, a topic not there yet) are waited out.
fn is_fatal(error: &KafkaError) -> bool {
    matches!(error, KafkaError::MessageConsumptionFatal(_))
        || matches!(
            error.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::TopicAuthorizationFailed
                    | RDKafkaErrorCode::GroupAuthorizationFailed
                    | RDKafkaErrorCode::SaslAuthenticationFailed
                    | RDKafkaErrorCode::Authentication
            )
        )
}

/// A record as a message (SPEC §6): content = value, headers = record headers, metadata = key, topic, partition,
/// offset; the id is base64 of `topic@partition#offset` when encoded.
fn to_message(record: &BorrowedMessage<'_>, offsets: &Mutex<Offsets>, encode_id: bool) -> Message {
    let (topic, partition, offset) = (record.topic(), record.partition(), record.offset());
    let token = offsets.lock().expect("offsets lock").track(topic, partition, offset);
    let position = format!("{topic}@{partition}#{offset}");
    let id = if encode_id { base64::engine::general_purpose::STANDARD.encode(&position) } else { position };
    let headers: Vec<Header> = record
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| Header {
                    name: header.key.into(),
                    value: header.value.unwrap_or_default().to_vec().into(),
                })
                .collect()
        })
        .unwrap_or_default();
    let key = record.key().map(|key| key.to_vec());
    let mut metadata = vec![
        Header::new("topic", topic),
        Header::new("partition", &partition.to_string()),
        Header::new("offset", &offset.to_string()),
    ];
    if let Some(key) = &key {
        metadata.push(Header { name: "key".into(), value: key.clone().into() });
    }
    Message {
        id: id.into(),
        content: record.payload().unwrap_or_default().to_vec().into(),
        headers: headers.into(),
        metadata: metadata.into(),
        key: key.map(RVec::from).into(),
        ack_token: token,
        timestamp_ms: record.timestamp().to_millis().unwrap_or_else(now_ms),
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}
