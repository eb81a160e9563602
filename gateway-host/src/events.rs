//! What happens to the gateway that an operator is told of: typed events with stable codes, raised where the
//! lifecycle changes and sent as operational webhooks (`notifications`).

use serde_json::{json, Value};

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A subscription stopped on a failure (its consumer is `FAILURE`).
    SubscriptionFailed {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
        /// Its `failureCause`.
        cause: String,
    },
    /// A message could not be handed to the dead letter queue; the subscription stopped on it.
    DeadLetterUnpublishable {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
        /// What the queue answered.
        cause: String,
    },
    /// The operator paused a subscription.
    SubscriptionPaused {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
    },
    /// The operator resumed a subscription, paused (`PAUSED`) or failed (`FAILURE`).
    SubscriptionResumed {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
        /// `PAUSED` or `FAILURE`.
        from: &'static str,
    },
    /// The operator closed a subscription.
    SubscriptionClosed {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
    },
    /// A replay of dead letters delivered its last one.
    ReplayFinished {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
        /// The replay.
        replay_id: String,
        /// Dead letters delivered again.
        delivered: u64,
        /// ... and dead-lettered again.
        dead_lettered: u64,
    },
    /// A replay stopped on a failure.
    ReplayFailed {
        /// The API.
        api_id: String,
        /// The subscription.
        subscription_id: String,
        /// The replay.
        replay_id: String,
        /// Why.
        cause: String,
    },
    /// A plugin file was refused at start.
    PluginRefused {
        /// The file.
        file: String,
        /// Its plugin id, when it could be read.
        plugin_id: Option<String>,
        /// Its version, when it could be read.
        version: Option<String>,
        /// Why.
        reason: String,
    },
}

/// Every event type, as operators name them in `notifications.webhooks[].events`.
pub const EVENT_TYPES: [&str; 8] = [
    "subscription.failed",
    "subscription.paused",
    "subscription.resumed",
    "subscription.closed",
    "dead_letter.unpublishable",
    "replay.finished",
    "replay.failed",
    "plugin.refused",
];

impl Event {
    /// Its stable code (one of [`EVENT_TYPES`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SubscriptionFailed { .. } => EVENT_TYPES[0],
            Event::SubscriptionPaused { .. } => EVENT_TYPES[1],
            Event::SubscriptionResumed { .. } => EVENT_TYPES[2],
            Event::SubscriptionClosed { .. } => EVENT_TYPES[3],
            Event::DeadLetterUnpublishable { .. } => EVENT_TYPES[4],
            Event::ReplayFinished { .. } => EVENT_TYPES[5],
            Event::ReplayFailed { .. } => EVENT_TYPES[6],
            Event::PluginRefused { .. } => EVENT_TYPES[7],
        }
    }

    /// Its `data`: the API and subscription ids (when it concerns one) and the details.
    pub fn data(&self) -> Value {
        match self {
            Event::SubscriptionFailed { api_id, subscription_id, cause }
            | Event::DeadLetterUnpublishable { api_id, subscription_id, cause } => {
                json!({ "apiId": api_id, "subscriptionId": subscription_id, "cause": cause })
            }
            Event::SubscriptionPaused { api_id, subscription_id }
            | Event::SubscriptionClosed { api_id, subscription_id } => {
                json!({ "apiId": api_id, "subscriptionId": subscription_id })
            }
            Event::SubscriptionResumed { api_id, subscription_id, from } => {
                json!({ "apiId": api_id, "subscriptionId": subscription_id, "from": from })
            }
            Event::ReplayFinished { api_id, subscription_id, replay_id, delivered, dead_lettered } => json!({
                "apiId": api_id, "subscriptionId": subscription_id, "replayId": replay_id,
                "delivered": delivered, "deadLettered": dead_lettered
            }),
            Event::ReplayFailed { api_id, subscription_id, replay_id, cause } => json!({
                "apiId": api_id, "subscriptionId": subscription_id, "replayId": replay_id, "cause": cause
            }),
            Event::PluginRefused { file, plugin_id, version, reason } => {
                json!({ "file": file, "pluginId": plugin_id, "version": version, "reason": reason })
            }
        }
    }
}
