//! Documents as stores keep them: secret fields ([`secrets::SecretFields`]) sealed with the store's key on every
//! write, opened on every read. Both stores keep the same sealed JSON.

use definition::Subscription;
use secrets::{Sealer, SecretFields};
use serde_json::Value;

use super::StoreError;

/// What the check value opens to: a value sealed once with a store's key tells whether a key given is the store's.
pub(super) const CHECK: &str = "webhook-gateway store key";

/// An API definition with its secrets sealed, as text.
pub(super) fn api(document: &Value, sealer: &Sealer) -> String {
    let mut sealed = document.clone();
    definition::pending::each_definition(&mut sealed, |definition| SecretFields::api().seal(definition, sealer));
    sealed.to_string()
}

/// A kept API definition, its secrets opened.
pub(super) fn opened_api(text: &str, sealer: &Sealer) -> Result<Value, StoreError> {
    let mut document: Value = serde_json::from_str(text)?;
    let mut opened = Ok(());
    definition::pending::each_definition(&mut document, |definition| {
        if opened.is_ok() {
            opened = SecretFields::api().open(definition, sealer);
        }
    });
    opened?;
    Ok(document)
}

/// A subscription with its secrets sealed, as text.
pub(super) fn subscription(subscription: &Subscription, sealer: &Sealer) -> Result<String, StoreError> {
    let mut sealed = subscription.clone();
    SecretFields::subscription().seal(&mut sealed.consumer_configuration.entrypoint_configuration, sealer);
    Ok(serde_json::to_string(&sealed)?)
}

/// A kept subscription, its secrets opened.
pub(super) fn opened_subscription(text: &str, sealer: &Sealer) -> Result<Subscription, StoreError> {
    let mut subscription: Subscription = serde_json::from_str(text)?;
    SecretFields::subscription().open(&mut subscription.consumer_configuration.entrypoint_configuration, sealer)?;
    Ok(subscription)
}

/// Whether `sealed` is the check value sealed with `sealer`'s key.
pub(super) fn is_check(sealed: &str, sealer: &Sealer) -> bool {
    matches!(sealer.open(sealed), Ok(text) if text == CHECK)
}
