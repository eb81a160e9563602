//! The rustls client configuration of one subscription, built (and so checked) when the subscription is created:
//! bad certificates, keys or passwords are errors then, not at the first message.

mod stores;
mod verifiers;

pub use stores::pkcs12_signing_key;

use std::sync::{Arc, OnceLock};

use plugin_api::ConfigError;
use rustls::client::{ClientSessionMemoryCache, Resumption, WebPkiServerVerifier};
use rustls::{ClientConfig, RootCertStore};

use crate::config::SslConfig;
use stores::{client_identity, trusted_certificates};
use verifiers::RelaxedVerifier;

/// The TLS configuration `ssl` asks for; every error names its path under `ssl`.
pub(crate) fn client_config(ssl: &SslConfig) -> Result<ClientConfig, Vec<ConfigError>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut errors = Vec::new();
    let roots = match &ssl.trust_store {
        Some(store) => {
            trusted_certificates(store, "ssl.trustStore").map(Arc::new).map_err(|error| errors.push(error)).ok()
        }
        None => Some(system_roots()),
    };
    let identity = match &ssl.key_store {
        Some(store) => client_identity(store, "ssl.keyStore").map(Some).unwrap_or_else(|error| {
            errors.push(error);
            None
        }),
        None => None,
    };
    let (Some(roots), true) = (roots, errors.is_empty()) else {
        return Err(errors);
    };
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = if ssl.trust_all {
        Arc::new(RelaxedVerifier::any_certificate(Arc::clone(&provider)))
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|error| vec![ConfigError::new("ssl.trustStore", format!("no usable CA certificate: {error}"))])?;
        if ssl.hostname_verifier {
            webpki
        } else {
            Arc::new(RelaxedVerifier::any_name(webpki, Arc::clone(&provider)))
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| vec![ConfigError::new("ssl", error.to_string())])?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    // ALPN is set by the HTTPS connector (HTTP/1.1).
    let mut config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|error| vec![ConfigError::new("ssl.keyStore", format!("unusable certificate or key: {error}"))])?,
        None => builder.with_no_client_auth(),
    };
    config.resumption = Resumption::store(session_cache());
    Ok(config)
}

/// TLS sessions kept for resumption, shared by every subscription (they are keyed by server name); one cache per
/// subscription would cost each idle subscription the memory of 256 sessions.
fn session_cache() -> Arc<ClientSessionMemoryCache> {
    /// Sessions kept in all.
    const SESSIONS: usize = 4096;
    static CACHE: OnceLock<Arc<ClientSessionMemoryCache>> = OnceLock::new();
    Arc::clone(CACHE.get_or_init(|| Arc::new(ClientSessionMemoryCache::new(SESSIONS))))
}

/// The system's CA certificates (the default trust), read once and shared by every subscription.
fn system_roots() -> Arc<RootCertStore> {
    static SYSTEM_ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    Arc::clone(SYSTEM_ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(error = %error, "a system CA certificate could not be read");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "system CA certificates loaded");
        Arc::new(roots)
    }))
}
