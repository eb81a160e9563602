//! The machine's own limits: a load generator POSTing 1 KiB bodies to the receiver, and a bare rdkafka consumer.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};

/// Requests per second a plain client reaches against `url` with `concurrency` requests in flight.
pub async fn http_rate(url: &str, concurrency: usize, body: &Bytes, duration: Duration) -> f64 {
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(concurrency).build_http::<Full<Bytes>>();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, done, stop, body, url) =
            (client.clone(), Arc::clone(&done), Arc::clone(&stop), body.clone(), url.to_string());
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let request = Request::post(&url).body(Full::new(body.clone())).expect("request");
                if let Ok(response) = client.request(request).await {
                    let _ = response.into_body().collect().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Records per second a bare consumer reads from `topic` (all `count` of them, from the start).
pub async fn kafka_rate(bootstrap: &str, topic: &str, count: u64) -> f64 {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-bare-{}", super::receiver::now_us()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let first =
        tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await.expect("first record").expect("record");
    drop(first);
    let started = Instant::now();
    let mut read = 1;
    while read < count {
        match tokio::time::timeout(Duration::from_secs(10), consumer.recv()).await {
            Ok(Ok(_)) => read += 1,
            _ => break,
        }
    }
    read as f64 / started.elapsed().as_secs_f64()
}
