//! Loading one plugin file: ABI check, manifest, compatibility matrix, instantiation.

use std::path::Path;

use abi_stable::library::{lib_header_from_path, LibraryError};
use plugin_api::{PluginKind, PluginModRef};

use super::compatibility::CompatibilityMatrix;
use super::connector::{take, EndpointPlugin, EntrypointPlugin};
use super::registry::{Connector, LoadedPlugin, Manifest};
use super::services::PluginServices;

/// Why a file was refused, with whatever of its identity could be read.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) id: Option<String>,
    pub(super) version: Option<String>,
    pub(super) reason: String,
}

/// Longest reason kept from the ABI checker, whose reports can run to pages.
const MAX_REASON_CHARS: usize = 400;

/// Loads `path` and instantiates its connector with `services`, unless the ABI, the matrix or the id (`is_taken`) refuse it.
pub(super) fn load(
    path: &Path,
    matrix: &CompatibilityMatrix,
    is_taken: impl Fn(&str) -> bool,
    services: &PluginServices,
) -> Result<LoadedPlugin, Refusal> {
    let unknown = |reason: String| Refusal { id: None, version: None, reason };
    let header = lib_header_from_path(path)
        .map_err(|error| unknown(format!("not a loadable plugin library: {}", short(&error))))?;
    let module = header.init_root_module::<PluginModRef>().map_err(|error| unknown(abi_reason(&error)))?;
    let manifest = Manifest::from_raw((module.manifest())());
    let refuse =
        |reason: String| Refusal { id: Some(manifest.id.clone()), version: Some(manifest.version.clone()), reason };
    matrix.check(&manifest.version).map_err(refuse)?;
    if is_taken(&manifest.id) {
        return Err(refuse(format!("another file already provides plugin `{}`", manifest.id)));
    }
    let instance = (module.instantiate())(services.for_plugin(&manifest.id, &manifest.version))
        .into_result()
        .map_err(|error| refuse(format!("instantiation failed: {error}")))?;
    let connector = match manifest.kind {
        PluginKind::EntrypointConnector => {
            take(instance.entrypoint, "entrypoint").map(|raw| Connector::Entrypoint(EntrypointPlugin::new(raw)))
        }
        PluginKind::EndpointConnector => {
            take(instance.endpoint, "endpoint").map(|raw| Connector::Endpoint(EndpointPlugin::new(raw)))
        }
    }
    .map_err(refuse)?;
    Ok(LoadedPlugin { manifest, file: path.to_path_buf(), connector })
}

fn abi_reason(error: &LibraryError) -> String {
    match error {
        LibraryError::AbiInstability(_) => {
            tracing::debug!(report = %error, "ABI checker report");
            format!(
                "ABI mismatch: the plugin's root module has another layout than plugin interface {} (built against a changed interface)",
                plugin_api::INTERFACE_VERSION
            )
        }
        LibraryError::IncompatibleVersionNumber { .. } => {
            format!("ABI mismatch: built against an incompatible plugin interface: {}", short(error))
        }
        other => format!("not a loadable plugin library: {}", short(other)),
    }
}

/// An error on one line, bounded.
fn short(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(MAX_REASON_CHARS).collect()
}
