//! Flows as v4 definitions write them (API level and per plan): selectors that say when a flow runs, and its steps
//! per phase. What they mean at run time is the `flows` crate's business.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A flow: when it runs (`selectors`) and its steps per phase.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    /// Its name, for operators.
    #[serde(default)]
    pub name: Option<String>,
    /// A disabled flow is never run.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// What must hold for it to run; all of them.
    #[serde(default)]
    pub selectors: Vec<Selector>,
    /// Steps run once when a subscription starts, in the reference (not by this gateway).
    #[serde(default)]
    pub request: Vec<Step>,
    /// Steps run once when a subscription starts, in the reference (not by this gateway).
    #[serde(default)]
    pub response: Vec<Step>,
    /// Steps of the publish phase (never run for webhook subscriptions, as in the reference).
    #[serde(default)]
    pub publish: Vec<Step>,
    /// Steps run on each message delivered to a subscription.
    #[serde(default)]
    pub subscribe: Vec<Step>,
}

/// One policy of a flow.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Its name, for operators.
    #[serde(default)]
    pub name: Option<String>,
    /// A disabled step is never run.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The policy id (`message-filtering`, `transform-headers`, ...).
    pub policy: String,
    /// The policy's configuration, owned by the policy.
    #[serde(default)]
    pub configuration: Value,
    /// An expression that must hold for the step to run for a subscription.
    #[serde(default)]
    pub condition: Option<String>,
    /// An expression that must hold for the step to run on a message.
    #[serde(default)]
    pub message_condition: Option<String>,
}

/// A condition on a flow, by `type`: `channel`, `condition` (and `http`, `mcp`, which do not apply to messages).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// `channel`, `condition`, `http`, `mcp`, in any case.
    #[serde(rename = "type")]
    pub selector_type: String,
    /// `channel`: the channel pattern (`/` when absent); `/:name` segments match any value.
    #[serde(default)]
    pub channel: Option<String>,
    /// `channel`: `STARTS_WITH` (when absent) or `EQUALS`.
    #[serde(default)]
    pub channel_operator: Option<String>,
    /// `channel`: the operations it applies to (`subscribe`, `publish`); all when empty.
    #[serde(default)]
    pub operations: Vec<String>,
    /// `channel`: the entrypoints it applies to; all when empty.
    #[serde(default)]
    pub entrypoints: Vec<String>,
    /// `condition`: the expression.
    #[serde(default)]
    pub condition: Option<String>,
}

/// How an API's flows are chosen: `default` (every matching flow) or `best-match` (the best channel match of each
/// chain), and whether a request needs a flow.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct FlowExecution {
    /// `default` or `best-match` (also `DEFAULT`, `BEST_MATCH`).
    #[serde(default)]
    pub mode: Option<String>,
    /// When set, a subscription that no plan or API flow matches does not run.
    #[serde(default)]
    pub match_required: bool,
}

fn enabled_by_default() -> bool {
    true
}
