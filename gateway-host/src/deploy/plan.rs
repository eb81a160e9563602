//! Turning a definition into a deployed API, or saying why it cannot be.

use std::sync::Arc;

use definition::{ApiDefinition, Entrypoint, FieldError};
use plugin_api::{join_path, Mode, PluginKind, Qos};
use serde_json::Value;

use super::unserved;
use crate::logs::Sampling;
use crate::plugins::{LoadedPlugin, PluginRegistry};

/// The listener type whose entrypoints push to subscribers.
const SUBSCRIPTION_LISTENER: &str = "subscription";
/// The manifest feature that allows `dlq`.
const DLQ_FEATURE: &str = "dlq";

/// An API the gateway runs.
pub struct DeployedApi {
    /// The definition.
    pub definition: ApiDefinition,
    /// The document as it was given, returned by the management API.
    pub document: Value,
    /// What is not run, for the operator.
    pub warnings: Vec<String>,
    /// The webhook entrypoints that serve subscriptions.
    pub entrypoints: Vec<ServedEntrypoint>,
    /// Where messages come from.
    pub source: ResolvedEndpoint,
    /// Which deliveries get a webhook log entry.
    pub sampling: Sampling,
}

/// An entrypoint with its plugin.
pub struct ServedEntrypoint {
    /// The entrypoint plugin.
    pub plugin: Arc<LoadedPlugin>,
    /// The delivery guarantee.
    pub qos: Qos,
    /// The API-level configuration.
    pub configuration: Value,
    /// The dead letter queue, when configured.
    pub dead_letter: Option<ResolvedEndpoint>,
}

/// An endpoint with its plugin and effective configuration.
#[derive(Clone)]
pub struct ResolvedEndpoint {
    /// The endpoint plugin.
    pub plugin: Arc<LoadedPlugin>,
    /// Endpoint name.
    pub name: String,
    /// The effective shared configuration (the group's, or the endpoint's override).
    pub shared: Value,
    /// The endpoint's configuration.
    pub configuration: Value,
    modes: Vec<Mode>,
    group: String,
}

/// Why a definition was not deployed.
#[derive(Debug)]
pub enum DeployError {
    /// The document is wrong; every error names its JSON path.
    Invalid(Vec<FieldError>),
    /// The document is fine but nothing of it can run here.
    NotRunnable {
        /// The API id.
        api_id: String,
        /// Why, part by part.
        reasons: Vec<String>,
    },
}

impl DeployedApi {
    /// The API id.
    pub fn id(&self) -> &str {
        &self.definition.id
    }

    /// The served entrypoint of plugin `id`.
    pub fn entrypoint(&self, id: &str) -> Option<&ServedEntrypoint> {
        self.entrypoints.iter().find(|entrypoint| entrypoint.plugin.manifest.id == id)
    }
}

impl ServedEntrypoint {
    /// The entrypoint plugin's id.
    pub fn id(&self) -> &str {
        &self.plugin.manifest.id
    }
}

/// Works out how `document` would run with the plugins of `registry`.
pub fn plan(document: Value, registry: &PluginRegistry) -> Result<DeployedApi, DeployError> {
    let definition = ApiDefinition::parse(document.clone()).map_err(DeployError::Invalid)?;
    let flows = flows::check(&definition, if definition::is_export(&document) { "api" } else { "" });
    let mut warnings = unserved::warnings(&definition);
    warnings.extend(flows.warnings);
    let mut planner = Planner { registry, errors: flows.errors, warnings, reasons: Vec::new() };
    let endpoints = planner.endpoints(&definition);
    let source = endpoints.iter().find(|endpoint| endpoint.modes.contains(&Mode::Subscribe)).cloned();
    if source.is_none() {
        planner.reasons.push("no endpoint group can be subscribed to".to_string());
    }
    let entrypoints = planner.entrypoints(&definition, &endpoints, source.as_ref());
    let sampling = Sampling::from_analytics(definition.analytics.as_ref()).map_err(|error| planner.errors.push(error));
    let Planner { errors, mut warnings, reasons, .. } = planner;
    if !errors.is_empty() {
        return Err(DeployError::Invalid(errors));
    }
    match source {
        Some(source) if !entrypoints.is_empty() => {
            warnings.extend(reasons);
            let sampling = sampling.unwrap_or(Sampling::ALL);
            Ok(DeployedApi { definition, document, warnings, entrypoints, source, sampling })
        }
        _ => {
            let mut reasons = reasons;
            if reasons.is_empty() {
                // Nothing failed, and nothing is served: the parts this gateway does not serve say why.
                reasons.push("no listener has an entrypoint this gateway serves".to_string());
                reasons.extend(warnings);
            }
            Err(DeployError::NotRunnable { api_id: definition.id, reasons })
        }
    }
}

