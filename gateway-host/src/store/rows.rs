//! What the store keeps and answers besides whole documents: webhook log rows, their filters, subscription statuses.

use definition::{ConsumerStatus, SubscriptionStatus};
use serde::Deserialize;

/// One entry to keep: the columns filters use, and the entry's JSON as the plugin wrote it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRow {
    /// The delivery's request id.
    pub request_id: String,
    /// The API.
    pub api_id: String,
    /// The subscribing application.
    pub application_id: String,
    /// The callback.
    pub callback_url: String,
    /// The last call's status, 0 without answer.
    pub status: u16,
    /// When the first call started (ms since the epoch).
    pub request_timestamp: i64,
    /// The whole entry.
    #[serde(skip)]
    pub document: String,
}

impl LogRow {
    /// The row of an entry as the plugin wrote it (JSON).
    pub fn parse(document: String) -> Result<Self, serde_json::Error> {
        let row: Self = serde_json::from_str(&document)?;
        Ok(Self { document, ..row })
    }
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// The API.
    pub api_id: String,
    /// Response statuses (0 for no answer); any when empty.
    pub statuses: Vec<u16>,
    /// Callback URLs; any when empty.
    pub callback_urls: Vec<String>,
    /// Applications; any when empty.
    pub application_ids: Vec<String>,
    /// From this time (ms since the epoch), included.
    pub from: Option<i64>,
    /// To this time (ms since the epoch), included.
    pub to: Option<i64>,
    /// Page number, from 1.
    pub page: u32,
    /// Entries per page.
    pub per_page: u32,
}

/// A subscription's id, API and statuses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    /// The subscription.
    pub id: String,
    /// Its API.
    pub api_id: String,
    /// Whether it is active.
    pub status: SubscriptionStatus,
    /// Whether its delivery runs.
    pub consumer_status: ConsumerStatus,
}
