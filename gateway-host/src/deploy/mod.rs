//! Deploying API definitions: which plugin serves each part, which endpoint is the source, where the DLQ goes, and
//! what the gateway does not run (reported as warnings).

mod catalog;
mod plan;
mod service;
mod unserved;

pub use catalog::{ApiCatalog, ApiState, ApiView};
pub use plan::{plan, DeployError, DeployedApi, ServedEntrypoint};
pub use service::{definition_files, ApiService};
