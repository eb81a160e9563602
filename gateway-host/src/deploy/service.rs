//! Deploying, redeploying and removing APIs; loading the stored ones and the definitions folder at start.

use std::path::Path;
use std::sync::Arc;

use definition::pending;
use secrets::SecretFields;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{plan, ApiCatalog, ApiView, DeployError, DeployedApi};
use crate::dispatch::Dispatcher;
use crate::error::ServiceError;
use crate::plugins::PluginRegistry;
use crate::store::Store;

/// APIs: planned against the loaded plugins, kept in the store, shown by the catalog.
pub struct ApiService {
    registry: Arc<PluginRegistry>,
    catalog: Arc<ApiCatalog>,
    store: Arc<dyn Store>,
    dispatcher: Arc<Dispatcher>,
    /// One change at a time.
    changes: Mutex<()>,
}

impl ApiService {
    /// A service deploying with the plugins of `registry`.
    pub fn new(
        registry: Arc<PluginRegistry>,
        catalog: Arc<ApiCatalog>,
        store: Arc<dyn Store>,
        dispatcher: Arc<Dispatcher>,
    ) -> Self {
        Self { registry, catalog, store, dispatcher, changes: Mutex::new(()) }
    }

    /// Deploys the stored definitions, then those of `folder` (which win over stored ones of the same id and are
    /// stored in turn). What cannot be deployed is logged and shown with its reasons.
    pub fn load_at_start(&self, folder: &Path) -> Result<(), ServiceError> {
        for (id, document) in self.store.apis()? {
            if let Err(error) = self.deploy(document.clone()) {
                tracing::error!(api = %id, error = %error, "stored API not deployed");
            }
        }
        for (file, read) in definition_files(folder) {
            let document = match read {
                Ok(document) => document,
                Err(error) => {
                    tracing::error!(file = %file, error = %error, "API definition file unreadable");
                    continue;
                }
            };
            match self.deploy(document.clone()) {
                Ok(api) => self.store.put_api(api.id(), &document)?,
                Err(error) => tracing::error!(file = %file, error = %error, "API definition not deployed"),
            }
        }
        Ok(())
    }

    /// Deploys a new API.
    pub async fn create(&self, mut document: Value) -> Result<ApiView, ServiceError> {
        let _change = self.changes.lock().await;
        restore_secrets(&mut document, &Value::Null)?;
        // The id, wrapped in the reference product's export form or not.
        if let Some(id) = definition::declared_id(&document) {
            if self.catalog.contains(id) {
                return Err(ServiceError::Conflict(format!("API {id} already exists; PUT it to redeploy")));
            }
        }
        let api = plan(document.clone(), &self.registry).map_err(into_service_error)?;
        let key = api.id().to_string();
        self.store.call(move |store| store.put_api(&key, &document)).await?;
        tracing::info!(api = %api.id(), warnings = api.warnings.len(), "API deployed");
        let api = self.catalog.deploy(api);
        Ok(self.catalog.view(api.id()).expect("just deployed"))
    }

    /// Redeploys API `id`; its running subscriptions restart with the new definition.
    pub async fn update(&self, id: &str, mut document: Value) -> Result<ApiView, ServiceError> {
        let _change = self.changes.lock().await;
        if !self.catalog.contains(id) {
            return Err(ServiceError::NotFound(format!("API {id} not found")));
        }
        claim_id(&mut document, id)?;
        // A secret sent as the mask keeps the value the API has now.
        let current = self.catalog.view(id).map(|view| view.definition).unwrap_or_default();
        restore_secrets(&mut document, &current)?;
        let api = match plan(document.clone(), &self.registry) {
            Ok(api) => api,
            Err(error) => return Err(into_service_error(error)),
        };
        self.swap(id, api, Some(document)).await?;
        tracing::info!(api = %id, "API redeployed");
        Ok(self.catalog.view(id).expect("just deployed"))
    }

    /// Creates an API from the reference product's `CreateApiV4` (without an id: one is made), served stopped
    /// (`state: STOPPED`) until it is started.
    pub async fn create_stopped(&self, mut document: Value) -> Result<ApiView, ServiceError> {
        if definition::declared_id(&document).is_none() {
            definition::set_id(&mut document, &uuid::Uuid::new_v4().to_string());
        }
        set_state(&mut document, STOPPED);
        self.create(document).await
    }

