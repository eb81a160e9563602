//! Sending one request and classifying what came back.

use std::error::Error as StdError;
use std::io::ErrorKind as IoErrorKind;
use std::time::Duration;

use bytes::Bytes;
use http::header::PROXY_AUTHENTICATE;
use http::{Request, StatusCode};
use http_body_util::Full;

use crate::transport::bounded_body::read_prefix;
use crate::transport::client::{CallbackClient, ProxyError};
use crate::transport::resolver::address_denied;

/// What one call to the callback gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    /// The callback answered.
    Answered(StatusCode),
    /// No HTTP answer (refused, timeout, reset, ...).
    Failed(CallbackError),
}

/// A call that got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    /// What kind of failure, with a stable key.
    pub kind: CallbackErrorKind,
    /// The client's own words.
    pub detail: String,
}

/// Kinds of call failure, each with a stable key for logs, causes and metrics (in the order of
/// [`plugin_api::CALLBACK_ERROR_KEYS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackErrorKind {
    /// Nothing listens at the callback's address.
    ConnectionRefused,
    /// The connection could not be opened within `connectTimeout`.
    ConnectTimeout,
    /// No complete answer within `readTimeout`.
    ReadTimeout,
    /// The host name did not resolve.
    DnsFailure,
    /// The connection was closed or reset before the answer.
    ConnectionReset,
    /// The credentials for the callback could not be had (a token endpoint failed).
    AuthenticationFailed,
    /// The TLS handshake failed (untrusted certificate, name mismatch, client certificate refused).
    TlsFailed,
    /// The proxy could not be reached, refused the credentials, or could not reach the callback.
    ProxyFailed,
    /// The callback's address is one the egress policy denies (loopback, private, link-local...).
    AddressDenied,
    /// Anything else.
    RequestFailed,
}

impl CallbackErrorKind {
    /// The stable key (`CONNECTION_REFUSED`): the variants are in the order of the keys' list.
    pub fn key(self) -> &'static str {
        plugin_api::CALLBACK_ERROR_KEYS[self as usize]
    }
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.detail, self.kind.key())
    }
}

/// Sends `request`; the whole request and response must fit in `read_timeout`. At most `body_limit` bytes of the
/// answer's body are read: a body that ends within it lets the connection go back to the pool, a longer one is cut
/// and its connection dropped.
pub(crate) async fn send(
    client: &CallbackClient,
    request: Request<Full<Bytes>>,
    read_timeout: Duration,
    body_limit: usize,
) -> (AttemptResult, Option<Answer>) {
    let call = async {
        let response = client.request(request).await.map_err(|error| classify(&error))?;
        let (parts, body) = response.into_parts();
        if parts.status == StatusCode::PROXY_AUTHENTICATION_REQUIRED || parts.headers.contains_key(PROXY_AUTHENTICATE) {
            // The proxy forwarding the request answered, not the callback.
            return Err(CallbackError {
                kind: CallbackErrorKind::ProxyFailed,
                detail: format!("the proxy refused the request: {}", parts.status),
            });
        }
        let body = read_prefix(body, body_limit).await.map_err(|error| classify(&error))?.bytes;
        Ok(Answer { headers: parts.headers, body, status: parts.status })
    };
    match tokio::time::timeout(read_timeout, call).await {
        Ok(Ok(answer)) => (AttemptResult::Answered(answer.status), Some(answer)),
        Ok(Err(error)) => (AttemptResult::Failed(error), None),
        Err(_) => (
            AttemptResult::Failed(CallbackError {
                kind: CallbackErrorKind::ReadTimeout,
                detail: format!("no answer within {} ms", read_timeout.as_millis()),
            }),
            None,
        ),
    }
}

/// What the callback answered, kept for webhook logs.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: http::StatusCode,
    pub(crate) headers: http::HeaderMap,
    /// At most the body limit's worth of the body.
    pub(crate) body: Bytes,
}

/// The TLS error an I/O error wraps, however deeply: an I/O error's `source` skips the error it wraps, and the TLS
/// connector wraps its I/O errors once more.
fn wrapped_tls_error(mut io: &std::io::Error) -> Option<&rustls::Error> {
    loop {
        let inner = io.get_ref()?;
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        io = inner.downcast_ref::<std::io::Error>()?;
    }
}

/// Finds the most telling cause in an error chain.
fn classify(error: &(dyn StdError + 'static)) -> CallbackError {
    if let Some(denied) = address_denied(error) {
        return CallbackError { kind: CallbackErrorKind::AddressDenied, detail: denied.to_string() };
    }
    let mut kind = CallbackErrorKind::RequestFailed;
    let mut detail = error.to_string();
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(proxy) = current.downcast_ref::<ProxyError>() {
            return CallbackError { kind: CallbackErrorKind::ProxyFailed, detail: proxy.to_string() };
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if let Some(tls) = wrapped_tls_error(io) {
                return CallbackError { kind: CallbackErrorKind::TlsFailed, detail: tls.to_string() };
            }
            kind = match io.kind() {
                IoErrorKind::ConnectionRefused => CallbackErrorKind::ConnectionRefused,
                IoErrorKind::TimedOut => CallbackErrorKind::ConnectTimeout,
                IoErrorKind::ConnectionReset | IoErrorKind::ConnectionAborted | IoErrorKind::BrokenPipe => {
                    CallbackErrorKind::ConnectionReset
                }
                _ => kind,
            };
            detail = io.to_string();
        } else if let Some(hyper_error) = current.downcast_ref::<hyper::Error>() {
            if hyper_error.is_incomplete_message() || hyper_error.is_closed() {
                kind = CallbackErrorKind::ConnectionReset;
            }
        } else if current.to_string() == "dns error" {
            // hyper-util's connector names its DNS step only in its message.
            kind = CallbackErrorKind::DnsFailure;
        }
        source = current.source();
    }
    CallbackError { kind, detail }
}
