//! The v4 message API definition and the subscription, as the reference product writes them.
//!
//! Unknown fields are ignored so that exported definitions load unchanged; a field of the wrong shape is an error
//! that names its JSON path. What a definition means at run time (which plugin serves which part) is the host's
//! business, not this crate's.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod error;
mod flow;
pub mod pending;
mod qos;
mod sampling;
mod subscription;

pub use api::{
    declared_id, id_path, inner, inner_mut, is_export, listed_plans, set_id, unwrap_export, ApiDefinition, Dlq,
    Endpoint, EndpointGroup, Entrypoint, Listener, Plan,
};
pub use error::FieldError;
pub use flow::{Flow, FlowExecution, Selector, Step};
pub use sampling::Sampling;
pub use subscription::{
    ConsumerConfiguration, ConsumerStatus, NewSubscription, Subscription, SubscriptionStatus, SubscriptionUpdate,
};

/// Parses a JSON document into `T`; an error names its JSON path under `prefix`.
pub fn parse_json<T: serde::de::DeserializeOwned>(value: serde_json::Value, prefix: &str) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        FieldError::new(
            plugin_api::join_path(prefix, if path == "." { "" } else { &path }),
            error.into_inner().to_string(),
        )
    })
}
