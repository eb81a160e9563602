//! `auth` of the consumer's configuration (SPEC §4): how the gateway authenticates to the callback.

use plugin_api::ConfigError;
use serde::Deserialize;

use super::jwt_profile::JwtProfileAuth;
use super::secret::Secret;
use super::subscription::parse_callback_url;

/// The callback's authentication.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "AuthForm")]
pub enum AuthConfig {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The credentials.
        basic: BasicAuth,
    },
    /// `Authorization: Bearer <value>`.
    Token {
        /// The token.
        token: TokenAuth,
    },
    /// A client-credentials token from `endpoint`, as `Authorization: Bearer <access_token>`.
    Oauth2 {
        /// The client.
        oauth2: OAuth2Auth,
    },
    /// A token traded for a signed JWT assertion (RFC 7523) at `audience`.
    JwtProfileOauth2 {
        /// The assertion's settings.
        jwt_profile_oauth2: JwtProfileAuth,
    },
}

/// `auth` as written: the type and the section it names. Read as a plain object (not a tagged enum) so that an
/// error inside a section names its full path (`auth.jwtProfileOauth2.signatureAlgorithm`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthForm {
    #[serde(rename = "type", default)]
    kind: AuthType,
    basic: Option<BasicAuth>,
    token: Option<TokenAuth>,
    oauth2: Option<OAuth2Auth>,
    jwt_profile_oauth2: Option<JwtProfileAuth>,
}

/// `auth.type`.
#[derive(Deserialize, Default)]
enum AuthType {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "basic")]
    Basic,
    #[serde(rename = "token")]
    Token,
    #[serde(rename = "oauth2")]
    Oauth2,
    #[serde(rename = "jwtProfileOauth2")]
    JwtProfileOauth2,
}

impl TryFrom<AuthForm> for AuthConfig {
    type Error = String;

    fn try_from(form: AuthForm) -> Result<Self, String> {
        let missing = |section: &str| format!("type {section} needs its `{section}` settings");
        Ok(match form.kind {
            AuthType::None => Self::None,
            AuthType::Basic => Self::Basic { basic: form.basic.ok_or_else(|| missing("basic"))? },
            AuthType::Token => Self::Token { token: form.token.ok_or_else(|| missing("token"))? },
            AuthType::Oauth2 => Self::Oauth2 { oauth2: form.oauth2.ok_or_else(|| missing("oauth2"))? },
            AuthType::JwtProfileOauth2 => Self::JwtProfileOauth2 {
                jwt_profile_oauth2: form.jwt_profile_oauth2.ok_or_else(|| missing("jwtProfileOauth2"))?,
            },
        })
    }
}

/// `auth.basic`.
#[derive(Debug, Clone, Deserialize)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Secret,
}

/// `auth.token`.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenAuth {
    /// The bearer token.
    pub value: Secret,
}

/// `auth.oauth2`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Auth {
    /// The token endpoint.
    pub endpoint: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Secret,
    /// Scopes asked for, sent space-separated.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl AuthConfig {
    /// Whether the callback is authenticated.
    pub fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }

    pub(super) fn check(&self) -> Vec<ConfigError> {
        match self {
            Self::Oauth2 { oauth2 } => match parse_callback_url(&oauth2.endpoint) {
                Ok(_) => Vec::new(),
                Err(message) => vec![ConfigError::new("auth.oauth2.endpoint", message)],
            },
            Self::JwtProfileOauth2 { jwt_profile_oauth2 } => jwt_profile_oauth2.check("auth.jwtProfileOauth2"),
            Self::None | Self::Basic { .. } | Self::Token { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_parses_from_its_reference_shape() {
        let basic: AuthConfig =
            serde_json::from_str(r#"{"type":"basic","basic":{"username":"foo","password":"bar"}}"#).unwrap();
        assert!(matches!(basic, AuthConfig::Basic { ref basic } if basic.username == "foo"));
        let oauth2: AuthConfig = serde_json::from_str(
            r#"{"type":"oauth2","oauth2":{"endpoint":"http://idp/token","clientId":"cid","clientSecret":"s","scopes":["a","b"]}}"#,
        )
        .unwrap();
        assert!(oauth2.check().is_empty());
        assert!(!format!("{oauth2:?}").contains("\"s\""), "secrets stay out of Debug: {oauth2:?}");
        let none: AuthConfig = serde_json::from_str(r#"{"type":"none"}"#).unwrap();
        assert!(none.is_none());
    }
}
