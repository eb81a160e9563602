//! `signature` of the consumer's configuration (`webhook-advanced`): the Standard Webhooks v1 secrets every request
//! is signed with.

use plugin_api::ConfigError;
use serde::Deserialize;

use super::secret::Secret;

/// `signature`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignatureConfig {
    /// `whsec_` + base64 of the key; the first signs as the current one, the rest too while a rotation lasts.
    #[serde(default)]
    pub secrets: Vec<Secret>,
}

impl SignatureConfig {
    /// The keys, in order; `None` for a secret that is not `whsec_` + base64.
    pub fn keys(&self) -> Vec<Option<Vec<u8>>> {
        self.secrets.iter().map(|secret| standard_webhooks::secret_key(secret.expose())).collect()
    }

    pub(super) fn check(&self) -> Vec<ConfigError> {
        if self.secrets.is_empty() {
            return vec![ConfigError::new("signature.secrets", "required: at least one `whsec_` secret")];
        }
        self.keys()
            .iter()
            .enumerate()
            .filter(|(_, key)| key.is_none())
            .map(|(index, _)| {
                ConfigError::new(format!("signature.secrets[{index}]"), "must be `whsec_` followed by base64")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_and_base64() {
        let config: SignatureConfig =
            serde_json::from_str(r#"{"secrets":["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","plain","whsec_!!"]}"#)
                .unwrap();
        let paths: Vec<String> = config.check().into_iter().map(|error| error.path.to_string()).collect();
        assert_eq!(paths, ["signature.secrets[1]", "signature.secrets[2]"]);
        assert_eq!(SignatureConfig::default().check()[0].path.as_str(), "signature.secrets");
    }
}
