//! The plugins of this host, by identifier, and the record of every file seen.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plugin_api::{Mode, PluginKind, Qos};
use serde::Serialize;

use super::compatibility::CompatibilityMatrix;
use super::connector::{EndpointPlugin, EntrypointPlugin};
use super::loader::{load, Refusal};
use super::services::PluginServices;

/// A plugin's manifest, in host types.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Semver version.
    pub version: String,
    /// Entrypoint or endpoint connector.
    pub kind: PluginKind,
    /// Supported modes.
    pub modes: Vec<Mode>,
    /// Supported QoS.
    pub qos: Vec<Qos>,
    /// Features (`dlq`).
    pub features: Vec<String>,
}

impl Manifest {
    pub(super) fn from_raw(raw: plugin_api::Manifest) -> Self {
        Self {
            id: raw.id.into(),
            name: raw.name.into(),
            version: raw.version.into(),
            kind: raw.kind,
            modes: raw.modes.into_vec(),
            qos: raw.qos.into_vec(),
            features: raw.features.into_iter().map(String::from).collect(),
        }
    }
}

/// A loaded plugin.
pub struct LoadedPlugin {
    /// What it says about itself.
    pub manifest: Manifest,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// Its connector.
    pub connector: Connector,
}

/// The connector a plugin provides.
pub enum Connector {
    /// An entrypoint connector.
    Entrypoint(EntrypointPlugin),
    /// An endpoint connector.
    Endpoint(EndpointPlugin),
}

impl LoadedPlugin {
    /// The entrypoint connector, if that is what it is.
    pub fn entrypoint(&self) -> Option<&EntrypointPlugin> {
        match &self.connector {
            Connector::Entrypoint(entrypoint) => Some(entrypoint),
            Connector::Endpoint(_) => None,
        }
    }

    /// The endpoint connector, if that is what it is.
    pub fn endpoint(&self) -> Option<&EndpointPlugin> {
        match &self.connector {
            Connector::Endpoint(endpoint) => Some(endpoint),
            Connector::Entrypoint(_) => None,
        }
    }

    /// Whether it supports `qos`.
    pub fn supports(&self, qos: Qos) -> bool {
        self.manifest.qos.contains(&qos)
    }
}

/// Whether a file was loaded.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PluginStatus {
    /// Loaded and serving.
    Loaded,
    /// Refused; see `reason`.
    Refused,
}

/// What `GET /_node/plugins` shows of one file.
#[derive(Debug, Clone, Serialize)]
pub struct PluginRecord {
    /// The file.
    pub file: String,
    /// Plugin id, when it could be read.
    pub id: Option<String>,
    /// Plugin name, when it could be read.
    pub name: Option<String>,
    /// Plugin version, when it could be read.
    pub version: Option<String>,
    /// `entrypoint-connector` or `endpoint-connector`, when it could be read.
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    /// Loaded or refused.
    pub status: PluginStatus,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Supported modes (`SUBSCRIBE`, `PUBLISH`).
    pub modes: Vec<&'static str>,
    /// Supported QoS.
    pub qos: Vec<&'static str>,
    /// Features (`dlq`).
    pub features: Vec<String>,
}

/// The plugins of this host.
pub struct PluginRegistry {
    plugins: HashMap<String, Arc<LoadedPlugin>>,
    records: Vec<PluginRecord>,
}

impl PluginRegistry {
    /// Loads every plugin library of `dir`, in file name order, handing each the host's `services`. A missing
    /// folder gives an empty registry.
    pub fn load_dir(dir: &Path, matrix: &CompatibilityMatrix, services: &PluginServices) -> Self {
        let mut registry = Self { plugins: HashMap::new(), records: Vec::new() };
        for path in library_files(dir) {
            match load(&path, matrix, |id| registry.plugins.contains_key(id), services) {
                Ok(plugin) => registry.add(plugin),
                Err(refusal) => registry.refuse(&path, refusal),
            }
        }
        registry
    }

    fn add(&mut self, plugin: LoadedPlugin) {
        let manifest = &plugin.manifest;
        tracing::info!(file = %plugin.file.display(), plugin = %manifest.id, version = %manifest.version, "plugin loaded");
        self.records.push(PluginRecord {
            file: plugin.file.display().to_string(),
            id: Some(manifest.id.clone()),
            name: Some(manifest.name.clone()),
            version: Some(manifest.version.clone()),
            kind: Some(kind_name(manifest.kind)),
            status: PluginStatus::Loaded,
            reason: None,
            modes: manifest.modes.iter().map(|mode| mode_name(*mode)).collect(),
            qos: manifest.qos.iter().map(|qos| qos.as_str()).collect(),
            features: manifest.features.clone(),
        });
        self.plugins.insert(manifest.id.clone(), Arc::new(plugin));
    }

    fn refuse(&mut self, path: &Path, refusal: Refusal) {
        let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "unknown".into());
        tracing::error!(
            file = %path.display(),
            plugin = %shown(&refusal.id),
            version = %shown(&refusal.version),
            reason = %refusal.reason,
            "plugin refused"
        );
        self.records.push(PluginRecord {
            file: path.display().to_string(),
            id: refusal.id,
            name: None,
            version: refusal.version,
            kind: None,
            status: PluginStatus::Refused,
            reason: Some(refusal.reason),
            modes: Vec::new(),
            qos: Vec::new(),
            features: Vec::new(),
        });
    }

    /// The loaded plugin `id`.
    pub fn get(&self, id: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.get(id)
    }

    /// Why no plugin `id` is loaded: refused (with the reason) or absent.
    pub fn why_missing(&self, id: &str) -> String {
        match self.records.iter().find(|record| record.id.as_deref() == Some(id)) {
            Some(record) => {
                format!("plugin `{id}` was refused: {}", record.reason.as_deref().unwrap_or("unknown reason"))
            }
            None => format!("no plugin `{id}` is installed"),
        }
    }

    /// Every file seen, loaded or refused.
    pub fn records(&self) -> &[PluginRecord] {
        &self.records
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Subscribe => "SUBSCRIBE",
        Mode::Publish => "PUBLISH",
    }
}

fn kind_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::EntrypointConnector => "entrypoint-connector",
        PluginKind::EndpointConnector => "endpoint-connector",
    }
}

/// Files of `dir` with this platform's library extension, sorted by name.
fn library_files(dir: &Path) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(dir = %dir.display(), error = %error, "plugins folder unreadable; no plugin loaded");
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == std::env::consts::DLL_EXTENSION))
        .collect();
    files.sort();
    files
}
