//! The store's Kafka clients: their settings (brokers and security from `[store]`), their logs, and the topics they
//! create when absent.

use std::time::Duration;

use kafka_client::KafkaContext;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::config::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::StoreSection;
use crate::store::StoreError;

/// How long creating the topics may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The store's topics, named from `store.topic_prefix`.
#[derive(Debug, Clone)]
pub struct Topics {
    /// APIs and subscriptions, keyed by id (compacted).
    pub config: String,
    /// Webhook log entries (deleted after the retention).
    pub webhook_logs: String,
    /// Where nodes share the subscriptions only one of them may run (its partitions are the shares).
    pub work: String,
    /// The prefix, for consumer groups.
    pub prefix: String,
}

impl Topics {
    /// The topics of `prefix`.
    pub fn named(prefix: &str) -> Self {
        Self {
            config: format!("{prefix}.config"),
            webhook_logs: format!("{prefix}.webhook-logs"),
            work: format!("{prefix}.work"),
            prefix: prefix.to_string(),
        }
    }
}

/// How many partitions the webhook log topic has (entries of one node spread over them).
pub const WEBHOOK_LOG_PARTITIONS: i32 = 6;
/// How many shares the work topic has: the unit in which unshareable subscriptions move between nodes.
pub const WORK_SHARES: i32 = 12;

/// The settings every client of the store starts from: brokers and security. The values may hold the SASL
/// password: they go to librdkafka and nowhere else.
pub fn base_config(store: &StoreSection) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", store.bootstrap_servers.trim());
    config.set("security.protocol", store.security_protocol.trim());
    if store.security_protocol.to_ascii_lowercase().starts_with("sasl") {
        config
            .set("sasl.mechanism", store.sasl_mechanism.trim())
            .set("sasl.username", &store.sasl_username)
            .set("sasl.password", &store.sasl_password);
    }
    if !store.ssl_ca_location.trim().is_empty() {
        config.set("ssl.ca.location", store.ssl_ca_location.trim());
    }
    config
}

/// Creates the store's topics that do not exist yet: the configuration topic compacted with one partition (one
/// order for every change), the webhook logs deleted after `log_retention`, the work topic with [`WORK_SHARES`].
pub async fn create_topics(config: &ClientConfig, topics: &Topics, log_retention: Duration) -> Result<(), StoreError> {
    let admin: AdminClient<KafkaContext> = config
        .create_with_context(KafkaContext::labelled("store admin"))
        .map_err(|error| StoreError::Kafka(format!("cannot create the admin client: {error}")))?;
    let retention = log_retention.as_millis().to_string();
    let wanted = [
        NewTopic::new(&topics.config, 1, TopicReplication::Fixed(-1)).set("cleanup.policy", "compact"),
        NewTopic::new(&topics.webhook_logs, WEBHOOK_LOG_PARTITIONS, TopicReplication::Fixed(-1))
            .set("cleanup.policy", "delete")
            .set("retention.ms", &retention),
        NewTopic::new(&topics.work, WORK_SHARES, TopicReplication::Fixed(-1)),
    ];
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT)).request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .create_topics(&wanted, &options)
        .await
        .map_err(|error| StoreError::Kafka(format!("cannot create the store's topics: {error}")))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(topic = %topic, "store topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(StoreError::Kafka(format!("cannot create the topic {topic}: {code}"))),
        }
    }
    Ok(())
}
