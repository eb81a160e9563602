//! Feeds: one consumer per topic list and client settings, whatever the number of subscriptions reading it. A feed
//! is a member of the consumer group `gateway-feed.<topics>` (gateways reading the same topics share their partitions
//! through it), keeps the last records of each assigned partition in a [`ring::Ring`], and every subscription
//! ([`Reader`]) reads the rings at its own cursors, starting where its own consumer group (the subscription id)
//! committed. A subscription that falls behind a ring's floor catches up on its own ([`crate::catch_up`]).

mod commits;
mod fence;
mod poll;
mod positions;
mod rebalance;
pub(crate) mod ring;
mod state;
mod tansu;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use plugin_kit::api::abi_stable::std_types::RString;
use plugin_kit::api::{OpenError, PartitionLag};
use rdkafka::admin::AdminClient;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio::sync::Semaphore;

use crate::clients::refused;
use crate::group_offsets::Client;
use crate::message::Record;
use crate::offsets::{CommitPoint, Partition};
use crate::reader::Reader;
use crate::trouble::Reachability;
use commits::Commits;
pub(crate) use fence::Stamp;
use kafka_client::KafkaContext;
use kafka_group::Broker;
pub(crate) use poll::is_fatal;
pub(crate) use rebalance::FeedContext;
use state::State;

/// The consumer of a feed.
pub(crate) type FeedConsumer = BaseConsumer<FeedContext>;

/// How long joining waits for a rebalance under way to end before it tries again.
const REBALANCE_WAIT: Duration = Duration::from_millis(100);
/// Attempts to join between rebalances before giving up (about a minute).
const JOIN_ATTEMPTS: usize = 600;
/// Catch-up consumers at once per feed.
pub(crate) const CATCH_UPS: usize = 4;
/// How long a subscription's last commit waits for the fence.
const FINAL_FENCE_WAIT: Duration = Duration::from_millis(500);
/// How long closing a feed waits for its consumer to leave the group.
const LEAVE_WAIT: Duration = Duration::from_secs(1);
/// How long opening a feed waits for the brokers to answer before calling them unreachable.
const REACHABILITY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a feed's consumer, poll thread and readers share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Signalled when a reader comes near a ring's head: a holding feed fetches on.
    wanted: Condvar,
    /// The consumer's handle for group offset requests; `None` once the feed is shut down.
    client: RwLock<Option<Client>>,
    /// Each partition's high watermark, from the consumer's statistics.
    high_watermarks: Mutex<HashMap<Partition, i64>>,
    /// What the consumer cannot reach, from its statistics.
    reachability: Reachability,
}

