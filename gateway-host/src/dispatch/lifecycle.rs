//! The subscription lifecycle of SPEC §4: create, update, pause, resume, close, resume after failure, delete.

use std::sync::{Arc, OnceLock};

use definition::{
    parse_json, ConsumerConfiguration, ConsumerStatus, FieldError, NewSubscription, Subscription, SubscriptionStatus,
    SubscriptionUpdate,
};
use secrets::SecretFields;
use serde_json::Value;

use super::Dispatcher;
use crate::deploy::{ApiCatalog, DeployedApi};
use crate::error::ServiceError;
use crate::events::Event;
use crate::store::Store;
use crate::time::now_rfc3339;

/// A lifecycle action posted to `.../subscriptions/{id}/_<action>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `_pause`: ACCEPTED → PAUSED; delivery stops.
    Pause,
    /// `_resume`: PAUSED → ACCEPTED; delivery continues.
    Resume,
    /// `_close`: ends the subscription for good.
    Close,
    /// `_resumeFailure`: FAILURE → STARTED; delivery continues at the failed message.
    ResumeFailure,
}

impl Action {
    /// The action named by a path segment (`_pause`).
    pub fn from_segment(segment: &str) -> Option<Self> {
        match segment {
            "_pause" => Some(Self::Pause),
            "_resume" => Some(Self::Resume),
            "_close" => Some(Self::Close),
            "_resumeFailure" => Some(Self::ResumeFailure),
            _ => None,
        }
    }
}

/// Subscriptions: kept in the store, run by the dispatcher. Every change holds the subscription's lock.
pub struct SubscriptionService {
    store: Arc<dyn Store>,
    catalog: Arc<ApiCatalog>,
    dispatcher: Arc<Dispatcher>,
}

/// A change of a stored subscription; refused with the reason.
type Edit = Arc<dyn Fn(&mut Subscription) -> Result<(), ServiceError> + Send + Sync>;

impl SubscriptionService {
    /// A service over `store`, running subscriptions with `dispatcher`.
    pub fn new(store: Arc<dyn Store>, catalog: Arc<ApiCatalog>, dispatcher: Arc<Dispatcher>) -> Self {
        Self { store, catalog, dispatcher }
    }

    /// The subscriptions of `api_id`.
    pub async fn list(&self, api_id: &str) -> Result<Vec<Subscription>, ServiceError> {
        self.require_api(api_id)?;
        let api_id = api_id.to_string();
        Ok(self.store.call(move |store| store.subscriptions(Some(&api_id))).await?)
    }

    /// The subscription `id` of `api_id`.
    pub async fn get(&self, api_id: &str, id: &str) -> Result<Subscription, ServiceError> {
        let key = id.to_string();
        self.store
            .call(move |store| store.subscription(&key))
            .await?
            .filter(|subscription| subscription.api_id == api_id)
            .ok_or_else(|| not_found(api_id, id))
    }

