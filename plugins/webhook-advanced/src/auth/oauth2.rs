//! `oauth2` and `jwtProfileOauth2`: a client-credentials token, cached until it expires, fetched one request at a
//! time per subscription, and fetched again once when the callback answers 401. The two differ only in the token
//! request's form: a client id and secret, or a freshly signed JWT assertion.

use std::time::Duration;

use crate::auth::assertion::AssertionSigner;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use plugin_kit::api::abi_stable::std_types::RArc;
use plugin_kit::api::{DeliveryMetrics, SpanKind, SpanStatus};
use plugin_kit::traces::{current_context, tracer, Span};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use webhook_core::config::OAuth2Auth;
use webhook_core::{read_prefix, Authorizer, BoxFuture, CallbackClient, CallbackError, CallbackErrorKind, LayerSetup};

/// One subscription's client-credentials client.
pub(crate) struct ClientCredentials {
    client: CallbackClient,
    endpoint: Uri,
    /// The token request's form body: sent, never logged.
    form: TokenForm,
    timeout: Duration,
    /// Bytes of the token endpoint's answer read at most.
    body_limit: usize,
    /// The cached token; its lock makes token requests one at a time.
    token: Mutex<Option<Token>>,
    /// Where token requests are counted.
    metrics: RArc<DeliveryMetrics>,
}

#[derive(Clone)]
struct Token {
    authorization: HeaderValue,
    expires_at: Option<Instant>,
}

impl Token {
    fn is_fresh(&self) -> bool {
        self.expires_at.is_none_or(|expires_at| Instant::now() < expires_at)
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Seconds; a number, or a string of one as some identity providers send.
    #[serde(default, deserialize_with = "seconds")]
    expires_in: Option<u64>,
}

/// `expires_in` as a number or a string of digits.
fn seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Seconds::Number(seconds)) => Ok(Some(seconds)),
        Some(Seconds::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expires_in `{text}` is not a number of seconds"))),
    }
}

/// When a token given `expires_in` seconds from now expires; `None` (never) when that is beyond what the clock can
/// say.
fn expiry(expires_in: Option<u64>) -> Option<Instant> {
    expires_in.and_then(|seconds| Instant::now().checked_add(Duration::from_secs(seconds)))
}

/// What a token request sends.
pub(crate) enum TokenForm {
    /// The same form each time: the client id and secret.
    Fixed(Bytes),
    /// A freshly signed assertion each time.
    Assertion(Box<AssertionSigner>),
}

impl TokenForm {
    /// The `oauth2` form.
    pub(crate) fn client_secret(oauth2: &OAuth2Auth) -> Self {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &oauth2.client_id)
            .append_pair("client_secret", oauth2.client_secret.expose())
            .append_pair("scope", &oauth2.scopes.join(" "))
            .finish();
        Self::Fixed(Bytes::from(form))
    }

    fn body(&self) -> Result<Bytes, String> {
        match self {
            Self::Fixed(form) => Ok(form.clone()),
            Self::Assertion(signer) => signer.form(),
        }
    }
}

/// Where and how a subscription's tokens are asked for.
pub(crate) struct TokenEndpoint {
    /// The token endpoint (`endpoint`, or the assertion's `audience`).
    pub(crate) url: String,
    /// The form sent there.
    pub(crate) form: TokenForm,
}

impl ClientCredentials {
    /// Asks `token_endpoint` for tokens with the subscription's client, timeout and body limit (`setup`).
    pub(crate) fn new(token_endpoint: TokenEndpoint, setup: &LayerSetup) -> Result<Self, String> {
        let endpoint: Uri =
            token_endpoint.url.parse().map_err(|error| format!("token endpoint {}: {error}", token_endpoint.url))?;
        Ok(Self {
            client: setup.client.clone(),
            endpoint,
            form: token_endpoint.form,
            timeout: setup.read_timeout,
            body_limit: setup.body_limit,
            token: Mutex::new(None),
            metrics: setup.metrics.clone(),
        })
    }