struct Planner<'a> {
    registry: &'a PluginRegistry,
    errors: Vec<FieldError>,
    warnings: Vec<String>,
    /// What keeps parts from running: the reasons if nothing runs, warnings otherwise.
    reasons: Vec<String>,
}

impl Planner<'_> {
    fn plugin(&self, id: &str, kind: PluginKind) -> Result<&Arc<LoadedPlugin>, String> {
        match self.registry.get(id) {
            Some(plugin) if plugin.manifest.kind == kind => Ok(plugin),
            Some(_) => Err(format!("plugin `{id}` is not an {}", kind_words(kind))),
            None => Err(self.registry.why_missing(id)),
        }
    }

    /// Every endpoint whose plugin is loaded and whose configuration is valid, in definition order.
    fn endpoints(&mut self, api: &ApiDefinition) -> Vec<ResolvedEndpoint> {
        let mut resolved = Vec::new();
        for (group_index, group) in api.endpoint_groups.iter().enumerate() {
            for (index, endpoint) in group.endpoints.iter().enumerate() {
                let plugin = match self.plugin(&endpoint.endpoint_type, PluginKind::EndpointConnector) {
                    Ok(plugin) => Arc::clone(plugin),
                    Err(why) => {
                        self.reasons.push(format!(
                            "endpoint group {}: endpoint {}: {why}; not used",
                            group.name, endpoint.name
                        ));
                        continue;
                    }
                };
                let group_path = format!("endpointGroups[{group_index}]");
                let endpoint_path = format!("{group_path}.endpoints[{index}]");
                let (shared, shared_path) = if endpoint.inherit_configuration {
                    (group.shared_configuration.clone(), format!("{group_path}.sharedConfiguration"))
                } else {
                    (
                        endpoint.shared_configuration_override.clone(),
                        format!("{endpoint_path}.sharedConfigurationOverride"),
                    )
                };
                let shared = shared.unwrap_or_else(empty_object);
                let configuration = endpoint.configuration.clone().unwrap_or_else(empty_object);
                let connector = plugin.endpoint().expect("the plugin kind was checked");
                match connector.validate(&shared, &configuration) {
                    Ok(modes) => resolved.push(ResolvedEndpoint {
                        plugin,
                        name: endpoint.name.clone(),
                        shared,
                        configuration,
                        modes,
                        group: group.name.clone(),
                    }),
                    Err(errors) => self.errors.extend(errors.into_iter().map(|error| FieldError {
                        path: relocate(&error.path, &shared_path, &format!("{endpoint_path}.configuration")),
                        message: error.message,
                    })),
                }
            }
        }
        resolved
    }

    fn entrypoints(
        &mut self,
        api: &ApiDefinition,
        endpoints: &[ResolvedEndpoint],
        source: Option<&ResolvedEndpoint>,
    ) -> Vec<ServedEntrypoint> {
        let mut served: Vec<ServedEntrypoint> = Vec::new();
        for (listener_index, listener) in api.listeners.iter().enumerate() {
            let kind = &listener.listener_type;
            if !kind.eq_ignore_ascii_case(SUBSCRIPTION_LISTENER) {
                for entrypoint in &listener.entrypoints {
                    self.warnings.push(format!(
                        "listener {kind}: entrypoint {} has no plugin; not served",
                        entrypoint.entrypoint_type
                    ));
                }
                continue;
            }
            for (index, entrypoint) in listener.entrypoints.iter().enumerate() {
                let path = format!("listeners[{listener_index}].entrypoints[{index}]");
                if served.iter().any(|other| other.id() == entrypoint.entrypoint_type) {
                    self.errors.push(FieldError::new(format!("{path}.type"), "the same entrypoint is declared twice"));
                    continue;
                }
                if let Some(entry) = self.entrypoint(&path, entrypoint, endpoints, source) {
                    served.push(entry);
                }
            }
        }
        served
    }

    fn entrypoint(
        &mut self,
        path: &str,
        entrypoint: &Entrypoint,
        endpoints: &[ResolvedEndpoint],
        source: Option<&ResolvedEndpoint>,
    ) -> Option<ServedEntrypoint> {
        let kind = &entrypoint.entrypoint_type;
        let plugin = match self.plugin(kind, PluginKind::EntrypointConnector) {
            Ok(plugin) => Arc::clone(plugin),
            Err(why) => {
                self.reasons.push(format!("listener subscription: entrypoint {kind}: {why}; not served"));
                return None;
            }
        };
        let qos = entrypoint.effective_qos();
        let mut errors = Vec::new();
        if !plugin.supports(qos) {
            errors.push(FieldError::new(
                format!("{path}.qos"),
                format!("entrypoint `{kind}` does not support QoS {}", qos.as_str()),
            ));
        }
        if let Some(source) = source.filter(|source| !source.plugin.supports(qos)) {
            errors.push(FieldError::new(
                format!("{path}.qos"),
                format!(
                    "source endpoint `{}` ({}) does not support QoS {}",
                    source.name,
                    source.plugin.manifest.id,
                    qos.as_str()
                ),
            ));
        }
        let configuration = entrypoint.configuration.clone().unwrap_or_else(empty_object);
        let dlq = entrypoint.dlq.as_ref().map(|dlq| dlq.endpoint.as_str());
        let connector = plugin.entrypoint().expect("the plugin kind was checked");
        match connector.validate_api(&configuration, qos, dlq) {
            Ok(warnings) => self.warnings.extend(warnings.into_iter().map(|warning| format!("{path}: {warning}"))),
            Err(plugin_errors) => errors.extend(
                plugin_errors
                    .into_iter()
                    .map(|error| FieldError { path: join_path(path, &error.path), message: error.message }),
            ),
        }
        let dead_letter = match (errors.is_empty(), dlq) {
            (true, Some(target)) => match dead_letter(&plugin, target, endpoints) {
                Ok(endpoint) => Some(endpoint),
                Err(message) => {
                    errors.push(FieldError::new(format!("{path}.dlq.endpoint"), message));
                    None
                }
            },
            _ => None,
        };
        if !errors.is_empty() {
            self.errors.extend(errors);
            return None;
        }
        Some(ServedEntrypoint { plugin, qos, configuration, dead_letter })
    }
}

