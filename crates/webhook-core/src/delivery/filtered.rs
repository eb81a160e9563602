//! Messages a flow dropped (`message-filtering`). They make no callback and hold no key; they are acknowledged to the
//! source in batches, with the next acknowledgement or at the end of the batch they came in (never one boundary
//! crossing each). Under `ackFilteredMessage: false` a dropped message is acknowledged only with the next
//! acknowledgement of a message the flow did not drop: its position is passed once a later message is, as a Kafka
//! position is.

/// Dropped messages not yet acknowledged.
#[derive(Default)]
pub(crate) struct Filtered {
    /// To acknowledge with the next acknowledgement, or at the end of the batch.
    acked: Vec<u64>,
    /// To acknowledge only with the next acknowledgement of a message the flow kept.
    deferred: Vec<u64>,
}

impl Filtered {
    /// Notes a dropped message; `ack`: its step acknowledges it (`ackFilteredMessage`).
    pub(crate) fn dropped(&mut self, token: u64, ack: bool) {
        if ack {
            self.acked.push(token);
        } else {
            self.deferred.push(token);
        }
    }

    /// The tokens of an acknowledgement of `token`, a message the flow kept: every dropped one goes with it.
    pub(crate) fn with(&mut self, token: u64) -> Vec<u64> {
        if self.acked.is_empty() && self.deferred.is_empty() {
            return vec![token];
        }
        let mut tokens = std::mem::take(&mut self.acked);
        tokens.append(&mut self.deferred);
        tokens.push(token);
        tokens
    }

    /// The dropped messages to acknowledge at the end of a batch (those of `ackFilteredMessage: false` wait).
    pub(crate) fn due(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.acked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_messages_wait_for_a_kept_one() {
        let mut filtered = Filtered::default();
        filtered.dropped(1, true);
        filtered.dropped(2, false);
        assert_eq!(filtered.due(), [1]);
        assert_eq!(filtered.due(), Vec::<u64>::new());
        assert_eq!(filtered.with(3), [2, 3]);
        assert_eq!(filtered.with(4), [4]);
    }
}
