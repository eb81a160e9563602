//! The cluster's store: Kafka topics shared by every node, no other database.
//!
//! APIs and subscriptions (with their statuses) are records of the compacted topic `<prefix>.config`, keyed
//! `api/<id>` and `subscription/<id>`, tombstones for deletions, secrets sealed as in the embedded store. Every node
//! follows the topic into its [`replica`] and reads from it; it reads the topic to its end before it serves. A write
//! is produced, then answered once this node has applied it (a node reads its own writes); an edit names the version
//! it was made from and is made again when another node's edit of that version came first; every change applied is
//! told to the node's dispatcher ([`Store::changes`]), whichever node made it.
//!
//! Webhook log entries go to `<prefix>.webhook-logs` (deleted after the retention); every node follows that topic
//! into an index of its own (a SQLite file at `store.path`), so that any node answers for every node's deliveries.

mod client;
mod follower;
mod producer;
mod replica;
mod topics;

pub use client::base_config;
pub use topics::Topics;

use std::sync::Arc;
use std::time::Duration;

use definition::Subscription;
use kafka_client::KafkaContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use secrets::Sealer;
use serde_json::Value;
use tokio::sync::broadcast;

use super::{sealed, Change, LogFilter, LogRow, SqliteStore, StatusRow, Store, StoreError};
use follower::{Follower, Record};
use producer::Producer;
use replica::{Kept, Replica, API, APPLICATION, CHECK, SUBSCRIPTION};

/// How long a write waits to be read back.
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(20);
/// How long reading the configuration topic to its end may take at start.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(120);
/// How many times an edit is made again on a record another node changed meanwhile.
const EDIT_ATTEMPTS: usize = 10;
/// How long asking the brokers for offsets and partitions may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The store of a cluster of gateways.
pub struct KafkaStore {
    topics: Topics,
    producer: Producer,
    replica: Arc<Replica>,
    sealer: Sealer,
    /// This node's index of every node's webhook log entries.
    index: Arc<SqliteStore>,
    /// The followers of the configuration and webhook log topics (stopped with the store).
    _followers: [Follower; 2],
}

impl KafkaStore {
    /// Looks its topics up (creating those absent), reads the configuration to its end, checks the key, and follows both topics.
    /// `index` is this node's webhook log index; entries older than `log_retention` leave the topic.
    pub async fn open(
        config: ClientConfig,
        topics: Topics,
        sealer: Sealer,
        index: SqliteStore,
        log_retention: Duration,
    ) -> Result<Self, StoreError> {
        topics::ensure(&config, &topics, log_retention).await?;
        tokio::task::spawn_blocking(move || Self::connect(&config, topics, sealer, index))
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?
    }

    fn connect(config: &ClientConfig, topics: Topics, sealer: Sealer, index: SqliteStore) -> Result<Self, StoreError> {
        let producer = Producer::new(config)?;
        let replica = Arc::new(Replica::new());
        let filling = Arc::clone(&replica);
        let config_follower = Follower::start(config, &topics.config, 1, move |records: Vec<Record>| {
            for record in records {
                filling.apply(&record.key, record.value, record.offset, record.base);
            }
        })?;
        let (end, log_partitions) = ends(config, &topics)?;
        if end > 0 {
            replica.wait_for(end - 1, CATCH_UP_TIMEOUT)?;
        }
        tracing::info!(topic = %topics.config, records = end, "store read to its end");
        // The topic holds every entry: the index is made again from it (its follower reads it from the beginning).
        index.clear_webhook_logs()?;
        let index = Arc::new(index);
        let indexing = Arc::clone(&index);
        let log_follower = Follower::start(config, &topics.webhook_logs, log_partitions, move |records| {
            let rows: Vec<LogRow> =
                records.into_iter().filter_map(|record| LogRow::parse(record.value?).ok()).collect();
            if let Err(error) = indexing.insert_webhook_logs(&rows) {
                tracing::error!(error = %error, "webhook log entries not indexed");
            }
        })?;
        let store = Self { topics, producer, replica, sealer, index, _followers: [config_follower, log_follower] };
        store.check_key()?;
        Ok(store)
    }

    /// Refuses a key that does not open the cluster's check value; the first node writes it.
    fn check_key(&self) -> Result<(), StoreError> {
        let check = self.replica.tables().check.clone();
        match check {
            Some(check) if sealed::is_check(&check, &self.sealer) => Ok(()),
            Some(_) => Err(StoreError::WrongKey),
            None => self.write(CHECK, Some(&self.sealer.seal(sealed::CHECK)), None).map(|_| ()),
        }
    }

    /// Produces one record of the configuration topic and waits until this node has applied it; returns its
    /// offset. Blocking.
    fn write(&self, key: &str, value: Option<&str>, base: Option<i64>) -> Result<i64, StoreError> {
        let offset = self.producer.write(&self.topics.config, key, value, base)?;
        self.replica.wait_for(offset, READ_BACK_TIMEOUT)?;
        Ok(offset)
    }

    /// The subscription `id` as applied, and the offset of its record (-1: none).
    fn kept_subscription(&self, id: &str) -> Result<(Option<Subscription>, i64), StoreError> {
        let kept = self.replica.tables().subscriptions.get(id).cloned();
        match kept {
            Some(kept) => Ok((Some(sealed::opened_subscription(&kept.document, &self.sealer)?), kept.offset)),
            None => Ok((None, -1)),
        }
    }
}

