//! `basic` and `token`: the same `Authorization` value for every call.

use base64::Engine;
use http::HeaderValue;
use webhook_core::config::{BasicAuth, TokenAuth};
use webhook_core::{Authorizer, BoxFuture, CallbackError};

/// A value computed once.
pub(crate) struct FixedAuthorization(HeaderValue);

impl FixedAuthorization {
    /// `Basic base64(username:password)`.
    pub(crate) fn basic(basic: &BasicAuth) -> Result<Self, String> {
        let credentials = format!("{}:{}", basic.username, basic.password.expose());
        Self::sensitive(
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)),
            "auth.basic",
        )
    }

    /// `Bearer <value>`.
    pub(crate) fn bearer(token: &TokenAuth) -> Result<Self, String> {
        Self::sensitive(format!("Bearer {}", token.value.expose()), "auth.token.value")
    }

    fn sensitive(text: String, path: &str) -> Result<Self, String> {
        let mut value = HeaderValue::try_from(text).map_err(|_| format!("{path}: not usable in an HTTP header"))?;
        value.set_sensitive(true);
        Ok(Self(value))
    }
}

impl Authorizer for FixedAuthorization {
    fn authorization(&self) -> BoxFuture<'_, Result<HeaderValue, CallbackError>> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }

    fn refresh(&self, _rejected: HeaderValue) -> BoxFuture<'_, Result<HeaderValue, CallbackError>> {
        self.authorization()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_encodes_user_and_password() {
        let basic: BasicAuth = serde_json::from_str(r#"{"username":"foo","password":"bar"}"#).unwrap();
        assert_eq!(FixedAuthorization::basic(&basic).unwrap().0, "Basic Zm9vOmJhcg==");
        assert!(FixedAuthorization::basic(&basic).unwrap().0.is_sensitive());
    }
}
