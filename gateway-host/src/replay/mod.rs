//! Replays of dead letters: a subscription's dead letters of a time range, read back from its DLQ and delivered
//! again to its callback with its current configuration (headers, auth, retry), in the order they were written,
//! alongside the live subscription. A message that fails again is dead-lettered again with its history. Nothing is
//! removed from the DLQ, so a replay cut short (a stopped gateway) can simply be started again.

mod counting;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use definition::{parse_json, FieldError};
use plugin_api::Qos;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::deploy::ApiCatalog;
use crate::dispatch::{open_dead_letter, start_entrypoint, RunParts};
use crate::error::ServiceError;
use crate::events::Event;
use crate::plugins::Ended;
use crate::store::Store;
use crate::telemetry::Telemetry;
use crate::time::now_rfc3339;
use counting::{counted_publisher, counted_source, Progress};

/// Replays kept to be shown, the oldest finished ones dropped first.
const KEPT: usize = 1_000;

/// The replays of the gateway (kept in memory: a restarted gateway shows none).
pub struct Replays {
    store: Arc<dyn Store>,
    catalog: Arc<ApiCatalog>,
    telemetry: Arc<Telemetry>,
    replays: Mutex<VecDeque<Arc<Replay>>>,
}

/// One replay.
struct Replay {
    what: ReplayRange,
    progress: Arc<Progress>,
    state: Mutex<State>,
}

/// Which dead letters a replay delivers, and when it started.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplayRange {
    id: String,
    api_id: String,
    subscription_id: String,
    from: String,
    to: String,
    started_at: String,
}

#[derive(Clone)]
enum State {
    Running,
    Finished,
    Failed(String),
}

/// A replay as the management API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayView {
    #[serde(flatten)]
    what: ReplayRange,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_cause: Option<String>,
    total: u64,
    delivered: u64,
    dead_lettered: u64,
}

/// `POST .../_replay`'s body.
#[derive(Deserialize)]
struct ReplayBody {
    /// RFC 3339.
    from: String,
    /// RFC 3339; now when absent.
    #[serde(default)]
    to: Option<String>,
}

impl Replays {
    /// No replay yet.
    pub fn new(store: Arc<dyn Store>, catalog: Arc<ApiCatalog>, telemetry: Arc<Telemetry>) -> Arc<Self> {
        Arc::new(Self { store, catalog, telemetry, replays: Mutex::new(VecDeque::new()) })
    }

    /// Starts replaying the dead letters of subscription `id` of `api_id` that `body` asks for.
    pub async fn start(self: &Arc<Self>, api_id: &str, id: &str, body: Value) -> Result<ReplayView, ServiceError> {
        let body: ReplayBody = parse_json(body, "").map_err(|error| ServiceError::Invalid(vec![error]))?;
        let from_ms = millis(&body.from).ok_or_else(|| ServiceError::invalid("from", "must be an RFC 3339 time"))?;
        let to = body.to.unwrap_or_else(now_rfc3339);
        let to_ms = millis(&to).ok_or_else(|| ServiceError::invalid("to", "must be an RFC 3339 time"))?;
        if from_ms > to_ms {
            return Err(ServiceError::Invalid(vec![FieldError::new("to", "must not be before `from`")]));
        }
        let key = id.to_string();
        let subscription = self
            .store
            .call(move |store| store.subscription(&key))
            .await?
            .filter(|subscription| subscription.api_id == api_id)
            .ok_or_else(|| ServiceError::NotFound(format!("subscription {id} of API {api_id} not found")))?;
        let api = self
            .catalog
            .get(api_id)
            .ok_or_else(|| ServiceError::Conflict(format!("API {api_id} is not deployed; see its reasons")))?;
        let entrypoint_id = subscription.consumer_configuration.entrypoint_id.clone();
        let has_dlq = api.entrypoint(&entrypoint_id).is_some_and(|entrypoint| entrypoint.dead_letter.is_some());
        if !has_dlq {
            return Err(ServiceError::Conflict(format!(
                "subscription {id} has no dead letter queue to replay (its entrypoint `{entrypoint_id}` sets no `dlq`)"
            )));
        }
        let replay = Arc::new(Replay {
            what: ReplayRange {
                id: uuid::Uuid::new_v4().to_string(),
                api_id: api_id.to_string(),
                subscription_id: id.to_string(),
                from: body.from,
                to,
                started_at: now_rfc3339(),
            },
            progress: Arc::new(Progress::default()),
            state: Mutex::new(State::Running),
        });
        {
            let mut replays = self.replays.lock().expect("replays lock");
            let running = replays.iter().any(|other| {
                other.what.subscription_id == id && matches!(*other.state.lock().expect("state"), State::Running)
            });
            if running {
                return Err(ServiceError::Conflict(format!("a replay of subscription {id} is running already")));
            }
            replays.push_back(Arc::clone(&replay));
            while replays.len() > KEPT {
                replays.pop_front();
            }
        }
        tracing::info!(subscription = %id, replay = %replay.what.id, from = %replay.what.from, to = %replay.what.to, "replay of dead letters started");
        let view = replay.view();
        let replays = Arc::clone(self);
        tokio::spawn(async move {
            let ended = replays.run(&replay, subscription, entrypoint_id, (from_ms, to_ms)).await;
            let state = match ended {
                Ok(Ended::Finished | Ended::Stopped) => State::Finished,
                Ok(Ended::Failed(cause)) | Err(cause) => State::Failed(cause),
            };
            let what = &replay.what;
            let (api_id, subscription_id, replay_id) =
                (what.api_id.clone(), what.subscription_id.clone(), what.id.clone());
            let event = if let State::Failed(cause) = &state {
                tracing::warn!(replay = %replay.what.id, cause = %cause, "replay failed");
                Event::ReplayFailed { api_id, subscription_id, replay_id, cause: cause.clone() }
            } else {
                tracing::info!(replay = %replay.what.id, total = replay.progress.total.load(Ordering::Relaxed), "replay finished");
                Event::ReplayFinished {
                    api_id,
                    subscription_id,
                    replay_id,
                    delivered: replay.progress.delivered(),
                    dead_lettered: replay.progress.dead_lettered.load(Ordering::Relaxed),
                }
            };
            replays.telemetry.notifications.notify(event);
            *replay.state.lock().expect("state") = state;
        });
        Ok(view)
    }

