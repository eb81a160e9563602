//! Reading trust and key stores: PEM (content or file) and PKCS#12 (base64 content or file). JKS is refused with
//! the command that converts it.

use base64::Engine;
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use plugin_api::ConfigError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::RootCertStore;

use crate::config::{StoreConfig, StoreType};

const JKS_HINT: &str = "JKS is not supported; convert it to PKCS12: \
keytool -importkeystore -srckeystore store.jks -destkeystore store.p12 -deststoretype PKCS12";

/// The CA certificates of a trust store.
pub(super) fn trusted_certificates(store: &StoreConfig, path: &str) -> Result<RootCertStore, ConfigError> {
    let certificates = match store.store_type {
        StoreType::Jks => return Err(ConfigError::new(format!("{path}.type"), JKS_HINT)),
        StoreType::Pem => pem_certificates(&pem_text(store.content.as_deref(), store.path.as_deref(), path)?, path)?,
        StoreType::Pkcs12 => {
            let keystore = pkcs12(store, path)?;
            keystore
                .entries()
                .flat_map(|(_, entry)| match entry {
                    KeyStoreEntry::Certificate(certificate) => vec![certificate.as_der().to_vec()],
                    KeyStoreEntry::PrivateKeyChain(chain) => {
                        chain.certs().iter().map(|cert| cert.as_der().to_vec()).collect()
                    }
                    KeyStoreEntry::Secret(_) => Vec::new(),
                })
                .map(CertificateDer::from)
                .collect()
        }
    };
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(ConfigError::new(path, "holds no usable CA certificate"));
    }
    Ok(roots)
}

/// The certificate chain and private key of a key store.
pub(super) fn client_identity(
    store: &StoreConfig,
    path: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ConfigError> {
    match store.store_type {
        StoreType::Jks => Err(ConfigError::new(format!("{path}.type"), JKS_HINT)),
        StoreType::Pem => {
            let chain_path = format!("{path}.certContent");
            let chain = pem_certificates(
                &pem_text(store.cert_content.as_deref(), store.cert_path.as_deref(), &chain_path)?,
                &chain_path,
            )?;
            let key_path = format!("{path}.keyContent");
            let key_text =
                pem_text(store.key_content.as_ref().map(|key| key.expose()), store.key_path.as_deref(), &key_path)?;
            let key = PrivateKeyDer::from_pem_slice(key_text.as_bytes())
                .map_err(|_| ConfigError::new(&key_path, "no PEM private key (PKCS#8, PKCS#1 or SEC1) found"))?;
            Ok((chain, key))
        }
        StoreType::Pkcs12 => {
            let keystore = pkcs12(store, path)?;
            let (_, chain) = keystore
                .private_key_chain()
                .ok_or_else(|| ConfigError::new(path, "the PKCS12 store holds no private key with its certificate"))?;
            let certificates = chain.certs().iter().map(|cert| CertificateDer::from(cert.as_der().to_vec())).collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
            Ok((certificates, key))
        }
    }
}

/// PEM text from content or a file; exactly one is expected.
fn pem_text(content: Option<&str>, file: Option<&str>, path: &str) -> Result<String, ConfigError> {
    match (content, file) {
        (Some(content), _) => Ok(content.to_string()),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map_err(|error| ConfigError::new(path, format!("cannot read {file}: {error}"))),
        (None, None) => Err(ConfigError::new(path, "required: the PEM content, or a path to it")),
    }
}

fn pem_certificates(text: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|error| ConfigError::new(path, format!("not valid PEM: {error:?}")))?;
    if certificates.is_empty() {
        return Err(ConfigError::new(path, "no PEM certificate found"));
    }
    Ok(certificates)
}

fn pkcs12(store: &StoreConfig, path: &str) -> Result<KeyStore, ConfigError> {
    let bytes = match (&store.content, &store.path) {
        (Some(content), _) => base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map_err(|_| ConfigError::new(format!("{path}.content"), "a PKCS12 content must be base64"))?,
        (None, Some(file)) => std::fs::read(file)
            .map_err(|error| ConfigError::new(format!("{path}.path"), format!("cannot read {file}: {error}")))?,
        (None, None) => {
            return Err(ConfigError::new(path, "required: the base64 content, or a path to the PKCS12 file"))
        }
    };
    let password = store.password.as_ref().map_or("", |password| password.expose());
    KeyStore::from_pkcs12(&bytes, password, Pkcs12ImportPolicy::Relaxed).map_err(|error| {
        ConfigError::new(path, format!("not a readable PKCS12 store (wrong password?): {}", describe(&error)))
    })
}

/// A signing key of a PKCS12 file (`bytes`): the private key (PKCS#8 DER) of the entry `alias` (else the first
/// private key) and its certificate chain (DER, leaf first). The error never holds the password.
pub fn pkcs12_signing_key(
    bytes: &[u8],
    password: &str,
    alias: Option<&str>,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), String> {
    let keystore = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Relaxed)
        .map_err(|error| format!("not a readable PKCS12 store (wrong password?): {}", describe(&error)))?;
    let chain = match alias {
        Some(alias) => match keystore.entry(alias) {
            Some(KeyStoreEntry::PrivateKeyChain(chain)) => chain,
            _ => return Err(format!("the PKCS12 store holds no private key named `{alias}`")),
        },
        None => keystore.private_key_chain().map(|(_, chain)| chain).ok_or("the PKCS12 store holds no private key")?,
    };
    let certificates = chain.certs().iter().map(|cert| cert.as_der().to_vec()).collect();
    Ok((chain.key().as_der().to_vec(), certificates))
}

/// The error's kind, never anything that could hold the password.
fn describe(error: &p12_keystore::error::Error) -> String {
    format!("{error:?}").split(['(', '{']).next().unwrap_or("error").trim().to_string()
}
