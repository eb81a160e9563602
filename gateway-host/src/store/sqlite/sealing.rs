//! The store's key: checked at open against a value sealed with it the first time, when the store's documents
//! written before sealing existed are sealed too.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::sealed::{self, CHECK};
use crate::store::StoreError;

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS sealing (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

impl SqliteStore {
    /// Refuses a key that does not open the check value; on a store without one, seals the documents it holds
    /// and keeps the check value.
    pub(super) fn check_key(&self) -> Result<(), StoreError> {
        let check: Option<String> = self
            .connection()
            .query_row("SELECT value FROM sealing WHERE name = 'check'", [], |row| row.get(0))
            .optional()?;
        match check {
            Some(check) if sealed::is_check(&check, &self.sealer) => Ok(()),
            Some(_) => Err(StoreError::WrongKey),
            None => {
                // Reading opens nothing (nothing is sealed yet); writing back seals.
                for subscription in self.subscriptions(None)? {
                    self.put_subscription(&subscription)?;
                }
                for (id, document) in self.apis()? {
                    self.put_api(&id, &document)?;
                }
                self.connection().execute(
                    "INSERT INTO sealing (name, value) VALUES ('check', ?1)",
                    params![self.sealer.seal(CHECK)],
                )?;
                Ok(())
            }
        }
    }
}
