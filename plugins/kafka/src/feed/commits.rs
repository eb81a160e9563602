//! The commits of a feed's readers under `auto` and `at-least-once`: one thread per feed sends every due reader's
//! settled offsets in one pipelined round (a round per broker round trip whatever the number of subscriptions,
//! never a thread per subscription), `auto` readers at most once per [`AUTO_COMMIT_PACE`] (the "periodic commit of
//! what was delivered"), and retries what the broker refused; at-most-once commits, awaited before delivery, go
//! first in the next round.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use plugin_kit::api::Qos;
use tokio::sync::oneshot;

use super::{FeedConsumer, Shared, Stamp};
use crate::offsets::CommitPoint;
use crate::reader::Reader;

/// How often an `auto` reader commits at most.
const AUTO_COMMIT_PACE: Duration = Duration::from_secs(1);
/// Pause after a failed round before its commits are tried again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Longest idle wait: how quickly a stop is seen.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// Test only: how long each round is held between taking its points and sending them, in milliseconds, so that a
/// test can freeze a gateway in the middle of one (and show the fence refusing it once the group moved on).
const TEST_HOLD_VARIABLE: &str = "KAFKA_PLUGIN_TEST_COMMIT_HOLD_MS";

/// Readers with commit points due, waiting for the commit thread.
#[derive(Default)]
pub(crate) struct Commits {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Default)]
struct Pending {
    readers: Vec<Arc<Reader>>,
    /// Commits someone waits for (at-most-once, before delivery): made in the next round, first.
    urgent: Vec<Urgent>,
    stop: bool,
}

/// A commit awaited: the reader, its points, and where the answer goes.
struct Urgent {
    reader: Arc<Reader>,
    points: Vec<CommitPoint>,
    stamp: Stamp,
    answer: oneshot::Sender<Result<(), String>>,
}

impl Commits {
    /// Says that `reader` has commit points due.
    pub(crate) fn due(&self, reader: &Arc<Reader>) {
        if !reader.commit_queued.swap(true, Ordering::AcqRel) {
            self.pending.lock().expect("commits lock").readers.push(Arc::clone(reader));
            self.wake.notify_one();
        }
    }

    /// Commits `points` of `reader` in the next round and answers whether the broker took them.
    pub(crate) fn commit_now(
        &self,
        reader: &Arc<Reader>,
        points: Vec<CommitPoint>,
        stamp: Stamp,
    ) -> oneshot::Receiver<Result<(), String>> {
        let (answer, answered) = oneshot::channel();
        let mut pending = self.pending.lock().expect("commits lock");
        if pending.stop {
            let _ = answer.send(Err("the Kafka feed is closed".to_string()));
        } else {
            pending.urgent.push(Urgent { reader: Arc::clone(reader), points, stamp, answer });
            self.wake.notify_one();
        }
        answered
    }

    /// Ends the commit thread after its round under way.
    pub(super) fn stop(&self) {
        self.pending.lock().expect("commits lock").stop = true;
        self.wake.notify_one();
    }

    /// The commits awaited and the readers due now (an `auto` reader once its pace allows), or `None` once
    /// stopped. Blocking.
    fn next_round(&self) -> Option<(Vec<Urgent>, Vec<Arc<Reader>>)> {
        let mut pending = self.pending.lock().expect("commits lock");
        loop {
            if pending.stop {
                for urgent in pending.urgent.drain(..) {
                    let _ = urgent.answer.send(Err("the Kafka feed is closed".to_string()));
                }
                return None;
            }
            let now = Instant::now();
            let wait_of = |reader: &Arc<Reader>| match reader.qos {
                Qos::Auto => AUTO_COMMIT_PACE
                    .saturating_sub(now.duration_since(*reader.last_commit.lock().expect("last commit"))),
                _ => Duration::ZERO,
            };
            let (ready, later): (Vec<_>, Vec<_>) =
                pending.readers.drain(..).partition(|reader| wait_of(reader).is_zero());
            let wait = later.iter().map(wait_of).min().unwrap_or(IDLE_WAIT);
            pending.readers = later;
            if !ready.is_empty() || !pending.urgent.is_empty() {
                for reader in &ready {
                    reader.commit_queued.store(false, Ordering::Release);
                }
                return Some((std::mem::take(&mut pending.urgent), ready));
            }
            pending = self.wake.wait_timeout(pending, wait).expect("commits lock").0;
        }
    }
}

