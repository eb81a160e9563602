//! The Kafka side's own limit: a bare rdkafka consumer reading the topic the gateway reads. (The HTTP limit is wrk
//! against nginx: `wrk.rs`, `nginx.rs`.)

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};

/// Records per second a bare consumer reads from `topic` (all `count` of them, from the start); a failure when it
/// cannot read them all.
pub async fn kafka_rate(bootstrap: &str, topic: &str, count: u64) -> Result<f64, String> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-bare-{}", super::receiver::now_us()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|error| error.to_string())?;
    consumer.subscribe(&[topic]).map_err(|error| error.to_string())?;
    tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .map_err(|_| "no record within 30 s".to_string())?
        .map_err(|error| error.to_string())?;
    let started = Instant::now();
    let mut read = 1;
    while read < count {
        match tokio::time::timeout(Duration::from_secs(10), consumer.recv()).await {
            Ok(Ok(_)) => read += 1,
            _ => return Err(format!("only {read} of {count} records read")),
        }
    }
    Ok(read as f64 / started.elapsed().as_secs_f64())
}

/// Records per second a bare `BaseConsumer` polled on a thread of its own reads (the gateway's way of consuming),
/// with the gateway's consumer settings: told apart from [`kafka_rate`], it says whether the way or the settings
/// cost the rate.
pub fn kafka_rate_polled(bootstrap: &str, topic: &str, count: u64) -> Result<f64, String> {
    use rdkafka::consumer::BaseConsumer;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-polled-{}", super::receiver::now_us()))
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("enable.auto.commit", "false")
        .set("statistics.interval.ms", "5000")
        .create()
        .map_err(|error| error.to_string())?;
    consumer.subscribe(&[topic]).map_err(|error| error.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut read = 0;
    let mut started = None;
    while read < count && Instant::now() < deadline {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            started.get_or_insert_with(Instant::now);
            read += 1;
        }
    }
    match started {
        Some(started) if read == count => Ok(read as f64 / started.elapsed().as_secs_f64()),
        _ => Err(format!("only {read} of {count} records read")),
    }
}
