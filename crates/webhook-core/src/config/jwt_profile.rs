//! `auth.jwtProfileOauth2` (RFC 7523): the gateway signs a JWT assertion and trades it at `audience` for a token,
//! as the reference product's current version does.

use std::time::Duration;

use plugin_api::ConfigError;
use serde::Deserialize;

use super::secret::Secret;
use super::subscription::parse_callback_url;

/// An assertion lives at most a day.
const MAX_EXPIRATION: Duration = Duration::from_secs(86_400);
/// Claims the gateway sets itself.
const RESERVED_CLAIMS: [&str; 6] = ["iss", "sub", "aud", "exp", "iat", "jti"];

/// `auth.jwtProfileOauth2`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtProfileAuth {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`, and the token endpoint the assertion is posted to.
    pub audience: String,
    /// How long an assertion is valid, in `expirationTimeUnit`s.
    #[serde(default = "default_expiration_time")]
    pub expiration_time: u64,
    /// The unit of `expirationTime`.
    #[serde(default)]
    pub expiration_time_unit: TimeUnit,
    /// How the assertion is signed.
    #[serde(default)]
    pub signature_algorithm: SignatureAlgorithm,
    /// Where the key is.
    #[serde(default)]
    pub key_source: KeySource,
    /// `INLINE`: the PEM private key (RSA) or the secret (HMAC); `PEM`, `PKCS12`: the file's path.
    pub key_content: Secret,
    /// HMAC: the secret is base64.
    #[serde(default)]
    pub secret_base64_encoded: bool,
    /// `jti`.
    #[serde(default)]
    pub jwt_id: Option<String>,
    /// The header's `kid`.
    #[serde(default)]
    pub key_id: Option<String>,
    /// `X5C`: the header carries the certificate chain of a PKCS12 key.
    #[serde(default)]
    pub x509_cert_chain: CertChain,
    /// PKCS12: which entry and its passwords.
    #[serde(default)]
    pub keystore_options: KeystoreOptions,
    /// More claims, names unique.
    #[serde(default)]
    pub custom_claims: Vec<Claim>,
}

fn default_expiration_time() -> u64 {
    30
}

/// `expirationTimeUnit`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeUnit {
    /// The default.
    #[default]
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
}

/// `signatureAlgorithm`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignatureAlgorithm {
    /// RSA with SHA-256, the default.
    #[default]
    #[serde(rename = "RSA_RS256")]
    RsaRs256,
    /// HMAC with SHA-256.
    #[serde(rename = "HMAC_HS256")]
    HmacHs256,
    /// HMAC with SHA-384.
    #[serde(rename = "HMAC_HS384")]
    HmacHs384,
    /// HMAC with SHA-512.
    #[serde(rename = "HMAC_HS512")]
    HmacHs512,
}

impl SignatureAlgorithm {
    /// Whether the key is a shared secret.
    pub fn is_hmac(self) -> bool {
        !matches!(self, Self::RsaRs256)
    }
}

/// `keySource`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum KeySource {
    /// `keyContent` is the key.
    #[default]
    Inline,
    /// `keyContent` is a PEM file's path.
    Pem,
    /// `keyContent` is a PKCS12 file's path.
    Pkcs12,
    /// Refused with the command that converts it.
    Jks,
}

/// `x509CertChain`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum CertChain {
    /// No chain in the header.
    #[default]
    None,
    /// The chain in the header's `x5c`.
    X5c,
}

/// `keystoreOptions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeystoreOptions {
    /// The entry; the first private key when absent.
    #[serde(default)]
    pub alias: Option<String>,
    /// The store's password.
    #[serde(default)]
    pub store_password: Option<Secret>,
    /// The key's password; the store's when absent.
    #[serde(default)]
    pub key_password: Option<Secret>,
}

/// One custom claim.
#[derive(Debug, Clone, Deserialize)]
pub struct Claim {
    /// Its name.
    pub name: String,
    /// Its value (JSON: a string, a number, an object...).
    pub value: serde_json::Value,
}

