//! The gateway's store: APIs, subscriptions (with their statuses), applications and webhook logs. The host depends on the
//! [`Store`] interface only; [`SqliteStore`] (one embedded file, one gateway) and [`KafkaStore`] (topics shared by
//! the nodes of a cluster) implement it side by side.
//!
//! Operations block: async callers go through [`call`](trait.Store.html#method.call), which runs them on the
//! blocking pool.

pub mod kafka;
mod rows;
mod sealed;
mod sqlite;

pub use kafka::KafkaStore;
pub use rows::{LogFilter, LogRow, StatusRow};
pub use sqlite::SqliteStore;

use std::sync::Arc;

use definition::Subscription;
use secrets::SealError;
use serde_json::Value;
use tokio::sync::broadcast;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored document could not be read back.
    #[error("stored document is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// A block of webhook log entries could not be read back.
    #[error("a webhook log block is damaged: {0}")]
    DamagedBlock(String),
    /// The database's folder could not be created.
    #[error("cannot create the store folder: {0}")]
    Folder(#[from] std::io::Error),
    /// The blocking task running the statement did not finish (the runtime is shutting down).
    #[error("store task failed: {0}")]
    Task(String),
    /// A sealed secret does not open with the store's key.
    #[error("a secret of the store cannot be opened: {0}")]
    Sealed(#[from] SealError),
    /// The Kafka store's brokers failed or refused.
    #[error("kafka store: {0}")]
    Kafka(String),
    /// The key given is not the one the store's secrets were sealed with.
    #[error(
        "store.encryption_key (GATEWAY_STORE_ENCRYPTION_KEY, or the store.key file beside the store) is not the key \
         this store's secrets were encrypted with; start with that key (nothing was changed)"
    )]
    WrongKey,
}

/// Where APIs, subscriptions and webhook logs are kept. Secret fields are sealed at rest by the implementation and
/// come back opened.
pub trait Store: Send + Sync {
    /// Keeps the definition of `id`.
    fn put_api(&self, id: &str, document: &Value) -> Result<(), StoreError>;
    /// Forgets the definition of `id`.
    fn delete_api(&self, id: &str) -> Result<(), StoreError>;
    /// Every kept definition, by id.
    fn apis(&self) -> Result<Vec<(String, Value)>, StoreError>;
    /// Keeps application `id` (the reference product's shape, created on its paths).
    fn put_application(&self, id: &str, application: &Value) -> Result<(), StoreError>;
    /// Every kept application, by id.
    fn applications(&self) -> Result<Vec<Value>, StoreError>;
    /// Keeps `subscription`, replacing what was kept under its id.
    fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError>;
    /// The subscription `id`.
    fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError>;
    /// Reads, edits and keeps the subscription `id` as one step: no other write lands between the read and the
    /// write. `edit` gets the record (`None` when there is none) and says whether it changed it; a changed record is
    /// kept. A store shared by several gateways calls `edit` again on the record another gateway wrote meanwhile.
    /// Returns the record as it then stands.
    fn edit_subscription(
        &self,
        id: &str,
        edit: &mut dyn FnMut(Option<&mut Subscription>) -> bool,
    ) -> Result<Option<Subscription>, StoreError>;
    /// The subscriptions of `api_id`, or of every API, in creation order.
    fn subscriptions(&self, api_id: Option<&str>) -> Result<Vec<Subscription>, StoreError>;
    /// Every subscription's status, read without opening its secrets.
    fn subscription_statuses(&self) -> Result<Vec<StatusRow>, StoreError>;
    /// Forgets the subscription `id`.
    fn delete_subscription(&self, id: &str) -> Result<(), StoreError>;
    /// Keeps webhook log entries, in one step.
    fn insert_webhook_logs(&self, entries: &[LogRow]) -> Result<(), StoreError>;
    /// The entries `filter` selects, newest first, one page of them, and how many it selects in all.
    fn webhook_logs(&self, filter: &LogFilter) -> Result<(Vec<Value>, u64), StoreError>;
    /// The entry `request_id` of `api_id`.
    fn webhook_log(&self, api_id: &str, request_id: &str) -> Result<Option<Value>, StoreError>;
    /// Drops entries older than `oldest` (ms since the epoch) and all but the newest `keep`; returns how many.
    fn trim_webhook_logs(&self, oldest: i64, keep: u64) -> Result<usize, StoreError>;
    /// Every change of an API or a subscription as this node applies it, whichever node made it; `None` when this
    /// gateway is the only writer (nothing changes behind its back).
    fn changes(&self) -> Option<broadcast::Receiver<Change>> {
        None
    }
}

/// A change in a store shared by several gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The API of this id was put or deleted.
    Api(String),
    /// The subscription of this id was put or deleted.
    Subscription(String),
}

impl dyn Store {
    /// Runs `work` on the blocking pool: the way async code reaches the store.
    pub async fn call<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?
    }
}