    /// Starts or stops API `id` (`_start`, `_stop`): a stopped API's subscriptions do not run and keep their
    /// positions; started again, they go on from there. Refused when the API already is so.
    pub async fn set_started(&self, id: &str, started: bool) -> Result<(), ServiceError> {
        let _change = self.changes.lock().await;
        let record = self.record(id)?;
        let stopped = definition::ApiDefinition::parse(pending::running(&record)).is_ok_and(|api| api.is_stopped());
        if started != stopped {
            let state = if started { "started" } else { "stopped" };
            return Err(ServiceError::Conflict(format!("API {id} is already {state}")));
        }
        let state = if started { STARTED } else { STOPPED };
        let mut running = pending::running(&record);
        set_state(&mut running, state);
        let mut current = pending::current(&record).clone();
        set_state(&mut current, state);
        let record = pending::with_pending(running, current);
        let api = plan(record.clone(), &self.registry).map_err(into_service_error)?;
        self.swap(id, api, Some(record)).await?;
        tracing::info!(api = %id, state, "API state changed");
        Ok(())
    }

    /// Keeps `document` as API `id`'s edited definition (`PUT` on the reference product's paths): checked now,
    /// served only once deployed ([`Self::deploy_edited`]); until then the API's `deploymentState` is
    /// `NEED_REDEPLOY` and the definition that runs stays.
    pub async fn edit(&self, id: &str, mut document: Value) -> Result<ApiView, ServiceError> {
        let _change = self.changes.lock().await;
        let record = self.record(id)?;
        claim_id(&mut document, id)?;
        restore_secrets(&mut document, pending::current(&record))?;
        // The state changes by `_start` and `_stop` only.
        let state = definition::inner(&pending::running(&record)).get("state").cloned();
        if let (Some(state), Value::Object(fields)) = (state, definition::inner_mut(&mut document)) {
            fields.insert("state".into(), state);
        }
        self.keep_edited(id, &record, document).await
    }