    async fn fetch(&self) -> Result<Token, CallbackError> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(Full::new(self.form.body().map_err(failure)?))
            .map_err(|error| failure(format!("cannot build the token request: {error}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| unreachable(&self.endpoint, &error))?;
            let status = response.status();
            let body = read_prefix(response.into_body(), self.body_limit)
                .await
                .map_err(|error| failure(format!("token endpoint {}: {error}", self.endpoint)))?;
            if !status.is_success() {
                // The body is not shown: a token endpoint may echo what it was sent.
                return Err(failure(format!("token endpoint {} answered {status}", self.endpoint)));
            }
            if !body.complete {
                return Err(failure(format!(
                    "token endpoint {} answered more than {} bytes (http.maxResponseBodyBytes)",
                    self.endpoint, self.body_limit
                )));
            }
            serde_json::from_slice::<TokenResponse>(&body.bytes)
                .map_err(|error| failure(format!("token endpoint {} answered no usable token: {error}", self.endpoint)))
        };
        let response = tokio::time::timeout(self.timeout, exchange).await.map_err(|_| {
            failure(format!("token endpoint {} did not answer within {} ms", self.endpoint, self.timeout.as_millis()))
        })??;
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", response.access_token))
            .map_err(|_| failure(format!("token endpoint {} answered a token unusable in a header", self.endpoint)))?;
        authorization.set_sensitive(true);
        tracing::debug!(endpoint = %self.endpoint, expires_in = ?response.expires_in, "oauth2 token fetched");
        Ok(Token { authorization, expires_at: expiry(response.expires_in) })
    }

    /// The cached token if fresh and not `rejected`, else a new one.
    async fn current(&self, rejected: Option<&HeaderValue>) -> Result<HeaderValue, CallbackError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|token| token.is_fresh() && Some(&token.authorization) != rejected)
        {
            return Ok(token.authorization.clone());
        }
        let mut span = token_span(&self.endpoint);
        let fetched = self.fetch().await;
        if let Some(span) = &mut span {
            span.set_status(match &fetched {
                Ok(_) => SpanStatus::Ok,
                Err(error) => SpanStatus::Error(error.kind.key().into()),
            });
        }
        self.metrics.token_fetches.record(fetched.is_ok());
        let token = fetched?;
        let authorization = token.authorization.clone();
        *cached = Some(token);
        Ok(authorization)
    }
}

/// The span of a token request, a child of the attempt that needed it, when that attempt is traced.
fn token_span(endpoint: &Uri) -> Option<Span> {
    let parent = current_context()?;
    let mut span = tracer()?.start("oauth2 token", SpanKind::Client, Some(parent), false, Default::default());
    span.set("http.request.method", "POST");
    span.set("url.full", webhook_core::traced_url(endpoint));
    Some(span)
}

fn failure(detail: String) -> CallbackError {
    CallbackError { kind: CallbackErrorKind::AuthenticationFailed, detail }
}

/// A token endpoint not reached: denied by the egress policy, or unreachable.
fn unreachable(endpoint: &Uri, error: &(dyn std::error::Error + 'static)) -> CallbackError {
    match webhook_core::address_denied(error) {
        Some(denied) => CallbackError {
            kind: CallbackErrorKind::AddressDenied,
            detail: format!("token endpoint {endpoint}: {denied}"),
        },
        None => failure(format!("token endpoint {endpoint} unreachable: {error}")),
    }
}

impl Authorizer for ClientCredentials {
    fn authorization(&self) -> BoxFuture<'_, Result<HeaderValue, CallbackError>> {
        Box::pin(self.current(None))
    }

    fn refresh(&self, rejected: HeaderValue) -> BoxFuture<'_, Result<HeaderValue, CallbackError>> {
        Box::pin(async move { self.current(Some(&rejected)).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(json: &str) -> TokenResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn expires_in_is_a_number_or_a_string_of_one() {
        assert_eq!(response(r#"{"access_token":"t","expires_in":3599}"#).expires_in, Some(3599));
        assert_eq!(response(r#"{"access_token":"t","expires_in":"3599"}"#).expires_in, Some(3599));
        assert_eq!(response(r#"{"access_token":"t"}"#).expires_in, None);
        assert_eq!(response(r#"{"access_token":"t","expires_in":null}"#).expires_in, None);
        assert!(serde_json::from_str::<TokenResponse>(r#"{"access_token":"t","expires_in":"soon"}"#).is_err());
    }

    #[test]
    fn an_expiry_beyond_the_clock_means_never() {
        assert_eq!(expiry(Some(u64::MAX)), None);
        assert!(expiry(Some(60)).is_some());
    }
}
