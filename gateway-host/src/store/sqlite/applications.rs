//! The `applications` table: applications created on the reference product's paths (they hold no secret).

use rusqlite::params;
use serde_json::Value;

use super::SqliteStore;
use crate::store::StoreError;

pub(super) const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS applications (id TEXT PRIMARY KEY, document TEXT NOT NULL);";

impl SqliteStore {
    /// Keeps application `id`.
    pub(super) fn put_application(&self, id: &str, application: &Value) -> Result<(), StoreError> {
        self.connection().execute(
            "INSERT INTO applications (id, document) VALUES (?1, ?2) \
             ON CONFLICT(id) DO UPDATE SET document = excluded.document",
            params![id, application.to_string()],
        )?;
        Ok(())
    }

    /// Every kept application, by id.
    pub(super) fn applications(&self) -> Result<Vec<Value>, StoreError> {
        let connection = self.connection();
        let mut statement = connection.prepare("SELECT document FROM applications ORDER BY id")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|row| Ok(serde_json::from_str(&row?)?)).collect()
    }
}
