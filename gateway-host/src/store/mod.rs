//! The embedded database (SQLite): APIs and subscriptions survive a restart. One file per table.
//!
//! Secret fields ([`secrets::SecretFields`]) are kept sealed with the store's key: sealed on every write, opened on
//! every read. A check value sealed once with the key tells, at open, whether the key given is the store's.
//!
//! Statements block: async callers go through [`Store::call`], which runs them on the blocking pool. The webhook
//! log writer has a connection of its own, so that its batches never hold up the management API or a lifecycle
//! change.

mod apis;
mod sealing;
mod subscriptions;
mod webhook_logs;

pub use subscriptions::StatusRow;
pub use webhook_logs::{LogFilter, LogRow};

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;
use secrets::{SealError, Sealer};

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
    /// The blocking task running the statement did not finish (the runtime is shutting down).
    #[error("store task failed: {0}")]
    Task(String),
    /// A sealed secret does not open with the store's key.
    #[error("a secret of the store cannot be opened: {0}")]
    Sealed(#[from] SealError),
    /// The key given is not the one the store's secrets were sealed with.
    #[error(
        "store.encryption_key (GATEWAY_STORE_ENCRYPTION_KEY, or the store.key file beside the store) is not the key \
         this store's secrets were encrypted with; start with that key (nothing was changed)"
    )]
    WrongKey,
}

/// How long a statement waits for the other connection's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The gateway's database.
pub struct Store {
    /// APIs and subscriptions.
    connection: Mutex<Connection>,
    /// Webhook logs: written in batches by the writer, read by the log queries.
    logs: Mutex<Connection>,
    /// Seals and opens secret fields.
    sealer: Sealer,
}

impl Store {
    /// Opens (or creates) the database at `path` and its tables, its secrets sealed with `sealer`'s key; a key
    /// that is not the store's is refused ([`StoreError::WrongKey`]).
    pub fn open(path: &Path, sealer: Sealer) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let connection = open_connection(path)?;
        connection
            .execute_batch(&[apis::SCHEMA, subscriptions::SCHEMA, webhook_logs::SCHEMA, sealing::SCHEMA].concat())?;
        let logs = open_connection(path)?;
        let store = Self { connection: Mutex::new(connection), logs: Mutex::new(logs), sealer };
        store.check_key()?;
        Ok(store)
    }

    /// Runs `work` on the blocking pool: the way async code reaches the store.
    pub async fn call<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&store)).await.map_err(|error| StoreError::Task(error.to_string()))?
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
