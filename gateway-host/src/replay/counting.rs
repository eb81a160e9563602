//! A replay's source and dead letter publisher, wrapped so that the host counts what goes through them: messages
//! handed over, messages settled, messages dead-lettered again. The host never touches a message's content.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use plugin_api::abi_stable::sabi_trait::TD_Opaque;
use plugin_api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_api::async_ffi::{FfiFuture, FutureExt};
use plugin_api::{Batch, Message, RawPublisher, RawPublisher_TO, RawSource, RawSource_TO};

use crate::plugins::{Publisher, Source};

/// What a replay has done so far.
#[derive(Default)]
pub struct Progress {
    /// Dead letters handed over for delivery.
    pub total: AtomicU64,
    /// Of those, settled (delivered, or dead-lettered again).
    pub settled: AtomicU64,
    /// Of those, dead-lettered again.
    pub dead_lettered: AtomicU64,
}

impl Progress {
    /// Settled and not dead-lettered again: delivered.
    pub fn delivered(&self) -> u64 {
        self.settled.load(Ordering::Relaxed).saturating_sub(self.dead_lettered.load(Ordering::Relaxed))
    }
}

/// `source`, counting what it hands over and what is acknowledged.
pub(super) fn counted_source(source: Source, progress: Arc<Progress>) -> Source {
    Source(RawSource_TO::from_value(CountedSource { inner: source.0, progress }, TD_Opaque))
}

/// `publisher`, counting what it accepts.
pub(super) fn counted_publisher(publisher: Publisher, progress: Arc<Progress>) -> Publisher {
    Publisher(RawPublisher_TO::from_value(CountedPublisher { inner: publisher.0, progress }, TD_Opaque))
}

struct CountedSource {
    inner: plugin_api::SourceBox,
    progress: Arc<Progress>,
}

impl RawSource for CountedSource {
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>> {
        let batch = self.inner.next_batch(max);
        let progress = Arc::clone(&self.progress);
        async move {
            let batch = batch.await;
            if let RResult::ROk(batch) = &batch {
                progress.total.fetch_add(batch.messages.len() as u64, Ordering::Relaxed);
            }
            batch
        }
        .into_ffi()
    }

    fn ack(&self, tokens: RVec<u64>) -> FfiFuture<RResult<RVec<u64>, RString>> {
        self.progress.settled.fetch_add(tokens.len() as u64, Ordering::Relaxed);
        self.inner.ack(tokens)
    }

    fn close(&self) -> FfiFuture<()> {
        self.inner.close()
    }
}

struct CountedPublisher {
    inner: plugin_api::PublisherBox,
    progress: Arc<Progress>,
}

impl RawPublisher for CountedPublisher {
    fn publish(&self, messages: RVec<Message>) -> FfiFuture<RResult<(), RString>> {
        let count = messages.len() as u64;
        let published = self.inner.publish(messages);
        let progress = Arc::clone(&self.progress);
        async move {
            let published = published.await;
            if published.is_ok() {
                progress.dead_lettered.fetch_add(count, Ordering::Relaxed);
            }
            published
        }
        .into_ffi()
    }
}
