//! Where the secrets of subscriptions and API definitions sit, and what is done to them: masked in answers,
//! restored from the mask on updates, sealed in the store.

use std::sync::LazyLock;

use serde_json::Value;

use crate::paths::{at, dotted, walk, Step};
use crate::sealer::{SealError, Sealer};

/// What every secret reads as in an answer of the management API.
pub const MASK: &str = "********";

/// The secret fields of the webhook entrypoints' subscription configuration (`entrypointConfiguration`), as
/// patterns: keys separated by `/`, `*` for every element.
const SUBSCRIPTION: &[&str] = &[
    "auth/basic/password",
    "auth/token/value",
    "auth/oauth2/clientSecret",
    "auth/jwtProfileOauth2/keyContent",
    "auth/jwtProfileOauth2/keystoreOptions/storePassword",
    "auth/jwtProfileOauth2/keystoreOptions/keyPassword",
    "ssl/keyStore/content",
    "ssl/keyStore/keyContent",
    "ssl/keyStore/password",
    "ssl/trustStore/password",
    "signature/secrets/*",
];

/// The secret fields of an endpoint's shared configuration (the kafka endpoint's).
const SHARED_CONFIGURATION: &[&str] = &[
    "security/sasl/saslJaasConfig",
    "security/ssl/keyStore/content",
    "security/ssl/keyStore/keyContent",
    "security/ssl/keyStore/password",
    "security/ssl/trustStore/password",
];

/// Where shared configurations sit in an API definition.
const SHARED_CONFIGURATION_PLACES: &[&str] =
    &["endpointGroups/*/sharedConfiguration", "endpointGroups/*/endpoints/*/sharedConfigurationOverride"];

/// The secret fields of an API definition outside its shared configurations.
const API: &[&str] = &["listeners/*/entrypoints/*/configuration/proxy/password"];

/// The secret fields of one kind of document.
pub struct SecretFields {
    patterns: Vec<Vec<String>>,
}

static SUBSCRIPTION_FIELDS: LazyLock<SecretFields> = LazyLock::new(|| SecretFields::from_patterns(SUBSCRIPTION));

static API_FIELDS: LazyLock<SecretFields> = LazyLock::new(|| {
    let shared = SHARED_CONFIGURATION_PLACES
        .iter()
        .flat_map(|place| SHARED_CONFIGURATION.iter().map(move |field| format!("{place}/{field}")));
    let patterns: Vec<String> = API.iter().map(|field| field.to_string()).chain(shared).collect();
    SecretFields::from_patterns(&patterns)
});

