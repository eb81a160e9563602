//! A callback receiver on loopback whose answers are scripted and whose calls are counted.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::eventually;

/// How the receiver answers one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answers at once with this status.
    Status(u16),
    /// Answers at once with this status and this JSON body.
    Json(u16, String),
    /// Answers with this status after a delay.
    Delayed(u16, Duration),
    /// Never answers (until the caller gives up).
    Hang,
    /// Answers 302 Found with this `Location`.
    Redirect(String),
    /// Answers 200 with a chunked body of this many bytes, made as it is sent.
    Streaming(u64),
    /// Answers this status (429, 503) with this `Retry-After`.
    SlowDown(u16, String),
    /// Answers with this status after a delay between the two given, varying from one call to the next.
    Varying(u16, Duration, Duration),
    /// Answers 429 at once while more calls than [`Receiver::refuse_over`] says are in flight, else 200 after the
    /// delay: a receiver of bounded capacity.
    Busy(Duration),
}

/// One call the receiver got.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: String,
    /// The request target as sent (absolute-form when a proxy forwarded it to this receiver).
    pub target: String,
    /// Path and query.
    pub path: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// When it arrived.
    pub at: std::time::Instant,
    /// The client's TLS certificate (DER), when it presented one.
    pub client_certificate: Option<Vec<u8>>,
}

#[derive(Default)]
struct State {
    /// While set, every connection is closed without an answer, as a callback that is down.
    down: std::sync::atomic::AtomicBool,
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Calls whose answer was handed to the connection (not given up by the caller first).
    answered: AtomicUsize,
    /// Connections accepted.
    connections: AtomicUsize,
    /// Calls whose body contains this text answer 500 while the count lasts.
    failing: Mutex<Option<(String, usize)>>,
    /// [`Reply::Busy`] refuses calls beyond this many in flight.
    refuse_over: AtomicUsize,
}

