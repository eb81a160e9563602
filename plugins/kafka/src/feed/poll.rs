//! The poll thread of a feed: polls librdkafka all the time, however slow its readers are, so that the feed stays a
//! live member of its group (`max.poll.interval.ms` is measured between polls) and rebalances run here, where
//! blocking (group offset requests) is harmless. Records go to the rings in batches and wake the readers waiting for
//! them. While a ring is full and no reader is near its head, the thread waits for one to come near (polling once
//! per interval meanwhile), and after seconds of that the assigned partitions are paused; polling goes on either way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::Message as _;

use super::{FeedConsumer, Shared};
use crate::message::Record;

/// Longest wait in one poll: how quickly a stop is seen, and how often a holding feed polls.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Pause after a consumer error, so that a broker that stays down does not spin the loop.
const ERROR_PAUSE: Duration = Duration::from_millis(200);
/// Records taken from librdkafka's queue before they are handed to the rings at once.
const BATCH: usize = 256;
/// How long the feed holds off before it pauses the partitions. Pausing is not free (librdkafka drops prefetched
/// records and fetches them again on resume, about a second against the test broker), so a feed whose readers keep
/// up never pauses.
const PAUSE_AFTER: Duration = Duration::from_secs(5);
/// Starts polling `consumer` on a thread of its own until `stop`.
pub(super) fn start(
    consumer: Arc<FeedConsumer>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    topics: &[String],
) -> std::io::Result<JoinHandle<()>> {
    let topics: Vec<Arc<str>> = topics.iter().map(|topic| Arc::from(topic.as_str())).collect();
    std::thread::Builder::new()
        .name("kafka-feed".to_string())
        .spawn(move || poll_until_stopped(&consumer, &shared, &stop, &topics))
}

fn poll_until_stopped(consumer: &FeedConsumer, shared: &Shared, stop: &AtomicBool, topics: &[Arc<str>]) {
    let mut paused = false;
    let mut holding_since: Option<Instant> = None;
    let names: Vec<&str> = topics.iter().map(|topic| &**topic).collect();
    while !stop.load(Ordering::Relaxed) {
        // A holding feed waits (up to a poll interval) for a reader to come near a ring's head.
        let holding = shared.hold(if paused { Duration::ZERO } else { POLL_INTERVAL });
        holding_since = holding.then(|| holding_since.unwrap_or_else(Instant::now));
        let pause = holding_since.is_some_and(|since| since.elapsed() >= PAUSE_AFTER);
        // librdkafka keeps a partition's pause across a revocation and a new assignment of it: after a rebalance
        // the assignment is set again either way.
        if let Some(tansu) = &consumer.context().tansu {
            tansu.serve(consumer, &names);
        }
        if consumer.context().take_rebalanced() || pause != paused {
            set_paused(consumer, pause);
            paused = pause;
        }
        let mut records = Vec::new();
        let mut timeout = POLL_INTERVAL;
        let batch = if holding { 1 } else { BATCH };
        while records.len() < batch {
            match consumer.poll(timeout) {
                None => break,
                Some(Ok(record)) => {
                    consumer.context().recovered();
                    let topic = topics.iter().find(|topic| ***topic == *record.topic()).cloned();
                    records.push(Record::of(&record, topic.unwrap_or_else(|| record.topic().into())));
                    timeout = Duration::ZERO;
                }
                Some(Err(error)) if is_fatal(&error) => {
                    shared.state.lock().expect("feed state lock").fail(format!("the Kafka consumer failed: {error}"));
                    return;
                }
                Some(Err(error)) => {
                    tracing::warn!(error = %error, "kafka consumer error; still consuming");
                    std::thread::sleep(ERROR_PAUSE);
                    break;
                }
            }
        }
        if !records.is_empty() {
            shared.state.lock().expect("feed state lock").push(records);
        }
    }
}

fn set_paused(consumer: &FeedConsumer, pause: bool) {
    let assignment = match consumer.assignment() {
        Ok(assignment) => assignment,
        Err(error) => {
            tracing::warn!(error = %error, "cannot read the assignment");
            return;
        }
    };
    let result = if pause { consumer.pause(&assignment) } else { consumer.resume(&assignment) };
    match result {
        Ok(()) => tracing::debug!(pause, partitions = assignment.count(), "fetching paused or resumed"),
        Err(error) => tracing::warn!(error = %error, "cannot pause or resume fetching"),
    }
}

/// Errors after which consuming cannot go on: the rest (an unreachable broker, a topic not there yet) are waited out.
pub(crate) fn is_fatal(error: &KafkaError) -> bool {
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
