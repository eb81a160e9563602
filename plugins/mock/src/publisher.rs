//! The recording publisher: logs each message it is sent and counts them.

use std::sync::atomic::{AtomicU64, Ordering};

use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::FfiFuture;
use plugin_kit::api::{Message, RawPublisher};

use crate::source::ready;

/// Records what an API publishes to a mock endpoint (a dead letter queue in demos).
pub(crate) struct MockPublisher {
    api_id: String,
    received: AtomicU64,
}

impl MockPublisher {
    pub(crate) fn new(api_id: String) -> Self {
        Self { api_id, received: AtomicU64::new(0) }
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
        ready(RResult::ROk(()))
    }
}
