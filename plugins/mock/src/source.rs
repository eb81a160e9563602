//! The generating source: message `n` is emitted `n` intervals after the source opened, ids count from where the
//! subscription's settled prefix stands.

use std::sync::{Arc, Mutex};

use plugin_kit::api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_kit::api::async_ffi::FfiFuture;
use plugin_kit::api::{Batch, Header, Message, RawSource};
use plugin_kit::{spawn_ffi, SettledPrefix};
use tokio::runtime::Handle;
use tokio::time::Instant;

use crate::config::MockSettings;

/// When a message past what the clock can say is due.
const FAR_FUTURE: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);

/// A subscription's place in the mock stream; it outlives the source, so that a resumed subscription continues
/// where it stopped (within this process: the mock keeps no state on disk).
pub(crate) type Cursor = Arc<Mutex<SettledPrefix>>;

/// One subscription's source.
pub(crate) struct MockSource {
    runtime: Handle,
    generator: Arc<Generator>,
    cursor: Cursor,
}

struct Generator {
    settings: MockSettings,
    headers: Vec<Header>,
    metadata: Vec<Header>,
    opened_at: Instant,
    first_id: u64,
    next_id: Mutex<u64>,
}

impl MockSource {
    pub(crate) fn new(runtime: Handle, settings: MockSettings, cursor: Cursor) -> Self {
        let first_id = {
            let mut cursor = cursor.lock().expect("cursor lock");
            let first_id = cursor.next_unsettled();
            // Whatever was handed out and not settled is generated again from `first_id`.
            *cursor = SettledPrefix::starting_at(first_id);
            first_id
        };
        let generator = Generator {
            headers: settings.message_headers(),
            metadata: settings.message_metadata(),
            settings,
            opened_at: Instant::now(),
            first_id,
            next_id: Mutex::new(first_id),
        };
        Self { runtime, generator: Arc::new(generator), cursor }
    }
}

impl Generator {
    /// Waits until the next message is due, then takes every message due, at most `max`.
    async fn next_batch(&self, max: u32, cursor: &Cursor) -> Batch {
        let next = *self.next_id.lock().expect("generator lock");
        if self.settings.message_count.is_some_and(|count| next >= count) {
            return Batch { messages: RVec::new(), end: true };
        }
        tokio::time::sleep_until(self.due(next)).await;
        let now = Instant::now();
        let mut next_id = self.next_id.lock().expect("generator lock");
        let mut cursor = cursor.lock().expect("cursor lock");
        let mut messages = RVec::new();
        while messages.len() < max as usize
            && self.due(*next_id) <= now
            && self.settings.message_count.is_none_or(|count| *next_id < count)
        {
            messages.push(self.message(*next_id));
            cursor.received(*next_id);
            *next_id += 1;
        }
        Batch { messages, end: false }
    }

    fn due(&self, id: u64) -> Instant {
        let steps = u32::try_from(id - self.first_id).unwrap_or(u32::MAX);
        // Past what the clock can say, the message is due never (a day between messages at most makes that
        // millions of years).
        self.opened_at
            .checked_add(self.settings.interval().saturating_mul(steps))
            .unwrap_or(self.opened_at + FAR_FUTURE)
    }

    fn message(&self, id: u64) -> Message {
        Message {
            id: RString::from(id.to_string()),
            content: self.settings.message_content.as_bytes().to_vec().into(),
            headers: self.headers.clone().into(),
            metadata: self.metadata.clone().into(),
            key: self.settings.key_of(id).map(|key| RVec::from(key.into_bytes())).into(),
            ack_token: id,
            timestamp_ms: plugin_kit::now_ms(),
        }
    }
}

impl RawSource for MockSource {
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>> {
        let generator = Arc::clone(&self.generator);
        let cursor = Arc::clone(&self.cursor);
        spawn_ffi(&self.runtime, async move { Ok(generator.next_batch(max, &cursor).await) })
    }

    fn ack(&self, tokens: RVec<u64>) -> FfiFuture<RResult<RVec<u64>, RString>> {
        let mut cursor = self.cursor.lock().expect("cursor lock");
        for token in tokens {
            cursor.settle(token);
        }
        ready(RResult::ROk(RVec::new()))
    }

    fn close(&self) -> FfiFuture<()> {
        ready(())
    }
}

/// A future that is already resolved: no hop to the runtime for work done in place.
pub(crate) fn ready<T: Send + 'static>(value: T) -> FfiFuture<T> {
    use plugin_kit::api::async_ffi::FutureExt;
    std::future::ready(value).into_ffi()
}
