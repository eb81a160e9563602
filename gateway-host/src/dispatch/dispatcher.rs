//! The set of running subscriptions: wires source → entrypoint (→ DLQ) for each, retries a source that is not
//! reachable yet, and records how each run ends.
//!
//! Rules that keep a subscription to one run at a time and its record true:
//! - every lifecycle change holds that subscription's lock ([`Dispatcher::lock`]); changes of different
//!   subscriptions never wait for each other;
//! - a stop ends the run and waits for that within a bound ([`STOP_GRACE`] + [`CLOSE_WAIT`] for a delivering run,
//!   nothing for one still opening its source): what waits on a broker past it (an opening, a final commit, leaving a
//!   group) goes on in the background as the subscription's [`Ending`], and its next run waits for it before opening
//!   its source, so that two runs never overlap while no answer waits on a broker;
//! - a run records its state only while it is the current run of its subscription, checked in the same store step
//!   as the write, so nothing an old run says lands after a newer change;
//! - the store is reached only from the blocking pool; the runs map is a plain lock, never held across a wait.
//!
//! In a cluster, every node's dispatcher follows the store's changes ([`Dispatcher::reconcile`]): a run whose record
//! changed elsewhere (paused, FAILURE, resumed, updated, deleted) is stopped or started again as the record now says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use definition::{ConsumerStatus, Subscription};
use serde_json::Value;
use tokio::sync::{watch, OwnedMutexGuard};
use tokio::task::JoinHandle;

use super::placement::{runs_here, Placement};
use crate::deploy::{ApiCatalog, DeployedApi, ServedEntrypoint};
use crate::events::Event;
use crate::plugins::{Ended, OpenFailure, Publisher, RunningSubscription, Source, StartSpec};
use crate::store::Store;
use crate::telemetry::Telemetry;
use crate::time::now_rfc3339;
use plugin_api::Qos;

/// First wait before opening an unavailable source again; doubled after each failed attempt.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// What a lifecycle change gives the calls in flight before abandoning them unacknowledged (at-most-once already
/// committed them: they count as lost in flight), so that it is answered within about a second whatever the
/// callback does. A shutdown gives them the configured drain timeout instead.
const STOP_GRACE: Duration = Duration::from_millis(750);
/// How long a lifecycle change waits, after the grace, for a delivering run's source to close (final commits,
/// leaving consumer groups) before answering; the close goes on in the background.
const CLOSE_WAIT: Duration = Duration::from_millis(250);
/// How long a shutdown waits, after the drain, for sources to close.
const CLOSE_BOUND: Duration = Duration::from_secs(2);

/// Runs subscriptions and keeps their consumer status true.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    catalog: Arc<ApiCatalog>,
    telemetry: Arc<Telemetry>,
    runs: Mutex<HashMap<String, Run>>,
    /// Runs stopped but not yet ended (waiting on a broker): the next run of the same subscription waits for them.
    endings: Mutex<HashMap<String, Ending>>,
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    generations: AtomicU64,
    /// Whether this node runs the subscriptions whose source cannot be shared.
    placement: Arc<dyn Placement>,
}

/// One run of a subscription; each start is a new generation, so that a late report of an old run is ignored.
struct Run {
    generation: u64,
    /// What of its record it was started from ([`shape`]): a change elsewhere that leaves it alone leaves the run.
    shape: Value,
    /// Flipped to ask the supervisor to give up opening.
    cancel: watch::Sender<bool>,
    phase: Phase,
}

enum Phase {
    /// Opening its source and DLQ, possibly waiting for them to become reachable.
    Opening(JoinHandle<()>),
    /// Delivering.
    Delivering(RunningSubscription),
}

/// The end of a stopped run, awaited by whoever needs it (the stop, within its bound; the subscription's next run;
/// a shutdown).
#[derive(Clone)]
struct Ending {
    /// Closed when the run has ended (its stopping task drops the sender).
    ended: watch::Receiver<()>,
    /// Whether the run was delivering (else it was still opening its source: nothing to drain).
    delivering: bool,
}

