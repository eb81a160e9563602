//! Feeding the benchmark's topics: in bulk, or paced.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

/// Produces `count` records made by `make` (given their number) as fast as the broker takes them; record `n` has the
/// key `n mod keys`.
pub async fn produce_bulk(bootstrap: &str, topic: &str, count: u64, keys: u64, make: impl Fn(u64) -> Vec<u8>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "200000")
        .create()
        .expect("producer");
    let mut pending = Vec::new();
    for number in 0..count {
        let payload = make(number);
        let key = (number % keys.max(1)).to_string();
        pending.push(producer.send_result(FutureRecord::to(topic).key(&key).payload(&payload)).expect("enqueued"));
        if pending.len() >= 1_000 {
            for delivery in pending.drain(..) {
                delivery.await.expect("delivered").expect("acknowledged");
            }
        }
    }
    for delivery in pending {
        delivery.await.expect("delivered").expect("acknowledged");
    }
}

/// Produces `count` records made by `make`, one every `pause`.
pub async fn produce_paced(bootstrap: &str, topic: &str, count: u64, pause: Duration, make: fn() -> Vec<u8>) {
    let producer: FutureProducer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("linger.ms", "1").create().expect("producer");
    let mut ticks = tokio::time::interval(pause);
    let mut pending = Vec::new();
    for number in 0..count {
        ticks.tick().await;
        let key = number.to_string();
        let payload = make();
        pending.push(producer.send_result(FutureRecord::to(topic).key(&key).payload(&payload)).expect("enqueued"));
    }
    for delivery in pending {
        delivery.await.expect("delivered").expect("acknowledged");
    }
}
