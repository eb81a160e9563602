//! The export glue every plugin library needs.

/// Exports the plugin's root module with its manifest.
///
/// ```ignore
/// plugin_kit::export_plugin! {
///     id: "kafka", name: "Kafka", kind: EndpointConnector,
///     modes: [Subscribe, Publish], qos: Qos::ALL, features: [],
///     instantiate: endpoint::KafkaEndpoint::instance,
/// }
/// ```
///
/// The version is the plugin crate's own (`CARGO_PKG_VERSION`). `instantiate` is a
/// `fn(&EgressSettings) -> Result<PluginInstance, String>` (the operator's egress settings, for plugins that call
/// addresses consumers chose), called once the log bridge and the tracer are installed; a panic in it becomes an error
/// the host reports, never an abort. The plugin crate must depend on `abi_stable` (the export attribute expands to
/// paths in it).
#[macro_export]
macro_rules! export_plugin {
    (
        id: $id:expr,
        name: $name:expr,
        kind: $kind:ident,
        modes: [$($mode:ident),* $(,)?],
        qos: $qos:expr,
        features: [$($feature:expr),* $(,)?],
        instantiate: $instantiate:path $(,)?
    ) => {
        #[::abi_stable::export_root_module]
        pub fn gateway_plugin_root_module() -> $crate::api::PluginModRef {
            use ::abi_stable::prefix_type::PrefixTypeTrait;

            extern "C" fn exported_manifest() -> $crate::api::Manifest {
                $crate::manifest(
                    $id,
                    $name,
                    env!("CARGO_PKG_VERSION"),
                    $crate::api::PluginKind::$kind,
                    &[$($crate::api::Mode::$mode),*],
                    &$qos,
                    &[$($feature),*],
                )
            }

            extern "C" fn exported_instantiate(
                services: $crate::api::HostServices,
            ) -> ::abi_stable::std_types::RResult<$crate::api::PluginInstance, ::abi_stable::std_types::RString> {
                let $crate::api::HostServices { log_sink, max_log_level, egress, traces, span_sink } = services;
                $crate::install_log_bridge(log_sink, max_log_level);
                $crate::traces::install_tracer(traces, span_sink);
                match $crate::catch_panic(|| $instantiate(&egress)) {
                    Ok(Ok(instance)) => ::abi_stable::std_types::RResult::ROk(instance),
                    Ok(Err(error)) | Err(error) => ::abi_stable::std_types::RResult::RErr(error.into()),
                }
            }

            $crate::api::PluginMod { manifest: exported_manifest, instantiate: exported_instantiate }.leak_into_prefix()
        }
    };
}
