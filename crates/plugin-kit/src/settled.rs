//! Tracks which messages of an ordered sequence are settled, so that a source commits only a contiguous prefix.

use std::collections::BTreeSet;

/// The settled prefix of a sequence (mock ids, or the offsets of one Kafka partition). Settling a message beyond a
/// gap is remembered but does not move the prefix past the gap.
#[derive(Debug, Clone)]
pub struct SettledPrefix {
    next_unsettled: u64,
    ahead: BTreeSet<u64>,
}

impl SettledPrefix {
    /// A sequence whose first unsettled position is `start`.
    pub fn starting_at(start: u64) -> Self {
        Self { next_unsettled: start, ahead: BTreeSet::new() }
    }

    /// The first position not yet settled: everything before it may be committed.
    pub fn next_unsettled(&self) -> u64 {
        self.next_unsettled
    }

    /// Marks `position` settled; returns whether the prefix moved.
    pub fn settle(&mut self, position: u64) -> bool {
        if position < self.next_unsettled {
            return false;
        }
        self.ahead.insert(position);
        let before = self.next_unsettled;
        while self.ahead.remove(&self.next_unsettled) {
            self.next_unsettled += 1;
        }
        self.next_unsettled != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_never_passes_a_gap() {
        let mut prefix = SettledPrefix::starting_at(10);
        assert!(!prefix.settle(12));
        assert!(!prefix.settle(11));
        assert_eq!(prefix.next_unsettled(), 10);
        assert!(prefix.settle(10));
        assert_eq!(prefix.next_unsettled(), 13);
        assert!(!prefix.settle(3));
        assert_eq!(prefix.next_unsettled(), 13);
    }
}