impl Shared {
    fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            wanted: Condvar::new(),
            client: RwLock::new(None),
            high_watermarks: Mutex::default(),
            reachability: Reachability::default(),
        }
    }

    /// Runs `request` with the consumer's handle. Blocking (the shutdown waits for requests under way).
    pub(crate) fn with_client<T>(&self, request: impl FnOnce(&Client) -> T) -> Result<T, String> {
        let client = self.client.read().expect("client lock");
        client.as_ref().map(request).ok_or_else(|| "the Kafka feed is closed".to_string())
    }

    /// Commits each reader's points to its group in one pipelined round, fenced ([`fence`]): only points on
    /// partitions `consumer` holds, and only once the group coordinator took the feed's own commit for them. The
    /// answers come in order (a refused fence answers each with its error); what the broker took is remembered as
    /// each reader's committed offsets. An error when the feed is closed. Blocking.
    ///
    /// Each reader's stamp says when its points were taken ([`Self::stamp`]): points taken before a rebalance, or
    /// longer ago than the session timeout, are refused even when the coordinator takes the fence.
    pub(crate) fn commit_all(
        &self,
        consumer: &FeedConsumer,
        commits: &[(&Reader, &[CommitPoint], Stamp)],
    ) -> Result<Vec<Result<(), String>>, String> {
        let points: Vec<(&Reader, &[CommitPoint])> =
            commits.iter().map(|(reader, points, _)| (*reader, *points)).collect();
        let mut owned = fence::owned(consumer, &points);
        if let Err(refused) = fence::check(consumer, &fence::lowest(&owned)) {
            let refused = Err(refused);
            for (reader, _, _) in commits {
                reader.commit_refusal.answered(&refused);
            }
            return Ok(commits.iter().map(|_| refused.clone()).collect());
        }
        let generation = self.state.lock().expect("feed state lock").generation();
        let stale: Vec<Option<String>> = commits.iter().map(|(_, _, stamp)| stamp.stale(generation)).collect();
        for ((_, points), stale) in owned.iter_mut().zip(&stale) {
            if stale.is_some() {
                points.clear();
            }
        }
        let answers = self.send(&owned)?;
        Ok(answers.into_iter().zip(stale).map(|(answer, stale)| stale.map_or(answer, Err)).collect())
    }

    /// A stamp for commit points about to be taken.
    pub(crate) fn stamp(&self) -> Stamp {
        Stamp::now(self.state.lock().expect("feed state lock").generation())
    }

    /// Commits each reader's points to its group in one pipelined round, unfenced (see [`Self::commit_all`]).
    fn send(&self, owned: &[(&Reader, Vec<CommitPoint>)]) -> Result<Vec<Result<(), String>>, String> {
        let groups: Vec<(&str, &[CommitPoint])> = owned
            .iter()
            .filter(|(_, points)| !points.is_empty())
            .map(|(reader, points)| (reader.subscription_id.as_str(), points.as_slice()))
            .collect();
        let mut answers = self.with_client(|client| client.commit(&groups))?;
        Ok(owned
            .iter()
            .map(|(reader, points)| {
                if points.is_empty() {
                    return Ok(()); // nothing of it is this gateway's to commit
                }
                let answer = answers.remove(&reader.subscription_id).unwrap_or_else(|| Err("no answer".to_string()));
                reader.commit_refusal.answered(&answer);
                if answer.is_ok() {
                    reader.committed_at(points);
                }
                answer
            })
            .collect())
    }

    /// Up to `max` records at `reader`'s cursors, and the partitions where it is behind the ring (with its cursor);
    /// an error once the feed failed. When there is nothing, the reader is marked hungry: the next records wake it.
    pub(crate) fn take(&self, reader: &Reader, max: usize) -> Result<Taken, String> {
        let taken = self.state.lock().expect("feed state lock").take(reader, max)?;
        if taken.near_head || taken.records.is_empty() {
            self.wanted.notify_one();
        }
        Ok(taken)
    }

    /// Whether fetching should wait, after waiting up to `most` for a reader to come near a ring's head. Blocking.
    fn hold(&self, most: Duration) -> bool {
        let state = self.state.lock().expect("feed state lock");
        if !state.should_hold() {
            return false;
        }
        let (state, _) =
            self.wanted.wait_timeout_while(state, most, |state| state.should_hold()).expect("feed state lock");
        state.should_hold()
    }

    /// Why `reader` cannot fully read or commit right now: its commits refused, or brokers the feed cannot reach.
    pub(crate) fn trouble(&self, reader: &Reader) -> Option<String> {
        let troubles = [reader.commit_refusal.trouble(), self.reachability.trouble()];
        let told: Vec<String> = troubles.into_iter().flatten().collect();
        (!told.is_empty()).then(|| told.join("; "))
    }

    /// The lag of `reader`'s partitions: high watermark minus committed offset, where both are known.
    pub(crate) fn lag(&self, reader: &Reader) -> Vec<PartitionLag> {
        let high = self.high_watermarks.lock().expect("watermarks lock");
        let mut lags: Vec<PartitionLag> = reader
            .committed()
            .into_iter()
            .filter_map(|(partition, committed)| {
                let high = *high.get(&partition)?;
                Some(PartitionLag {
                    topic: RString::from(partition.0.as_str()),
                    partition: partition.1,
                    lag: (high - committed).max(0),
                })
            })
            .collect();
        lags.sort_by(|a, b| (a.topic.as_str(), a.partition).cmp(&(b.topic.as_str(), b.partition)));
        lags
    }
}

/// What a reader found.
pub(crate) struct Taken {
    /// Records at the reader's cursors, not yet tracked (the reader may have handed some out meanwhile).
    pub(crate) records: Vec<Arc<Record>>,
    /// Partitions whose records at the cursor are no longer kept, with the cursor.
    pub(crate) behind: HashMap<Partition, i64>,
    /// Whether the reader is near a ring's head after taking (the feed should fetch on).
    pub(crate) near_head: bool,
}

/// One shared consumer and what its readers share.
pub(crate) struct Feed {
    /// What its poll thread, commit thread and readers share.
    pub(crate) shared: Arc<Shared>,
    consumer: Mutex<Option<Arc<FeedConsumer>>>,
    /// The client group offset requests go through.
    admin: Mutex<Option<AdminClient<KafkaContext>>>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Readers' background commits, made by a thread of the feed.
    pub(crate) commits: Arc<Commits>,
    commit_thread: Mutex<Option<JoinHandle<()>>>,
    /// On tansu: looks for partitions nobody delivers.
    coverage_thread: Mutex<Option<JoinHandle<()>>>,
    topics: Vec<String>,
    /// How its readers' catch-up consumers reach the same brokers.
    pub(crate) catch_up_config: ClientConfig,
    /// Turns for its readers' catch-up consumers (brokers that stop answering hold only this feed's turns).
    pub(crate) catch_up_turns: Arc<Semaphore>,
    /// Its place in the registry ([`FeedSpec::slot`]).
    slot: String,
    /// Readers joined or joining; `None` once the last one left (the feed is shut down).
    members: Mutex<Option<usize>>,
}

