//! Feeds a topic for the Kafka demo (`make run-kafka`): produces numbered JSON records, with a key and a header.
//!
//! Usage: `kafka-produce [--brokers HOST:PORT] [--topic NAME] [--count N] [--interval-ms MS] [--create-topic]`.
#![forbid(unsafe_code)]

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

const USAGE: &str =
    "usage: kafka-produce [--brokers HOST:PORT] [--topic NAME] [--count N] [--interval-ms MS] [--create-topic]";
const TIMEOUT: Duration = Duration::from_secs(10);

struct Options {
    brokers: String,
    topic: String,
    count: u64,
    interval: Duration,
    create_topic: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        brokers: "127.0.0.1:9092".into(),
        topic: "demo-orders".into(),
        count: 10,
        interval: Duration::ZERO,
        create_topic: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--brokers" => options.brokers = value()?,
            "--topic" => options.topic = value()?,
            "--count" => options.count = value()?.parse().map_err(|_| "--count takes a number".to_string())?,
            "--interval-ms" => {
                options.interval = Duration::from_millis(value()?.parse().map_err(|_| "--interval-ms takes a number")?)
            }
            "--create-topic" => options.create_topic = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options().map_err(|error| format!("{error}\n{USAGE}"))?;
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &options.brokers);
    if options.create_topic {
        let admin: AdminClient<DefaultClientContext> = config.create()?;
        let topic = NewTopic::new(&options.topic, 1, TopicReplication::Fixed(1));
        for result in admin.create_topics(&[topic], &AdminOptions::new().operation_timeout(Some(TIMEOUT))).await? {
            match result {
                Ok(name) => println!("created topic {name}"),
                Err((name, error)) => println!("topic {name}: {error}"),
            }
        }
    }
    let producer: FutureProducer = config.create()?;
    for number in 1..=options.count {
        let key = format!("order-{number}");
        let value = format!("{{\"event\":\"order.created\",\"order\":{number}}}");
        let headers = OwnedHeaders::new().insert(Header { key: "x-event-type", value: Some("order.created") });
        let record = FutureRecord::to(&options.topic).key(&key).payload(&value).headers(headers);
        producer.send(record, TIMEOUT).await.map_err(|(error, _)| error)?;
        println!("produced {key} to {}", options.topic);
        tokio::time::sleep(options.interval).await;
    }
    Ok(())
}
