//! A webhook receiver for the demo (`make run`): prints every call it gets and answers 200, except on paths that
//! end with `/reject`, which it answers 400 (so that the demo shows messages going to the dead letter queue).
//!
//! Usage: `demo-receiver [ADDRESS]` (default `127.0.0.1:8090`).
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Where the demo's subscription points.
const DEFAULT_ADDRESS: &str = "127.0.0.1:8090";
/// Headers worth showing a newcomer.
const SHOWN_HEADERS: [&str; 3] = ["x-gravitee-client-identifier", "x-gravitee-request-id", "content-type"];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address: SocketAddr = std::env::args().nth(1).as_deref().unwrap_or(DEFAULT_ADDRESS).parse()?;
    let listener = TcpListener::bind(address).await?;
    println!("demo receiver listening on http://{address}");
    let received = Arc::new(AtomicU64::new(0));
    loop {
        let (stream, _) = listener.accept().await?;
        let received = Arc::clone(&received);
        tokio::spawn(async move {
            let service = service_fn(move |request| print_call(Arc::clone(&received), request));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn print_call(received: Arc<AtomicU64>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let number = received.fetch_add(1, Ordering::Relaxed) + 1;
    let headers: Vec<String> = SHOWN_HEADERS
        .iter()
        .filter_map(|name| parts.headers.get(*name).map(|value| format!("{name}: {}", value.to_str().unwrap_or("?"))))
        .collect();
    let status = if parts.uri.path().ends_with("/reject") { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    println!(
        "webhook #{number}: {} {} -> {}\n  {}\n  body: {}",
        parts.method,
        parts.uri,
        status.as_u16(),
        headers.join("\n  "),
        String::from_utf8_lossy(&body)
    );
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}
