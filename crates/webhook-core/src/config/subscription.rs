//! The consumer's `entrypointConfiguration` (SPEC §4).

use super::auth::AuthConfig;
use super::pacing::PacingConfig;
use super::retry::RetryConfig;
use super::signature::SignatureConfig;
use super::ssl::SslConfig;
use http::{HeaderName, HeaderValue, Method, Uri};
use plugin_api::ConfigError;
use serde::Deserialize;

/// The consumer's configuration, as sent in the subscription.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionConfig {
    /// Where messages are sent.
    pub callback_url: String,
    /// The HTTP method of each call.
    #[serde(default)]
    pub method: CallbackMethod,
    /// Headers added to every call (lowest precedence).
    #[serde(default)]
    pub headers: Vec<HeaderEntry>,
    /// Callback authentication (`webhook-advanced`).
    #[serde(default)]
    pub auth: AuthConfig,
    /// TLS settings of the callback.
    #[serde(default)]
    pub ssl: SslConfig,
    /// Retry settings (`webhook-advanced`).
    #[serde(default)]
    pub retry: RetryConfig,
    /// Standard Webhooks signatures (`webhook-advanced`).
    #[serde(default)]
    pub signature: Option<SignatureConfig>,
    /// How fast the callback is called.
    #[serde(default)]
    pub pacing: PacingConfig,
}

/// `method`: how each message is sent (page 004 of the reference: "typically POST").
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum CallbackMethod {
    /// The default.
    #[default]
    Post,
    /// For callbacks that store each message under its URL.
    Put,
    /// For callbacks that merge each message into a resource.
    Patch,
}

impl CallbackMethod {
    /// The HTTP method.
    pub fn as_http(self) -> Method {
        match self {
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
        }
    }
}

/// One configured header.
#[derive(Debug, Clone, Deserialize)]
pub struct HeaderEntry {
    /// Header name, without white space.
    pub name: String,
    /// Header value.
    #[serde(default)]
    pub value: String,
}

/// A checked callback: where to call and which subscription headers to add.
#[derive(Debug, Clone)]
pub struct CallbackTarget {
    /// The callback URI, path and query kept.
    pub uri: Uri,
    /// The method of each call.
    pub method: Method,
    /// The subscription's headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl SubscriptionConfig {
    /// Parses the configuration; every error names its path relative to `entrypointConfiguration`.
    pub fn parse(json: &str) -> Result<Self, Vec<ConfigError>> {
        let config: Self = plugin_kit::parse_config(json, "").map_err(|errors| errors.into_vec())?;
        let mut errors = config.retry.check();
        errors.extend(config.auth.check());
        errors.extend(config.signature.iter().flat_map(SignatureConfig::check));
        errors.extend(config.pacing.check());
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    /// The checked callback target, or every problem with it.
    pub fn target(&self) -> Result<CallbackTarget, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let uri = match parse_callback_url(&self.callback_url) {
            Ok(uri) => Some(uri),
            Err(message) => {
                errors.push(ConfigError::new("callbackUrl", message));
                None
            }
        };
        let mut headers = Vec::with_capacity(self.headers.len());
        for (index, entry) in self.headers.iter().enumerate() {
            if entry.name.is_empty() || entry.name.chars().any(char::is_whitespace) {
                errors
                    .push(ConfigError::new(format!("headers[{index}].name"), "must be non-empty, without white space"));
                continue;
            }
            match (HeaderName::try_from(entry.name.as_str()), HeaderValue::try_from(entry.value.as_str())) {
                (Ok(name), Ok(value)) => headers.push((name, value)),
                (Err(_), _) => {
                    errors.push(ConfigError::new(format!("headers[{index}].name"), "not a valid header name"))
                }
                (_, Err(_)) => {
                    errors.push(ConfigError::new(format!("headers[{index}].value"), "not a valid header value"))
                }
            }
        }
        match uri {
            Some(uri) if errors.is_empty() => Ok(CallbackTarget { uri, method: self.method.as_http(), headers }),
            _ => Err(errors),
        }
    }
}

/// Parses a URL the gateway calls (a callback, a token endpoint): `http` or `https`, with a host.
pub(crate) fn parse_callback_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url.parse().map_err(|error| format!("not a valid URL: {error}"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("must be an http or https URL".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(json: &str) -> Result<CallbackTarget, Vec<ConfigError>> {
        SubscriptionConfig::parse(json).unwrap().target()
    }

    #[test]
    fn a_callback_keeps_its_path_and_query() {
        let target = target(r#"{"callbackUrl":"http://127.0.0.1:9/hooks/a?x=1"}"#).unwrap();
        assert_eq!(target.uri.path_and_query().unwrap().as_str(), "/hooks/a?x=1");
    }

    #[test]
    fn other_schemes_and_bad_headers_are_refused_with_paths() {
        let errors = target(
            r#"{"callbackUrl":"ftp://h/x","headers":[{"name":"X Team","value":"a"},{"name":"ok","value":"v"}]}"#,
        )
        .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["callbackUrl", "headers[0].name"]);
    }

    #[test]
    fn the_method_is_post_unless_put_or_patch() {
        assert_eq!(target(r#"{"callbackUrl":"http://h/x"}"#).unwrap().method, Method::POST);
        assert_eq!(target(r#"{"callbackUrl":"http://h/x","method":"PATCH"}"#).unwrap().method, Method::PATCH);
        let errors = SubscriptionConfig::parse(r#"{"callbackUrl":"http://h/x","method":"DELETE"}"#).unwrap_err();
        assert_eq!(errors[0].path.as_str(), "method");
    }

    #[test]
    fn a_missing_callback_url_is_named() {
        let errors = SubscriptionConfig::parse("{}").unwrap_err();
        assert!(errors[0].message.contains("callbackUrl"), "{}", errors[0].message);
    }
}
