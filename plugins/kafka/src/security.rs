//! `security` → librdkafka settings. The values may hold secrets: they go to librdkafka and nowhere else.

use plugin_kit::api::ConfigError;

use crate::config::{Protocol, Sasl, Security, Ssl, StoreSource};

const SECURITY: &str = "sharedConfiguration.security";

/// librdkafka settings for `security`, or the first problem with it.
pub(crate) fn client_settings(security: &Security) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let mut settings = vec![("security.protocol", protocol_name(security.protocol).to_string())];
    if matches!(security.protocol, Protocol::SaslPlaintext | Protocol::SaslSsl) {
        let sasl = security
            .sasl
            .as_ref()
            .ok_or_else(|| ConfigError::new(format!("{SECURITY}.sasl"), "required with a SASL protocol"))?;
        settings.extend(sasl_settings(sasl)?);
    }
    if matches!(security.protocol, Protocol::Ssl | Protocol::SaslSsl) {
        if let Some(ssl) = &security.ssl {
            settings.extend(ssl_settings(ssl)?);
        }
    }
    Ok(settings)
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Plaintext => "plaintext",
        Protocol::SaslPlaintext => "sasl_plaintext",
        Protocol::SaslSsl => "sasl_ssl",
        Protocol::Ssl => "ssl",
    }
}

fn sasl_settings(sasl: &Sasl) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let mechanism = sasl.sasl_mechanism.to_ascii_uppercase();
    if !matches!(mechanism.as_str(), "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512") {
        return Err(ConfigError::new(
            format!("{SECURITY}.sasl.saslMechanism"),
            format!("`{}` is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", sasl.sasl_mechanism),
        ));
    }
    let jaas_path = format!("{SECURITY}.sasl.saslJaasConfig");
    let jaas = sasl.sasl_jaas_config.as_deref().ok_or_else(|| ConfigError::new(&jaas_path, "required"))?;
    let (Some(username), Some(password)) = (jaas_value(jaas, "username"), jaas_value(jaas, "password")) else {
        return Err(ConfigError::new(jaas_path, "must carry username=\"...\" and password=\"...\""));
    };
    Ok(vec![("sasl.mechanism", mechanism), ("sasl.username", username), ("sasl.password", password)])
}

/// The quoted value of `key="value"` in a JAAS line.
fn jaas_value(jaas: &str, key: &str) -> Option<String> {
    let start = jaas.find(&format!("{key}=\""))? + key.len() + 2;
    let length = jaas[start..].find('"')?;
    Some(jaas[start..start + length].to_string())
}

fn ssl_settings(ssl: &Ssl) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let mut settings = Vec::new();
    if let Some(trust) = &ssl.trust_store {
        let path = format!("{SECURITY}.ssl.trustStore");
        match store_type(trust, &path)? {
            StoreType::Pem => match (&trust.content, &trust.path) {
                (Some(content), _) => settings.push(("ssl.ca.pem", content.clone())),
                (None, Some(file)) => settings.push(("ssl.ca.location", file.clone())),
                (None, None) => return Err(ConfigError::new(path, "a PEM trust store needs `content` or `path`")),
            },
            StoreType::Pkcs12 => {
                return Err(ConfigError::new(
                    path,
                    "PKCS12 trust stores are not read by librdkafka; convert it: openssl pkcs12 -in store.p12 -nokeys -out ca.pem",
                ))
            }
        }
    }
    if let Some(key) = &ssl.key_store {
        let path = format!("{SECURITY}.ssl.keyStore");
        match store_type(key, &path)? {
            StoreType::Pem => {
                settings.push(pem_part(
                    &key.cert_content,
                    &key.cert_path,
                    "ssl.certificate.pem",
                    "ssl.certificate.location",
                    &path,
                )?);
                settings.push(pem_part(&key.key_content, &key.key_path, "ssl.key.pem", "ssl.key.location", &path)?);
                if let Some(password) = &key.password {
                    settings.push(("ssl.key.password", password.clone()));
                }
            }
            StoreType::Pkcs12 => {
                let file =
                    key.path.clone().ok_or_else(|| ConfigError::new(&path, "a PKCS12 key store needs `path`"))?;
                settings.push(("ssl.keystore.location", file));
                settings.push(("ssl.keystore.password", key.password.clone().unwrap_or_default()));
            }
        }
    }
    let verify = !matches!(ssl.endpoint_identification_algorithm.as_deref(), Some("" | "none" | "NONE"));
    settings.push(("ssl.endpoint.identification.algorithm", if verify { "https" } else { "none" }.to_string()));
    Ok(settings)
}

