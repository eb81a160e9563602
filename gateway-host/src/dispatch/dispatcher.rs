//! The set of running subscriptions: wires source → entrypoint (→ DLQ) for each, retries a source that is not
//! reachable yet, and records how each run ends.
//!
//! Rules that keep a subscription to one run at a time and its record true:
//! - every lifecycle change holds that subscription's lock ([`Dispatcher::lock`]); changes of different
//!   subscriptions never wait for each other;
//! - a stop waits until the run has ended (its deliveries finished or abandoned, its source closed), so the next
//!   run never overlaps it;
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
/// How long a shutdown waits, after the drain, for sources to close (final commits, leaving consumer groups).
const CLOSE_BOUND: Duration = Duration::from_secs(10);

/// Runs subscriptions and keeps their consumer status true.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    catalog: Arc<ApiCatalog>,
    telemetry: Arc<Telemetry>,
    runs: Mutex<HashMap<String, Run>>,
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
    /// Stops the run and waits until it has ended: a run being opened gives up (and stops what it opened), a
    /// delivering one ends its deliveries as the entrypoint's stop rules say and closes its source.
    async fn stop(self, id: String, grace: Duration) {
        let _ = self.cancel.send(true);
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
                self.record(id, generation, true, move |subscription| {
                    subscription.consumer_status = ConsumerStatus::Failure;
                    subscription.failure_cause = Some(cause.clone());
                    true
                })
                .await;
            }
            Ended::Finished => {
                tracing::info!(subscription = %id, "source ended; every message settled");
                self.record(id, generation, true, |_| false).await;
            }
            Ended::Stopped => self.record(id, generation, true, |_| false).await,
        }
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

    /// Stops `id` if it runs and waits until the run has ended.
    pub async fn stop(&self, id: &str) {
        let run = self.runs.lock().expect("runs lock").remove(id);
        if let Some(run) = run {
            run.stop(id.to_string(), STOP_GRACE).await;
        }
    }

    /// Stops every subscription; in-flight deliveries get `drain` to finish, after which they are abandoned
    /// unacknowledged; sources then close (final commits).
    pub async fn stop_all(&self, drain: Duration) {
        let runs: Vec<(String, Run)> = self.runs.lock().expect("runs lock").drain().collect();
        let mut stopping = tokio::task::JoinSet::new();
        for (id, run) in runs {
            stopping.spawn(run.stop(id, drain));
        }
        // The runs abandon what is still in flight after `drain`; closing their sources is bounded by this.
        let all = async { while stopping.join_next().await.is_some() {} };
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
    })
}

/// What of a subscription's record its run depends on: its API, its consumer configuration and its statuses (not
/// the failure cause shown while a source is unreachable, nor the time of the last change).
fn shape(subscription: &Subscription) -> Value {
    serde_json::json!([
        subscription.api_id,
        subscription.consumer_configuration,
        subscription.status,
        subscription.consumer_status,
    ])
}
