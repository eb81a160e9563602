//! `ssl` of the consumer's configuration (SPEC §4, §7): how https callbacks are verified and authenticated.

use serde::Deserialize;

use super::secret::Secret;

/// TLS settings of the callback.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SslConfig {
    /// Check that the certificate names the callback's host.
    #[serde(default = "verify_by_default")]
    pub hostname_verifier: bool,
    /// Accept any certificate (testing only).
    #[serde(default)]
    pub trust_all: bool,
    /// CA certificates to trust instead of the system's.
    #[serde(default)]
    pub trust_store: Option<StoreConfig>,
    /// The client certificate and key, for mutual TLS.
    #[serde(default)]
    pub key_store: Option<StoreConfig>,
}

/// Certificates are checked unless told otherwise.
fn verify_by_default() -> bool {
    true
}

impl Default for SslConfig {
    fn default() -> Self {
        Self { hostname_verifier: true, trust_all: false, trust_store: None, key_store: None }
    }
}

/// A trust or key store.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreConfig {
    /// The store's format.
    #[serde(rename = "type")]
    pub store_type: StoreType,
    /// A file: PEM, or PKCS12.
    #[serde(default)]
    pub path: Option<String>,
    /// The content: PEM text, or base64 of a PKCS12 file.
    #[serde(default)]
    pub content: Option<String>,
    /// The PKCS12 password.
    #[serde(default)]
    pub password: Option<Secret>,
    /// PEM key store: the certificate chain's file.
    #[serde(default)]
    pub cert_path: Option<String>,
    /// PEM key store: the certificate chain.
    #[serde(default)]
    pub cert_content: Option<String>,
    /// PEM key store: the private key's file.
    #[serde(default)]
    pub key_path: Option<String>,
    /// PEM key store: the private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub key_content: Option<Secret>,
}

/// `type` of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StoreType {
    /// PEM text.
    Pem,
    /// PKCS#12.
    Pkcs12,
    /// Java KeyStore: refused with how to convert it.
    Jks,
}
