//! What the gateway's services answer when an operation cannot be done.

use definition::FieldError;

use crate::store::StoreError;

/// Why an operation on APIs or subscriptions was not done.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such API or subscription.
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong; each error names its JSON path.
    #[error("{}", .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<FieldError>),
    /// The definition is valid but nothing of it can run here.
    #[error("API {api_id} cannot be deployed: {}", .reasons.join("; "))]
    NotDeployable {
        /// The API.
        api_id: String,
        /// Why, part by part.
        reasons: Vec<String>,
    },
    /// The operation does not fit the current state (closing a closed subscription, a duplicate id).
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// An invalid request with one error.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(path, message)])
    }

    /// Secrets sent as the mask where nothing is kept for them (their paths under `prefix`).
    pub fn masks_without_value(prefix: &str, paths: Vec<String>) -> Self {
        let message = format!("is the mask {}, but no value is kept for it: send the secret itself", secrets::MASK);
        Self::Invalid(
            paths.iter().map(|path| FieldError::new(plugin_api::join_path(prefix, path), message.clone())).collect(),
        )
    }
}
