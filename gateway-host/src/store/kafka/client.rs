//! The settings of the store's Kafka clients: brokers and security from `[store]`.

use rdkafka::config::ClientConfig;

use crate::config::StoreSection;

/// The settings every client of the store starts from: brokers and security. The values may hold the SASL
/// password: they go to librdkafka and nowhere else.
pub fn base_config(store: &StoreSection) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", store.bootstrap_servers.trim());
    config.set("security.protocol", store.security_protocol.trim());
    if store.security_protocol.to_ascii_lowercase().starts_with("sasl") {
        config
            .set("sasl.mechanism", store.sasl_mechanism.trim())
            .set("sasl.username", &store.sasl_username)
            .set("sasl.password", &store.sasl_password);
    }
    if !store.ssl_ca_location.trim().is_empty() {
        config.set("ssl.ca.location", store.ssl_ca_location.trim());
    }
    config
}
