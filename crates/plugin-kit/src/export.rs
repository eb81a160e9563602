//! The export glue every plugin library needs.

/// Exports the plugin's root module.
///
/// `manifest` is a `fn() -> Manifest`; `instantiate` is a `fn() -> Result<PluginInstance, String>` called once the
/// log bridge is installed. A panic in `instantiate` becomes an error the host reports, never an abort.
///
/// The plugin crate must depend on `abi_stable` (the export attribute expands to paths in it).
#[macro_export]
macro_rules! export_plugin {
    (manifest: $manifest:path, instantiate: $instantiate:path $(,)?) => {
        #[::abi_stable::export_root_module]
        pub fn gateway_plugin_root_module() -> $crate::api::PluginModRef {
            use ::abi_stable::prefix_type::PrefixTypeTrait;

            extern "C" fn exported_manifest() -> $crate::api::Manifest {
                $manifest()
            }

            extern "C" fn exported_instantiate(
                services: $crate::api::HostServices,
            ) -> ::abi_stable::std_types::RResult<$crate::api::PluginInstance, ::abi_stable::std_types::RString> {
                $crate::install_log_bridge(services);
                match $crate::catch_panic($instantiate) {
                    Ok(Ok(instance)) => ::abi_stable::std_types::RResult::ROk(instance),
                    Ok(Err(error)) | Err(error) => ::abi_stable::std_types::RResult::RErr(error.into()),
                }
            }

            $crate::api::PluginMod { manifest: exported_manifest, instantiate: exported_instantiate }.leak_into_prefix()
        }
    };
}