impl Feed {
    /// Opens a feed on `topics` (the consumer joins the feed group; partitions come with the first poll).
    fn open(spec: FeedSpec) -> Result<Self, OpenError> {
        let FeedSpec { slot, config, catch_up_config, admin_config, topics, .. } = spec;
        let topics = topics.as_slice();
        let shared = Arc::new(Shared::new());
        // Group offsets go through a client of their own: the broker answers a connection's requests in order, and
        // the consumer's connections wait in long fetches (a commit behind one took 500 ms).
        let admin: AdminClient<KafkaContext> = admin_config
            .create_with_context(KafkaContext::labelled("group offsets"))
            .map_err(|error| refused(&format!("cannot create the Kafka admin client: {error}")))?;
        let servers = config.get("bootstrap.servers").unwrap_or_default().to_string();
        admin.inner().fetch_metadata(None, REACHABILITY_TIMEOUT).map_err(|error| OpenError {
            message: format!("Kafka unreachable at {servers}: {error}").into(),
            retryable: true,
        })?;
        let broker = Broker::detect(admin.inner());
        let mut config = config;
        broker.member_settings(&mut config);
        let consumer: FeedConsumer = config
            .create_with_context(FeedContext::new(Arc::clone(&shared), topics, broker.workarounds()))
            .map_err(|error| refused(&format!("cannot create the Kafka consumer: {error}")))?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(|error| refused(&format!("cannot subscribe to {names:?}: {error}")))?;
        *shared.client.write().expect("client lock") = Some(Client::of(admin.inner()));
        tracing::info!(topics = ?names, broker = ?broker, "kafka feed opened");
        Ok(Self {
            shared,
            consumer: Mutex::new(Some(Arc::new(consumer))),
            admin: Mutex::new(Some(admin)),
            stop: Arc::new(AtomicBool::new(false)),
            thread: Mutex::new(None),
            commits: Arc::default(),
            commit_thread: Mutex::new(None),
            coverage_thread: Mutex::new(None),
            topics: topics.to_vec(),
            catch_up_config,
            catch_up_turns: Arc::new(Semaphore::new(CATCH_UPS)),
            slot,
            members: Mutex::new(Some(0)),
        })
    }

    /// Counts one more reader in, unless the feed is shut down (or shutting down).
    fn enter(&self) -> bool {
        let mut members = self.members.lock().expect("members lock");
        members.as_mut().map(|count| *count += 1).is_some()
    }

    /// Counts a reader out; whether it was the last (the feed is then to be shut down, and no reader enters it).
    fn exit(&self) -> bool {
        let mut members = self.members.lock().expect("members lock");
        match *members {
            Some(count) if count > 1 => {
                *members = Some(count - 1);
                false
            }
            _ => {
                *members = None;
                true
            }
        }
    }

    /// Whether new readers may join it: neither failed nor shut down.
    fn is_usable(&self) -> bool {
        self.members.lock().expect("members lock").is_some()
            && self.shared.state.lock().expect("feed state lock").failure().is_none()
    }

    /// Starts polling, once its first reader is in: the first assignment then starts where that reader does.
    fn start_polling(&self) -> Result<(), String> {
        let mut thread = self.thread.lock().expect("thread lock");
        if thread.is_none() && !self.stop.load(Ordering::Relaxed) {
            let consumer = self.consumer()?;
            let started =
                poll::start(Arc::clone(&consumer), Arc::clone(&self.shared), Arc::clone(&self.stop), &self.topics);
            *thread = Some(started.map_err(|error| format!("cannot start the feed's poll thread: {error}"))?);
            if consumer.context().tansu.is_some() {
                let looking =
                    tansu::start(Arc::clone(&consumer), Arc::clone(&self.shared), Arc::clone(&self.stop), &self.topics);
                *self.coverage_thread.lock().expect("thread lock") =
                    Some(looking.map_err(|error| format!("cannot start the feed's coverage thread: {error}"))?);
            }
            let committing = commits::start(Arc::clone(&self.shared), Arc::clone(&self.commits), consumer);
            *self.commit_thread.lock().expect("thread lock") =
                Some(committing.map_err(|error| format!("cannot start the feed's commit thread: {error}"))?);
        }
        Ok(())
    }

