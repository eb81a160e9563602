//! The `apis` table: definitions deployed through the management API or the definitions folder.

use rusqlite::params;
use serde_json::Value;

use super::SqliteStore;
use crate::store::{sealed, StoreError};

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS apis (id TEXT PRIMARY KEY, document TEXT NOT NULL);";

impl SqliteStore {
    /// Keeps the definition of `id`, its secrets sealed.
    pub(super) fn put_api(&self, id: &str, document: &Value) -> Result<(), StoreError> {
        self.connection().execute(
            "INSERT INTO apis (id, document) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET document = excluded.document",
            params![id, sealed::api(document, &self.sealer)],
        )?;
        Ok(())
    }

    /// Forgets the definition of `id`.
    pub(super) fn delete_api(&self, id: &str) -> Result<(), StoreError> {
        self.connection().execute("DELETE FROM apis WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Every kept definition, by id.
    pub(super) fn apis(&self) -> Result<Vec<(String, Value)>, StoreError> {
        let connection = self.connection();
        let mut statement = connection.prepare("SELECT id, document FROM apis ORDER BY id")?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (id, document) = row?;
            Ok((id, sealed::opened_api(&document, &self.sealer)?))
        })
        .collect()
    }
}
