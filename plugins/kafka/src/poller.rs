//! The poll thread of one consumer: polls librdkafka all the time, however slow delivery is, so that the consumer
//! stays a live member of its group (`max.poll.interval.ms` is measured between polls). Records become messages
//! handed to the source through a bounded channel; while the source is behind (a thousand messages waiting) the
//! thread polls only once per interval, and when it stays behind for seconds the assigned partitions are paused;
//! polling goes on either way. Rebalance callbacks run on this thread, where blocking (a synchronous commit) is harmless.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use plugin_kit::api::Message;
use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::message::to_message;
use crate::offsets::Offsets;
use crate::source::KafkaConsumer;

/// Longest wait in one poll: how quickly a stop is seen.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Pause after a consumer error, so that a broker that stays down does not spin the loop.
const ERROR_PAUSE: Duration = Duration::from_millis(200);
/// Messages waiting for the source above which the thread holds off: it polls once per [`POLL_INTERVAL`] (enough
/// for the group to see it alive) and leaves the rest in librdkafka's prefetch queue.
const HOLD_AT: usize = 1024;
/// How long the thread holds off before it pauses the partitions: a subscription that far behind (a slow or hanging
/// callback) lets librdkafka drop its prefetched records. Pausing is not free (librdkafka fetches them again on
/// resume, about a second against the test broker), so a subscription that keeps up never pauses: pausing as soon as
/// one record waited cut a fast subscription to about 400 msg/s, and pausing at 4,096 to about 2,400.
const PAUSE_AFTER: Duration = Duration::from_secs(5);
/// While holding off, how often the channel is looked at for room.
const HAND_OVER_PAUSE: Duration = Duration::from_millis(2);

/// What the poll thread hands to the source: a message, or why consuming cannot go on.
pub(crate) type Polled = Result<Message, String>;

/// A running poll thread.
pub(crate) struct Poller {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What the poll thread works with.
pub(crate) struct PollSetup {
    pub(crate) consumer: Arc<KafkaConsumer>,
    pub(crate) offsets: Arc<Mutex<Offsets>>,
    pub(crate) encode_message_id: bool,
    pub(crate) messages: mpsc::Sender<Polled>,
    pub(crate) subscription_id: String,
}

impl Poller {
    /// Starts polling on a thread of its own.
    pub(crate) fn start(setup: PollSetup) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(format!("kafka-poll-{}", setup.subscription_id.chars().take(4).collect::<String>()))
            .spawn(move || poll_until_stopped(setup, &flag))?;
        Ok(Self { stop, thread: Some(thread) })
    }

    /// Stops polling and waits for the thread (at most one poll interval). Blocking.
    pub(crate) fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn poll_until_stopped(setup: PollSetup, stop: &AtomicBool) {
    let PollSetup { consumer, offsets, encode_message_id, messages, subscription_id } = setup;
    // Messages polled but not yet taken by the source: about HOLD_AT, and one more per poll interval while holding.
    let mut waiting: VecDeque<Message> = VecDeque::new();
    let mut paused = false;
    let mut holding_since: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if !hand_over(&mut waiting, &messages) {
            return; // the source is gone
        }
        // After a rebalance the assignment is set again either way: librdkafka keeps a partition's pause across a
        // revocation and a new assignment of it, so a partition paused before a rebalance must be resumed after.
        let rebalanced = consumer.context().take_rebalanced();
        let holding = waiting.len() >= HOLD_AT || (paused && !waiting.is_empty());
        let since = match (holding, holding_since) {
            (false, _) => None,
            (true, since) => Some(since.unwrap_or_else(Instant::now)),
        };
        holding_since = since;
        let pause = since.is_some_and(|since| since.elapsed() >= PAUSE_AFTER);
        if rebalanced || pause != paused {
            set_paused(&consumer, pause, &subscription_id);
            paused = pause;
        }
        if holding && !paused && !hold_off(&mut waiting, &messages, stop) {
            return; // the source is gone
        }
        match consumer.poll(POLL_INTERVAL) {
            None => {}
            Some(Ok(record)) => {
                consumer.context().recovered();
                waiting.push_back(to_message(&record, &offsets, encode_message_id));
            }
            Some(Err(error)) if is_fatal(&error) => {
                let cause = format!("the Kafka consumer failed: {error}");
                while !stop.load(Ordering::Relaxed) {
                    match messages.try_send(Err(cause.clone())) {
                        Err(TrySendError::Full(_)) => std::thread::sleep(POLL_INTERVAL),
                        Ok(()) | Err(TrySendError::Closed(_)) => return,
                    }
                }
                return;
            }
            Some(Err(error)) => {
                tracing::warn!(subscription = %subscription_id, error = %error, "kafka consumer error; still consuming");
                std::thread::sleep(ERROR_PAUSE);
            }
        }
    }
}

/// Hands messages over as the source takes them, for at most one poll interval or until fewer than [`HOLD_AT`]
/// wait. Returns false once the source is gone.
fn hold_off(waiting: &mut VecDeque<Message>, messages: &mpsc::Sender<Polled>, stop: &AtomicBool) -> bool {
    let until = Instant::now() + POLL_INTERVAL;
    while waiting.len() >= HOLD_AT && Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(HAND_OVER_PAUSE);
        if !hand_over(waiting, messages) {
            return false;
        }
    }
    true
}

/// Moves waiting messages into the channel while it has room (the source drops those of partitions revoked
/// meanwhile as it hands them over). Returns false once the source is gone.
fn hand_over(waiting: &mut VecDeque<Message>, messages: &mpsc::Sender<Polled>) -> bool {
    while let Some(message) = waiting.pop_front() {
        match messages.try_send(Ok(message)) {
            Ok(()) => {}
            Err(TrySendError::Full(Ok(message))) => {
                waiting.push_front(message);
                return true;
            }
            Err(TrySendError::Full(Err(_))) => return true,
            Err(TrySendError::Closed(_)) => return false,
        }
    }
    true
}

fn set_paused(consumer: &KafkaConsumer, pause: bool, subscription_id: &str) {
    let assignment = match consumer.assignment() {
        Ok(assignment) => assignment,
        Err(error) => {
            tracing::warn!(subscription = %subscription_id, error = %error, "cannot read the assignment");
            return;
        }
    };
    let result = if pause { consumer.pause(&assignment) } else { consumer.resume(&assignment) };
    match result {
        Ok(()) => {
            tracing::debug!(subscription = %subscription_id, pause, partitions = assignment.count(), "fetching paused or resumed")
        }
        Err(error) => {
            tracing::warn!(subscription = %subscription_id, error = %error, "cannot pause or resume fetching")
        }
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
