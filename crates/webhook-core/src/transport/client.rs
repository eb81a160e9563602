//! The pooled HTTP client of one subscription, built once, never per request: TCP directly or through the
//! subscription's proxy (HTTP, SOCKS4, SOCKS5, or the gateway's own proxy settings), TLS on top for https
//! callbacks. Through an HTTP proxy, an `http://` callback is a forward request (absolute-form URI,
//! `Proxy-Authorization`), an `https://` one goes through a CONNECT tunnel. Redirects are never followed (hyper's
//! client does not follow them). Direct connections obey the egress policy (see [`super::resolver`]); connections to
//! proxies, the operator's choice, do not.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use bytes::Bytes;
use http::header::PROXY_AUTHORIZATION;
use http::{HeaderValue, Request, Uri};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::config::{HttpOptions, HttpVersion, ProxyOptions, ProxyType, SslConfig};
use crate::transport::resolver::{check_literal, GuardedResolver};
use crate::transport::tls::client_config;
use egress::EgressPolicy;

/// The client every callback call (and token request) goes through.
#[derive(Clone)]
pub struct CallbackClient {
    client: Client<HttpsConnector<RouteConnector>, Full<Bytes>>,
    route: Arc<Route>,
}

impl CallbackClient {
    /// Sends `request`; a forward request through an HTTP proxy carries the proxy's credentials.
    pub fn request(&self, mut request: Request<Full<Bytes>>) -> ResponseFuture {
        if let Some(Forward { authorization: Some(authorization), .. }) = self.route.forward(request.uri()) {
            request.headers_mut().insert(PROXY_AUTHORIZATION, authorization);
        }
        self.client.request(request)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client with the subscription's timeouts, pool size, proxy and TLS configuration, reaching directly only what
/// `egress` permits.
pub fn build_client(
    options: &HttpOptions,
    proxy: &ProxyOptions,
    tls: rustls::ClientConfig,
    concurrency: usize,
    egress: Arc<EgressPolicy>,
) -> CallbackClient {
    let route = Arc::new(Route::from(proxy));
    let streams = RouteConnector {
        route: Arc::clone(&route),
        tcp: tcp_connector(HttpConnector::new(), options),
        direct: tcp_connector(HttpConnector::new_with_resolver(GuardedResolver::new(Arc::clone(&egress))), options),
        egress,
    };
    // ALPN offers h2 beside http/1.1 to TLS callbacks; `HTTP_2` speaks nothing else (h2c on plain connections).
    let schemes = HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http();
    let connector = match options.version {
        HttpVersion::Http11 => schemes.enable_all_versions().wrap_connector(streams),
        HttpVersion::Http2 => schemes.enable_http2().wrap_connector(streams),
    };
    let client = Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(options.idle_timeout())
        .pool_max_idle_per_host(concurrency)
        .http2_only(options.version == HttpVersion::Http2)
        .build(connector);
    CallbackClient { client, route }
}

/// A client with the default HTTP options, no proxy and the system's trust store, under `egress`: for the gateway's
/// own calls out (its operational webhooks), guarded like any callback.
pub fn default_client(egress: Arc<EgressPolicy>) -> CallbackClient {
    let tls = client_config(&SslConfig::default()).expect("the default TLS settings need no file");
    build_client(&HttpOptions::default(), &ProxyOptions::default(), tls, 2, egress)
}

/// `connector` with the subscription's connect timeout, no Nagle delay, and any scheme (TLS goes on top).
fn tcp_connector<R>(mut connector: HttpConnector<R>, options: &HttpOptions) -> HttpConnector<R> {
    connector.set_connect_timeout(Some(options.connect_timeout()));
    connector.set_nodelay(true);
    connector.enforce_http(false);
    connector
}

/// Opens the TCP stream to a callback: directly or through a proxy.
#[derive(Clone)]
pub(crate) struct RouteConnector {
    route: Arc<Route>,
    /// To proxies: any address.
    tcp: HttpConnector,
    /// To callbacks: resolved under the egress policy.
    direct: HttpConnector<GuardedResolver>,
    egress: Arc<EgressPolicy>,
}

enum Route {
    Direct,
    /// The gateway's own `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`.
    System(Matcher),
    Http {
        proxy: Uri,
        authorization: Option<HeaderValue>,
    },
    Socks4 {
        proxy: Uri,
    },
    Socks5 {
        proxy: Uri,
        credentials: Option<(String, String)>,
    },
}

impl From<&ProxyOptions> for Route {
    fn from(options: &ProxyOptions) -> Self {
        if !options.enabled {
            return Route::Direct;
        }
        if options.use_system_proxy {
            return Route::System(Matcher::from_env());
        }
        let host = options.host.as_deref().unwrap_or_default();
        let proxy: Uri = format!("http://{host}:{}", options.port.unwrap_or_default()).parse().unwrap_or_default();
        let credentials = options.username.clone().map(|user| {
            (user, options.password.as_ref().map(|password| password.expose().to_string()).unwrap_or_default())
        });
        match options.proxy_type {
            Some(ProxyType::Socks4) => Route::Socks4 { proxy },
            Some(ProxyType::Socks5) => Route::Socks5 { proxy, credentials },
            Some(ProxyType::Http) | None => {
                Route::Http { proxy, authorization: credentials.map(|(user, password)| basic(&user, &password)) }
            }
        }
    }
}

/// An `http://` callback's forward route: the HTTP proxy to send it to, with its credentials.
struct Forward {
    proxy: Uri,
    authorization: Option<HeaderValue>,
}

impl Route {
    /// The forward route of a call to `destination`: `http://` through an HTTP proxy; `None` otherwise (direct,
    /// tunnelled or SOCKS).
    fn forward(&self, destination: &Uri) -> Option<Forward> {
        if destination.scheme_str() != Some("http") {
            return None;
        }
        match self {
            Route::Http { proxy, authorization } => {
                Some(Forward { proxy: proxy.clone(), authorization: authorization.clone() })
            }
            Route::System(matcher) => {
                let intercept = matcher.intercept(destination)?;
                matches!(intercept.uri().scheme_str(), Some("http" | "https"))
                    .then(|| Forward { proxy: intercept.uri().clone(), authorization: intercept.basic_auth().cloned() })
            }
            Route::Direct | Route::Socks4 { .. } | Route::Socks5 { .. } => None,
        }
    }
}

/// `Basic base64(user:password)`, marked sensitive.
fn basic(user: &str, password: &str) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

type Connecting = Pin<Box<dyn Future<Output = Result<RouteStream, BoxError>> + Send>>;

/// A connection to a callback, or to the HTTP proxy that forwards requests to it (requests on it then keep their
/// absolute-form URI).
pub(crate) struct RouteStream {
    io: TokioIo<TcpStream>,
    forwarding: bool,
}

impl Connection for RouteStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl hyper::rt::Read for RouteStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(context, buffer)
    }
}

