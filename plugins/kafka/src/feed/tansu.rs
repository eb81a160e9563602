//! tansu's orphaned partitions, looked for on tansu only. tansu keeps members gone (a member id for every JoinGroup
//! that asked for one, a dropped member told only to the member that noticed), so a rebalance can leave partitions assigned to
//! nobody alive while every live feed owns something. A feed therefore looks, every [`LOOK_EVERY`], at the
//! partitions of its topics it does not own: one whose records wait while a subscription of this feed (its witness,
//! run by every gateway of the group) has not moved its committed position there for the feed's wait is taken for
//! orphaned, and the feed joins its group again (a new generation every member joins). The wait doubles after each
//! time, so that a position held back on purpose (a failed subscription on another gateway) costs a rebalance
//! seldom. The looking is done by a thread of the feed's own: reading watermarks waits behind the consumer's fetches,
//! and the poll thread must not.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use plugin_kit::api::Qos;
use rdkafka::consumer::Consumer;

use super::{FeedConsumer, Shared};
use crate::offsets::Partition;

/// How often the partitions not owned are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(10);
/// How long a position may stand still with records waiting before the partition is taken for orphaned.
const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait, after orphans were found again and again.
const MOST_WAIT: Duration = Duration::from_secs(300);
/// How long reading metadata, watermarks and positions may take.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How often the thread looks whether the feed stopped.
const STOP_LOOK: Duration = Duration::from_millis(200);

/// Starts the thread that looks for orphaned partitions of `consumer`'s topics until `stop`; it asks the poll thread
/// to join the group again when it finds one.
pub(super) fn start(
    consumer: Arc<FeedConsumer>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    topics: &[String],
) -> std::io::Result<JoinHandle<()>> {
    let topics: Vec<Arc<str>> = topics.iter().map(|topic| Arc::from(topic.as_str())).collect();
    std::thread::Builder::new().name("kafka-coverage".to_string()).spawn(move || {
        let mut coverage = Coverage::default();
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(STOP_LOOK);
            if coverage.orphaned(&consumer, &shared, &topics, &stop) {
                tracing::info!("a partition looks orphaned; joining the feed group again");
                if let Some(tansu) = &consumer.context().tansu {
                    tansu.ask();
                }
            }
        }
    })
}

/// What a feed saw of the partitions it does not own.
struct Coverage {
    last_look: Instant,
    /// Per partition waiting for delivery: the witness's position there, and since when it stands.
    standing: HashMap<Partition, (Option<i64>, Instant)>,
    wait: Duration,
}

impl Default for Coverage {
    fn default() -> Self {
        Self { last_look: Instant::now(), standing: HashMap::new(), wait: FIRST_WAIT }
    }
}

impl Coverage {
    /// Whether a partition of `topics` looks orphaned (then the feed should join its group again); looks once per
    /// [`LOOK_EVERY`] at most. Blocking.
    fn orphaned(&mut self, consumer: &FeedConsumer, shared: &Shared, topics: &[Arc<str>], stop: &AtomicBool) -> bool {
        if self.last_look.elapsed() < LOOK_EVERY {
            return false;
        }
        self.last_look = Instant::now();
        let witness = shared.state.lock().expect("feed state lock").witness(|reader| reader.qos != Qos::None);
        let (Some(witness), Ok(assignment)) = (witness, consumer.assignment()) else {
            self.standing.clear();
            return false;
        };
        let owned: HashSet<Partition> =
            assignment.elements().iter().map(|element| (element.topic().to_string(), element.partition())).collect();
        let unowned: Vec<Partition> =
            all_partitions(consumer, topics).into_iter().filter(|p| !owned.contains(p)).collect();
        let group = witness.subscription_id.as_str();
        let positions = match shared.with_client(|client| client.committed(&[group], &unowned)) {
            Ok(mut answers) => match answers.remove(group) {
                Some(Ok(positions)) => positions,
                _ => return false,
            },
            Err(_) => return false,
        };
        let now = Instant::now();
        let mut orphaned = false;
        self.standing.retain(|partition, _| unowned.contains(partition));
        for partition in unowned {
            if stop.load(Ordering::Relaxed) {
                return false; // the feed is closing: it waits for nothing more here
            }
            let Ok((low, high)) = consumer.fetch_watermarks(&partition.0, partition.1, TIMEOUT) else {
                continue;
            };
            let position = positions.get(&partition).copied();
            let waiting = position.map_or(high > low, |position| position < high);
            if !waiting {
                self.standing.remove(&partition);
                continue;
            }
            let standing = self.standing.entry(partition.clone()).or_insert((position, now));
            if standing.0 != position {
                *standing = (position, now);
            } else if now.duration_since(standing.1) >= self.wait {
                tracing::warn!(topic = %partition.0, partition = partition.1, standing_s = now.duration_since(standing.1).as_secs(), "a partition this gateway does not own has not been delivered for long");
                orphaned = true;
            }
        }
        if orphaned {
            self.standing.clear();
            self.wait = (self.wait * 2).min(MOST_WAIT);
        } else if self.standing.is_empty() {
            self.wait = FIRST_WAIT;
        }
        orphaned
    }
}

/// Every partition of `topics`, as the brokers say.
fn all_partitions(consumer: &FeedConsumer, topics: &[Arc<str>]) -> Vec<Partition> {
    let mut partitions = Vec::new();
    for topic in topics {
        if let Ok(metadata) = consumer.fetch_metadata(Some(topic), TIMEOUT) {
            for described in metadata.topics() {
                partitions.extend(described.partitions().iter().map(|p| (described.name().to_string(), p.id())));
            }
        }
    }
    partitions
}