enum StoreType {
    Pem,
    Pkcs12,
}

fn store_type(store: &StoreSource, path: &str) -> Result<StoreType, ConfigError> {
    match store.store_type.to_ascii_uppercase().as_str() {
        "PEM" => Ok(StoreType::Pem),
        "PKCS12" => Ok(StoreType::Pkcs12),
        "JKS" => Err(ConfigError::new(
            format!("{path}.type"),
            "JKS is not supported; convert it: keytool -importkeystore -srckeystore store.jks -destkeystore store.p12 -deststoretype PKCS12",
        )),
        other => Err(ConfigError::new(format!("{path}.type"), format!("`{other}` is not PEM, PKCS12 or JKS"))),
    }
}

fn pem_part(
    content: &Option<String>,
    file: &Option<String>,
    content_key: &'static str,
    file_key: &'static str,
    path: &str,
) -> Result<(&'static str, String), ConfigError> {
    match (content, file) {
        (Some(content), _) => Ok((content_key, content.clone())),
        (None, Some(file)) => Ok((file_key, file.clone())),
        (None, None) => Err(ConfigError::new(path, format!("a PEM key store needs {content_key} content or a path"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(json: &str) -> Security {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn sasl_credentials_come_from_the_jaas_line() {
        let settings = client_settings(&security(
            r#"{"protocol":"SASL_PLAINTEXT","sasl":{"saslMechanism":"scram-sha-256",
                "saslJaasConfig":"org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3cret\";"}}"#,
        ))
        .unwrap();
        assert!(settings.contains(&("security.protocol", "sasl_plaintext".into())));
        assert!(settings.contains(&("sasl.mechanism", "SCRAM-SHA-256".into())));
        assert!(settings.contains(&("sasl.username", "alice".into())));
        assert!(settings.contains(&("sasl.password", "s3cret".into())));
    }

    #[test]
    fn unsupported_settings_are_refused_with_their_path_and_no_secret() {
        let error = client_settings(&security(
            r#"{"protocol":"SASL_SSL","sasl":{"saslMechanism":"PLAIN","saslJaasConfig":"password=\"s3cret\""}}"#,
        ))
        .unwrap_err();
        assert_eq!(error.path.as_str(), "sharedConfiguration.security.sasl.saslJaasConfig");
        assert!(!error.message.contains("s3cret"));
        let error = client_settings(&security(r#"{"protocol":"SSL","ssl":{"trustStore":{"type":"JKS","path":"/x"}}}"#))
            .unwrap_err();
        assert_eq!(error.path.as_str(), "sharedConfiguration.security.ssl.trustStore.type");
        assert!(error.message.contains("keytool"));
    }

    #[test]
    fn tls_stores_map_to_librdkafka_settings() {
        let settings = client_settings(&security(
            r#"{"protocol":"SSL","ssl":{"trustStore":{"type":"PEM","content":"CA"},
                "keyStore":{"type":"PEM","certContent":"CERT","keyPath":"/k.pem"},"endpointIdentificationAlgorithm":""}}"#,
        ))
        .unwrap();
        for expected in [
            ("ssl.ca.pem", "CA"),
            ("ssl.certificate.pem", "CERT"),
            ("ssl.key.location", "/k.pem"),
            ("ssl.endpoint.identification.algorithm", "none"),
        ] {
            assert!(settings.contains(&(expected.0, expected.1.to_string())), "{expected:?}");
        }
    }
}