/// A receiver; stops when dropped.
pub struct Receiver {
    address: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl Receiver {
    /// Answers `script` in order, then `then` for every later call.
    pub async fn scripted(script: Vec<Reply>, then: Reply) -> Self {
        Self::start(script, then, None).await
    }

    /// An HTTPS receiver with `tls`, answering `status` to every call.
    pub async fn https(tls: Arc<rustls::ServerConfig>, status: u16) -> Self {
        Self::start(Vec::new(), Reply::Status(status), Some(tokio_rustls::TlsAcceptor::from(tls))).await
    }

    async fn start(script: Vec<Reply>, then: Reply, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let address = listener.local_addr().expect("receiver address");
        let state = Arc::new(State {
            script: Mutex::new(script.into()),
            refuse_over: AtomicUsize::new(usize::MAX),
            ..State::default()
        });
        let server_state = Arc::clone(&state);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                if server_state.down.load(Ordering::SeqCst) {
                    drop(stream);
                    continue;
                }
                server_state.connections.fetch_add(1, Ordering::SeqCst);
                let (state, then, tls) = (Arc::clone(&server_state), then.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve(stream, state, then, None).await,
                        Some(acceptor) => {
                            // A refused handshake is the client's business: the receiver just sees no call.
                            let Ok(stream) = acceptor.accept(stream).await else { return };
                            let certificate = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .map(|cert| cert.to_vec());
                            serve(stream, state, then, certificate).await
                        }
                    }
                });
            }
        });
        Self { address, state, server }
    }

    /// The `https://` URL of `path`, named `localhost`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.address.port())
    }

    /// Answers every call with `status`.
    pub async fn answering(status: u16) -> Self {
        Self::scripted(Vec::new(), Reply::Status(status)).await
    }

    /// A URL of this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Answers 500 to the next `times` calls whose body contains `needle` (whatever the script says).
    pub fn fail_next(&self, needle: &str, times: usize) {
        *self.state.failing.lock().expect("failing") = Some((needle.to_string(), times));
    }

    /// Makes [`Reply::Busy`] refuse calls beyond `calls` in flight (`usize::MAX`: none).
    pub fn refuse_over(&self, calls: usize) {
        self.state.refuse_over.store(calls, Ordering::SeqCst);
    }

    /// Takes the callback down (connections are closed unanswered, kept-alive ones too) or brings it back up.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Calls received so far.
    pub fn count(&self) -> usize {
        self.state.requests.lock().expect("requests").len()
    }

    /// The calls received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("requests").clone()
    }

    /// How many times each body arrived.
    #[allow(dead_code)]
    pub fn tally(&self) -> std::collections::HashMap<String, usize> {
        let mut seen = std::collections::HashMap::new();
        for request in self.state.requests.lock().expect("requests").iter() {
            *seen.entry(String::from_utf8_lossy(&request.body).into_owned()).or_insert(0) += 1;
        }
        seen
    }

    /// How many different bodies arrived.
    #[allow(dead_code)]
    pub fn distinct(&self) -> usize {
        let requests = self.state.requests.lock().expect("requests");
        requests.iter().map(|request| &request.body).collect::<std::collections::HashSet<_>>().len()
    }

    /// The longest time between two arrivals of each partition within `window` (bodies `p<partition>-<n>`, as
    /// `kafka::produce_steadily` makes them), from the shortest to the longest.
    #[allow(dead_code)]
    pub fn stalls(&self, window: (Instant, Instant)) -> Vec<(String, Duration)> {
        let mut last: std::collections::BTreeMap<String, Instant> = std::collections::BTreeMap::new();
        let mut longest: std::collections::BTreeMap<String, Duration> = std::collections::BTreeMap::new();
        for request in self.state.requests.lock().expect("requests").iter() {
            let body = String::from_utf8_lossy(&request.body);
            let partition = body.split('-').next().unwrap_or_default().to_string();
            let at = request.at.clamp(window.0, window.1);
            let since = last.insert(partition.clone(), at).unwrap_or(window.0);
            let gap = longest.entry(partition).or_default();
            *gap = (*gap).max(at.saturating_duration_since(since));
        }
        let mut stalls: Vec<(String, Duration)> = longest.into_iter().collect();
        stalls.sort_by_key(|(_, gap)| *gap);
        stalls
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Calls answered so far (a call the caller gave up on before its answer is not counted).
    pub fn answered(&self) -> usize {
        self.state.answered.load(Ordering::SeqCst)
    }

    /// The most calls that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` calls arrived (at most `timeout`); returns whether they did.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> bool {
        eventually(timeout, || async { self.count() >= count }).await
    }

    /// Asserts that the count stays `count` for `period`: nothing more arrives.
    pub async fn assert_stays_at(&self, count: usize, period: Duration) {
        tokio::time::sleep(period).await;
        assert_eq!(self.count(), count, "calls kept arriving");
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Decrements the in-flight count however the call ends (answered, or dropped by the caller).
struct InFlight(Arc<State>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve<S>(stream: S, state: Arc<State>, then: Reply, client_certificate: Option<Vec<u8>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        service_fn(move |request| handle(Arc::clone(&state), then.clone(), client_certificate.clone(), request));
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

async fn handle(
    state: Arc<State>,
    then: Reply,
    client_certificate: Option<Vec<u8>>,
    request: Request<Incoming>,
) -> Result<Response<BoxBody<Bytes, Infallible>>, std::io::Error> {
    if state.down.load(Ordering::SeqCst) {
        // An error from the service closes the connection without an answer.
        return Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "the receiver is down"));
    }
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(Arc::clone(&state));
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let reply = {
        let mut requests = state.requests.lock().expect("requests");
        requests.push(Recorded {
            method: parts.method.to_string(),
            target: parts.uri.to_string(),
            path: parts.uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
            headers: parts.headers,
            body,
            at: std::time::Instant::now(),
            client_certificate,
        });
        let failing = &mut *state.failing.lock().expect("failing");
        match failing {
            Some((needle, times)) if *times > 0 && contains(&requests.last().expect("just pushed").body, needle) => {
                *times -= 1;
                Reply::Status(500)
            }
            _ => state.script.lock().expect("script").pop_front().unwrap_or(then),
        }
    };
    let mut body = Bytes::new();
    let mut location = None;
    let mut streamed = None;
    let mut retry_after = None;
    let status = match reply {
        Reply::Status(status) => status,
        Reply::Json(status, json) => {
            body = Bytes::from(json);
            status
        }
        Reply::Delayed(status, delay) => {
            tokio::time::sleep(delay).await;
            status
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            500
        }
        Reply::Redirect(url) => {
            location = Some(url);
            302
        }
        Reply::Streaming(bytes) => {
            streamed = Some(bytes);
            200
        }
        Reply::SlowDown(status, after) => {
            retry_after = Some(after);
            status
        }
        Reply::Busy(_) if now > state.refuse_over.load(Ordering::SeqCst) => 429,
        Reply::Busy(delay) => {
            tokio::time::sleep(delay).await;
            200
        }
        Reply::Varying(status, least, most) => {
            // Spread over the range by a multiplicative hash of the call's number.
            let call = state.requests.lock().expect("requests").len() as u64;
            let spread = (most - least).as_millis() as u64 + 1;
            tokio::time::sleep(least + Duration::from_millis(call.wrapping_mul(2_654_435_761) % spread)).await;
            status
        }
    };
    state.answered.fetch_add(1, Ordering::SeqCst);
    let body = match streamed {
        Some(bytes) => Generated { remaining: bytes }.boxed(),
        None => Full::new(body).boxed(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).expect("status");
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    if let Some(location) = location {
        response.headers_mut().insert("location", location.parse().expect("a header value"));
    }
    if let Some(after) = retry_after {
        response.headers_mut().insert("retry-after", after.parse().expect("a header value"));
    }
    Ok(response)
}

/// Whether `body` contains `needle`.
fn contains(body: &[u8], needle: &str) -> bool {
    body.windows(needle.len().max(1)).any(|window| window == needle.as_bytes())
}

/// A loopback URL where nothing listens: port 1 (tcpmux), privileged, never handed out by a bind to port 0, so no
/// parallel test can start listening there.
pub fn refused_url() -> String {
    format!("http://127.0.0.1:{REFUSING_PORT}/hook")
}

/// A loopback port where nothing listens.
pub const REFUSING_PORT: u16 = 1;

/// A body of `remaining` bytes, made in 64 KiB chunks as it is sent (never held whole).
struct Generated {
    remaining: u64,
}

impl hyper::body::Body for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        const CHUNK: u64 = 64 * 1024;
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let size = self.remaining.min(CHUNK);
        self.remaining -= size;
        Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(vec![b'x'; size as usize])))))
    }
}