/// Resolves `dlq.endpoint`: an endpoint of that name first, else the first endpoint of a group of that name; it must
/// publish.
fn dead_letter(
    plugin: &LoadedPlugin,
    target: &str,
    endpoints: &[ResolvedEndpoint],
) -> Result<ResolvedEndpoint, String> {
    if !plugin.manifest.features.iter().any(|feature| feature == DLQ_FEATURE) {
        return Err(format!("entrypoint `{}` has no `{DLQ_FEATURE}` feature", plugin.manifest.id));
    }
    let endpoint = endpoints
        .iter()
        .find(|endpoint| endpoint.name == target)
        .or_else(|| endpoints.iter().find(|endpoint| endpoint.group == target))
        .ok_or_else(|| format!("dead letter queue target `{target}`: no endpoint or endpoint group of that name"))?;
    if endpoint.modes.contains(&Mode::Publish) {
        Ok(endpoint.clone())
    } else {
        Err(format!("dead letter queue target `{target}` does not support PUBLISH"))
    }
}

/// Maps an endpoint plugin's error path onto the definition.
fn relocate(path: &str, shared_path: &str, configuration_path: &str) -> String {
    if let Some(rest) = path.strip_prefix("sharedConfiguration") {
        format!("{shared_path}{rest}")
    } else if let Some(rest) = path.strip_prefix("configuration") {
        format!("{configuration_path}{rest}")
    } else {
        join_path(configuration_path, path)
    }
}

fn kind_words(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::EntrypointConnector => "entrypoint connector",
        PluginKind::EndpointConnector => "endpoint connector",
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}
