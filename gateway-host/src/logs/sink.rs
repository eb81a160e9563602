//! The handle a webhook plugin logs one subscription's deliveries through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::RString;
use plugin_api::{DeliveryLogBox, RawDeliveryLog, RawDeliveryLog_TO};

use super::sampling::{Sampler, Sampling};
use super::writer::Command;

struct HostDeliveryLog {
    sampler: Sampler,
    queue: SyncSender<Command>,
    dropped: Arc<AtomicU64>,
}

impl RawDeliveryLog for HostDeliveryLog {
    fn sample(&self) -> bool {
        self.sampler.sample()
    }

    fn record(&self, entry: RString) {
        if self.queue.try_send(Command::Entry(entry.into())).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "webhook log queue full; entries dropped (delivery is not slowed)");
            }
        }
    }
}

/// A handle that samples per `sampling` and queues entries for the writer.
pub(super) fn delivery_log(sampling: Sampling, queue: SyncSender<Command>, dropped: Arc<AtomicU64>) -> DeliveryLogBox {
    RawDeliveryLog_TO::from_value(HostDeliveryLog { sampler: Sampler::new(sampling), queue, dropped }, TD_Opaque)
}