impl SecretFields {
    /// The secrets of a subscription's `entrypointConfiguration` (both webhook plugins' schema).
    pub fn subscription() -> &'static SecretFields {
        &SUBSCRIPTION_FIELDS
    }

    /// The secrets of an API definition (not wrapped in the reference's export form): the entrypoints' proxy
    /// password, the endpoints' SASL and TLS secrets.
    pub fn api() -> &'static SecretFields {
        &API_FIELDS
    }

    fn from_patterns(patterns: &[impl AsRef<str>]) -> Self {
        Self {
            patterns: patterns.iter().map(|pattern| pattern.as_ref().split('/').map(String::from).collect()).collect(),
        }
    }

    /// Every dotted pattern, `*` for any element (for documentation and tests).
    pub fn patterns(&self) -> Vec<String> {
        self.patterns.iter().map(|pattern| pattern.join(".")).collect()
    }

    fn each(&self, document: &mut Value, visit: &mut dyn FnMut(&[Step], &mut Value)) {
        for pattern in &self.patterns {
            walk(document, pattern, visit);
        }
    }

    /// Replaces every secret of `document` that has a value by [`MASK`].
    pub fn mask(&self, document: &mut Value) {
        self.each(document, &mut |_, value| {
            if !value.is_null() {
                *value = Value::String(MASK.to_string());
            }
        });
    }

    /// Puts back, wherever `document` sends the mask, the value `stored` has at the same place. Returns the paths
    /// of the masks that have no stored value to stand for (the caller refuses them).
    pub fn restore(&self, document: &mut Value, stored: &Value) -> Result<(), Vec<String>> {
        let mut unmatched = Vec::new();
        self.each(document, &mut |path, value| {
            if value.as_str() != Some(MASK) {
                return;
            }
            match at(stored, path).filter(|kept| !kept.is_null() && kept.as_str() != Some(MASK)) {
                Some(kept) => *value = kept.clone(),
                None => unmatched.push(dotted(path)),
            }
        });
        if unmatched.is_empty() {
            Ok(())
        } else {
            Err(unmatched)
        }
    }

    /// Encrypts every secret of `document` that has a value (a plain document: a value that looks sealed is
    /// sealed again, so that it opens to what was sent).
    pub fn seal(&self, document: &mut Value, sealer: &Sealer) {
        self.each(document, &mut |_, value| {
            if !value.is_null() {
                *value = Value::String(sealer.seal(&value.to_string()));
            }
        });
    }

    /// Decrypts every sealed secret of `document`; a value written before sealing is left as it is.
    pub fn open(&self, document: &mut Value, sealer: &Sealer) -> Result<(), SealError> {
        let mut failure = None;
        self.each(document, &mut |path, value| {
            if failure.is_some() || !Sealer::is_sealed(value) {
                return;
            }
            let opened = sealer
                .open(value.as_str().unwrap_or_default())
                .and_then(|text| serde_json::from_str(&text).map_err(|_| SealError::Corrupt));
            match opened {
                Ok(plain) => *value = plain,
                Err(error) => failure = Some(error.at(dotted(path))),
            }
        });
        failure.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn configuration() -> Value {
        json!({
            "callbackUrl": "https://example.com/hook",
            "auth": {"type": "basic", "basic": {"username": "u", "password": "p4ss"}},
            "ssl": {"keyStore": {"type": "PEM", "certContent": "CERT", "keyContent": "KEY"}},
            "signature": {"secrets": ["whsec_a", "whsec_b"]}
        })
    }

    #[test]
    fn masks_every_secret_and_nothing_else() {
        let mut document = configuration();
        SecretFields::subscription().mask(&mut document);
        assert_eq!(document["auth"]["basic"], json!({"username": "u", "password": MASK}));
        assert_eq!(document["ssl"]["keyStore"]["certContent"], "CERT");
        assert_eq!(document["ssl"]["keyStore"]["keyContent"], MASK);
        assert_eq!(document["signature"]["secrets"], json!([MASK, MASK]));
        assert_eq!(document["callbackUrl"], "https://example.com/hook");
    }

    #[test]
    fn the_mask_sent_back_keeps_the_stored_value() {
        let stored = configuration();
        let mut sent = stored.clone();
        SecretFields::subscription().mask(&mut sent);
        sent["signature"]["secrets"][0] = json!("whsec_new");
        SecretFields::subscription().restore(&mut sent, &stored).unwrap();
        assert_eq!(sent["auth"]["basic"]["password"], "p4ss");
        assert_eq!(sent["signature"]["secrets"], json!(["whsec_new", "whsec_b"]));
    }

    #[test]
    fn a_mask_with_nothing_stored_is_refused_with_its_path() {
        let mut sent = json!({"auth": {"type": "token", "token": {"value": MASK}}});
        let refused = SecretFields::subscription().restore(&mut sent, &Value::Null).unwrap_err();
        assert_eq!(refused, vec!["auth.token.value".to_string()]);
    }

    #[test]
    fn api_secrets_sit_in_entrypoints_and_shared_configurations() {
        let mut definition = json!({
            "listeners": [{"entrypoints": [{"configuration": {"proxy": {"username": "u", "password": "pp"}}}]}],
            "endpointGroups": [{
                "sharedConfiguration": {"security": {"sasl": {"saslMechanism": "PLAIN", "saslJaasConfig": "jaas"}}},
                "endpoints": [{"sharedConfigurationOverride": {"security": {"ssl": {"keyStore": {"password": "kp", "type": "PKCS12"}}}}}]
            }]
        });
        SecretFields::api().mask(&mut definition);
        assert_eq!(definition["listeners"][0]["entrypoints"][0]["configuration"]["proxy"]["password"], MASK);
        assert_eq!(definition["endpointGroups"][0]["sharedConfiguration"]["security"]["sasl"]["saslJaasConfig"], MASK);
        let overridden = &definition["endpointGroups"][0]["endpoints"][0]["sharedConfigurationOverride"];
        assert_eq!(overridden["security"]["ssl"]["keyStore"], json!({"password": MASK, "type": "PKCS12"}));
    }

    #[test]
    fn sealed_secrets_open_to_what_they_were() {
        let sealer = Sealer::new(&[7; 32]).unwrap();
        let mut document = configuration();
        SecretFields::subscription().seal(&mut document, &sealer);
        let text = document.to_string();
        assert!(!text.contains("p4ss") && !text.contains("KEY") && !text.contains("whsec_a"), "{text}");
        SecretFields::subscription().open(&mut document, &sealer).unwrap();
        assert_eq!(document, configuration());
    }

    #[test]
    fn a_sent_value_that_looks_sealed_opens_as_sent() {
        let sealer = Sealer::new(&[7; 32]).unwrap();
        let mut document = json!({"auth": {"token": {"value": "sealed:v1:AAAA"}}});
        SecretFields::subscription().seal(&mut document, &sealer);
        SecretFields::subscription().open(&mut document, &sealer).unwrap();
        assert_eq!(document["auth"]["token"]["value"], "sealed:v1:AAAA");
    }

    #[test]
    fn another_key_does_not_open_them() {
        let mut document = configuration();
        SecretFields::subscription().seal(&mut document, &Sealer::new(&[7; 32]).unwrap());
        let error = SecretFields::subscription().open(&mut document, &Sealer::new(&[8; 32]).unwrap()).unwrap_err();
        assert!(error.to_string().contains("auth.basic.password"), "{error}");
    }
}