impl Ending {
    /// Resolves when the run has ended.
    async fn wait(mut self) {
        while self.ended.changed().await.is_ok() {}
    }

    /// Whether the run has ended.
    fn has_ended(&self) -> bool {
        self.ended.has_changed().is_err()
    }
}

/// Why a start did not get to delivering.
enum LaunchError {
    /// The backend is unreachable for now; try again later.
    Unavailable(String),
    /// It cannot run as configured.
    Fatal(String),
}

impl From<OpenFailure> for LaunchError {
    fn from(failure: OpenFailure) -> Self {
        if failure.retryable {
            Self::Unavailable(failure.message)
        } else {
            Self::Fatal(failure.message)
        }
    }
}

impl Run {
    /// Stops the run in the background and returns its end: a run being opened gives up (and stops what it opened
    /// once its opening returns), a delivering one ends its deliveries as the entrypoint's stop rules say and closes
    /// its source.
    fn stop(self, id: String, grace: Duration) -> Ending {
        let (ended, ending) = watch::channel(());
        let _ = self.cancel.send(true);
        let delivering = matches!(self.phase, Phase::Delivering(_));
        tokio::spawn(async move {
            match self.phase {
                Phase::Opening(supervisor) => {
                    let _ = supervisor.await;
                }
                Phase::Delivering(handle) => {
                    handle.stop(grace);
                    let ended = handle.wait().await;
                    tracing::info!(subscription = %id, ended = ?ended, "subscription stopped");
                }
            }
            drop(ended);
        });
        Ending { ended: ending, delivering }
    }
}