    /// Changes the plans of API `id`'s edited definition with `change` (which says what to answer); kept as an edit
    /// to deploy, as [`Self::edit`] keeps one.
    pub async fn edit_plans<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Vec<Value>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let _change = self.changes.lock().await;
        let record = self.record(id)?;
        let mut document = pending::current(&record).clone();
        let answer = change(plans_of(&mut document))?;
        self.keep_edited(id, &record, document).await?;
        Ok(answer)
    }

    /// Makes API `id`'s edited definition the one that runs (`POST .../deployments`); its subscriptions restart on
    /// it. Nothing to do when nothing was edited.
    pub async fn deploy_edited(&self, id: &str) -> Result<(), ServiceError> {
        let _change = self.changes.lock().await;
        let record = self.record(id)?;
        if !pending::is_pending(&record) {
            return Ok(());
        }
        let document = pending::current(&record).clone();
        let api = plan(document.clone(), &self.registry).map_err(into_service_error)?;
        self.swap(id, api, Some(document)).await?;
        tracing::info!(api = %id, "API edits deployed");
        Ok(())
    }

    /// The stored record of API `id` (its running definition, and the edited one when there is one).
    fn record(&self, id: &str) -> Result<Value, ServiceError> {
        self.catalog
            .view(id)
            .map(|view| view.definition)
            .ok_or_else(|| ServiceError::NotFound(format!("API {id} not found")))
    }

    /// Stores `edited` beside API `id`'s running definition, once it plans; the subscriptions go on as they run.
    async fn keep_edited(&self, id: &str, record: &Value, edited: Value) -> Result<ApiView, ServiceError> {
        plan(edited.clone(), &self.registry).map_err(into_service_error)?;
        let record = pending::with_pending(pending::running(record), edited);
        let api = plan(record.clone(), &self.registry).map_err(into_service_error)?;
        let (key, stored) = (id.to_string(), record);
        self.store.call(move |store| store.put_api(&key, &stored)).await?;
        self.catalog.deploy(api);
        tracing::info!(api = %id, "API edited; deployed by its next deployment");
        Ok(self.catalog.view(id).expect("just kept"))
    }

    /// Serves `api` in place of API `id` (keeping `document` in the store first, when given); its subscriptions
    /// restart on it. Each subscription is held (its lock) from before its run stops until it runs again on the new
    /// definition, as its record then says: a lifecycle change answered meanwhile waits, and is not undone.
    async fn swap(&self, id: &str, api: DeployedApi, document: Option<Value>) -> Result<(), ServiceError> {
        let key = id.to_string();
        let before = self.store.call(move |store| store.subscriptions(Some(&key))).await?;
        let mut held = Vec::with_capacity(before.len());
        let mut stopping = tokio::task::JoinSet::new();
        for subscription in &before {
            let lock = self.dispatcher.lock(&subscription.id).await;
            let (dispatcher, id) = (Arc::clone(&self.dispatcher), subscription.id.clone());
            // Side by side: each stop is bounded (about a second), not their sum.
            stopping.spawn(async move { dispatcher.stop(&id).await });
            held.push((subscription.id.clone(), lock));
        }
        while stopping.join_next().await.is_some() {}
        if let Some(document) = document {
            let key = id.to_string();
            self.store.call(move |store| store.put_api(&key, &document)).await?;
        }
        self.catalog.deploy(api);
        let key = id.to_string();
        // Subscriptions created while the old definition was being stopped are restarted on the new one too.
        for subscription in self.store.call(move |store| store.subscriptions(Some(&key))).await? {
            if !held.iter().any(|(held, _)| *held == subscription.id) {
                let lock = self.dispatcher.lock(&subscription.id).await;
                held.push((subscription.id.clone(), lock));
            }
        }
        for (subscription_id, _lock) in held {
            let key = subscription_id.clone();
            if let Some(subscription) = self.store.call(move |store| store.subscription(&key)).await? {
                self.dispatcher.start(&subscription).await;
            }
        }
        Ok(())
    }

    /// Brings API `id` in line with the store after another node of a cluster changed it: served anew when its
    /// stored definition is not the one served here (its subscriptions restart on it), removed when no longer
    /// stored (its subscriptions were deleted before it).
    pub async fn follow_store(&self, id: &str) -> Result<(), ServiceError> {
        let _change = self.changes.lock().await;
        let key = id.to_string();
        let stored = self.store.call(move |store| Ok(store.apis()?.into_iter().find(|(api, _)| *api == key))).await?;
        let served = self.catalog.view(id).map(|view| view.definition);
        match stored {
            Some((_, document)) if served.as_ref() == Some(&document) => {}
            // Only the edited definition changed: what runs stays as it runs.
            Some((_, document)) if served.as_ref().map(pending::running) == Some(pending::running(&document)) => {
                if let Ok(api) = plan(document, &self.registry) {
                    self.catalog.deploy(api);
                }
            }
            Some((_, document)) => match plan(document.clone(), &self.registry) {
                Ok(api) => {
                    self.swap(id, api, None).await?;
                    tracing::info!(api = %id, "API changed on another node; deployed here");
                }
                Err(error) => {
                    let reasons = reasons(&error);
                    tracing::error!(api = %id, reasons = ?reasons, "API changed on another node cannot be deployed here");
                    self.catalog.refuse(id, document, reasons);
                }
            },
            None if self.catalog.contains(id) => {
                self.catalog.remove(id);
                tracing::info!(api = %id, "API deleted on another node; removed here");
            }
            None => {}
        }
        Ok(())
    }

    /// Removes API `id`; refused while it has subscriptions that are not closed.
    pub async fn delete(&self, id: &str) -> Result<(), ServiceError> {
        let _change = self.changes.lock().await;
        if !self.catalog.contains(id) {
            return Err(ServiceError::NotFound(format!("API {id} not found")));
        }
        let key = id.to_string();
        let subscriptions = self.store.call(move |store| store.subscriptions(Some(&key))).await?;
        let open = subscriptions
            .iter()
            .filter(|subscription| subscription.status != definition::SubscriptionStatus::Closed)
            .count();
        if open > 0 {
            return Err(ServiceError::Conflict(format!(
                "API {id} has {open} subscriptions that are not closed; close them first"
            )));
        }
        let key = id.to_string();
        self.store
            .call(move |store| {
                for subscription in &subscriptions {
                    store.delete_subscription(&subscription.id)?;
                }
                store.delete_api(&key)
            })
            .await?;
        self.catalog.remove(id);
        tracing::info!(api = %id, "API deleted");
        Ok(())
    }

    /// Deploys `document` at start; a definition that cannot be deployed is recorded with its reasons.
    fn deploy(&self, document: Value) -> Result<Arc<DeployedApi>, ServiceError> {
        match plan(document.clone(), &self.registry) {
            Ok(api) => {
                for warning in &api.warnings {
                    tracing::warn!(api = %api.id(), warning = %warning, "part of the API is not served");
                }
                tracing::info!(api = %api.id(), "API deployed");
                Ok(self.catalog.deploy(api))
            }
            Err(error) => {
                let reasons = reasons(&error);
                if let Some(id) = document.get("id").and_then(Value::as_str).map(str::to_string) {
                    self.catalog.refuse(&id, document, reasons);
                }
                Err(into_service_error(error))
            }
        }
    }
}

