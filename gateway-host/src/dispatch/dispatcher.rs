//! The set of running subscriptions: wires source → entrypoint (→ DLQ) for each, retries a source that is not
//! reachable yet, and records how each run ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use definition::{ConsumerStatus, Subscription};
use tokio::task::AbortHandle;

use crate::deploy::{ApiCatalog, DeployedApi, ServedEntrypoint};
use crate::logs::WebhookLogs;
use crate::plugins::{Ended, OpenFailure, RunningSubscription, StartSpec};
use crate::store::Store;
use crate::time::now_rfc3339;

/// First wait before opening an unavailable source again; doubled after each failed attempt.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Runs subscriptions and keeps their consumer status true.
pub struct Dispatcher {
    store: Arc<Store>,
    catalog: Arc<ApiCatalog>,
    webhook_logs: Arc<WebhookLogs>,
    runs: Mutex<HashMap<String, Run>>,
    generations: AtomicU64,
}

/// One run of a subscription; each start is a new generation, so that a late report of an old run is ignored.
struct Run {
    generation: u64,
    phase: Phase,
}

enum Phase {
    /// Opening its source and DLQ, possibly waiting for them to become reachable.
    Opening(AbortHandle),
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
    /// Stops the run; in-flight deliveries finish before this returns.
    async fn stop(self) {
        match self.phase {
            Phase::Opening(task) => task.abort(),
            Phase::Delivering(handle) => {
                handle.stop();
                handle.wait().await;
            }
        }
    }
}

impl Dispatcher {
    /// A dispatcher with nothing running.
    pub fn new(store: Arc<Store>, catalog: Arc<ApiCatalog>, webhook_logs: Arc<WebhookLogs>) -> Arc<Self> {
        Arc::new(Self {
            store,
            catalog,
            webhook_logs,
            runs: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
        })
    }

    /// Starts `subscription` if it should run and its API is deployed. Opening happens in the background: a source
    /// that is unreachable is retried with backoff (its cause shown meanwhile), any other failure records FAILURE.
    pub fn start(self: &Arc<Self>, subscription: &Subscription) {
        if !subscription.should_run() {
            return;
        }
        if self.catalog.get(&subscription.api_id).is_none() {
            tracing::warn!(subscription = %subscription.id, api = %subscription.api_id, "API not deployed; subscription not started");
            return;
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let mut runs = self.runs.lock().expect("runs lock");
        let task = tokio::spawn(Arc::clone(self).supervise(subscription.clone(), generation));
        let opening = Run { generation, phase: Phase::Opening(task.abort_handle()) };
        if let Some(previous) = runs.insert(subscription.id.clone(), opening) {
            tokio::spawn(previous.stop());
        }
    }

    async fn supervise(self: Arc<Self>, subscription: Subscription, generation: u64) {
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
                        handle.stop();
                        return;
                    }
                    let ended = handle.wait().await;
                    self.on_end(&id, generation, ended);
                    return;
                }
                Err(LaunchError::Unavailable(cause)) => {
                    if !self.note_unavailable(&id, generation, &cause, delay) {
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY);
                }
                Err(LaunchError::Fatal(cause)) => {
                    self.on_end(&id, generation, Ended::Failed(cause));
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
        launch(&api, entrypoint, subscription, &self.webhook_logs)
    }

    fn is_current(runs: &HashMap<String, Run>, id: &str, generation: u64) -> bool {
        runs.get(id).is_some_and(|run| run.generation == generation)
    }

    fn begin_delivery(&self, id: &str, generation: u64, handle: &RunningSubscription) -> bool {
        let mut runs = self.runs.lock().expect("runs lock");
        let Some(run) = runs.get_mut(id).filter(|run| run.generation == generation) else {
            return false;
        };
        run.phase = Phase::Delivering(handle.clone());
        self.update(id, |subscription| {
            if subscription.consumer_status == ConsumerStatus::Started && subscription.failure_cause.is_some() {
                tracing::info!(subscription = %id, "source reachable again; delivering");
                subscription.failure_cause = None;
                true
            } else {
                false
            }
        });
        true
    }

