//! The embedded database (SQLite): APIs and subscriptions survive a restart. One file per table.
//!
//! Every statement is a small keyed read or write on a local file, so callers run them in place rather than on a
//! blocking pool.

mod apis;
mod subscriptions;
mod webhook_logs;

pub use webhook_logs::{LogFilter, LogRow};

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored document could not be read back.
    #[error("stored document is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The database's folder could not be created.
    #[error("cannot create the store folder: {0}")]
    Folder(#[from] std::io::Error),
}

/// The gateway's database.
pub struct Store {
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the database at `path` and its tables.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.execute_batch(&[apis::SCHEMA, subscriptions::SCHEMA, webhook_logs::SCHEMA].concat())?;
        Ok(Self { connection: Mutex::new(connection) })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().expect("store lock")
    }
}