impl hyper::rt::Write for RouteStream {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, buffer: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(context, buffer)
    }

    /// Headers and body leave in one `writev`, the body not copied into the headers' buffer first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(context)
    }
}

impl Service<Uri> for RouteConnector {
    type Response = RouteStream;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let tcp = self.tcp.clone();
        if let Some(Forward { proxy, .. }) = self.route.forward(&destination) {
            return to_forwarding_proxy(tcp, proxy);
        }
        let direct = || connect_direct(self.direct.clone(), Arc::clone(&self.egress), destination.clone());
        match &*self.route {
            Route::Direct => direct(),
            Route::Http { proxy, authorization } => tunnel(tcp, proxy.clone(), authorization.clone(), destination),
            Route::Socks4 { proxy } => {
                let proxy = proxy.clone();
                let mut socks = SocksV4::new(proxy.clone(), tcp);
                Box::pin(async move {
                    socks
                        .call(destination)
                        .await
                        .map(tcp_stream)
                        .map_err(|error| ProxyError::boxed(&proxy, error.into()))
                })
            }
            Route::Socks5 { proxy, credentials } => socks5(tcp, proxy.clone(), credentials.clone(), destination),
            Route::System(matcher) => match matcher.intercept(&destination) {
                None => direct(),
                Some(intercept) => {
                    let proxy = intercept.uri().clone();
                    match proxy.scheme_str() {
                        Some("socks5" | "socks5h") => {
                            let credentials =
                                intercept.raw_auth().map(|(user, password)| (user.to_string(), password.to_string()));
                            socks5(tcp, proxy, credentials, destination)
                        }
                        _ => tunnel(tcp, proxy, intercept.basic_auth().cloned(), destination),
                    }
                }
            },
        }
    }
}

/// `error` with its causes, on one line (hyper's own says only `client error (Connect)`).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// A failure at the proxy: reaching it, authenticating, or its refusal to reach the callback.
#[derive(Debug)]
pub(crate) struct ProxyError {
    proxy: String,
    cause: String,
}

impl ProxyError {
    fn boxed(proxy: &Uri, error: BoxError) -> BoxError {
        let proxy = proxy.authority().map_or_else(|| proxy.to_string(), ToString::to_string);
        Box::new(Self { proxy, cause: error_chain(&*error) })
    }
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proxy {}: {}", self.proxy, self.cause)
    }
}

impl std::error::Error for ProxyError {}

/// A connection straight to the callback, to an address the egress policy permits.
fn connect_direct(mut tcp: HttpConnector<GuardedResolver>, egress: Arc<EgressPolicy>, destination: Uri) -> Connecting {
    Box::pin(async move {
        check_literal(&egress, &destination)?;
        tcp.call(destination).await.map(tcp_stream).map_err(Into::into)
    })
}

/// A connection to an HTTP proxy that forwards `http://` requests.
fn to_forwarding_proxy(mut tcp: HttpConnector, proxy: Uri) -> Connecting {
    Box::pin(async move {
        let io = tcp.call(proxy.clone()).await.map_err(|error| ProxyError::boxed(&proxy, error.into()))?;
        Ok(RouteStream { io, forwarding: true })
    })
}

/// An HTTP CONNECT tunnel, for https callbacks.
fn tunnel(tcp: HttpConnector, proxy: Uri, authorization: Option<HeaderValue>, destination: Uri) -> Connecting {
    let mut tunnel = Tunnel::new(proxy.clone(), tcp);
    if let Some(authorization) = authorization {
        tunnel = tunnel.with_auth(authorization);
    }
    Box::pin(async move {
        tunnel.call(destination).await.map(tcp_stream).map_err(|error| ProxyError::boxed(&proxy, error.into()))
    })
}

fn socks5(tcp: HttpConnector, proxy: Uri, credentials: Option<(String, String)>, destination: Uri) -> Connecting {
    let mut socks = SocksV5::new(proxy.clone(), tcp);
    if let Some((user, password)) = credentials {
        socks = socks.with_auth(user, password);
    }
    Box::pin(async move {
        socks.call(destination).await.map(tcp_stream).map_err(|error| ProxyError::boxed(&proxy, error.into()))
    })
}

fn tcp_stream(io: TokioIo<TcpStream>) -> RouteStream {
    RouteStream { io, forwarding: false }
}
