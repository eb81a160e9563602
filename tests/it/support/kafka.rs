//! Talking to the test broker with rdkafka: topics, records, committed offsets, group members.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

/// The longest one broker operation may take in a test.
const TIMEOUT: Duration = Duration::from_secs(15);

/// A record to produce.
pub struct Record {
    pub key: String,
    pub value: String,
    pub headers: Vec<(String, String)>,
}

impl Record {
    /// A record with a key, a value and no header.
    pub fn new(key: &str, value: &str) -> Self {
        Self { key: key.to_string(), value: value.to_string(), headers: Vec::new() }
    }
}

/// Creates `topic` with `partitions` partitions.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
        )
        .await
        .expect("create topic");
    for result in results {
        result.expect("topic created");
    }
}

/// Produces `records` to `topic` and waits until the broker acknowledged each, in order.
pub async fn produce(bootstrap: &str, topic: &str, records: &[Record]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "0")
        .create()
        .expect("producer");
    for record in records {
        let mut headers = OwnedHeaders::new();
        for (name, value) in &record.headers {
            headers = headers.insert(Header { key: name, value: Some(value.as_bytes()) });
        }
        let future = FutureRecord::to(topic).key(&record.key).payload(&record.value).headers(headers);
        producer.send(future, TIMEOUT).await.expect("record acknowledged");
    }
}

/// The committed offset of each of `partitions` partitions of `topic` for `group` (-1 when none).
pub fn committed(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Vec<i64> {
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("group.id", group).create().expect("consumer");
    let mut list = TopicPartitionList::new();
    for partition in 0..partitions {
        list.add_partition(topic, partition);
    }
    let committed = consumer.committed_offsets(list, TIMEOUT).expect("committed offsets");
    committed
        .elements()
        .iter()
        .map(|element| match element.offset() {
            Offset::Offset(offset) => offset,
            _ => -1,
        })
        .collect()
}

/// A record read back from a topic.
#[derive(Debug)]
pub struct Consumed {
    pub key: String,
    pub value: String,
    pub headers: Vec<(String, String)>,
}

impl Consumed {
    /// The value of header `name`; panics when it is not there exactly once.
    pub fn header(&self, name: &str) -> &str {
        let found: Vec<&str> =
            self.headers.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect();
        assert_eq!(found.len(), 1, "header {name} in {:?}", self.headers);
        found[0]
    }
}

/// Reads partition 0 of `topic` from the start until `count` records came, or `timeout` passed.
pub fn consume(bootstrap: &str, topic: &str, count: usize, timeout: Duration) -> Vec<Consumed> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-reader-{topic}"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, Offset::Beginning).expect("partition");
    consumer.assign(&list).expect("assign");
    let deadline = std::time::Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < count && std::time::Instant::now() < deadline {
        let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) else { continue };
        let text = |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
        let headers = message
            .headers()
            .map(|headers| headers.iter().map(|header| (header.key.to_string(), text(header.value))).collect())
            .unwrap_or_default();
        records.push(Consumed { key: text(message.key()), value: text(message.payload()), headers });
    }
    records
}

/// Produces `per_partition` records to each of `partitions` partitions of `topic`, one round over the partitions
/// every `pace`; a record's value is `p<partition>-<n>`. Returns when the broker acknowledged each.
#[allow(dead_code)]
pub async fn produce_steadily(bootstrap: &str, topic: &str, partitions: i32, per_partition: usize, pace: Duration) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .set("queue.buffering.max.messages", "200000")
        .create()
        .expect("producer");
    let mut ticks = tokio::time::interval(pace);
    let mut pending = Vec::new();
    for index in 0..per_partition {
        ticks.tick().await;
        for partition in 0..partitions {
            let value = format!("p{partition}-{index}");
            let record = FutureRecord::to(topic).key(&value).payload(&value).partition(partition);
            pending.push(producer.send_result(record).expect("enqueued"));
        }
    }
    for delivery in pending {
        delivery.await.expect("delivered").expect("acknowledged");
    }
}