    /// Creates a subscription from a request body and starts it.
    pub async fn create(&self, api_id: &str, body: Value) -> Result<Subscription, ServiceError> {
        let api = self.deployed(api_id)?;
        let request: NewSubscription = parse_json(body, "").map_err(|error| ServiceError::Invalid(vec![error]))?;
        let plan_id = check_plan(&api, request.plan_id)?;
        let mut consumer = request.consumer_configuration;
        restore_secrets(&mut consumer, None)?;
        check_consumer(&api, &consumer)?;
        let id = match request.id {
            Some(id) if id.trim().is_empty() => return Err(ServiceError::invalid("id", "must not be empty")),
            Some(id) => id,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let _lock = self.dispatcher.lock(&id).await;
        let now = now_rfc3339();
        let subscription = Subscription {
            id: id.clone(),
            api_id: api_id.to_string(),
            application_id: request.application_id,
            plan_id,
            consumer_configuration: consumer,
            status: SubscriptionStatus::Accepted,
            consumer_status: ConsumerStatus::Started,
            failure_cause: None,
            metadata: request.metadata,
            paused_at: None,
            closed_at: None,
            created_at: now.clone(),
            updated_at: now,
        };
        let record = subscription.clone();
        let created = self
            .store
            .call(move |store| match store.subscription(&record.id)? {
                Some(_) => Ok(false), // the lock on the id makes this check and the write one step
                None => store.put_subscription(&record).map(|()| true),
            })
            .await?;
        if !created {
            return Err(ServiceError::Conflict(format!("subscription {id} already exists")));
        }
        tracing::info!(subscription = %id, api = %api_id, "subscription created");
        self.dispatcher.start(&subscription).await;
        self.get(api_id, &id).await
    }

    /// Replaces the consumer configuration and the metadata given; delivery starts again from where it stopped.
    pub async fn update(&self, api_id: &str, id: &str, body: Value) -> Result<Subscription, ServiceError> {
        let api = self.deployed(api_id)?;
        let request: SubscriptionUpdate = parse_json(body, "").map_err(|error| ServiceError::Invalid(vec![error]))?;
        let key = id.to_string();
        // The edit runs twice, as a check and in the store step, both under the subscription's lock: the stored
        // secrets are the same both times, so the configuration is restored and checked (by the plugin) once.
        let checked: OnceLock<ConsumerConfiguration> = OnceLock::new();
        self.change(
            api_id,
            id,
            Arc::new(move |subscription| {
                if subscription.status == SubscriptionStatus::Closed {
                    return Err(closed(&key));
                }
                if let Some(sent) = &request.consumer_configuration {
                    let consumer = match checked.get() {
                        Some(consumer) => consumer.clone(),
                        None => {
                            // A secret sent as the mask keeps the one stored in the record it replaces.
                            let mut consumer = sent.clone();
                            restore_secrets(&mut consumer, Some(&subscription.consumer_configuration))?;
                            check_consumer(&api, &consumer)?;
                            checked.get_or_init(|| consumer).clone()
                        }
                    };
                    subscription.consumer_configuration = consumer;
                    subscription.consumer_status = ConsumerStatus::Started;
                    subscription.failure_cause = None;
                }
                if let Some(metadata) = &request.metadata {
                    subscription.metadata = metadata.clone();
                }
                Ok(())
            }),
        )
        .await
    }

    /// Applies a lifecycle action, and tells the operator's notification endpoints.
    pub async fn act(&self, api_id: &str, id: &str, action: Action) -> Result<Subscription, ServiceError> {
        let changed = self.apply(api_id, id, action).await?;
        let (api_id, subscription_id) = (changed.api_id.clone(), changed.id.clone());
        self.dispatcher.notify(match action {
            Action::Pause => Event::SubscriptionPaused { api_id, subscription_id },
            Action::Resume => Event::SubscriptionResumed { api_id, subscription_id, from: "PAUSED" },
            Action::ResumeFailure => Event::SubscriptionResumed { api_id, subscription_id, from: "FAILURE" },
            Action::Close => Event::SubscriptionClosed { api_id, subscription_id },
        });
        Ok(changed)
    }

    async fn apply(&self, api_id: &str, id: &str, action: Action) -> Result<Subscription, ServiceError> {
        let key = id.to_string();
        self.change(
            api_id,
            id,
            Arc::new(move |subscription| {
                match (action, subscription.status, subscription.consumer_status) {
                    (Action::Pause, SubscriptionStatus::Accepted, _) => {
                        subscription.status = SubscriptionStatus::Paused;
                        subscription.paused_at = Some(now_rfc3339());
                    }
                    (Action::Resume, SubscriptionStatus::Paused, _) => {
                        subscription.status = SubscriptionStatus::Accepted
                    }
                    (Action::Close, SubscriptionStatus::Accepted | SubscriptionStatus::Paused, _) => {
                        subscription.status = SubscriptionStatus::Closed;
                        subscription.closed_at = Some(now_rfc3339());
                    }
                    (Action::ResumeFailure, status, ConsumerStatus::Failure) if status != SubscriptionStatus::Closed => {
                        subscription.consumer_status = ConsumerStatus::Started;
                        subscription.failure_cause = None;
                    }
                    (action, status, consumer) => {
                        return Err(ServiceError::Conflict(format!(
                            "cannot {action:?} subscription {key}: its status is {status:?} and its consumer is {consumer:?}"
                        )))
                    }
                }
                Ok(())
            }),
        )
        .await
    }

    /// Stops and forgets a subscription.
    pub async fn delete(&self, api_id: &str, id: &str) -> Result<(), ServiceError> {
        let _lock = self.dispatcher.lock(id).await;
        let subscription = self.get(api_id, id).await?;
        self.dispatcher.stop(id).await;
        let key = id.to_string();
        self.store.call(move |store| store.delete_subscription(&key)).await?;
        self.dispatcher.forget(&subscription);
        self.dispatcher.forget_metrics(id);
        tracing::info!(subscription = %id, "subscription deleted");
        Ok(())
    }

    /// Holding the subscription's lock: checks `edit` against the stored record (a refused change leaves the run
    /// alone), stops the run, applies `edit` to the record as it then stands and keeps it, and starts the
    /// subscription again as that record says.
    async fn change(&self, api_id: &str, id: &str, edit: Edit) -> Result<Subscription, ServiceError> {
        let _lock = self.dispatcher.lock(id).await;
        let before = self.get(api_id, id).await?;
        edit(&mut before.clone())?;
        self.dispatcher.stop(id).await;
        let key = id.to_string();
        // Read again: the run may have recorded a failure as it ended.
        let written = self
            .store
            .call(move |store| {
                // A shared store may apply the edit again to a record another node changed meanwhile: the last
                // application decides.
                let mut edited = Ok(());
                let record = store.edit_subscription(&key, &mut |subscription| match subscription {
                    Some(subscription) => {
                        edited = edit(subscription);
                        if edited.is_ok() {
                            subscription.updated_at = now_rfc3339();
                        }
                        edited.is_ok()
                    }
                    None => false,
                })?;
                Ok((record, edited))
            })
            .await;
        let (record, edited) = match written {
            Ok(written) => written,
            Err(error) => {
                // Nothing was written: the subscription runs again as the store still says.
                self.dispatcher.start(&before).await;
                return Err(error.into());
            }
        };
        let record = record.filter(|record| record.api_id == api_id).ok_or_else(|| not_found(api_id, id))?;
        if record.status == SubscriptionStatus::Closed {
            self.dispatcher.forget(&record);
        }
        self.dispatcher.start(&record).await;
        edited?;
        Ok(record)
    }

    fn require_api(&self, api_id: &str) -> Result<(), ServiceError> {
        if self.catalog.contains(api_id) {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("API {api_id} not found")))
        }
    }

    fn deployed(&self, api_id: &str) -> Result<Arc<DeployedApi>, ServiceError> {
        self.require_api(api_id)?;
        self.catalog
            .get(api_id)
            .ok_or_else(|| ServiceError::Conflict(format!("API {api_id} is not deployed; see its reasons")))
    }
}

