//! Name resolution under the egress policy: a callback's host name is resolved when the connection opens, and the
//! connection goes only to the resolved addresses the policy permits (no second lookup a DNS rebinding could
//! change). A literal address is checked before connecting.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use egress::{Denied, EgressPolicy};
use http::Uri;
use hyper_util::client::legacy::connect::dns::Name;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A call the egress policy refused: the host and the address it was refused for.
#[derive(Debug)]
pub struct AddressDenied {
    host: String,
    denied: Denied,
}

impl std::fmt::Display for AddressDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host == self.denied.address.to_string() {
            write!(f, "{}", self.denied)
        } else {
            write!(f, "{} resolves to {}", self.host, self.denied)
        }
    }
}

impl StdError for AddressDenied {}

/// The refusal of the egress policy in an error's chain, if that is what it is.
pub fn address_denied<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a AddressDenied> {
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(denied) = current.downcast_ref::<AddressDenied>() {
            return Some(denied);
        }
        source = current.source();
    }
    None
}

/// Refuses `destination` when its host is a literal address the policy denies (names go through the resolver).
pub(crate) fn check_literal(policy: &EgressPolicy, destination: &Uri) -> Result<(), BoxError> {
    let host = destination.host().unwrap_or_default();
    match egress::literal_address(host) {
        Some(address) => policy
            .check(address)
            .map_err(|denied| Box::new(AddressDenied { host: address.to_string(), denied }) as BoxError),
        None => Ok(()),
    }
}

/// Resolves with the system's resolver (on the blocking pool), keeping the permitted addresses.
#[derive(Clone)]
pub(crate) struct GuardedResolver {
    policy: Arc<EgressPolicy>,
}

impl GuardedResolver {
    pub(crate) fn new(policy: Arc<EgressPolicy>) -> Self {
        Self { policy }
    }
}

type Resolving = Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>> + Send>>;

impl Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Resolving;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let mut refusal = None;
            let permitted: Vec<SocketAddr> = resolved
                .filter(|address| match policy.check(address.ip()) {
                    Ok(()) => true,
                    Err(denied) => {
                        refusal.get_or_insert(denied);
                        false
                    }
                })
                .collect();
            match refusal {
                Some(denied) if permitted.is_empty() => Err(Box::new(AddressDenied { host, denied }) as BoxError),
                _ => Ok(permitted.into_iter()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_resolving_to_denied_addresses_only_is_refused() {
        let mut resolver = GuardedResolver::new(Arc::new(EgressPolicy::default()));
        let error = resolver.call("localhost".parse().unwrap()).await.unwrap_err();
        let denied = address_denied(error.as_ref()).expect("denied by the policy");
        assert!(denied.to_string().starts_with("localhost resolves to "), "{denied}");
        let mut allowed = GuardedResolver::new(Arc::new(EgressPolicy::new(&["127.0.0.0/8", "::1"], None).unwrap()));
        let addresses: Vec<SocketAddr> = allowed.call("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(!addresses.is_empty());
    }

    #[test]
    fn a_literal_address_is_checked_before_connecting() {
        let policy = EgressPolicy::default();
        let error = check_literal(&policy, &"http://169.254.169.254/latest".parse().unwrap()).unwrap_err();
        assert!(error.to_string().starts_with("169.254.169.254 is a link-local address"), "{error}");
        assert!(check_literal(&policy, &"http://[::1]:8080/".parse().unwrap()).is_err());
        assert!(check_literal(&policy, &"http://example.com/".parse().unwrap()).is_ok());
    }
}
