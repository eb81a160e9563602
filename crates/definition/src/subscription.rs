//! Subscriptions: what a consumer sends, and what the gateway keeps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of a subscription creation.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSubscription {
    /// An id chosen by the caller (so that several gateways can run the same subscription); a UUID otherwise.
    #[serde(default)]
    pub id: Option<String>,
    /// The subscribing application.
    pub application_id: String,
    /// The push plan; not needed when the API has no push plan.
    #[serde(default)]
    pub plan_id: Option<String>,
    /// How the consumer wants to be called.
    pub consumer_configuration: ConsumerConfiguration,
    /// The caller's own key-value pairs, kept and shown as given.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// The body of a subscription update: every field optional, what is absent stays as it was.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionUpdate {
    /// The new consumer configuration.
    #[serde(default)]
    pub consumer_configuration: Option<ConsumerConfiguration>,
    /// The new metadata, replacing the old.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// How the consumer wants to be called.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConfiguration {
    /// The entrypoint plugin id (`webhook`, `webhook-advanced`).
    pub entrypoint_id: String,
    /// Channel, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The entrypoint's subscription configuration, owned and checked by the plugin.
    #[serde(default = "empty_object")]
    pub entrypoint_configuration: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// A subscription as the gateway keeps it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Subscription id (the Kafka consumer group).
    pub id: String,
    /// The API subscribed to.
    pub api_id: String,
    /// The subscribing application.
    pub application_id: String,
    /// The plan, when the API has push plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// How the consumer wants to be called.
    pub consumer_configuration: ConsumerConfiguration,
    /// Whether the subscription is active.
    pub status: SubscriptionStatus,
    /// Whether its delivery runs.
    pub consumer_status: ConsumerStatus,
    /// Why delivery stopped, when `consumer_status` is `FAILURE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_cause: Option<String>,
    /// The caller's own key-value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// When it was last paused, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// When it was closed, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

impl Subscription {
    /// Only accepted and started subscriptions deliver.
    pub fn should_run(&self) -> bool {
        self.status == SubscriptionStatus::Accepted && self.consumer_status == ConsumerStatus::Started
    }
}

/// Whether a subscription is active.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionStatus {
    /// Active.
    Accepted,
    /// Suspended by its owner; resumable.
    Paused,
    /// Ended for good.
    Closed,
}

/// Whether a subscription's delivery runs.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsumerStatus {
    /// Delivering.
    Started,
    /// Stopped by its owner.
    Stopped,
    /// Stopped by a delivery failure; see `failureCause`.
    Failure,
}
