//! One notification endpoint: its bounded queue (the oldest dropped when full) and the task that sends the queue in
//! order, retrying the one at its head with backoff until the endpoint takes it.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use standard_webhooks::Signer;
use tokio::sync::Notify;
use webhook_core::CallbackClient;

use super::NotificationCounters;

/// The longest one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The first wait before a failed notification is sent again; it doubles up to [`LONGEST_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// One notification: its Standard Webhooks id (the same for every try) and its JSON body.
pub(super) struct Notification {
    pub(super) id: String,
    pub(super) body: Bytes,
}

/// An endpoint and what waits for it.
pub(super) struct Endpoint {
    url: Uri,
    signer: Signer,
    /// The event types it asked for; empty: all.
    events: Vec<String>,
    capacity: usize,
    queue: Mutex<VecDeque<Arc<Notification>>>,
    wake: Notify,
}

impl Endpoint {
    pub(super) fn new(url: Uri, signer: Signer, events: Vec<String>, capacity: usize) -> Self {
        Self { url, signer, events, capacity, queue: Mutex::new(VecDeque::new()), wake: Notify::new() }
    }

    /// Whether it asked for events of `kind`.
    pub(super) fn wants(&self, kind: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|wanted| wanted == kind)
    }

    /// Queues `notification`; says whether the oldest one was dropped for it.
    pub(super) fn push(&self, notification: Arc<Notification>) -> bool {
        let dropped = {
            let mut queue = self.queue.lock().expect("notification queue");
            let dropped = queue.len() >= self.capacity && queue.pop_front().is_some();
            queue.push_back(notification);
            dropped
        };
        self.wake.notify_one();
        dropped
    }

    /// Sends the queue in order, for ever.
    pub(super) async fn run(self: Arc<Self>, client: CallbackClient, counters: Arc<NotificationCounters>) {
        let mut wait = FIRST_WAIT;
        loop {
            let head = self.queue.lock().expect("notification queue").front().cloned();
            let Some(notification) = head else {
                self.wake.notified().await;
                continue;
            };
            match self.send(&client, &notification).await {
                Ok(()) => {
                    let mut queue = self.queue.lock().expect("notification queue");
                    // Unless a full queue dropped it meanwhile.
                    if queue.front().is_some_and(|front| Arc::ptr_eq(front, &notification)) {
                        queue.pop_front();
                    }
                    counters.sent.fetch_add(1, Relaxed);
                    if wait > FIRST_WAIT {
                        tracing::info!(url = %self.url, "notification endpoint answers again");
                    }
                    wait = FIRST_WAIT;
                }
                Err(error) => {
                    if wait == FIRST_WAIT {
                        tracing::warn!(url = %self.url, %error, "notification not taken; trying again with backoff");
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(LONGEST_WAIT);
                }
            }
        }
    }

    async fn send(&self, client: &CallbackClient, notification: &Notification) -> Result<(), String> {
        let mut request = Request::new(Full::new(notification.body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.url.clone();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static("webhook-gateway-notifications"));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        self.signer.sign(headers, &notification.id, now, &notification.body);
        let answer = tokio::time::timeout(CALL_TIMEOUT, client.request(request))
            .await
            .map_err(|_| format!("no answer within {} ms", CALL_TIMEOUT.as_millis()))?
            .map_err(|error| match webhook_core::address_denied(&error) {
                Some(denied) => format!("address denied by the egress rules: {denied}"),
                None => webhook_core::error_chain(&error),
            })?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", answer.status()))
        }
    }
}
