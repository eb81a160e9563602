//! Plugin loading: every library of the plugins folder, checked for its ABI and against the compatibility matrix,
//! kept in a registry by identifier. A refused file is reported and skipped; the others keep working.

mod compatibility;
mod connector;
mod loader;
mod registry;
mod services;

pub use compatibility::CompatibilityMatrix;
pub use connector::{Ended, EndpointPlugin, OpenFailure, Publisher, RunningSubscription, Source, StartSpec};
pub use registry::{LoadedPlugin, PluginRegistry, PluginStatus};
pub use services::PluginServices;
