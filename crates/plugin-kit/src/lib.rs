//! Helpers for plugin authors.
//!
//! A plugin built with this kit owns a small tokio runtime (the host's runtime context does not cross the boundary),
//! forwards its `tracing` events to the host through the log bridge, turns panics into error values instead of
//! aborting the host, and exports its root module with [`export_plugin!`].
#![warn(missing_docs)]

mod clock;
mod config;
pub mod dead_letters;
mod export;
mod guard;
mod instance;
mod log_bridge;
mod manifest;
mod runtime;
mod settled;
pub mod traces;

pub use plugin_api as api;

pub use clock::now_ms;
pub use config::{parse_config, prefix_errors};
pub use guard::{catch_panic, panic_message};
pub use instance::{endpoint_instance, entrypoint_instance};
pub use log_bridge::install_log_bridge;
pub use manifest::manifest;
pub use runtime::{spawn_ffi, PluginRuntime};
pub use settled::SettledPrefix;