/// The end of the configuration topic, and how many partitions the webhook log topic has. Blocking.
fn ends(config: &ClientConfig, topics: &Topics) -> Result<(i64, i32), StoreError> {
    let mut config = config.clone();
    config.set("group.id", format!("unused.{}", topics.prefix));
    let consumer: BaseConsumer<KafkaContext> = config
        .create_with_context(KafkaContext::labelled("store metadata"))
        .map_err(|error| StoreError::Kafka(format!("cannot create a consumer: {error}")))?;
    let (_, end) = consumer
        .fetch_watermarks(&topics.config, 0, METADATA_TIMEOUT)
        .map_err(|error| StoreError::Kafka(format!("cannot read the end of {}: {error}", topics.config)))?;
    let metadata = consumer
        .fetch_metadata(Some(&topics.webhook_logs), METADATA_TIMEOUT)
        .map_err(|error| StoreError::Kafka(format!("cannot read {}: {error}", topics.webhook_logs)))?;
    let partitions = metadata.topics().first().map_or(0, |topic| topic.partitions().len());
    Ok((end, i32::try_from(partitions).unwrap_or(i32::MAX).max(1)))
}

impl Store for KafkaStore {
    fn put_api(&self, id: &str, document: &Value) -> Result<(), StoreError> {
        self.write(&format!("{API}{id}"), Some(&sealed::api(document, &self.sealer)), None).map(|_| ())
    }

    fn delete_api(&self, id: &str) -> Result<(), StoreError> {
        self.write(&format!("{API}{id}"), None, None).map(|_| ())
    }

    fn apis(&self) -> Result<Vec<(String, Value)>, StoreError> {
        let kept: Vec<(String, String)> =
            self.replica.tables().apis.iter().map(|(id, document)| (id.clone(), document.clone())).collect();
        kept.into_iter().map(|(id, document)| Ok((id, sealed::opened_api(&document, &self.sealer)?))).collect()
    }

    fn put_application(&self, id: &str, application: &Value) -> Result<(), StoreError> {
        self.write(&format!("{APPLICATION}{id}"), Some(&application.to_string()), None).map(|_| ())
    }

    fn applications(&self) -> Result<Vec<Value>, StoreError> {
        let kept: Vec<String> = self.replica.tables().applications.values().cloned().collect();
        kept.iter().map(|document| Ok(serde_json::from_str(document)?)).collect()
    }

    fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        let document = sealed::subscription(subscription, &self.sealer)?;
        self.write(&format!("{SUBSCRIPTION}{}", subscription.id), Some(&document), None).map(|_| ())
    }

    fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(self.kept_subscription(id)?.0)
    }

    fn edit_subscription(
        &self,
        id: &str,
        edit: &mut dyn FnMut(Option<&mut Subscription>) -> bool,
    ) -> Result<Option<Subscription>, StoreError> {
        // The record names the version it was edited from; another write of that version first (of another node, or
        // of this one: writes of this node are not serialised, so that none waits on the brokers for another) makes
        // it void (the replica skips it), and the edit is made again on what that write left.
        for _ in 0..EDIT_ATTEMPTS {
            let (mut subscription, version) = self.kept_subscription(id)?;
            let changed = edit(subscription.as_mut());
            let Some(edited) = subscription.as_ref().filter(|_| changed) else {
                return Ok(subscription);
            };
            let document = sealed::subscription(edited, &self.sealer)?;
            let offset = self.write(&format!("{SUBSCRIPTION}{id}"), Some(&document), Some(version))?;
            if self.replica.tables().subscriptions.get(id).is_some_and(|kept| kept.offset == offset) {
                return Ok(subscription);
            }
            tracing::debug!(subscription = %id, "changed on another node meanwhile; editing again");
        }
        Err(StoreError::Kafka(format!("subscription {id} kept changing on other nodes; try again")))
    }

    fn subscriptions(&self, api_id: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        let mut kept: Vec<Kept> = self.replica.tables().subscriptions.values().cloned().collect();
        kept.sort_by_key(|kept| kept.order);
        let mut subscriptions = Vec::with_capacity(kept.len());
        for kept in kept {
            let subscription = sealed::opened_subscription(&kept.document, &self.sealer)?;
            if api_id.is_none_or(|api_id| subscription.api_id == api_id) {
                subscriptions.push(subscription);
            }
        }
        Ok(subscriptions)
    }

    fn subscription_statuses(&self) -> Result<Vec<StatusRow>, StoreError> {
        let kept: Vec<String> =
            self.replica.tables().subscriptions.values().map(|kept| kept.document.clone()).collect();
        kept.iter().map(|document| Ok(serde_json::from_str(document)?)).collect()
    }

    fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.write(&format!("{SUBSCRIPTION}{id}"), None, None).map(|_| ())
    }

    fn insert_webhook_logs(&self, entries: &[LogRow]) -> Result<(), StoreError> {
        let topic = &self.topics.webhook_logs;
        let sent: Vec<_> = entries
            .iter()
            .map(|entry| self.producer.send(topic, &entry.request_id, Some(&entry.document), None))
            .collect::<Result<_, _>>()?;
        for answered in sent {
            Producer::answer(topic, answered)?;
        }
        Ok(())
    }

    fn webhook_logs(&self, filter: &LogFilter) -> Result<(Vec<Value>, u64), StoreError> {
        self.index.webhook_logs(filter)
    }

    fn webhook_log(&self, api_id: &str, request_id: &str) -> Result<Option<Value>, StoreError> {
        self.index.webhook_log(api_id, request_id)
    }

    fn trim_webhook_logs(&self, oldest: i64, keep: u64) -> Result<usize, StoreError> {
        self.index.trim_webhook_logs(oldest, keep)
    }

    fn changes(&self) -> Option<broadcast::Receiver<Change>> {
        Some(self.replica.subscribe())
    }
}
