//! What the host hands an entrypoint for one subscription (as JSON in `StartRequest::subscribe_phase`): the steps
//! its messages go through, resolved from the API's and the plan's flows, and the values of the variables that do
//! not depend on the message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The subscribe phase of one subscription.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SubscribePhase {
    /// The steps, in the order they run: the plan's flows', then the API's.
    #[serde(default)]
    pub steps: Vec<ResolvedStep>,
    /// What `#subscription`, `#api` and `#context` hold.
    #[serde(default)]
    pub variables: Variables,
}

impl SubscribePhase {
    /// The phase as JSON, for the boundary.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The phase from the boundary's JSON (empty text: no steps).
    pub fn from_json(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|error| format!("the subscribe phase is not readable: {error}"))
    }
}

/// One step to run on each message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedStep {
    /// Where it is written in the definition (`flows[0].subscribe[1]`), for errors and logs.
    pub path: String,
    /// The policy id.
    pub policy: String,
    /// The policy's configuration.
    #[serde(default)]
    pub configuration: Value,
    /// An expression that must hold on a message for the step to run on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_condition: Option<String>,
}

/// The values of the variables that do not depend on the message.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Variables {
    /// `#subscription.id`.
    pub subscription_id: String,
    /// `#subscription.metadata`.
    #[serde(default)]
    pub subscription_metadata: BTreeMap<String, String>,
    /// The subscribing application (`#subscription.applicationName`, `#context.attributes['application']`).
    #[serde(default)]
    pub application_id: String,
    /// The plan (`#context.attributes['plan']`), empty without one.
    #[serde(default)]
    pub plan_id: String,
    /// `#api.id`.
    pub api_id: String,
    /// `#api.name`.
    #[serde(default)]
    pub api_name: String,
}
