//! Secured callbacks (SPEC §4): the `Authorization` value of each call.

mod fixed;
mod oauth2;

use std::sync::Arc;
use std::time::Duration;

use webhook_core::config::AuthConfig;
use webhook_core::{Authorizer, CallbackClient};

/// The authorizer `auth` asks for; `None` when the callback is not authenticated. A token endpoint is called with
/// the subscription's `client` (its proxy and TLS settings), each call bounded by `timeout`, at most `body_limit`
/// bytes of its answer read.
pub(crate) fn authorizer(
    auth: &AuthConfig,
    client: &CallbackClient,
    timeout: Duration,
    body_limit: usize,
) -> Result<Option<Arc<dyn Authorizer>>, String> {
    Ok(match auth {
        AuthConfig::None => None,
        AuthConfig::Basic { basic } => Some(Arc::new(fixed::FixedAuthorization::basic(basic)?)),
        AuthConfig::Token { token } => Some(Arc::new(fixed::FixedAuthorization::bearer(token)?)),
        AuthConfig::Oauth2 { oauth2 } => {
            Some(Arc::new(oauth2::ClientCredentials::new(oauth2, client.clone(), timeout, body_limit)?))
        }
    })
}
