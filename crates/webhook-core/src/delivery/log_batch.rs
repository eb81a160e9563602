//! A subscription's webhook log entries on their way to the host: gathered for a moment and handed over together,
//! one per line. The delivering thread then neither crosses the boundary nor wakes the host's writer per entry, and
//! the host frees one text per batch (freeing what another thread allocated contends for that thread's allocator).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use plugin_api::DeliveryLogBox;

/// How long the first entry of a batch waits for others.
const GATHER: Duration = Duration::from_millis(1);
/// A batch this large is handed over at once.
const FULL: usize = 64 * 1024;

/// The host's end of a subscription's webhook log, and the entries not yet handed to it.
pub(crate) struct LogBatch {
    sink: DeliveryLogBox,
    lines: Mutex<Vec<u8>>,
}

impl LogBatch {
    /// Entries for `sink`.
    pub(crate) fn new(sink: DeliveryLogBox) -> Arc<Self> {
        Arc::new(Self { sink, lines: Mutex::new(Vec::new()) })
    }

    /// Whether the next delivery is to be logged (the host's sampling).
    pub(crate) fn sample(&self) -> bool {
        self.sink.sample()
    }

    /// Appends the entry `write` writes (JSON: one line), handed over once the batch is full or within [`GATHER`].
    /// An entry that cannot be written leaves the batch as it was.
    pub(crate) fn append(
        self: &Arc<Self>,
        write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
    ) -> serde_json::Result<()> {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        let (first, start) = (lines.is_empty(), lines.len());
        if let Err(error) = write(&mut lines) {
            lines.truncate(start);
            return Err(error);
        }
        lines.push(b'\n');
        if lines.len() >= FULL {
            let full = std::mem::take(&mut *lines);
            drop(lines);
            self.hand_over(full);
        } else if first {
            drop(lines);
            self.hand_over_soon();
        }
        Ok(())
    }

    /// Hands the batch over within [`GATHER`] (at once outside a runtime).
    fn hand_over_soon(self: &Arc<Self>) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let batch = Arc::clone(self);
                runtime.spawn(async move {
                    tokio::time::sleep(GATHER).await;
                    batch.flush();
                });
            }
            Err(_) => self.flush(),
        }
    }

    /// Hands over what waits, now.
    pub(crate) fn flush(&self) {
        let lines = std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner));
        if !lines.is_empty() {
            self.hand_over(lines);
        }
    }

    fn hand_over(&self, lines: Vec<u8>) {
        // serde_json writes UTF-8; the lossy path is never taken.
        let text = String::from_utf8(lines).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into());
        self.sink.record_lines(text.into());
    }
}

impl Drop for LogBatch {
    /// What waits when the subscription's last holder lets go (its run ended) is handed over.
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::abi_stable::sabi_trait::TD_Opaque;
    use plugin_api::abi_stable::std_types::RString;
    use plugin_api::{RawDeliveryLog, RawDeliveryLog_TO};

    /// The host's end, keeping each hand-over.
    #[derive(Clone, Default)]
    struct Handed(Arc<Mutex<Vec<String>>>);

    impl RawDeliveryLog for Handed {
        fn sample(&self) -> bool {
            true
        }

        fn record(&self, entry: RString) {
            self.0.lock().unwrap().push(entry.into());
        }

        fn record_lines(&self, entries: RString) {
            self.0.lock().unwrap().push(entries.into());
        }
    }

    fn entry(id: u32) -> impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()> {
        move |lines| serde_json::to_writer(lines, &serde_json::json!({ "requestId": id }))
    }

    #[tokio::test(start_paused = true)]
    async fn entries_of_a_moment_travel_together_and_a_flush_hands_over_what_waits() {
        let handed = Handed::default();
        let batch = LogBatch::new(RawDeliveryLog_TO::from_value(handed.clone(), TD_Opaque));
        batch.append(entry(1)).unwrap();
        batch.append(entry(2)).unwrap();
        let unwritable = batch.append(|lines| {
            lines.extend_from_slice(b"{\"half");
            Err(serde::ser::Error::custom("cut"))
        });
        assert!(unwritable.is_err());
        assert!(handed.0.lock().unwrap().is_empty(), "nothing handed over before the moment passed");
        tokio::time::sleep(GATHER * 2).await;
        assert_eq!(*handed.0.lock().unwrap(), ["{\"requestId\":1}\n{\"requestId\":2}\n"]);
        batch.append(entry(3)).unwrap();
        batch.flush();
        assert_eq!(handed.0.lock().unwrap().len(), 2, "handed over at once");
        assert_eq!(handed.0.lock().unwrap()[1], "{\"requestId\":3}\n");
        tokio::time::sleep(GATHER * 2).await;
        assert_eq!(handed.0.lock().unwrap().len(), 2, "the moment's end finds nothing more to hand over");
    }
}
