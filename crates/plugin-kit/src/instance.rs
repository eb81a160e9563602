//! Wrapping a connector into the instance the host receives.

use plugin_api::abi_stable::sabi_trait::TD_Opaque;
use plugin_api::abi_stable::std_types::ROption;
use plugin_api::{PluginInstance, RawEndpoint, RawEndpoint_TO, RawEntrypoint, RawEntrypoint_TO};

/// The instance of an entrypoint connector.
pub fn entrypoint_instance(connector: impl RawEntrypoint + 'static) -> PluginInstance {
    PluginInstance {
        entrypoint: ROption::RSome(RawEntrypoint_TO::from_value(connector, TD_Opaque)),
        endpoint: ROption::RNone,
    }
}

/// The instance of an endpoint connector.
pub fn endpoint_instance(connector: impl RawEndpoint + 'static) -> PluginInstance {
    PluginInstance {
        entrypoint: ROption::RNone,
        endpoint: ROption::RSome(RawEndpoint_TO::from_value(connector, TD_Opaque)),
    }
}
