//! Certificates made at test time: a CA, the identities it issues, PKCS12 stores, and TLS server configurations.

use std::sync::Arc;

use base64::Engine;
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// A certificate authority for one test.
pub struct Pki {
    params: CertificateParams,
    key: KeyPair,
    /// The CA certificate, PEM.
    pub ca_pem: String,
    ca_der: Vec<u8>,
}

/// A certificate with its key.
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Pki {
    pub fn new() -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "gateway test CA");
        let certificate = params.self_signed(&key).expect("CA certificate");
        Self { ca_pem: certificate.pem(), ca_der: certificate.der().to_vec(), params, key }
    }

    /// A certificate for `names` (host names or IP addresses), issued by this CA.
    pub fn issue(&self, names: &[&str]) -> Identity {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).expect("params");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("client"));
        let certificate = params.signed_by(&key, &Issuer::from_params(&self.params, &self.key)).expect("certificate");
        Identity {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            cert_der: certificate.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }

    /// A trust store holding the CA, as base64 of a PKCS12 file.
    pub fn ca_pkcs12(&self, password: &str) -> String {
        let mut store = KeyStore::new();
        store.add_entry("ca", KeyStoreEntry::Certificate(Certificate::from_der(&self.ca_der).expect("CA der")));
        base64::engine::general_purpose::STANDARD.encode(store.writer(password).write().expect("PKCS12"))
    }

    /// A TLS server presenting `identity`; with `client_auth`, it requires a client certificate from this CA.
    pub fn server(&self, identity: &Identity, client_auth: bool) -> Arc<ServerConfig> {
        let builder =
            ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().expect("versions");
        let builder = if client_auth {
            let mut roots = RootCertStore::empty();
            roots.add(CertificateDer::from(self.ca_der.clone())).expect("CA root");
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider()).build().expect("verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = vec![CertificateDer::from(identity.cert_der.clone())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone()));
        let mut config = builder.with_single_cert(chain, key).expect("server config");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Identity {
    /// A key store holding this identity, as base64 of a PKCS12 file.
    pub fn pkcs12(&self, password: &str) -> String {
        let chain = PrivateKeyChain::new(
            b"identity".to_vec(),
            PrivateKey::from_der(&self.key_der).expect("key der"),
            [Certificate::from_der(&self.cert_der).expect("cert der")],
        );
        let mut store = KeyStore::new();
        store.add_entry("identity", KeyStoreEntry::PrivateKeyChain(chain));
        base64::engine::general_purpose::STANDARD.encode(store.writer(password).write().expect("PKCS12"))
    }
}
