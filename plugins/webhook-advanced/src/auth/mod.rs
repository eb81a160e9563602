//! Secured callbacks (SPEC §4): the `Authorization` value of each call.

mod fixed;
mod oauth2;

use std::sync::Arc;

use webhook_core::config::{AuthConfig, HttpOptions};
use webhook_core::Authorizer;

/// The authorizer `auth` asks for; `None` when the callback is not authenticated.
pub(crate) fn authorizer(auth: &AuthConfig, http: &HttpOptions) -> Result<Option<Arc<dyn Authorizer>>, String> {
    Ok(match auth {
        AuthConfig::None => None,
        AuthConfig::Basic { basic } => Some(Arc::new(fixed::FixedAuthorization::basic(basic)?)),
        AuthConfig::Token { token } => Some(Arc::new(fixed::FixedAuthorization::bearer(token)?)),
        AuthConfig::Oauth2 { oauth2 } => Some(Arc::new(oauth2::ClientCredentials::new(oauth2, http)?)),
    })
}