impl Dispatcher {
    /// A dispatcher with nothing running.
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Arc<ApiCatalog>,
        telemetry: Arc<Telemetry>,
        placement: Arc<dyn Placement>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            catalog,
            telemetry,
            runs: Mutex::new(HashMap::new()),
            endings: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
            placement,
        })
    }

    /// Takes the lock of subscription `id`: lifecycle changes of one subscription happen one at a time, those of
    /// different subscriptions independently.
    pub async fn lock(&self, id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().expect("locks lock");
            locks.retain(|_, lock| lock.strong_count() > 0);
            match locks.get(id).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(id.to_string(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    /// Starts `subscription` if it should run and its API is deployed; a run it still had is stopped first. Call
    /// it holding the subscription's lock, with the record as the store has it. Opening happens in the
    /// background: a source that is unreachable is retried with backoff (its cause shown meanwhile), any other
    /// failure records FAILURE.
    pub async fn start(self: &Arc<Self>, subscription: &Subscription) {
        self.stop(&subscription.id).await;
        if !subscription.should_run() {
            return;
        }
        let Some(api) = self.catalog.get(&subscription.api_id) else {
            tracing::warn!(subscription = %subscription.id, api = %subscription.api_id, "API not deployed; subscription not started");
            return;
        };
        if api.definition.is_stopped() {
            tracing::info!(subscription = %subscription.id, api = %subscription.api_id, "API stopped; subscription not started");
            return;
        }
        if !runs_here(&self.placement, &api, &subscription.id) {
            tracing::debug!(subscription = %subscription.id, "runs on another node of the cluster");
            return;
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (cancel, cancelled) = watch::channel(false);
        let mut runs = self.runs.lock().expect("runs lock");
        let supervisor = tokio::spawn(Arc::clone(self).supervise(subscription.clone(), generation, cancelled));
        let run = Run { generation, shape: shape(subscription), cancel, phase: Phase::Opening(supervisor) };
        runs.insert(subscription.id.clone(), run);
    }

    /// Brings subscription `id` in line with its record after a change this node may not have made (another node
    /// of a cluster): stopped when deleted or no longer to run here, started again when its record says other
    /// than what its run was started from, left alone otherwise.
    pub async fn reconcile(self: &Arc<Self>, id: &str) {
        let _lock = self.lock(id).await;
        let key = id.to_string();
        let record = match self.store.call(move |store| store.subscription(&key)).await {
            Ok(record) => record,
            Err(error) => {
                tracing::error!(subscription = %id, error = %error, "cannot read the subscription's change");
                return;
            }
        };
        let Some(record) = record else {
            if self.runs.lock().expect("runs lock").contains_key(id) {
                self.stop(id).await;
                tracing::info!(subscription = %id, "subscription deleted on another node; stopped here");
            }
            self.forget_metrics(id);
            return;
        };
        if !self.is_as_recorded(&record) {
            tracing::info!(subscription = %id, status = ?record.status, consumer_status = ?record.consumer_status, "subscription changed; following its record");
            self.start(&record).await;
        }
    }

    /// Whether the run of `record`'s subscription (or its absence) is what the record says.
    fn is_as_recorded(&self, record: &Subscription) -> bool {
        let runnable = record.should_run()
            && self.catalog.get(&record.api_id).is_some_and(|api| runs_here(&self.placement, &api, &record.id));
        match self.runs.lock().expect("runs lock").get(&record.id) {
            Some(run) => runnable && run.shape == shape(record),
            None => !runnable,
        }
    }

    async fn supervise(
        self: Arc<Self>,
        subscription: Subscription,
        generation: u64,
        mut cancelled: watch::Receiver<bool>,
    ) {
        let id = subscription.id.clone();
        if let Some(previous) = self.ending_of(&id) {
            tracing::info!(subscription = %id, "waiting for its previous run to end");
            tokio::select! {
                () = previous.wait() => {}
                _ = cancelled.wait_for(|cancelled| *cancelled) => return,
            }
        }
        let mut delay = FIRST_RETRY;
        loop {
            let dispatcher = Arc::clone(&self);
            let candidate = subscription.clone();
            let attempt = tokio::task::spawn_blocking(move || dispatcher.launch(&candidate))
                .await
                .unwrap_or_else(|error| Err(LaunchError::Fatal(format!("opening the subscription failed: {error}"))));
            match attempt {
                Ok(handle) => {
                    if !self.begin_delivery(&id, generation, &handle) {
                        // Stopped while opening: end what was opened before the stop returns.
                        handle.stop(Duration::ZERO);
                        handle.wait().await;
                        return;
                    }
                    self.record(&id, generation, false, |subscription| {
                        let recovered = subscription.consumer_status == ConsumerStatus::Started
                            && subscription.failure_cause.take().is_some();
                        if recovered {
                            tracing::info!(subscription = %subscription.id, "source reachable again; delivering");
                        }
                        recovered
                    })
                    .await;
                    let ended = handle.wait().await;
                    self.on_end(&id, generation, ended).await;
                    return;
                }
                Err(LaunchError::Unavailable(cause)) => {
                    tracing::warn!(subscription = %id, cause = %cause, retry_in_ms = delay.as_millis() as u64, "source unavailable; retrying");
                    let shown = format!("{cause} (retrying)");
                    self.record(&id, generation, false, move |subscription| {
                        let changed = subscription.failure_cause.as_deref() != Some(shown.as_str());
                        subscription.failure_cause = Some(shown.clone());
                        changed
                    })
                    .await;
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancelled.wait_for(|cancelled| *cancelled) => return,
                    }
                    delay = (delay * 2).min(MAX_RETRY);
                }
                Err(LaunchError::Fatal(cause)) => {
                    self.on_end(&id, generation, Ended::Failed(cause)).await;
                    return;
                }
            }
        }
    }

    /// Opens the source (and DLQ publisher) and starts the entrypoint. Blocking: run it off the async threads.
    fn launch(&self, subscription: &Subscription) -> Result<RunningSubscription, LaunchError> {
        let api = self
            .catalog
            .get(&subscription.api_id)
            .ok_or_else(|| LaunchError::Fatal(format!("API {} is not deployed", subscription.api_id)))?;
        let entrypoint_id = &subscription.consumer_configuration.entrypoint_id;
        let entrypoint = api.entrypoint(entrypoint_id).ok_or_else(|| {
            LaunchError::Fatal(format!("API {} no longer serves entrypoint `{entrypoint_id}`", api.id()))
        })?;
        launch(&api, entrypoint, subscription, &self.telemetry)
    }

    fn is_current(&self, id: &str, generation: u64) -> bool {
        self.runs.lock().expect("runs lock").get(id).is_some_and(|run| run.generation == generation)
    }

    /// Marks the run delivering, unless it was stopped meanwhile.
    fn begin_delivery(&self, id: &str, generation: u64, handle: &RunningSubscription) -> bool {
        let mut runs = self.runs.lock().expect("runs lock");
        let Some(run) = runs.get_mut(id).filter(|run| run.generation == generation) else {
            return false;
        };
        run.phase = Phase::Delivering(handle.clone());
        true
    }

    /// Applies `edit` to the stored subscription if run `generation` is still its current run, in one store step;
    /// with `ending`, the run is forgotten in that same step. A shared store may apply `edit` again to a record
    /// another node changed meanwhile; whether the run was current is decided once.
    async fn record(
        self: &Arc<Self>,
        id: &str,
        generation: u64,
        ending: bool,
        edit: impl Fn(&mut Subscription) -> bool + Send + 'static,
    ) {
        let dispatcher = Arc::clone(self);
        let key = id.to_string();
        let result = self
            .store
            .call(move |store| {
                let mut was_current = None;
                store.edit_subscription(&key, &mut |subscription| {
                    let current = *was_current.get_or_insert_with(|| {
                        let mut runs = dispatcher.runs.lock().expect("runs lock");
                        let current = runs.get(&key).is_some_and(|run| run.generation == generation);
                        if current && ending {
                            runs.remove(&key);
                        }
                        current
                    });
                    match subscription {
                        Some(subscription) if current => {
                            let changed = edit(subscription);
                            if changed {
                                subscription.updated_at = now_rfc3339();
                            }
                            changed
                        }
                        _ => false,
                    }
                })
            })
            .await;
        if let Err(error) = result {
            tracing::error!(subscription = %id, error = %error, "cannot record the subscription's state");
        }
    }

    async fn on_end(self: &Arc<Self>, id: &str, generation: u64, ended: Ended) {
        if !self.is_current(id, generation) {
            return; // stopped on purpose, or replaced by a newer run
        }
        match ended {
            Ended::Failed(cause) => {
                tracing::warn!(subscription = %id, cause = %cause, "subscription failed");
                // Told once per cluster: by the node whose write turned the record to FAILURE (a shared store applies
                // the edit again on a record another node changed first; the last application decides).
                let news = Arc::new(Mutex::new(None));
                let told = Arc::clone(&news);
                self.record(id, generation, true, move |subscription| {
                    *told.lock().expect("event") = (subscription.consumer_status != ConsumerStatus::Failure)
                        .then(|| failure_event(&subscription.api_id, &subscription.id, &cause));
                    subscription.consumer_status = ConsumerStatus::Failure;
                    subscription.failure_cause = Some(cause.clone());
                    true
                })
                .await;
                let event = news.lock().expect("event").take();
                if let Some(event) = event {
                    self.telemetry.notifications.notify(event);
                }
            }
            Ended::Finished => {
                tracing::info!(subscription = %id, "source ended; every message settled");
                self.record(id, generation, true, |_| false).await;
            }
            Ended::Stopped => self.record(id, generation, true, |_| false).await,
        }
    }

    /// Tells the operator's notification endpoints of `event`.
    pub fn notify(&self, event: Event) {
        self.telemetry.notifications.notify(event);
    }

    /// Tells the source endpoint of `subscription`'s API that the subscription will not run again.
    pub fn forget(&self, subscription: &Subscription) {
        if let Some(api) = self.catalog.get(&subscription.api_id) {
            if let Some(endpoint) = api.source.plugin.endpoint() {
                endpoint.forget(&subscription.id);
            }
        }
    }

    /// Forgets the delivery metrics of a deleted subscription.
    pub fn forget_metrics(&self, id: &str) {
        self.telemetry.metrics.remove(id);
    }

    /// Stops `id` if it runs. Waits until a delivering run has ended, at most [`STOP_GRACE`] + [`CLOSE_WAIT`]; a run
    /// still opening its source is not waited for. What has not ended by then ends in the background, and the
    /// subscription's next run waits for it.
    pub async fn stop(&self, id: &str) {
        let run = self.runs.lock().expect("runs lock").remove(id);
        let Some(run) = run else {
            return;
        };
        let ending = run.stop(id.to_string(), STOP_GRACE);
        if ending.delivering && tokio::time::timeout(STOP_GRACE + CLOSE_WAIT, ending.clone().wait()).await.is_ok() {
            return;
        }
        if !ending.has_ended() {
            tracing::info!(subscription = %id, "its run ends in the background (waiting on its source)");
            let mut endings = self.endings.lock().expect("endings lock");
            endings.retain(|_, ending| !ending.has_ended());
            endings.insert(id.to_string(), ending);
        }
    }

    /// The end of `id`'s last stopped run, unless it has ended.
    fn ending_of(&self, id: &str) -> Option<Ending> {
        self.endings.lock().expect("endings lock").get(id).filter(|ending| !ending.has_ended()).cloned()
    }

    /// Stops every subscription; in-flight deliveries get `drain` to finish, after which they are abandoned
    /// unacknowledged; sources then close (final commits) within [`CLOSE_BOUND`]. Runs still opening a source, and
    /// closes still waiting on a broker past that, are left.
    pub async fn stop_all(&self, drain: Duration) {
        let runs: Vec<(String, Run)> = self.runs.lock().expect("runs lock").drain().collect();
        let stopped = runs.into_iter().map(|(id, run)| run.stop(id, drain));
        let lingering: Vec<Ending> =
            self.endings.lock().expect("endings lock").drain().map(|(_, ending)| ending).collect();
        // A run still opening its source has delivered nothing: nothing to drain, nothing to wait for.
        let delivering: Vec<Ending> = stopped.chain(lingering).filter(|ending| ending.delivering).collect();
        let all = async {
            for ending in delivering {
                ending.wait().await;
            }
        };
        if tokio::time::timeout(drain + CLOSE_BOUND, all).await.is_err() {
            tracing::warn!(
                timeout_ms = (drain + CLOSE_BOUND).as_millis() as u64,
                "subscriptions still closing at shutdown were left"
            );
        }
    }

    /// How many subscriptions are delivering.
    pub fn running_count(&self) -> usize {
        self.runs.lock().expect("runs lock").values().filter(|run| matches!(run.phase, Phase::Delivering(_))).count()
    }
}

/// Opens the source (and DLQ publisher) and starts the entrypoint.
fn launch(
    api: &DeployedApi,
    entrypoint: &ServedEntrypoint,
    subscription: &Subscription,
    telemetry: &Telemetry,
) -> Result<RunningSubscription, LaunchError> {
    let source_endpoint = &api.source;
    let source = source_endpoint.plugin.endpoint().expect("the source is an endpoint connector").subscribe(
        api.id(),
        &subscription.id,
        entrypoint.qos,
        &source_endpoint.shared,
        &source_endpoint.configuration,
    )?;
    let dead_letter = open_dead_letter(api, entrypoint)?;
    let run = RunParts { source, dead_letter, qos: entrypoint.qos };
    start_entrypoint(api, entrypoint, subscription, run, telemetry).map_err(LaunchError::Fatal)
}

/// The publisher of the entrypoint's dead letter queue, when it has one.
pub(crate) fn open_dead_letter(
    api: &DeployedApi,
    entrypoint: &ServedEntrypoint,
) -> Result<Option<Publisher>, OpenFailure> {
    entrypoint
        .dead_letter
        .as_ref()
        .map(|dlq| {
            dlq.plugin.endpoint().expect("the DLQ is an endpoint connector").publisher(
                api.id(),
                &dlq.shared,
                &dlq.configuration,
            )
        })
        .transpose()
}

/// What one run of a subscription reads and where its dead letters go.
pub(crate) struct RunParts {
    /// Where messages come from.
    pub(crate) source: Source,
    /// Where failed messages go.
    pub(crate) dead_letter: Option<Publisher>,
    /// The delivery guarantee of the run.
    pub(crate) qos: Qos,
}

/// Starts `entrypoint` delivering `run` to `subscription`'s callback, with its current configuration.
pub(crate) fn start_entrypoint(
    api: &DeployedApi,
    entrypoint: &ServedEntrypoint,
    subscription: &Subscription,
    run: RunParts,
    telemetry: &Telemetry,
) -> Result<RunningSubscription, String> {
    let connector = entrypoint.plugin.entrypoint().expect("the entrypoint is an entrypoint connector");
    let subscribe_phase = subscribe_phase(api, entrypoint, subscription)?;
    let (delivery_log, metrics) = telemetry.for_run(api, &subscription.id);
    connector.start(StartSpec {
        api_id: api.id().to_string(),
        subscription_id: subscription.id.clone(),
        application_id: subscription.application_id.clone(),
        plan_id: subscription.plan_id.clone().unwrap_or_default(),
        qos: run.qos,
        entrypoint_configuration: entrypoint.configuration.clone(),
        subscription_configuration: subscription.consumer_configuration.entrypoint_configuration.clone(),
        source: run.source,
        dead_letter: run.dead_letter,
        delivery_log,
        metrics,
        subscribe_phase,
    })
}

/// The steps of the API's and the plan's flows `subscription`'s messages go through, as JSON for the entrypoint;
/// an error when the API requires a matching flow and none matches.
fn subscribe_phase(
    api: &DeployedApi,
    entrypoint: &ServedEntrypoint,
    subscription: &Subscription,
) -> Result<String, String> {
    let variables = flows::Variables {
        subscription_id: subscription.id.clone(),
        subscription_metadata: subscription.metadata.clone(),
        application_id: subscription.application_id.clone(),
        plan_id: subscription.plan_id.clone().unwrap_or_default(),
        api_id: api.id().to_string(),
        api_name: api.definition.name.clone(),
    };
    let subscriber = flows::Subscriber {
        entrypoint_id: entrypoint.id(),
        channel: subscription.consumer_configuration.channel.as_deref(),
        variables,
    };
    Ok(flows::resolve(&api.definition, subscriber)?.to_json())
}

/// What of a subscription's record its run depends on: its API, its consumer configuration, its metadata (flows read
/// it) and its statuses (not
/// the failure cause shown while a source is unreachable, nor the time of the last change).
fn shape(subscription: &Subscription) -> Value {
    serde_json::json!([
        subscription.api_id,
        subscription.consumer_configuration,
        subscription.metadata,
        subscription.status,
        subscription.consumer_status,
    ])
}

/// The event of a subscription stopped by `cause`: a dead letter the queue refused, or any other failure.
fn failure_event(api_id: &str, subscription_id: &str, cause: &str) -> Event {
    let (api_id, subscription_id, cause) = (api_id.to_string(), subscription_id.to_string(), cause.to_string());
    if cause.starts_with(webhook_core::DEAD_LETTER_FAILURE) {
        Event::DeadLetterUnpublishable { api_id, subscription_id, cause }
    } else {
        Event::SubscriptionFailed { api_id, subscription_id, cause }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_on_a_refused_dead_letter_is_told_apart() {
        let refused = format!("{}: broker down", webhook_core::DEAD_LETTER_FAILURE);
        assert!(matches!(failure_event("a", "s", &refused), Event::DeadLetterUnpublishable { .. }));
        let other = failure_event("a", "s", "callback answered 400 Bad Request");
        assert_eq!(other.kind(), "subscription.failed");
        assert_eq!(other.data()["cause"], "callback answered 400 Bad Request");
    }
}
