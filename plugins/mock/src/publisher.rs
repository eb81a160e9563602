//! The recording publisher: logs each message it is sent, counts them, and keeps the last ones of each API (so that
//! the dead letters it took can be replayed).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::FfiFuture;
use plugin_kit::api::{Message, RawPublisher};

use crate::source::ready;

/// Messages kept per API at most; the oldest go first.
const KEPT_PER_API: usize = 10_000;

/// What mock publishers were sent, per API, in order.
pub(crate) type Recorded = Arc<Mutex<HashMap<String, VecDeque<Message>>>>;

/// Records what an API publishes to a mock endpoint (a dead letter queue in demos).
pub(crate) struct MockPublisher {
    api_id: String,
    received: AtomicU64,
    recorded: Recorded,
}

impl MockPublisher {
    pub(crate) fn new(api_id: String, recorded: Recorded) -> Self {
        Self { api_id, received: AtomicU64::new(0), recorded }
    }
}

impl RawPublisher for MockPublisher {
    fn publish(&self, messages: RVec<Message>) -> FfiFuture<RResult<(), RString>> {
        for message in messages.iter() {
            let total = self.received.fetch_add(1, Ordering::Relaxed) + 1;
            let headers: Vec<String> = message
                .headers
                .iter()
                .map(|header| format!("{}={}", header.name, String::from_utf8_lossy(&header.value)))
                .collect();
            tracing::info!(
                api = %self.api_id,
                message_id = %message.id,
                bytes = message.content.len(),
                headers = %headers.join(","),
                total,
                "mock endpoint received a message"
            );
        }
        let mut recorded = self.recorded.lock().expect("recorded lock");
        let kept = recorded.entry(self.api_id.clone()).or_default();
        kept.extend(messages.iter().cloned());
        while kept.len() > KEPT_PER_API {
            kept.pop_front();
        }
        ready(RResult::ROk(()))
    }
}
