//! The `subscriptions` table.

use definition::Subscription;
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, api_id TEXT NOT NULL, document TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_by_api ON subscriptions (api_id);";

impl Store {
    /// Keeps `subscription`, replacing what was kept under its id.
    pub fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.connection().execute(
            "INSERT INTO subscriptions (id, api_id, document) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET api_id = excluded.api_id, document = excluded.document",
            params![subscription.id, subscription.api_id, serde_json::to_string(subscription)?],
        )?;
        Ok(())
    }

    /// The subscription `id`.
    pub fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let document: Option<String> = self
            .connection()
            .query_row("SELECT document FROM subscriptions WHERE id = ?1", params![id], |row| row.get(0))
            .optional()?;
        Ok(document.map(|document| serde_json::from_str(&document)).transpose()?)
    }

    /// The subscriptions of `api_id`, or of every API, in creation order.
    pub fn subscriptions(&self, api_id: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        let connection = self.connection();
        let mut statement =
            connection.prepare("SELECT document FROM subscriptions WHERE ?1 IS NULL OR api_id = ?1 ORDER BY rowid")?;
        let rows = statement.query_map(params![api_id], |row| row.get::<_, String>(0))?;
        rows.map(|document| Ok(serde_json::from_str(&document?)?)).collect()
    }

    /// Forgets the subscription `id`.
    pub fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.connection().execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
        Ok(())
    }
}