    fn note_unavailable(&self, id: &str, generation: u64, cause: &str, retry_in: Duration) -> bool {
        let runs = self.runs.lock().expect("runs lock");
        if !Self::is_current(&runs, id, generation) {
            return false;
        }
        tracing::warn!(subscription = %id, cause = %cause, retry_in_ms = retry_in.as_millis() as u64, "source unavailable; retrying");
        let shown = format!("{cause} (retrying)");
        self.update(id, |subscription| {
            let changed = subscription.failure_cause.as_deref() != Some(shown.as_str());
            subscription.failure_cause = Some(shown);
            changed
        });
        true
    }

    fn on_end(&self, id: &str, generation: u64, ended: Ended) {
        let mut runs = self.runs.lock().expect("runs lock");
        if !Self::is_current(&runs, id, generation) {
            return; // stopped on purpose, or replaced by a newer run
        }
        runs.remove(id);
        match ended {
            Ended::Failed(cause) => {
                tracing::warn!(subscription = %id, cause = %cause, "subscription failed");
                self.update(id, |subscription| {
                    subscription.consumer_status = ConsumerStatus::Failure;
                    subscription.failure_cause = Some(cause);
                    true
                });
            }
            Ended::Finished => tracing::info!(subscription = %id, "source ended; every message settled"),
            Ended::Stopped => tracing::info!(subscription = %id, "subscription stopped"),
        }
    }

    /// Applies `edit` to the stored subscription and keeps it if `edit` says it changed it. Callers hold the runs
    /// lock, so that no lifecycle change interleaves.
    fn update(&self, id: &str, edit: impl FnOnce(&mut Subscription) -> bool) {
        let result = self.store.subscription(id).and_then(|subscription| {
            let Some(mut subscription) = subscription else { return Ok(()) };
            if !edit(&mut subscription) {
                return Ok(());
            }
            subscription.updated_at = now_rfc3339();
            self.store.put_subscription(&subscription)
        });
        if let Err(error) = result {
            tracing::error!(subscription = %id, error = %error, "cannot record the subscription's state");
        }
    }

    /// Stops `id` if it runs and waits until its in-flight deliveries are done.
    pub async fn stop(&self, id: &str) {
        let run = self.runs.lock().expect("runs lock").remove(id);
        if let Some(run) = run {
            run.stop().await;
        }
    }

    /// Stops every subscription; in-flight deliveries get `drain` to finish, after which they are abandoned
    /// unacknowledged.
    pub async fn stop_all(&self, drain: Duration) {
        let runs: Vec<Run> = self.runs.lock().expect("runs lock").drain().map(|(_, run)| run).collect();
        let mut stopping = tokio::task::JoinSet::new();
        for run in runs {
            stopping.spawn(run.stop());
        }
        let all = async { while stopping.join_next().await.is_some() {} };
        if tokio::time::timeout(drain, all).await.is_err() {
            tracing::warn!(
                timeout_ms = drain.as_millis() as u64,
                "deliveries still in flight at shutdown were abandoned unacknowledged"
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
    webhook_logs: &WebhookLogs,
) -> Result<RunningSubscription, LaunchError> {
    let source_endpoint = &api.source;
    let source = source_endpoint.plugin.endpoint().expect("the source is an endpoint connector").subscribe(
        api.id(),
        &subscription.id,
        entrypoint.qos,
        &source_endpoint.shared,
        &source_endpoint.configuration,
    )?;
    let dead_letter = entrypoint
        .dead_letter
        .as_ref()
        .map(|dlq| {
            dlq.plugin.endpoint().expect("the DLQ is an endpoint connector").publisher(
                api.id(),
                &dlq.shared,
                &dlq.configuration,
            )
        })
        .transpose()?;
    let connector = entrypoint.plugin.entrypoint().expect("the entrypoint is an entrypoint connector");
    connector
        .start(StartSpec {
            api_id: api.id().to_string(),
            subscription_id: subscription.id.clone(),
            application_id: subscription.application_id.clone(),
            plan_id: subscription.plan_id.clone().unwrap_or_default(),
            qos: entrypoint.qos,
            entrypoint_configuration: entrypoint.configuration.clone(),
            subscription_configuration: subscription.consumer_configuration.entrypoint_configuration.clone(),
            source,
            dead_letter,
            delivery_log: webhook_logs.delivery_log(api.sampling),
        })
        .map_err(LaunchError::Fatal)
}
