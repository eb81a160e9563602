//! Standard Webhooks v1 signatures: `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,` + base64 of
//! HMAC-SHA256 of `id.timestamp.body`, one per secret, space-separated) on every request of a signed subscription.
#![warn(missing_docs)]

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;

/// `webhook-id`: the message id, the same across retries and replays.
const ID_HEADER: HeaderName = HeaderName::from_static("webhook-id");
/// `webhook-timestamp`: seconds since the epoch.
const TIMESTAMP_HEADER: HeaderName = HeaderName::from_static("webhook-timestamp");
/// `webhook-signature`.
const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("webhook-signature");

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";

/// The key of a Standard Webhooks secret (`whsec_` + base64 of the key); `None` when `secret` is not one.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX)?;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok().filter(|key| !key.is_empty())
}

/// The keys of one subscription (or of one operational webhook).
#[derive(Clone)]
pub struct Signer {
    keys: Vec<hmac::Key>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({} keys)", self.keys.len())
    }
}

impl Signer {
    /// A signer with `keys` (raw bytes); `None` without any.
    pub fn new(keys: Vec<Vec<u8>>) -> Option<Self> {
        let keys: Vec<hmac::Key> = keys.iter().map(|key| hmac::Key::new(hmac::HMAC_SHA256, key)).collect();
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// Sets the three headers for a request of `id` with `body`, sent at `timestamp` (seconds).
    pub fn sign(&self, headers: &mut HeaderMap, id: &str, timestamp: u64, body: &[u8]) {
        let mut signed = Vec::with_capacity(id.len() + body.len() + 24);
        signed.extend_from_slice(format!("{id}.{timestamp}.").as_bytes());
        signed.extend_from_slice(body);
        let signatures: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(hmac::sign(key, &signed))))
            .collect();
        let values = [
            (ID_HEADER, id.to_string()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, signatures.join(" ")),
        ];
        for (name, value) in values {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.insert(name, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_example_signature() {
        // The example of the Standard Webhooks specification.
        let key = base64::engine::general_purpose::STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signer = Signer::new(vec![key]).unwrap();
        let mut headers = HeaderMap::new();
        let body = br#"{"test": 2432232314}"#;
        signer.sign(&mut headers, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(headers["webhook-signature"], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(headers["webhook-timestamp"], "1614265330");
    }
}
