//! The `subscriptions` table.

use definition::Subscription;
use rusqlite::{params, Connection, OptionalExtension};
use secrets::Sealer;

use super::SqliteStore;
use crate::store::{sealed, StatusRow, StoreError};

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, api_id TEXT NOT NULL, document TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_by_api ON subscriptions (api_id);";

impl SqliteStore {
    /// Keeps `subscription`, replacing what was kept under its id.
    pub(super) fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        write_subscription(&self.connection(), &self.sealer, subscription)
    }

    /// The subscription `id`.
    pub(super) fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        read_subscription(&self.connection(), &self.sealer, id)
    }

    /// See [`Store::edit_subscription`](crate::store::Store::edit_subscription): one connection, held throughout.
    pub(super) fn edit_subscription(
        &self,
        id: &str,
        edit: &mut dyn FnMut(Option<&mut Subscription>) -> bool,
    ) -> Result<Option<Subscription>, StoreError> {
        let connection = self.connection();
        let mut subscription = read_subscription(&connection, &self.sealer, id)?;
        let changed = edit(subscription.as_mut());
        if let (Some(subscription), true) = (&subscription, changed) {
            write_subscription(&connection, &self.sealer, subscription)?;
        }
        Ok(subscription)
    }

    /// The subscriptions of `api_id`, or of every API, in creation order.
    pub(super) fn subscriptions(&self, api_id: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        self.documents(api_id)?.iter().map(|document| sealed::opened_subscription(document, &self.sealer)).collect()
    }

    /// Every subscription's status, read without opening its secrets (a metrics scrape needs no more).
    pub(super) fn subscription_statuses(&self) -> Result<Vec<StatusRow>, StoreError> {
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
    pub(super) fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.connection().execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
        Ok(())
    }
}

fn read_subscription(connection: &Connection, sealer: &Sealer, id: &str) -> Result<Option<Subscription>, StoreError> {
    let document: Option<String> = connection
        .query_row("SELECT document FROM subscriptions WHERE id = ?1", params![id], |row| row.get(0))
        .optional()?;
    document.map(|document| sealed::opened_subscription(&document, sealer)).transpose()
}

fn write_subscription(connection: &Connection, sealer: &Sealer, subscription: &Subscription) -> Result<(), StoreError> {
    connection.execute(
        "INSERT INTO subscriptions (id, api_id, document) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET api_id = excluded.api_id, document = excluded.document",
        params![subscription.id, subscription.api_id, sealed::subscription(subscription, sealer)?],
    )?;
    Ok(())
}