fn not_found(api_id: &str, id: &str) -> ServiceError {
    ServiceError::NotFound(format!("subscription {id} of API {api_id} not found"))
}

fn closed(id: &str) -> ServiceError {
    ServiceError::Conflict(format!("subscription {id} is closed"))
}

/// When the API has push plans, the subscription names one of them; otherwise no plan is needed.
fn check_plan(api: &DeployedApi, plan_id: Option<String>) -> Result<Option<String>, ServiceError> {
    let push_plans: Vec<&str> = api.definition.push_plans().map(|plan| plan.id.as_str()).collect();
    match plan_id {
        _ if push_plans.is_empty() => Ok(None),
        None => {
            Err(ServiceError::invalid("planId", format!("required: one of the push plans {}", push_plans.join(", "))))
        }
        Some(plan) if push_plans.contains(&plan.as_str()) => Ok(Some(plan)),
        Some(plan) => Err(ServiceError::invalid(
            "planId",
            format!("`{plan}` is not a push plan of API {}; push plans: {}", api.id(), push_plans.join(", ")),
        )),
    }
}

/// Puts the stored secrets back where `consumer` sends the mask; a mask standing for nothing stored is refused.
fn restore_secrets(
    consumer: &mut ConsumerConfiguration,
    stored: Option<&ConsumerConfiguration>,
) -> Result<(), ServiceError> {
    let stored = stored.map_or(&Value::Null, |stored| &stored.entrypoint_configuration);
    SecretFields::subscription()
        .restore(&mut consumer.entrypoint_configuration, stored)
        .map_err(|paths| ServiceError::masks_without_value("consumerConfiguration.entrypointConfiguration", paths))
}

/// The consumer must use an entrypoint the API serves, with a configuration its plugin accepts.
fn check_consumer(api: &DeployedApi, consumer: &ConsumerConfiguration) -> Result<(), ServiceError> {
    let Some(entrypoint) = api.entrypoint(&consumer.entrypoint_id) else {
        let served: Vec<&str> = api.entrypoints.iter().map(|entrypoint| entrypoint.id()).collect();
        return Err(ServiceError::invalid(
            "consumerConfiguration.entrypointId",
            format!(
                "API {} serves no entrypoint `{}`; it serves {}",
                api.id(),
                consumer.entrypoint_id,
                served.join(", ")
            ),
        ));
    };
    let connector = entrypoint.plugin.entrypoint().expect("served entrypoints are entrypoint connectors");
    connector.validate_subscription(&consumer.entrypoint_configuration).map_err(|errors| {
        ServiceError::Invalid(
            errors
                .into_iter()
                .map(|error| FieldError {
                    path: plugin_api::join_path("consumerConfiguration.entrypointConfiguration", &error.path),
                    message: error.message,
                })
                .collect(),
        )
    })
}
