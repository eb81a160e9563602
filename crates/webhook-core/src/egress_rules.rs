//! The egress policy applied to a consumer configuration when it is checked: the literal addresses of the URLs the
//! gateway will call (callback, token endpoint, JWT audience) and the files it names (TLS stores, JWT keys), which
//! are replaced by the resolved files under the operator's folder.

use egress::EgressPolicy;
use http::Uri;
use plugin_api::ConfigError;

use crate::config::{AuthConfig, KeySource, Secret, SubscriptionConfig};

/// Every refusal of `policy` in `config`, each with its path; the files `config` names are resolved in place.
pub(crate) fn apply(policy: &EgressPolicy, config: &mut SubscriptionConfig) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    check_address(policy, &config.callback_url, "callbackUrl", &mut errors);
    match &mut config.auth {
        AuthConfig::Oauth2 { oauth2 } => check_address(policy, &oauth2.endpoint, "auth.oauth2.endpoint", &mut errors),
        AuthConfig::JwtProfileOauth2 { jwt_profile_oauth2: profile } => {
            check_address(policy, &profile.audience, "auth.jwtProfileOauth2.audience", &mut errors);
            if matches!(profile.key_source, KeySource::Pem | KeySource::Pkcs12) {
                let mut file = Some(profile.key_content.expose().to_string());
                confine(policy, &mut file, "auth.jwtProfileOauth2.keyContent", &mut errors);
                profile.key_content = Secret::new(file.unwrap_or_default());
            }
        }
        _ => {}
    }
    for (store, path) in [(&mut config.ssl.trust_store, "ssl.trustStore"), (&mut config.ssl.key_store, "ssl.keyStore")]
    {
        if let Some(store) = store {
            confine(policy, &mut store.path, &format!("{path}.path"), &mut errors);
            confine(policy, &mut store.cert_path, &format!("{path}.certPath"), &mut errors);
            confine(policy, &mut store.key_path, &format!("{path}.keyPath"), &mut errors);
        }
    }
    errors
}

/// A URL whose host is a literal address the policy denies is refused (a name is checked when it is resolved).
fn check_address(policy: &EgressPolicy, url: &str, path: &str, errors: &mut Vec<ConfigError>) {
    let Ok(uri) = url.parse::<Uri>() else {
        return; // the URL's own check names what is wrong with it
    };
    let address = egress::literal_address(uri.host().unwrap_or_default());
    if let Some(Err(denied)) = address.map(|address| policy.check(address)) {
        errors.push(ConfigError::new(path, denied.to_string()));
    }
}

/// Replaces the file `path` names by the resolved one under the operator's folder, or refuses it.
fn confine(policy: &EgressPolicy, file: &mut Option<String>, path: &str, errors: &mut Vec<ConfigError>) {
    if let Some(requested) = file {
        match policy.confine_file(requested) {
            Ok(resolved) => *requested = resolved.display().to_string(),
            Err(message) => errors.push(ConfigError::new(path, message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &EgressPolicy, json: &str) -> Vec<String> {
        let mut config = SubscriptionConfig::parse(json).unwrap();
        apply(policy, &mut config).into_iter().map(|error| error.path.to_string()).collect()
    }

    #[test]
    fn denied_literal_addresses_and_files_outside_the_folder_are_named() {
        let policy = EgressPolicy::default();
        assert_eq!(refused(&policy, r#"{"callbackUrl":"http://169.254.169.254/latest/meta-data"}"#), ["callbackUrl"]);
        assert_eq!(refused(&policy, r#"{"callbackUrl":"https://example.com/hook"}"#), Vec::<String>::new());
        let oauth2 = r#"{"callbackUrl":"https://example.com/h","auth":{"type":"oauth2","oauth2":
            {"endpoint":"http://[::1]/token","clientId":"c","clientSecret":"s"}}}"#;
        assert_eq!(refused(&policy, oauth2), ["auth.oauth2.endpoint"]);
        let files = r#"{"callbackUrl":"https://example.com/h","ssl":{"trustStore":{"type":"PEM","path":"/etc/ssl/ca.pem"},
            "keyStore":{"type":"PEM","certPath":"/etc/c.pem","keyPath":"/etc/k.pem"}}}"#;
        assert_eq!(refused(&policy, files), ["ssl.trustStore.path", "ssl.keyStore.certPath", "ssl.keyStore.keyPath"]);
        let allowed = EgressPolicy::new(&["169.254.0.0/16"], None).unwrap();
        assert!(refused(&allowed, r#"{"callbackUrl":"http://169.254.169.254/"}"#).is_empty());
    }
}
