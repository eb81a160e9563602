//! Clients shared by the subscriptions that call out with the same settings (the API's `http` and `proxy`, the
//! subscription's `ssl`, the calls in flight): ten thousand subscriptions of one callback origin keep one pool of
//! connections and one TLS configuration rather than one each. A client lives while a subscription uses it.
//! Sharing a pool never makes one subscription wait for another: the pool only keeps idle connections, and a call
//! that finds none opens its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use serde_json::Value;

use crate::transport::client::CallbackClient;

/// Clients made since the last sweep of those no subscription uses, at most.
const SWEEP_EVERY: usize = 256;

/// The plugin's shared clients, by settings.
#[derive(Default)]
pub(crate) struct SharedClients {
    clients: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    by_settings: HashMap<String, Weak<CallbackClient>>,
    made_since_sweep: usize,
}

impl SharedClients {
    /// The client of `settings` (see [`settings_key`]), made by `make` unless a subscription uses one already.
    pub(crate) fn client(&self, settings: String, make: impl FnOnce() -> CallbackClient) -> Arc<CallbackClient> {
        let mut kept = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = kept.by_settings.get(&settings).and_then(Weak::upgrade) {
            return client;
        }
        kept.made_since_sweep += 1;
        if kept.made_since_sweep >= SWEEP_EVERY {
            kept.by_settings.retain(|_, client| client.strong_count() > 0);
            kept.made_since_sweep = 0;
        }
        let client = Arc::new(make());
        kept.by_settings.insert(settings, Arc::downgrade(&client));
        client
    }
}

/// What makes two subscriptions' clients the same: the API entrypoint's `http` and `proxy` (from its configuration
/// `entrypoint`), the subscription's `ssl` (from its `subscription` configuration), and the calls in flight. Kept in
/// memory only (it holds the proxy's and the key store's passwords): never logged.
pub(crate) fn settings_key(entrypoint: &str, subscription: &str, concurrency: usize) -> String {
    let part = |json: &str, field: &str| {
        serde_json::from_str::<Value>(json).ok().and_then(|value| value.get(field).cloned()).unwrap_or(Value::Null)
    };
    Value::Array(vec![
        part(entrypoint, "http"),
        part(entrypoint, "proxy"),
        part(subscription, "ssl"),
        Value::from(concurrency),
    ])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_settings_share_a_client_while_one_uses_it() {
        let shared = SharedClients::default();
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            crate::transport::client::default_client(Arc::new(egress::EgressPolicy::new(&[] as &[&str], None).unwrap()))
        };
        let entrypoint = r#"{"http":{"idleTimeout":1000},"logging":{"enabled":true}}"#;
        let key = |subscription: &str| settings_key(entrypoint, subscription, 5);
        let first = shared.client(key(r#"{"callbackUrl":"https://a.example/1"}"#), make);
        let second = shared.client(key(r#"{"callbackUrl":"https://a.example/2","headers":[]}"#), make);
        assert!(Arc::ptr_eq(&first, &second), "only the callback differs");
        let trusting = shared.client(key(r#"{"callbackUrl":"https://a.example/1","ssl":{"trustAll":true}}"#), make);
        assert!(!Arc::ptr_eq(&first, &trusting), "other TLS settings");
        assert_eq!(made.get(), 2);
        drop((first, second));
        let again = shared.client(key(r#"{"callbackUrl":"https://a.example/1"}"#), make);
        assert!(Arc::strong_count(&again) == 1 && made.get() == 3, "made again once no subscription used it");
        assert_ne!(settings_key(entrypoint, "{}", 5), settings_key(entrypoint, "{}", 1), "calls in flight differ");
    }
}
