//! The JWT assertion of `auth.jwtProfileOauth2` (RFC 7523): its key and header, read once when the subscription is
//! checked (a bad key is an error then), and a fresh signed assertion for each token request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plugin_kit::api::ConfigError;
use serde_json::{Map, Value};
use webhook_core::config::{CertChain, JwtProfileAuth, KeySource, SignatureAlgorithm};
use webhook_core::pkcs12_signing_key;

/// The `client_assertion_type` of RFC 7523.
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const PATH: &str = "auth.jwtProfileOauth2";

/// Signs the assertions of one subscription.
pub(crate) struct AssertionSigner {
    header: Header,
    key: EncodingKey,
    /// `iss`, `sub`, `aud`, `jti` and the custom claims; `iat` and `exp` are added per assertion.
    claims: Map<String, Value>,
    lifetime: Duration,
}

impl AssertionSigner {
    /// Reads the key of `auth`; errors name their path under `auth.jwtProfileOauth2`.
    pub(crate) fn new(auth: &JwtProfileAuth) -> Result<Self, ConfigError> {
        let algorithm = match auth.signature_algorithm {
            SignatureAlgorithm::RsaRs256 => Algorithm::RS256,
            SignatureAlgorithm::HmacHs256 => Algorithm::HS256,
            SignatureAlgorithm::HmacHs384 => Algorithm::HS384,
            SignatureAlgorithm::HmacHs512 => Algorithm::HS512,
        };
        let mut header = Header::new(algorithm);
        header.kid = auth.key_id.clone();
        let key = if auth.signature_algorithm.is_hmac() {
            hmac_key(auth)?
        } else {
            let (key, chain) = rsa_key(auth)?;
            if auth.x509_cert_chain == CertChain::X5c {
                header.x5c =
                    Some(chain.iter().map(|der| base64::engine::general_purpose::STANDARD.encode(der)).collect());
            }
            key
        };
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::String(auth.issuer.clone()));
        claims.insert("sub".into(), Value::String(auth.subject.clone()));
        claims.insert("aud".into(), Value::String(auth.audience.clone()));
        if let Some(jwt_id) = &auth.jwt_id {
            claims.insert("jti".into(), Value::String(jwt_id.clone()));
        }
        for claim in &auth.custom_claims {
            claims.insert(claim.name.clone(), claim.value.clone());
        }
        let signer = Self { header, key, claims, lifetime: auth.expiration() };
        signer.assertion().map_err(|error| ConfigError::new(format!("{PATH}.keyContent"), error))?;
        Ok(signer)
    }

    /// A freshly signed assertion.
    fn assertion(&self) -> Result<String, String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut claims = self.claims.clone();
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now.saturating_add(self.lifetime.as_secs())));
        jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map_err(|error| format!("cannot sign the assertion: {error}"))
    }

    /// The token request's form body, with a fresh assertion.
    pub(crate) fn form(&self) -> Result<Bytes, String> {
        let assertion = self.assertion()?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_assertion_type", ASSERTION_TYPE)
            .append_pair("client_assertion", &assertion)
            .finish();
        Ok(Bytes::from(form))
    }
}

fn hmac_key(auth: &JwtProfileAuth) -> Result<EncodingKey, ConfigError> {
    let secret = auth.key_content.expose();
    if !auth.secret_base64_encoded {
        return Ok(EncodingKey::from_secret(secret.as_bytes()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(secret.trim())
        .map(|secret| EncodingKey::from_secret(&secret))
        .map_err(|_| {
            ConfigError::new(format!("{PATH}.keyContent"), "secretBase64Encoded is set: the secret must be base64")
        })
}

/// The RSA key, and its certificate chain when it comes from a PKCS12 file.
fn rsa_key(auth: &JwtProfileAuth) -> Result<(EncodingKey, Vec<Vec<u8>>), ConfigError> {
    let path = format!("{PATH}.keyContent");
    let pem = |text: &[u8]| {
        EncodingKey::from_rsa_pem(text)
            .map_err(|_| ConfigError::new(&path, "no PEM RSA private key (PKCS#1 or PKCS#8) found"))
    };
    let read = |file: &str| {
        std::fs::read(file).map_err(|error| ConfigError::new(&path, format!("cannot read {file}: {error}")))
    };
    match auth.key_source {
        KeySource::Inline => Ok((pem(auth.key_content.expose().as_bytes())?, Vec::new())),
        KeySource::Pem => Ok((pem(&read(auth.key_content.expose())?)?, Vec::new())),
        KeySource::Pkcs12 => {
            let options = &auth.keystore_options;
            let store_password = options.store_password.as_ref().map_or("", |password| password.expose());
            if options.key_password.as_ref().is_some_and(|key| key.expose() != store_password) {
                return Err(ConfigError::new(
                    format!("{PATH}.keystoreOptions.keyPassword"),
                    "a key password other than the store's is not supported",
                ));
            }
            let bytes = read(auth.key_content.expose())?;
            let (der, chain) = pkcs12_signing_key(&bytes, store_password, options.alias.as_deref())
                .map_err(|error| ConfigError::new(&path, error))?;
            let text = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                base64::engine::general_purpose::STANDARD.encode(der)
            );
            Ok((pem(text.as_bytes())?, chain))
        }
        KeySource::Jks => Err(ConfigError::new(format!("{PATH}.keySource"), "JKS is refused")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(json: serde_json::Value) -> JwtProfileAuth {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn an_hmac_assertion_carries_the_claims_and_the_header() {
        let signer = AssertionSigner::new(&auth(serde_json::json!({
            "issuer": "gw", "subject": "svc", "audience": "http://127.0.0.1:9/token", "keyContent": "s3cret",
            "signatureAlgorithm": "HMAC_HS256", "keyId": "k1", "jwtId": "j1",
            "customClaims": [{ "name": "tenant", "value": "acme" }]
        })))
        .unwrap();
        let assertion = signer.assertion().unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.set_audience(&["http://127.0.0.1:9/token"]);
        let decoded = jsonwebtoken::decode::<Map<String, Value>>(
            &assertion,
            &jsonwebtoken::DecodingKey::from_secret(b"s3cret"),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.header.kid.as_deref(), Some("k1"));
        for (claim, value) in [("iss", "gw"), ("sub", "svc"), ("jti", "j1"), ("tenant", "acme")] {
            assert_eq!(decoded.claims[claim], value);
        }
        let lifetime = decoded.claims["exp"].as_u64().unwrap() - decoded.claims["iat"].as_u64().unwrap();
        assert_eq!(lifetime, 30);
    }

    #[test]
    fn a_key_that_is_not_one_names_its_path() {
        let error = AssertionSigner::new(&auth(serde_json::json!({
            "issuer": "gw", "subject": "svc", "audience": "http://127.0.0.1:9/token", "keyContent": "not a key"
        })))
        .err()
        .unwrap();
        assert_eq!(error.path.as_str(), "auth.jwtProfileOauth2.keyContent");
    }
}
