//! Tracks which received messages are settled, so that a source commits only up to the first unsettled one.

use std::collections::VecDeque;

/// The settled prefix of an ordered stream of positions (mock ids, or the offsets of one Kafka partition, which may
/// skip numbers). Settling a message beyond an unsettled one is remembered but does not move the prefix past it.
#[derive(Debug, Clone)]
pub struct SettledPrefix {
    /// Received and not yet part of the prefix, in order, with whether each is settled.
    pending: VecDeque<(u64, bool)>,
    /// Where the prefix ends when nothing is pending.
    next: u64,
}

impl SettledPrefix {
    /// A stream whose first position to commit from is `start`.
    pub fn starting_at(start: u64) -> Self {
        Self { pending: VecDeque::new(), next: start }
    }

    /// Records that `position` was handed out; positions arrive in increasing order.
    pub fn received(&mut self, position: u64) {
        self.pending.push_back((position, false));
    }

    /// The first position not settled: everything before it may be committed.
    pub fn next_unsettled(&self) -> u64 {
        self.pending.front().map_or(self.next, |(position, _)| *position)
    }

    /// Marks `position` settled; returns whether the prefix moved. Unknown positions are ignored.
    pub fn settle(&mut self, position: u64) -> bool {
        let Ok(index) = self.pending.binary_search_by_key(&position, |(pending, _)| *pending) else {
            return false;
        };
        self.pending[index].1 = true;
        let mut moved = false;
        while let Some((settled, true)) = self.pending.front().copied() {
            self.pending.pop_front();
            self.next = settled + 1;
            moved = true;
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_never_passes_an_unsettled_message() {
        let mut prefix = SettledPrefix::starting_at(10);
        for position in [10, 11, 12] {
            prefix.received(position);
        }
        assert!(!prefix.settle(12));
        assert!(!prefix.settle(11));
        assert_eq!(prefix.next_unsettled(), 10);
        assert!(prefix.settle(10));
        assert_eq!(prefix.next_unsettled(), 13);
        assert!(!prefix.settle(3));
        assert_eq!(prefix.next_unsettled(), 13);
    }

    #[test]
    fn gaps_between_positions_do_not_hold_the_prefix() {
        let mut prefix = SettledPrefix::starting_at(5);
        prefix.received(5);
        prefix.received(7); // 6 was a control record, never handed out
        assert!(prefix.settle(5));
        assert!(prefix.settle(7));
        assert_eq!(prefix.next_unsettled(), 8);
    }
}