/// Makes `document` API `id`'s: the id in the body, wrapped or not, must be the path's (the stored and the running
/// copy are one API); a body without one gets it.
fn claim_id(document: &mut Value, id: &str) -> Result<(), ServiceError> {
    match definition::declared_id(document) {
        Some(body_id) if body_id != id => Err(ServiceError::invalid(
            definition::id_path(document),
            format!("`{body_id}` does not match the API in the path, {id}"),
        )),
        Some(_) => Ok(()),
        None => {
            definition::set_id(document, id);
            Ok(())
        }
    }
}

/// `state` of a started API.
const STARTED: &str = "STARTED";
/// `state` of a stopped API.
const STOPPED: &str = "STOPPED";

/// Sets the `state` of a definition document (plain or in the export form).
fn set_state(document: &mut Value, state: &str) {
    if let Value::Object(fields) = definition::inner_mut(document) {
        fields.insert("state".into(), Value::String(state.into()));
    }
}

/// The plans of a definition document as a list: beside the definition in the export form, else in it (made when
/// absent; a map of plans by id becomes the list of its plans, each with its id).
fn plans_of(document: &mut Value) -> &mut Vec<Value> {
    let exported = definition::is_export(document);
    let holder = if exported { document } else { definition::inner_mut(document) };
    let listed = definition::listed_plans(holder.get_mut("plans").map(Value::take));
    holder["plans"] = Value::Array(listed);
    holder["plans"].as_array_mut().expect("an array was just put there")
}

/// Why a definition was not deployed, for the catalog.
fn reasons(error: &DeployError) -> Vec<String> {
    match error {
        DeployError::Invalid(errors) => errors.iter().map(ToString::to_string).collect(),
        DeployError::NotRunnable { reasons, .. } => reasons.clone(),
    }
}

fn into_service_error(error: DeployError) -> ServiceError {
    match error {
        DeployError::Invalid(errors) => ServiceError::Invalid(errors),
        DeployError::NotRunnable { api_id, reasons } => ServiceError::NotDeployable { api_id, reasons },
    }
}

/// The `*.json` files of `folder`, in name order, each read as JSON or with why not.
pub fn definition_files(folder: &Path) -> Vec<(String, Result<Value, String>)> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        tracing::info!(dir = %folder.display(), "no definitions folder; no API deployed from files");
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let read = std::fs::read_to_string(&path)
                .map_err(|error| error.to_string())
                .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()));
            (path.display().to_string(), read)
        })
        .collect()
}

/// Puts the secrets of `current` back where `document` sends the mask; a mask standing for nothing is refused.
fn restore_secrets(document: &mut Value, current: &Value) -> Result<(), ServiceError> {
    let prefix = if definition::is_export(document) { "api" } else { "" };
    SecretFields::api()
        .restore(definition::inner_mut(document), definition::inner(current))
        .map_err(|paths| ServiceError::masks_without_value(prefix, paths))
}
