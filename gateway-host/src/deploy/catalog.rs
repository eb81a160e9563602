//! The APIs of this gateway: the deployed ones, and those refused with their reasons.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use serde_json::Value;

use super::plan::DeployedApi;
use crate::plugins::EndpointPlugin;

/// Deployed and refused APIs by id.
#[derive(Default)]
pub struct ApiCatalog {
    inner: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    deployed: HashMap<String, Arc<DeployedApi>>,
    refused: HashMap<String, Refused>,
}

struct Refused {
    document: Value,
    reasons: Vec<String>,
}

/// Whether an API runs.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApiState {
    /// It serves subscriptions.
    Deployed,
    /// Nothing of it can run here; see `reasons`.
    NotDeployed,
}

/// What the management API shows of an API.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiView {
    /// API id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Deployed or not.
    pub state: ApiState,
    /// What is not run.
    pub warnings: Vec<String>,
    /// Why it is not deployed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The definition as given.
    pub definition: Value,
}

impl ApiCatalog {
    /// Adds or replaces a deployed API.
    pub fn deploy(&self, api: DeployedApi) -> Arc<DeployedApi> {
        let api = Arc::new(api);
        let mut entries = self.inner.write().expect("catalog lock");
        entries.refused.remove(api.id());
        entries.deployed.insert(api.id().to_string(), Arc::clone(&api));
        api
    }

    /// Records an API that could not be deployed, so that the management API can say why.
    pub fn refuse(&self, id: &str, document: Value, reasons: Vec<String>) {
        let mut entries = self.inner.write().expect("catalog lock");
        entries.deployed.remove(id);
        entries.refused.insert(id.to_string(), Refused { document, reasons });
    }

    /// The deployed API `id`.
    pub fn get(&self, id: &str) -> Option<Arc<DeployedApi>> {
        self.inner.read().expect("catalog lock").deployed.get(id).cloned()
    }

    /// What the endpoint plugin of deployed API `id`'s source answers to `ask` (a subscription's lag, its trouble);
    /// `None` when the API is not deployed here.
    pub fn ask_source<T>(&self, id: &str, ask: impl FnOnce(&EndpointPlugin) -> T) -> Option<T> {
        self.get(id)?.source.plugin.endpoint().map(ask)
    }

    /// Whether `id` is known, deployed or not.
    pub fn contains(&self, id: &str) -> bool {
        let entries = self.inner.read().expect("catalog lock");
        entries.deployed.contains_key(id) || entries.refused.contains_key(id)
    }

    /// The ids of every API, deployed or not.
    pub fn ids(&self) -> Vec<String> {
        let entries = self.inner.read().expect("catalog lock");
        entries.deployed.keys().chain(entries.refused.keys()).cloned().collect()
    }

    /// Forgets `id`.
    pub fn remove(&self, id: &str) {
        let mut entries = self.inner.write().expect("catalog lock");
        entries.deployed.remove(id);
        entries.refused.remove(id);
    }

    /// How many APIs are deployed.
    pub fn deployed_count(&self) -> usize {
        self.inner.read().expect("catalog lock").deployed.len()
    }

    /// The view of `id`.
    pub fn view(&self, id: &str) -> Option<ApiView> {
        let entries = self.inner.read().expect("catalog lock");
        if let Some(api) = entries.deployed.get(id) {
            return Some(deployed_view(api));
        }
        entries.refused.get(id).map(|refused| refused_view(id, refused))
    }

    /// Every API, by id.
    pub fn views(&self) -> Vec<ApiView> {
        let entries = self.inner.read().expect("catalog lock");
        let mut views: Vec<ApiView> = entries
            .deployed
            .values()
            .map(|api| deployed_view(api))
            .chain(entries.refused.iter().map(|(id, refused)| refused_view(id, refused)))
            .collect();
        views.sort_by(|a, b| a.id.cmp(&b.id));
        views
    }
}

fn deployed_view(api: &DeployedApi) -> ApiView {
    ApiView {
        id: api.id().to_string(),
        name: api.definition.name.clone(),
        state: ApiState::Deployed,
        warnings: api.warnings.clone(),
        reasons: Vec::new(),
        definition: api.document.clone(),
    }
}

fn refused_view(id: &str, refused: &Refused) -> ApiView {
    ApiView {
        id: id.to_string(),
        name: refused.document.get("name").and_then(Value::as_str).unwrap_or(id).to_string(),
        state: ApiState::NotDeployed,
        warnings: Vec::new(),
        reasons: refused.reasons.clone(),
        definition: refused.document.clone(),
    }
}
