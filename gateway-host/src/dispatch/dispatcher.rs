//! The set of running subscriptions: wires source → entrypoint (→ DLQ) for each, and records how each ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use definition::{ConsumerStatus, Subscription};

use crate::deploy::{ApiCatalog, DeployedApi, ServedEntrypoint};
use crate::plugins::{Ended, RunningSubscription, StartSpec};
use crate::store::Store;
use crate::time::now_rfc3339;

/// Runs subscriptions and keeps their consumer status true.
pub struct Dispatcher {
    store: Arc<Store>,
    catalog: Arc<ApiCatalog>,
    running: Mutex<HashMap<String, Run>>,
    generations: AtomicU64,
}

/// One run of a subscription; a new start is a new generation, so that a late report of an old run is ignored.
struct Run {
    generation: u64,
    handle: RunningSubscription,
}

impl Dispatcher {
    /// A dispatcher with nothing running.
    pub fn new(store: Arc<Store>, catalog: Arc<ApiCatalog>) -> Arc<Self> {
        Arc::new(Self { store, catalog, running: Mutex::new(HashMap::new()), generations: AtomicU64::new(0) })
    }

    /// Starts `subscription` if it should run and its API is deployed; a start that fails records FAILURE.
    pub fn start(self: &Arc<Self>, subscription: &Subscription) {
        if !subscription.should_run() {
            return;
        }
        let Some(api) = self.catalog.get(&subscription.api_id) else {
            tracing::warn!(subscription = %subscription.id, api = %subscription.api_id, "API not deployed; subscription not started");
            return;
        };
        let entrypoint_id = &subscription.consumer_configuration.entrypoint_id;
        let started = match api.entrypoint(entrypoint_id) {
            Some(entrypoint) => launch(&api, entrypoint, subscription),
            None => Err(format!("API {} no longer serves entrypoint `{entrypoint_id}`", api.id())),
        };
        match started {
            Ok(handle) => self.watch(subscription.id.clone(), handle),
            Err(cause) => {
                let _serialized = self.running.lock().expect("running lock");
                self.record_failure(&subscription.id, &cause);
            }
        }
    }

    fn watch(self: &Arc<Self>, id: String, handle: RunningSubscription) {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let previous =
            self.running.lock().expect("running lock").insert(id.clone(), Run { generation, handle: handle.clone() });
        if let Some(previous) = previous {
            previous.handle.stop();
        }
        let dispatcher = Arc::clone(self);
        tokio::spawn(async move {
            let ended = handle.wait().await;
            dispatcher.on_end(&id, generation, ended);
        });
    }

    fn on_end(&self, id: &str, generation: u64, ended: Ended) {
        let mut running = self.running.lock().expect("running lock");
        if running.get(id).is_none_or(|run| run.generation != generation) {
            return; // stopped on purpose, or replaced by a newer run
        }
        running.remove(id);
        match ended {
            Ended::Failed(cause) => self.record_failure(id, &cause),
            Ended::Finished => tracing::info!(subscription = %id, "source ended; every message settled"),
            Ended::Stopped => tracing::info!(subscription = %id, "subscription stopped"),
        }
    }

    /// Records FAILURE. Callers hold the running lock, so that no lifecycle change interleaves.
    fn record_failure(&self, id: &str, cause: &str) {
        tracing::warn!(subscription = %id, cause = %cause, "subscription failed");
        let result = self.store.subscription(id).and_then(|subscription| match subscription {
            Some(mut subscription) => {
                subscription.consumer_status = ConsumerStatus::Failure;
                subscription.failure_cause = Some(cause.to_string());
                subscription.updated_at = now_rfc3339();
                self.store.put_subscription(&subscription)
            }
            None => Ok(()),
        });
        if let Err(error) = result {
            tracing::error!(subscription = %id, error = %error, "cannot record the failure");
        }
    }

    /// Stops `id` if it runs and waits until its in-flight deliveries are done.
    pub async fn stop(&self, id: &str) {
        let run = self.running.lock().expect("running lock").remove(id);
        if let Some(run) = run {
            run.handle.stop();
            run.handle.wait().await;
        }
    }

    /// Stops every subscription; in-flight deliveries get `drain` to finish, after which they are abandoned
    /// unacknowledged.
    pub async fn stop_all(&self, drain: Duration) {
        let runs: Vec<(String, Run)> = self.running.lock().expect("running lock").drain().collect();
        for (_, run) in &runs {
            run.handle.stop();
        }
        let all = futures_join(runs.iter().map(|(_, run)| run.handle.clone()).collect());
        if tokio::time::timeout(drain, all).await.is_err() {
            tracing::warn!(
                timeout_ms = drain.as_millis() as u64,
                "deliveries still in flight at shutdown were abandoned unacknowledged"
            );
        }
    }

    /// How many subscriptions run.
    pub fn running_count(&self) -> usize {
        self.running.lock().expect("running lock").len()
    }
}

/// Opens the source (and DLQ publisher) and starts the entrypoint.
fn launch(
    api: &DeployedApi,
    entrypoint: &ServedEntrypoint,
    subscription: &Subscription,
) -> Result<RunningSubscription, String> {
    let source_endpoint = &api.source;
    let source = source_endpoint
        .plugin
        .endpoint()
        .expect("the source is an endpoint connector")
        .subscribe(api.id(), &subscription.id, entrypoint.qos, &source_endpoint.shared, &source_endpoint.configuration)
        .map_err(|error| format!("cannot open the source {}: {error}", source_endpoint.name))?;
    let dead_letter = entrypoint
        .dead_letter
        .as_ref()
        .map(|dlq| {
            dlq.plugin
                .endpoint()
                .expect("the DLQ is an endpoint connector")
                .publisher(api.id(), &dlq.shared, &dlq.configuration)
                .map_err(|error| format!("cannot open the dead letter queue {}: {error}", dlq.name))
        })
        .transpose()?;
    entrypoint.plugin.entrypoint().expect("the entrypoint is an entrypoint connector").start(StartSpec {
        api_id: api.id().to_string(),
        subscription_id: subscription.id.clone(),
        application_id: subscription.application_id.clone(),
        plan_id: subscription.plan_id.clone().unwrap_or_default(),
        qos: entrypoint.qos,
        entrypoint_configuration: entrypoint.configuration.clone(),
        subscription_configuration: subscription.consumer_configuration.entrypoint_configuration.clone(),
        source,
        dead_letter,
    })
}

/// Waits for every handle to end.
async fn futures_join(handles: Vec<RunningSubscription>) {
    let mut set = tokio::task::JoinSet::new();
    for handle in handles {
        set.spawn(async move { handle.wait().await });
    }
    while set.join_next().await.is_some() {}
}
