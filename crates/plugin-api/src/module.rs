//! The root module every plugin library exports.

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RString, RVec},
    StableAbi,
};

use crate::{LogLevel, LogSinkBox, Manifest, RawEndpoint_TO, RawEntrypoint_TO, SpanSinkBox, TraceSettings};
use abi_stable::std_types::RBox;

/// Version of this interface crate; the loader refuses a plugin built against an incompatible one.
pub const INTERFACE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the host hands to a plugin when it instantiates it.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostServices {
    /// Where the plugin's log events go.
    pub log_sink: LogSinkBox,
    /// The most detailed level the host will print; the plugin may drop anything finer.
    pub max_log_level: LogLevel,
    /// What the operator lets plugins that call out for consumers reach.
    pub egress: EgressSettings,
    /// Whether and how much plugins trace.
    pub traces: TraceSettings,
    /// Where the plugin's finished spans go, a batch at a time.
    pub span_sink: SpanSinkBox,
}

/// The operator's `[egress]` settings, for plugins that call addresses consumers chose.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct EgressSettings {
    /// Networks (CIDR, or single addresses) callbacks may reach besides public addresses.
    pub allow_networks: RVec<RString>,
    /// The folder under which subscriptions may name files; none: they may name none.
    pub subscription_files_dir: ROption<RString>,
}

/// A plugin's connector: exactly one of the two is set, as the manifest's kind says.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginInstance {
    /// Set by entrypoint connectors.
    pub entrypoint: ROption<RawEntrypoint_TO<'static, RBox<()>>>,
    /// Set by endpoint connectors.
    pub endpoint: ROption<RawEndpoint_TO<'static, RBox<()>>>,
}

/// The root module of a plugin library.
///
/// Growing it: new fields go after `instantiate`, each new one becomes the `last_prefix_field`, and the crate's
/// minor version goes up; removing or changing a field is a major version.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// Says who the plugin is; cheap, called before anything else.
    pub manifest: extern "C" fn() -> Manifest,

    /// Creates the plugin's connector. Called once per process.
    #[sabi(last_prefix_field)]
    pub instantiate: extern "C" fn(HostServices) -> RResult<PluginInstance, RString>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "gateway_plugin";
    const NAME: &'static str = "gateway_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
