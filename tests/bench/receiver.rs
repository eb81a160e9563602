//! The benchmark's receiver: answers 200 at once, counts calls, and, when a body starts with a send time in
//! microseconds since the epoch, records how long the message took to arrive; while asked, it records each call's
//! path and arrival time.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Counters {
    /// How long each answer waits.
    delay: std::time::Duration,
    calls: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    recording: AtomicBool,
    arrivals: Mutex<Vec<(String, u64)>>,
}

/// A counting receiver on loopback; stops when dropped.
pub struct CountingReceiver {
    pub url: String,
    counters: Arc<Counters>,
    server: JoinHandle<()>,
}

impl CountingReceiver {
    pub async fn start() -> Self {
        Self::answering_after(std::time::Duration::ZERO).await
    }

    /// A receiver whose every answer waits `delay` (a callback that far away).
    pub async fn answering_after(delay: std::time::Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let counters = Arc::new(Counters { delay, ..Counters::default() });
        let shared = Arc::clone(&counters);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let counters = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(Arc::clone(&counters), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { url, counters, server }
    }

    pub fn calls(&self) -> u64 {
        self.counters.calls.load(Ordering::Relaxed)
    }

    /// Starts recording each call's path and arrival time (µs since the epoch).
    pub fn record_arrivals(&self) {
        self.counters.arrivals.lock().expect("arrivals").clear();
        self.counters.recording.store(true, Ordering::Relaxed);
    }

    /// Stops recording; the arrivals recorded, in arrival order.
    pub fn take_arrivals(&self) -> Vec<(String, u64)> {
        self.counters.recording.store(false, Ordering::Relaxed);
        std::mem::take(&mut *self.counters.arrivals.lock().expect("arrivals"))
    }

    /// The latencies recorded so far, cleared.
    pub fn take_latencies(&self) -> Vec<u64> {
        std::mem::take(&mut *self.counters.latencies_us.lock().expect("latencies"))
    }
}

impl Drop for CountingReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(counters: Arc<Counters>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if counters.recording.load(Ordering::Relaxed) {
        let arrival = (request.uri().path().to_string(), now_us());
        counters.arrivals.lock().expect("arrivals").push(arrival);
    }
    let body = request.into_body().collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    if !counters.delay.is_zero() {
        tokio::time::sleep(counters.delay).await;
    }
    counters.calls.fetch_add(1, Ordering::Relaxed);
    if let Some(sent) =
        body.get(..16).and_then(|prefix| std::str::from_utf8(prefix).ok()).and_then(|text| text.parse::<u64>().ok())
    {
        let now = now_us();
        counters.latencies_us.lock().expect("latencies").push(now.saturating_sub(sent));
    }
    Ok(Response::new(Full::new(Bytes::new())))
}

/// Microseconds since the epoch.
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_micros() as u64)
}

/// The median and the 99th percentile of `latencies` (not empty).
pub fn p50_p99(mut latencies: Vec<u64>) -> (u64, u64) {
    latencies.sort_unstable();
    let at = |quantile: f64| latencies[((latencies.len() as f64 * quantile) as usize).min(latencies.len() - 1)];
    (at(0.5), at(0.99))
}