impl JwtProfileAuth {
    /// How long an assertion is valid.
    pub fn expiration(&self) -> Duration {
        let unit = match self.expiration_time_unit {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3_600,
            TimeUnit::Days => 86_400,
        };
        Duration::from_secs(self.expiration_time.saturating_mul(unit))
    }

    pub(super) fn check(&self, path: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if let Err(message) = parse_callback_url(&self.audience) {
            errors.push(ConfigError::new(format!("{path}.audience"), format!("the token endpoint: {message}")));
        }
        for (name, value) in [("issuer", &self.issuer), ("subject", &self.subject)] {
            if value.trim().is_empty() {
                errors.push(ConfigError::new(format!("{path}.{name}"), "required"));
            }
        }
        if self.expiration_time == 0 || self.expiration() > MAX_EXPIRATION {
            errors.push(ConfigError::new(format!("{path}.expirationTime"), "must be more than 0 and at most a day"));
        }
        match (self.key_source, self.signature_algorithm.is_hmac()) {
            (KeySource::Jks, _) => errors.push(ConfigError::new(
                format!("{path}.keySource"),
                "JKS is not supported; convert it to PKCS12: keytool -importkeystore -srckeystore store.jks \
                 -destkeystore store.p12 -deststoretype PKCS12",
            )),
            (KeySource::Pem | KeySource::Pkcs12, true) => errors.push(ConfigError::new(
                format!("{path}.keySource"),
                "an HMAC secret is given INLINE; PEM and PKCS12 hold RSA keys",
            )),
            _ => {}
        }
        if self.x509_cert_chain == CertChain::X5c && self.key_source != KeySource::Pkcs12 {
            errors.push(ConfigError::new(format!("{path}.x509CertChain"), "X5C needs a PKCS12 key source"));
        }
        for (index, claim) in self.custom_claims.iter().enumerate() {
            let claim_path = format!("{path}.customClaims[{index}].name");
            if claim.name.trim().is_empty() || RESERVED_CLAIMS.contains(&claim.name.as_str()) {
                errors.push(ConfigError::new(
                    claim_path,
                    format!("must be a name other than {}", RESERVED_CLAIMS.join(", ")),
                ));
            } else if self.custom_claims[..index].iter().any(|other| other.name == claim.name) {
                errors.push(ConfigError::new(claim_path, format!("`{}` is given twice", claim.name)));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> JwtProfileAuth {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_reference_fields_parse_with_their_defaults() {
        let auth = profile(r#"{"issuer":"i","subject":"s","audience":"http://127.0.0.1:9/token","keyContent":"k"}"#);
        assert_eq!(auth.signature_algorithm, SignatureAlgorithm::RsaRs256);
        assert_eq!(auth.key_source, KeySource::Inline);
        assert_eq!(auth.expiration(), Duration::from_secs(30));
        assert!(auth.check("p").is_empty());
    }

    #[test]
    fn bad_settings_name_their_path() {
        let auth = profile(
            r#"{"issuer":"i","subject":"s","audience":"nowhere","keyContent":"k","keySource":"JKS",
                "expirationTime":2,"expirationTimeUnit":"DAYS","x509CertChain":"X5C",
                "customClaims":[{"name":"tenant","value":"a"},{"name":"tenant","value":"b"},{"name":"exp","value":1}]}"#,
        );
        let paths: Vec<String> =
            auth.check("auth.jwtProfileOauth2").into_iter().map(|error| error.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "auth.jwtProfileOauth2.audience",
                "auth.jwtProfileOauth2.expirationTime",
                "auth.jwtProfileOauth2.keySource",
                "auth.jwtProfileOauth2.x509CertChain",
                "auth.jwtProfileOauth2.customClaims[1].name",
                "auth.jwtProfileOauth2.customClaims[2].name",
            ]
        );
    }
}
