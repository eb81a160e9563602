//! Building the callback request of one message, with the header precedence of SPEC §5.

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HOST, TE, TRANSFER_ENCODING, UPGRADE,
};
use http::{Method, Request};
use http_body_util::Full;
use plugin_api::Message;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::CallbackTarget;
use standard_webhooks::Signer;

/// Set on every call: the subscription id.
pub(crate) const CLIENT_IDENTIFIER_HEADER: HeaderName = HeaderName::from_static("x-gravitee-client-identifier");
/// Set on every call: a unique id of the request.
pub(crate) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-gravitee-request-id");

/// Set when the delivery is traced: the attempt's span as the receiver's parent (W3C Trace Context).
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Headers that describe the connection or the framing (hop-by-hop, and refused by HTTP/2); the HTTP client owns
/// them.
const RESERVED: [HeaderName; 8] = [
    HOST,
    CONTENT_LENGTH,
    TRANSFER_ENCODING,
    CONNECTION,
    TE,
    UPGRADE,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

/// What stays the same for every call of one subscription.
#[derive(Debug, Clone)]
pub(crate) struct RequestTemplate {
    target: CallbackTarget,
    client_identifier: HeaderValue,
    /// Signs every request (Standard Webhooks), when the subscription asks for it.
    signer: Option<Signer>,
}

impl RequestTemplate {
    /// A template for `target`, identifying the caller as `subscription_id`.
    pub(crate) fn new(target: CallbackTarget, subscription_id: &str) -> Self {
        let client_identifier = HeaderValue::try_from(subscription_id)
            .unwrap_or_else(|_| HeaderValue::from_static("invalid-subscription-id"));
        Self { target, client_identifier, signer: None }
    }

    /// The same, every request signed by `signer`.
    pub(crate) fn signed_by(mut self, signer: Option<Signer>) -> Self {
        self.signer = signer;
        self
    }

    /// The callback URL, for dead letter records.
    pub(crate) fn callback_url(&self) -> String {
        self.target.uri.to_string()
    }

    /// The method of each call.
    pub(crate) fn method(&self) -> &Method {
        &self.target.method
    }

    /// The call of `message` (POST unless the subscription says PUT or PATCH): gateway headers first (with
    /// `traceparent`, when the delivery is traced), then the message's, then the subscription's, then
    /// `authorization`, each added only when no higher level set the name.
    pub(crate) fn build(
        &self,
        message: &Message,
        body: Bytes,
        request_id: &str,
        authorization: Option<HeaderValue>,
        traceparent: Option<HeaderValue>,
    ) -> Request<Full<Bytes>> {
        let mut headers = HeaderMap::new();
        headers.insert(CLIENT_IDENTIFIER_HEADER, self.client_identifier.clone());
        if let Ok(value) = HeaderValue::try_from(request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        if let Some(traceparent) = traceparent {
            headers.insert(TRACEPARENT, traceparent);
        }
        if let Some(signer) = &self.signer {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
            signer.sign(&mut headers, message.id.as_str(), now, &body);
        }
        let message_headers = message.headers.iter().filter_map(|header| {
            let name = HeaderName::try_from(header.name.as_str()).ok()?;
            let value = HeaderValue::from_bytes(header.value.as_slice()).ok()?;
            Some((name, value))
        });
        add_layer(&mut headers, message_headers);
        add_layer(&mut headers, self.target.headers.iter().cloned());
        add_layer(&mut headers, authorization.map(|value| (AUTHORIZATION, value)).into_iter());

        let mut request = Request::new(Full::new(body));
        *request.method_mut() = self.target.method.clone();
        *request.uri_mut() = self.target.uri.clone();
        *request.headers_mut() = headers;
        request
    }
}

/// Adds a level of headers: a name already set by a higher level is skipped; names repeated within the level are
/// all kept.
fn add_layer(headers: &mut HeaderMap, layer: impl Iterator<Item = (HeaderName, HeaderValue)>) {
    let higher: Vec<HeaderName> = headers.keys().cloned().collect();
    for (name, value) in layer {
        if !higher.contains(&name) && !RESERVED.contains(&name) {
            headers.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::Header;

    fn message(headers: Vec<Header>) -> Message {
        Message {
            id: "0".into(),
            content: b"hello".to_vec().into(),
            headers: headers.into(),
            metadata: Default::default(),
            key: Default::default(),
            ack_token: 0,
            timestamp_ms: 0,
        }
    }

    fn template(headers: &[(&'static str, &'static str)]) -> RequestTemplate {
        let target = CallbackTarget {
            uri: "http://127.0.0.1:1/hook?q=1".parse().unwrap(),
            method: Method::POST,
            headers: headers
                .iter()
                .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_static(value)))
                .collect(),
        };
        RequestTemplate::new(target, "sub-1")
    }

    #[test]
    fn gateway_then_message_then_subscription_headers() {
        let template = template(&[("x-team", "billing"), ("x-origin", "subscription"), ("host", "evil")]);
        let message = message(vec![
            Header::new("X-Origin", "message"),
            Header::new("X-Gravitee-Client-Identifier", "spoofed"),
            Header::new("X-Multi", "1"),
            Header::new("X-Multi", "2"),
            Header::new("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Header::new("tracestate", "vendor=1"),
        ]);
        let attempt = HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01");
        let request = template.build(
            &message,
            Bytes::from_static(b"hello"),
            "req-1",
            Some(HeaderValue::from_static("Bearer t")),
            Some(attempt.clone()),
        );
        let headers = request.headers();
        assert_eq!(headers["x-gravitee-client-identifier"], "sub-1");
        assert_eq!(headers["x-gravitee-request-id"], "req-1");
        assert_eq!(headers["x-origin"], "message");
        assert_eq!(headers["x-team"], "billing");
        assert_eq!(headers.get_all("x-multi").iter().count(), 2);
        assert!(headers.get(HOST).is_none());
        assert_eq!(headers[AUTHORIZATION], "Bearer t");
        assert_eq!(headers.get_all("traceparent").iter().collect::<Vec<_>>(), [&attempt]);
        assert_eq!(headers["tracestate"], "vendor=1");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().path_and_query().unwrap().as_str(), "/hook?q=1");
    }
}
