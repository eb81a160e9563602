//! Secured callbacks (SPEC §4): the `Authorization` value of each call.

mod assertion;
mod fixed;
mod oauth2;

use std::sync::Arc;

use plugin_kit::api::ConfigError;
use webhook_core::config::AuthConfig;
use webhook_core::{Authorizer, LayerSetup};

use assertion::AssertionSigner;
use oauth2::{ClientCredentials, TokenEndpoint, TokenForm};

/// The authorizer the subscription's `auth` asks for; `None` when the callback is not authenticated. A token
/// endpoint is called with the subscription's client (its proxy and TLS settings), each call bounded by its read
/// timeout, at most its body limit read.
pub(crate) fn authorizer(setup: &LayerSetup) -> Result<Option<Arc<dyn Authorizer>>, String> {
    Ok(match &setup.config.auth {
        AuthConfig::None => None,
        AuthConfig::Basic { basic } => Some(Arc::new(fixed::FixedAuthorization::basic(basic)?)),
        AuthConfig::Token { token } => Some(Arc::new(fixed::FixedAuthorization::bearer(token)?)),
        AuthConfig::Oauth2 { oauth2 } => {
            let endpoint = TokenEndpoint { url: oauth2.endpoint.clone(), form: TokenForm::client_secret(oauth2) };
            Some(Arc::new(ClientCredentials::new(endpoint, setup)?))
        }
        AuthConfig::JwtProfileOauth2 { jwt_profile_oauth2: profile } => {
            let signer = AssertionSigner::new(profile).map_err(|error| format!("{}: {}", error.path, error.message))?;
            let endpoint =
                TokenEndpoint { url: profile.audience.clone(), form: TokenForm::Assertion(Box::new(signer)) };
            Some(Arc::new(ClientCredentials::new(endpoint, setup)?))
        }
    })
}

/// Problems with `auth` found by reading what it names (a JWT assertion's key): errors at subscription time.
pub(crate) fn check(auth: &AuthConfig) -> Vec<ConfigError> {
    match auth {
        AuthConfig::JwtProfileOauth2 { jwt_profile_oauth2 } => {
            AssertionSigner::new(jwt_profile_oauth2).err().into_iter().collect()
        }
        _ => Vec::new(),
    }
}
