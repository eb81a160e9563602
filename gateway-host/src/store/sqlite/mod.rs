//! The embedded store (SQLite): APIs and subscriptions survive a restart. One file per table.
//!
//! Secret fields ([`secrets::SecretFields`]) are kept sealed with the store's key: sealed on every write, opened on
//! every read. A check value sealed once with the key tells, at open, whether the key given is the store's.
//!
//! The webhook log writer has a connection of its own, so that its batches never hold up the management API or a
//! lifecycle change.

mod apis;
mod applications;
mod log_block;
mod sealing;
mod subscriptions;
mod webhook_logs;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use definition::Subscription;
use rusqlite::Connection;
use secrets::Sealer;
use serde_json::Value;

use super::{LogFilter, LogRow, StatusRow, Store, StoreError};

/// How long a statement waits for the other connection's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded store: one SQLite file.
pub struct SqliteStore {
    /// APIs and subscriptions.
    connection: Mutex<Connection>,
    /// Webhook logs: written in batches by the writer, read by the log queries.
    logs: Mutex<Connection>,
    /// Seals and opens secret fields.
    sealer: Sealer,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and its tables, its secrets sealed with `sealer`'s key; a key
    /// that is not the store's is refused ([`StoreError::WrongKey`]).
    pub fn open(path: &Path, sealer: Sealer) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let connection = open_connection(path)?;
        connection.execute_batch(
            &[apis::SCHEMA, applications::SCHEMA, subscriptions::SCHEMA, webhook_logs::SCHEMA, sealing::SCHEMA]
                .concat(),
        )?;
        let mut logs = open_connection(path)?;
        webhook_logs::migrate_rows(&mut logs)?;
        let store = Self { connection: Mutex::new(connection), logs: Mutex::new(logs), sealer };
        store.check_key()?;
        Ok(store)
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().expect("store lock")
    }

    fn logs_connection(&self) -> MutexGuard<'_, Connection> {
        self.logs.lock().expect("webhook logs store lock")
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    Ok(connection)
}

impl Store for SqliteStore {
    fn put_api(&self, id: &str, document: &Value) -> Result<(), StoreError> {
        self.put_api(id, document)
    }

    fn delete_api(&self, id: &str) -> Result<(), StoreError> {
        self.delete_api(id)
    }

    fn apis(&self) -> Result<Vec<(String, Value)>, StoreError> {
        self.apis()
    }

    fn put_application(&self, id: &str, application: &Value) -> Result<(), StoreError> {
        self.put_application(id, application)
    }

    fn applications(&self) -> Result<Vec<Value>, StoreError> {
        self.applications()
    }

    fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.put_subscription(subscription)
    }

    fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        self.subscription(id)
    }

    fn edit_subscription(
        &self,
        id: &str,
        edit: &mut dyn FnMut(Option<&mut Subscription>) -> bool,
    ) -> Result<Option<Subscription>, StoreError> {
        self.edit_subscription(id, edit)
    }

    fn subscriptions(&self, api_id: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        self.subscriptions(api_id)
    }

    fn subscription_statuses(&self) -> Result<Vec<StatusRow>, StoreError> {
        self.subscription_statuses()
    }

    fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.delete_subscription(id)
    }

    fn insert_webhook_logs(&self, entries: &[LogRow]) -> Result<(), StoreError> {
        self.insert_webhook_logs(entries)
    }

    fn webhook_logs(&self, filter: &LogFilter) -> Result<(Vec<Value>, u64), StoreError> {
        self.webhook_logs(filter)
    }

    fn webhook_log(&self, api_id: &str, request_id: &str) -> Result<Option<Value>, StoreError> {
        self.webhook_log(api_id, request_id)
    }

    fn trim_webhook_logs(&self, oldest: i64, keep: u64) -> Result<usize, StoreError> {
        self.trim_webhook_logs(oldest, keep)
    }
}