    fn consumer(&self) -> Result<Arc<FeedConsumer>, String> {
        self.consumer.lock().expect("consumer lock").clone().ok_or_else(|| "the Kafka feed is closed".to_string())
    }

    /// Adds `reader`, owning every partition the feed has at its committed (or reset) position. Blocking: reads the
    /// group's offsets, and waits out a rebalance under way.
    fn add(&self, reader: &Arc<Reader>) -> Result<(), String> {
        let consumer = self.consumer()?;
        for _ in 0..JOIN_ATTEMPTS {
            let Some((generation, partitions)) = self.shared.state.lock().expect("feed state lock").settled() else {
                std::thread::sleep(REBALANCE_WAIT);
                continue;
            };
            let mut starts = positions::starts(&self.shared, &consumer, std::slice::from_ref(reader), &partitions);
            let starts = starts.pop().unwrap_or_else(|| Err("no start".to_string()))?;
            let mut state = self.shared.state.lock().expect("feed state lock");
            if state.settled().map(|(now, _)| now) != Some(generation) {
                continue; // a rebalance came meanwhile: read again for the new assignment
            }
            reader.assign_all(starts);
            state.add(Arc::clone(reader));
            return Ok(());
        }
        Err("the feed kept rebalancing; try again".to_string())
    }

    /// Commits `points` to `reader`'s group as the subscription leaves: fenced, but the fence is waited for at most
    /// [`FINAL_FENCE_WAIT`] (a group's join phase holds the coordinator's answers, up to seconds, and a stop waits
    /// for nobody): unanswered by then, the points go on partitions the consumer still holds. Blocking.
    pub(crate) fn commit(&self, reader: &Reader, points: &[CommitPoint], stamp: Stamp) -> Result<(), String> {
        let consumer = self.consumer()?;
        let owned = fence::owned(&consumer, &[(reader, points)]);
        if let fence::Answer::Refused(refused) = fence::check_within(&consumer, fence::lowest(&owned), FINAL_FENCE_WAIT)
        {
            return Err(refused);
        }
        if let Some(stale) = stamp.stale(self.shared.state.lock().expect("feed state lock").generation()) {
            return Err(stale);
        }
        let mut answers = self.shared.send(&owned)?;
        answers.pop().unwrap_or_else(|| Err("no answer".to_string()))
    }

    /// Stops polling and closes the consumer: it leaves the feed group, waiting at most [`LEAVE_WAIT`] for that
    /// (its readers committed their positions before). Blocking.
    fn shut_down(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(tansu) = self.consumer().ok().as_ref().and_then(|consumer| consumer.context().tansu.as_ref()) {
            tansu.leave();
        }
        self.commits.stop();
        for thread in [&self.thread, &self.commit_thread, &self.coverage_thread] {
            if let Some(thread) = thread.lock().expect("thread lock").take() {
                let _ = thread.join();
            }
        }
        self.shared.client.write().expect("client lock").take();
        let admin = self.admin.lock().expect("admin lock").take();
        let consumer = self.consumer.lock().expect("consumer lock").take();
        let (closed, closing) = std::sync::mpsc::channel();
        // Closing waits for the group: a rebalance under way (members that left never rejoin it) could hold it up
        // to the rebalance timeout. The consumer then closes on its own thread and the group hears of its leaving
        // at the latest by its session timeout.
        let close = move || {
            drop(consumer);
            drop(admin);
            let _ = closed.send(());
        };
        let spawned = std::thread::Builder::new().name("kafka-feed-close".to_string()).spawn(close);
        if spawned.is_ok() && closing.recv_timeout(LEAVE_WAIT).is_err() {
            tracing::info!(wait = ?LEAVE_WAIT, "the feed left its group without waiting for the rebalance under way");
        }
        tracing::info!("kafka feed closed");
    }
}

/// Every open feed, by brokers and group, with the client settings it was opened with; and the feeds that could not
/// be opened lately (brokers unreachable), so that the subscriptions waiting for them fail fast instead of each
/// waiting out the reachability timeout in turn (ten thousand subscriptions of a topic would take hours to hear it).
///
/// No broker wait happens under a lock another feed needs: the registry's lock is held only to find a feed's slot;
/// opening a feed (its metadata fetch waits up to [`REACHABILITY_TIMEOUT`]) holds that slot alone, so brokers that do
/// not answer cost only the subscriptions of their own feed.
#[derive(Default)]
pub(crate) struct Feeds {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    unreachable: Mutex<HashMap<String, (Instant, OpenError)>>,
}