/// Starts the commit thread of a feed.
pub(super) fn start(
    shared: Arc<Shared>,
    commits: Arc<Commits>,
    consumer: Arc<FeedConsumer>,
) -> std::io::Result<JoinHandle<()>> {
    let hold = std::env::var(TEST_HOLD_VARIABLE).ok().and_then(|millis| millis.parse().ok()).map(Duration::from_millis);
    std::thread::Builder::new().name("kafka-commits".to_string()).spawn(move || {
        while let Some((urgent, readers)) = commits.next_round() {
            let round = Round { shared: &shared, consumer: &consumer, hold };
            round.commit_urgent(urgent);
            if !round.commit_due(&readers) {
                std::thread::sleep(RETRY_PAUSE);
                for reader in &readers {
                    commits.due(reader);
                }
            }
        }
    })
}

/// One round of the commit thread.
struct Round<'a> {
    shared: &'a Shared,
    consumer: &'a FeedConsumer,
    /// Test only ([`TEST_HOLD_VARIABLE`]).
    hold: Option<Duration>,
}

impl Round<'_> {
    /// Commits what is awaited, in one pipelined round, and answers each.
    fn commit_urgent(&self, urgent: Vec<Urgent>) {
        if urgent.is_empty() {
            return;
        }
        let commits: Vec<(&Reader, &[CommitPoint], Stamp)> =
            urgent.iter().map(|urgent| (urgent.reader.as_ref(), urgent.points.as_slice(), urgent.stamp)).collect();
        let answers = self.commit(&commits).unwrap_or_else(|closed| vec![Err(closed); urgent.len()]);
        for (urgent, answer) in urgent.into_iter().zip(answers) {
            let _ = urgent.answer.send(answer);
        }
    }

    /// Commits what `readers` have due; returns false when some commits failed (their points are due again).
    fn commit_due(&self, readers: &[Arc<Reader>]) -> bool {
        let stamp = self.shared.stamp();
        let due: Vec<(&Reader, Vec<CommitPoint>)> = readers
            .iter()
            .filter_map(|reader| {
                let points = reader.offsets.lock().expect("offsets lock").take_due();
                (!points.is_empty()).then_some((reader.as_ref(), points))
            })
            .collect();
        let commits: Vec<(&Reader, &[CommitPoint], Stamp)> =
            due.iter().map(|(reader, points)| (*reader, points.as_slice(), stamp)).collect();
        let Ok(answers) = self.commit(&commits) else {
            return true; // the feed is shut down: its readers made their final commits
        };
        let mut all = true;
        for ((reader, points), answer) in due.into_iter().zip(answers) {
            match answer {
                Ok(()) => *reader.last_commit.lock().expect("last commit") = Instant::now(),
                Err(error) => {
                    tracing::warn!(subscription = %reader.subscription_id, error = %error, "offset commit failed; retrying");
                    reader.offsets.lock().expect("offsets lock").retry(points);
                    all = false;
                }
            }
        }
        all
    }

    /// Commits `commits` (fenced), after the test hold if one is set.
    fn commit(&self, commits: &[(&Reader, &[CommitPoint], Stamp)]) -> Result<Vec<Result<(), String>>, String> {
        if let Some(hold) = self.hold.filter(|_| !commits.is_empty()) {
            std::thread::sleep(hold);
        }
        self.shared.commit_all(self.consumer, commits)
    }
}
