//! The `subscriptions` table.

use definition::{ConsumerStatus, Subscription, SubscriptionStatus};
use rusqlite::{params, Connection, OptionalExtension};
use secrets::{Sealer, SecretFields};
use serde::Deserialize;

use super::{Store, StoreError};

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, api_id TEXT NOT NULL, document TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_by_api ON subscriptions (api_id);";

impl Store {
    /// Keeps `subscription`, replacing what was kept under its id.
    pub fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        write_subscription(&self.connection(), &self.sealer, subscription)
    }

    /// The subscription `id`.
    pub fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        read_subscription(&self.connection(), &self.sealer, id)
    }

    /// Reads, edits and keeps the subscription `id` as one step: no other write lands between the read and the
    /// write. `edit` gets the record (`None` when there is none) and says what it found and whether it changed the
    /// record; a changed record is kept. Returns the record as it then stands, with what `edit` found.
    pub fn edit_subscription<T>(
        &self,
        id: &str,
        edit: impl FnOnce(Option<&mut Subscription>) -> (T, bool),
    ) -> Result<(Option<Subscription>, T), StoreError> {
        let connection = self.connection();
        let mut subscription = read_subscription(&connection, &self.sealer, id)?;
        let (found, changed) = edit(subscription.as_mut());
        if let (Some(subscription), true) = (&subscription, changed) {
            write_subscription(&connection, &self.sealer, subscription)?;
        }
        Ok((subscription, found))
    }

    /// The subscriptions of `api_id`, or of every API, in creation order.
    pub fn subscriptions(&self, api_id: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        self.documents(api_id)?.iter().map(|document| opened(document, &self.sealer)).collect()
    }

    /// Every subscription's status, read without opening its secrets (a metrics scrape needs no more).
    pub fn subscription_statuses(&self) -> Result<Vec<StatusRow>, StoreError> {
        self.documents(None)?.iter().map(|document| Ok(serde_json::from_str(document)?)).collect()
    }

    fn documents(&self, api_id: Option<&str>) -> Result<Vec<String>, StoreError> {
        let connection = self.connection();
        let mut statement =
            connection.prepare("SELECT document FROM subscriptions WHERE ?1 IS NULL OR api_id = ?1 ORDER BY rowid")?;
        let rows = statement.query_map(params![api_id], |row| row.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets the subscription `id`.
    pub fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.connection().execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
        Ok(())
    }
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

fn read_subscription(connection: &Connection, sealer: &Sealer, id: &str) -> Result<Option<Subscription>, StoreError> {
    let document: Option<String> = connection
        .query_row("SELECT document FROM subscriptions WHERE id = ?1", params![id], |row| row.get(0))
        .optional()?;
    document.map(|document| opened(&document, sealer)).transpose()
}

fn write_subscription(connection: &Connection, sealer: &Sealer, subscription: &Subscription) -> Result<(), StoreError> {
    let mut sealed = subscription.clone();
    SecretFields::subscription().seal(&mut sealed.consumer_configuration.entrypoint_configuration, sealer);
    connection.execute(
        "INSERT INTO subscriptions (id, api_id, document) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET api_id = excluded.api_id, document = excluded.document",
        params![subscription.id, subscription.api_id, serde_json::to_string(&sealed)?],
    )?;
    Ok(())
}

/// A stored subscription, its secrets opened.
fn opened(document: &str, sealer: &Sealer) -> Result<Subscription, StoreError> {
    let mut subscription: Subscription = serde_json::from_str(document)?;
    SecretFields::subscription().open(&mut subscription.consumer_configuration.entrypoint_configuration, sealer)?;
    Ok(subscription)
}