/// A feed's place in the registry: the feed open there, if any. Locked while that feed opens.
type Slot = Mutex<Option<OpenFeed>>;

/// A feed and the client settings it was opened with.
struct OpenFeed {
    key: String,
    feed: Arc<Feed>,
}

/// How a feed is opened, if none is open for its group.
pub(crate) struct FeedSpec {
    /// Its brokers and its feed group (`gateway-feed.<topics>`): one feed per group of a cluster in a gateway (the
    /// same group on other brokers is another group).
    pub(crate) slot: String,
    /// Its client settings: a subscription with other settings for the same topics on the same brokers is refused
    /// (two feeds of one group in one gateway would split its partitions between them).
    pub(crate) key: String,
    /// The topics, sorted, without repeats.
    pub(crate) topics: Vec<String>,
    /// The feed consumer's settings.
    pub(crate) config: ClientConfig,
    /// A catch-up consumer's settings.
    pub(crate) catch_up_config: ClientConfig,
    /// The settings of the client group offsets go through (brokers and security only).
    pub(crate) admin_config: ClientConfig,
}

impl Feeds {
    /// Adds `reader` to the feed of `spec`, opened if needed. Blocking: waits for the brokers of this feed only.
    pub(crate) fn join(&self, spec: FeedSpec, reader: &Arc<Reader>) -> Result<Arc<Feed>, OpenError> {
        if let Some(error) = self.lately_unreachable(&spec.key) {
            return Err(error);
        }
        let slot = self.slot(&spec.slot);
        let feed = {
            // Waits only for an opening of the same feed.
            let mut open = slot.lock().expect("feed slot lock");
            match open.as_ref().filter(|open| open.feed.is_usable()) {
                Some(open) if open.key != spec.key => {
                    return Err(refused(&format!(
                        "the topics {:?} are already read on these brokers with other client settings (security, \
                         consumer properties): give every API reading them the same settings",
                        spec.topics
                    )))
                }
                Some(current) if current.feed.enter() => Arc::clone(&current.feed),
                _ => {
                    // A subscription that waited for this slot may find the brokers just found unreachable.
                    if let Some(error) = self.lately_unreachable(&spec.key) {
                        return Err(error);
                    }
                    let key = spec.key.clone();
                    let feed = match Feed::open(spec) {
                        Ok(feed) => Arc::new(feed),
                        Err(error) => {
                            if error.retryable {
                                let failed = (Instant::now(), error.clone());
                                self.unreachable.lock().expect("unreachable lock").insert(key, failed);
                            }
                            return Err(error);
                        }
                    };
                    feed.enter();
                    *open = Some(OpenFeed { key, feed: Arc::clone(&feed) });
                    feed
                }
            }
        };
        match feed.add(reader).and_then(|()| feed.start_polling()) {
            Ok(()) => Ok(feed),
            Err(message) => {
                self.leave(&feed, reader);
                Err(OpenError { message: message.into(), retryable: true })
            }
        }
    }

    /// The slot named `name`, made if needed; slots nobody uses any more are dropped meanwhile.
    fn slot(&self, name: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().expect("feeds lock");
        // A slot only the registry holds is locked by nobody: looking into it never waits.
        slots.retain(|_, slot| Arc::strong_count(slot) > 1 || slot.lock().expect("feed slot lock").is_some());
        Arc::clone(slots.entry(name.to_string()).or_default())
    }

    /// Why the feed of `key` could not be opened, if that was less than [`REACHABILITY_TIMEOUT`] ago.
    fn lately_unreachable(&self, key: &str) -> Option<OpenError> {
        let mut unreachable = self.unreachable.lock().expect("unreachable lock");
        unreachable.retain(|_, (at, _)| at.elapsed() < REACHABILITY_TIMEOUT);
        unreachable.get(key).map(|(_, error)| error.clone())
    }

    /// Removes `reader` from `feed`; the feed is shut down with its last reader. Blocking.
    pub(crate) fn leave(&self, feed: &Arc<Feed>, reader: &Arc<Reader>) {
        feed.shared.state.lock().expect("feed state lock").remove(reader);
        if !feed.exit() {
            return;
        }
        let slot = self.slots.lock().expect("feeds lock").get(&feed.slot).cloned();
        if let Some(slot) = slot {
            let mut open = slot.lock().expect("feed slot lock");
            if open.as_ref().is_some_and(|open| Arc::ptr_eq(&open.feed, feed)) {
                *open = None;
            }
        }
        feed.shut_down();
    }
}