    /// Opens the dead letters and the DLQ, and delivers them; resolves when the replay has ended.
    async fn run(
        &self,
        replay: &Replay,
        subscription: definition::Subscription,
        entrypoint_id: String,
        range: (i64, i64),
    ) -> Result<Ended, String> {
        let api = self.catalog.get(&replay.what.api_id).ok_or("the API is no longer deployed")?;
        let opening = Arc::clone(&api);
        let subscription_id = subscription.id.clone();
        let entrypoint = entrypoint_id.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let served = opening.entrypoint(&entrypoint).ok_or("the entrypoint is no longer served")?;
            let dlq = served.dead_letter.as_ref().ok_or("the entrypoint no longer has a DLQ")?;
            let endpoint = dlq.plugin.endpoint().expect("the DLQ is an endpoint connector");
            let source = endpoint
                .replay(opening.id(), &subscription_id, (&dlq.shared, &dlq.configuration), range)
                .map_err(|failure| format!("cannot read the dead letters: {}", failure.message))?;
            let publisher = open_dead_letter(&opening, served)
                .map_err(|failure| format!("cannot open the DLQ: {}", failure.message))?;
            Ok::<_, String>((source, publisher))
        })
        .await
        .map_err(|error| format!("opening the replay failed: {error}"))??;
        let (source, publisher) = opened;
        let served = api.entrypoint(&entrypoint_id).ok_or("the entrypoint is no longer served")?;
        let run = RunParts {
            source: counted_source(source, Arc::clone(&replay.progress)),
            dead_letter: publisher.map(|publisher| counted_publisher(publisher, Arc::clone(&replay.progress))),
            // One at a time, in the order they were written.
            qos: Qos::AtLeastOnce,
        };
        let running = start_entrypoint(&api, served, &subscription, run, &self.telemetry)?;
        Ok(running.wait().await)
    }

    /// The replay `replay_id` of subscription `id` of `api_id`.
    pub fn get(&self, api_id: &str, id: &str, replay_id: &str) -> Result<ReplayView, ServiceError> {
        self.replays
            .lock()
            .expect("replays lock")
            .iter()
            .find(|replay| {
                replay.what.id == replay_id && replay.what.subscription_id == id && replay.what.api_id == api_id
            })
            .map(|replay| replay.view())
            .ok_or_else(|| ServiceError::NotFound(format!("replay {replay_id} of subscription {id} not found")))
    }
}

impl Replay {
    fn view(&self) -> ReplayView {
        let state = self.state.lock().expect("state").clone();
        let (status, failure_cause) = match state {
            State::Running => ("RUNNING", None),
            State::Finished => ("FINISHED", None),
            State::Failed(cause) => ("FAILED", Some(cause)),
        };
        ReplayView {
            what: self.what.clone(),
            status,
            failure_cause,
            total: self.progress.total.load(Ordering::Relaxed),
            delivered: self.progress.delivered(),
            dead_lettered: self.progress.dead_lettered.load(Ordering::Relaxed),
        }
    }
}

/// Milliseconds since the epoch of an RFC 3339 time.
fn millis(text: &str) -> Option<i64> {
    let at = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?;
    i64::try_from(at.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()
}
