//! The store's topics: named from the prefix, looked up at start, checked where they exist, created only where
//! absent. A cluster where the gateway may not create topics (ACLs, managed Kafka keys) or whose brokers serve no
//! CreateTopics starts on topics created beforehand; when one is missing there, the node stops with an error naming
//! each missing topic and the settings it needs (`docs/cluster.md` gives the commands).

use std::collections::HashMap;
use std::time::Duration;

use kafka_client::KafkaContext;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::config::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;

use crate::store::StoreError;

/// How long reading the cluster's topics and creating the absent ones may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How many partitions the webhook log topic is created with (entries of one node spread over them).
const WEBHOOK_LOG_PARTITIONS: i32 = 6;
/// How many shares the work topic is created with: the unit in which unshareable subscriptions move between nodes.
const WORK_SHARES: i32 = 12;

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

    /// Each topic with the partitions and settings it is created with: the configuration topic compacted with one
    /// partition (one order for every change), the webhook logs deleted after `log_retention`, the work topic
    /// with [`WORK_SHARES`].
    fn wanted(&self, log_retention: Duration) -> [Wanted<'_>; 3] {
        let retention = log_retention.as_millis().to_string();
        [
            Wanted { name: &self.config, partitions: 1, settings: vec![("cleanup.policy", "compact".into())] },
            Wanted {
                name: &self.webhook_logs,
                partitions: WEBHOOK_LOG_PARTITIONS,
                settings: vec![("cleanup.policy", "delete".into()), ("retention.ms", retention)],
            },
            Wanted { name: &self.work, partitions: WORK_SHARES, settings: Vec::new() },
        ]
    }
}

/// A topic the store needs, as it is created.
struct Wanted<'a> {
    name: &'a str,
    partitions: i32,
    settings: Vec<(&'static str, String)>,
}

impl Wanted<'_> {
    /// How to create it by hand, for an error message.
    fn described(&self) -> String {
        let settings: Vec<String> = self.settings.iter().map(|(key, value)| format!("{key}={value}")).collect();
        let settings = if settings.is_empty() { String::new() } else { format!(", {}", settings.join(", ")) };
        format!("{} ({} partitions{settings})", self.name, self.partitions)
    }
}

/// Looks the store's topics up, checks the configuration topic where it exists (one partition, compacted where the
/// brokers describe configurations), and creates those absent; an error naming each topic still missing when they
/// cannot be created here.
pub async fn ensure(config: &ClientConfig, topics: &Topics, log_retention: Duration) -> Result<(), StoreError> {
    let admin: AdminClient<KafkaContext> = config
        .create_with_context(KafkaContext::labelled("store admin"))
        .map_err(|error| StoreError::Kafka(format!("cannot create the admin client: {error}")))?;
    let existing = existing_topics(config).await?;
    let wanted = topics.wanted(log_retention);
    if let Some(partitions) = existing.get(&topics.config) {
        check_config_topic(&admin, &topics.config, *partitions).await?;
    }
    let missing: Vec<&Wanted> = wanted.iter().filter(|topic| !existing.contains_key(topic.name)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    create(&admin, &missing).await.map_err(|cause| {
        let list: Vec<String> = missing.iter().map(|topic| topic.described()).collect();
        StoreError::Kafka(format!(
            "the store's topics are missing and cannot be created here ({cause}): create {} (docs/cluster.md)",
            list.join("; ")
        ))
    })
}

/// Every topic of the cluster with its partition count. Asking for all topics creates none, where a broker
/// auto-creates a topic asked for by name.
async fn existing_topics(config: &ClientConfig) -> Result<HashMap<String, usize>, StoreError> {
    let config = config.clone();
    let looked_up = tokio::task::spawn_blocking(move || {
        let consumer: rdkafka::consumer::BaseConsumer<KafkaContext> = config
            .create_with_context(KafkaContext::labelled("store metadata"))
            .map_err(|error| StoreError::Kafka(format!("cannot create a consumer: {error}")))?;
        let metadata = rdkafka::consumer::Consumer::fetch_metadata(&consumer, None, ADMIN_TIMEOUT)
            .map_err(|error| StoreError::Kafka(format!("cannot list the cluster's topics: {error}")))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|topic| topic.error().is_none())
            .map(|topic| (topic.name().to_string(), topic.partitions().len()))
            .collect())
    });
    looked_up.await.map_err(|error| StoreError::Task(error.to_string()))?
}

/// Refuses a configuration topic of several partitions (changes would lose their one order) or one that deletes
/// old records instead of compacting them; a broker that does not describe configurations is taken at its word.
async fn check_config_topic(
    admin: &AdminClient<KafkaContext>,
    name: &str,
    partitions: usize,
) -> Result<(), StoreError> {
    if partitions != 1 {
        return Err(StoreError::Kafka(format!(
            "the store's topic {name} has {partitions} partitions; it needs exactly 1 (one order for every change)"
        )));
    }
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let described = admin.describe_configs(&[ResourceSpecifier::Topic(name)], &options).await;
    let policy = match described.as_deref() {
        Ok([Ok(resource)]) => resource.get("cleanup.policy").and_then(|entry| entry.value.clone()),
        _ => None,
    };
    match policy {
        Some(policy) if !policy.split(',').any(|part| part.trim() == "compact") => Err(StoreError::Kafka(format!(
            "the store's topic {name} has cleanup.policy={policy}; it needs cleanup.policy=compact (the latest record \
             of each API and subscription is kept forever)"
        ))),
        Some(_) => Ok(()),
        None => {
            tracing::info!(topic = %name, "the brokers do not describe the topic's settings; cleanup.policy not checked");
            Ok(())
        }
    }
}

/// Creates `missing`; a topic created meanwhile by another node counts as created.
async fn create(admin: &AdminClient<KafkaContext>, missing: &[&Wanted<'_>]) -> Result<(), String> {
    let new_topics: Vec<NewTopic> = missing
        .iter()
        .map(|topic| {
            let settings = topic.settings.iter();
            settings
                .fold(NewTopic::new(topic.name, topic.partitions, TopicReplication::Fixed(-1)), |new, (key, value)| {
                    new.set(key, value)
                })
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT)).request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin.create_topics(&new_topics, &options).await.map_err(|error| error.to_string())?;
    let mut refused = Vec::new();
    for result in results {
        match result {
            Ok(topic) => tracing::info!(topic = %topic, "store topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => refused.push(format!("{topic}: {code}")),
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused.join(", "))
    }
}
