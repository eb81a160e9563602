//! Building a plugin's manifest.

use plugin_api::{abi_stable::std_types::RString, Manifest, Mode, PluginKind, Qos, INTERFACE_VERSION};

/// A manifest stamped with the interface version this kit was built against.
pub fn manifest(
    id: &str,
    name: &str,
    version: &str,
    kind: PluginKind,
    modes: &[Mode],
    qos: &[Qos],
    features: &[&str],
) -> Manifest {
    Manifest {
        id: id.into(),
        name: name.into(),
        version: version.into(),
        kind,
        modes: modes.to_vec().into(),
        qos: qos.to_vec().into(),
        features: features.iter().map(|feature| RString::from(*feature)).collect(),
        interface_version: INTERFACE_VERSION.into(),
    }
}
