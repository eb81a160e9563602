//! Operational webhooks: each [`Event`] is sent, signed with Standard Webhooks, to the operator's endpoints that
//! asked for its type (`notifications.webhooks`), from a bounded queue per endpoint with retries; an endpoint that
//! is down never holds anything else up. Calls go through the callbacks' client, under the egress rules.

mod endpoint;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use egress::EgressPolicy;
use serde_json::json;

use crate::config::{NotificationWebhook, NotificationsSection};
use crate::events::{Event, EVENT_TYPES};
use crate::time::now_rfc3339;
use endpoint::{Endpoint, Notification};

/// Notifications sent and dropped since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct NotificationCounters {
    /// Notifications an endpoint took (2xx).
    pub sent: AtomicU64,
    /// Notifications dropped: the oldest of a full queue.
    pub dropped: AtomicU64,
}

/// The operator's notification endpoints.
pub struct Notifications {
    endpoints: Vec<Arc<Endpoint>>,
    counters: Arc<NotificationCounters>,
}

impl Notifications {
    /// Starts a sender per endpoint of `section`, calling under `egress`; an error names the key that is wrong.
    pub fn start(section: &NotificationsSection, egress: Arc<EgressPolicy>) -> Result<Arc<Self>, String> {
        let counters = Arc::new(NotificationCounters::default());
        let capacity = section.queue_capacity.max(1) as usize;
        let endpoints = section
            .webhooks
            .iter()
            .enumerate()
            .map(|(index, webhook)| endpoint(index, webhook, capacity))
            .collect::<Result<Vec<_>, _>>()?;
        if !endpoints.is_empty() {
            let client = webhook_core::default_client(egress);
            for endpoint in &endpoints {
                tokio::spawn(Arc::clone(endpoint).run(client.clone(), Arc::clone(&counters)));
            }
        }
        Ok(Arc::new(Self { endpoints, counters }))
    }

    /// Queues `event` for every endpoint that asked for its type; never waits.
    pub fn notify(&self, event: Event) {
        let kind = event.kind();
        let interested: Vec<&Arc<Endpoint>> = self.endpoints.iter().filter(|endpoint| endpoint.wants(kind)).collect();
        if interested.is_empty() {
            return;
        }
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let body = json!({ "type": kind, "timestamp": now_rfc3339(), "data": event.data() }).to_string();
        let notification = Arc::new(Notification { id, body: body.into() });
        for endpoint in interested {
            if endpoint.push(Arc::clone(&notification)) {
                self.counters.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// Sent and dropped so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.counters.sent.load(Relaxed), self.counters.dropped.load(Relaxed))
    }
}

/// The endpoint of `webhook`, the `index`th of the list, checked.
fn endpoint(index: usize, webhook: &NotificationWebhook, capacity: usize) -> Result<Arc<Endpoint>, String> {
    let path = format!("notifications.webhooks[{index}]");
    let url: http::Uri =
        webhook.url.trim().parse().map_err(|error| format!("{path}.url: `{}`: {error}", webhook.url))?;
    if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
        return Err(format!("{path}.url: `{}` is not an http(s) URL", webhook.url));
    }
    let key = standard_webhooks::secret_key(&webhook.secret)
        .ok_or_else(|| format!("{path}.secret: must be `whsec_` followed by base64"))?;
    let signer = standard_webhooks::Signer::new(vec![key]).expect("one key");
    for (event_index, kind) in webhook.events.iter().enumerate() {
        if !EVENT_TYPES.contains(&kind.as_str()) {
            return Err(format!("{path}.events[{event_index}]: `{kind}` is not one of {}", EVENT_TYPES.join(", ")));
        }
    }
    Ok(Arc::new(Endpoint::new(url, signer, webhook.events.clone(), capacity)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(url: &str, secret: &str, events: &[&str]) -> NotificationWebhook {
        NotificationWebhook {
            url: url.into(),
            secret: secret.into(),
            events: events.iter().map(|kind| kind.to_string()).collect(),
        }
    }

    #[test]
    fn a_wrong_webhook_is_named_by_its_key() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let error = |webhook: NotificationWebhook| endpoint(2, &webhook, 10).err().unwrap();
        assert!(error(webhook("ftp://x/", secret, &[])).starts_with("notifications.webhooks[2].url"));
        assert!(error(webhook("http://x/", "plain", &[])).starts_with("notifications.webhooks[2].secret"));
        let unknown = error(webhook("http://x/", secret, &["subscription.failed", "nope"]));
        assert!(unknown.starts_with("notifications.webhooks[2].events[1]: `nope`"), "{unknown}");
        assert!(!unknown.contains(secret));
    }
}
