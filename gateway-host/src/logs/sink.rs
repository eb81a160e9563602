//! The handle a webhook plugin logs one subscription's deliveries through.

use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::RString;
use plugin_api::{DeliveryLogBox, RawDeliveryLog, RawDeliveryLog_TO};

use super::queue::EntryQueue;
use super::sampling::{Sampler, Sampling};

struct HostDeliveryLog {
    sampler: Sampler,
    queue: Arc<EntryQueue>,
}

impl RawDeliveryLog for HostDeliveryLog {
    fn sample(&self) -> bool {
        self.sampler.sample()
    }

    fn record(&self, entry: RString) {
        self.queue.push(entry.into(), 1);
    }

    fn record_lines(&self, entries: RString) {
        let count = entries.as_str().lines().filter(|line| !line.is_empty()).count();
        self.queue.push(entries.into(), count);
    }
}

/// A handle that samples per `sampling` and queues entries for the writer.
pub(super) fn delivery_log(sampling: Sampling, queue: Arc<EntryQueue>) -> DeliveryLogBox {
    RawDeliveryLog_TO::from_value(HostDeliveryLog { sampler: Sampler::new(sampling), queue }, TD_Opaque)
}
