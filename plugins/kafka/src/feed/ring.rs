//! The records of one assigned partition a feed keeps for its subscriptions: the last [`RING_RECORDS`] fetched, read
//! by offset. A subscription whose cursor is still inside the ring reads from it; one that fell behind its floor (a
//! slow callback while the others went on) catches up on its own.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::message::Record;

/// Records kept per partition: the distance a slow subscription may fall behind the fastest before it catches up on
/// its own (about 1 MB of 1 KiB records).
pub(crate) const RING_RECORDS: usize = 1024;

/// The records of one partition from `floor` on, in offset order.
pub(crate) struct Ring {
    /// Every record fetched at or after this offset is in the ring.
    floor: i64,
    records: VecDeque<Arc<Record>>,
}

/// What a subscription finds in a ring at its cursor.
pub(crate) enum Found {
    /// The records at or after the cursor (none yet: the cursor is at or past the head).
    Records(Vec<Arc<Record>>),
    /// The cursor is before the floor: those records are no longer kept.
    Behind,
}

impl Ring {
    /// An empty ring of a partition fetched from `start`.
    pub(crate) fn starting_at(start: i64) -> Self {
        Self { floor: start, records: VecDeque::new() }
    }

    /// The offset after the last record kept (the floor while empty).
    pub(crate) fn head(&self) -> i64 {
        self.records.back().map_or(self.floor, |record| record.offset + 1)
    }

    /// Whether the ring keeps as many records as it may.
    pub(crate) fn is_full(&self) -> bool {
        self.records.len() >= RING_RECORDS
    }

    /// Keeps `record` (ignored when it is not after the head: fetched again after a seek); the oldest record goes
    /// once the ring is over its size.
    pub(crate) fn push(&mut self, record: Arc<Record>) {
        if record.offset < self.head() {
            return;
        }
        self.records.push_back(record);
        if self.records.len() > RING_RECORDS {
            if let Some(oldest) = self.records.pop_front() {
                self.floor = oldest.offset + 1;
            }
        }
    }

    /// Up to `max` records at or after `cursor`.
    pub(crate) fn read(&self, cursor: i64, max: usize) -> Found {
        if cursor < self.floor {
            return Found::Behind;
        }
        let first = self.records.partition_point(|record| record.offset < cursor);
        Found::Records(self.records.range(first..).take(max).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(found: Found) -> Option<Vec<i64>> {
        match found {
            Found::Records(records) => Some(records.iter().map(|record| record.offset).collect()),
            Found::Behind => None,
        }
    }

    fn ring_of(start: i64, offsets: impl IntoIterator<Item = i64>) -> Ring {
        let mut ring = Ring::starting_at(start);
        for offset in offsets {
            ring.push(Arc::new(Record::test(offset)));
        }
        ring
    }

    #[test]
    fn a_cursor_reads_from_its_offset_skipping_gaps() {
        let ring = ring_of(10, [10, 11, 13, 14]);
        assert_eq!(offsets(ring.read(12, 10)), Some(vec![13, 14]));
        assert_eq!(offsets(ring.read(10, 2)), Some(vec![10, 11]));
        assert_eq!(offsets(ring.read(15, 10)), Some(vec![]), "at the head: nothing yet");
        assert_eq!(offsets(ring.read(9, 10)), None, "before the start");
        assert_eq!(ring.head(), 15);
    }

    #[test]
    fn the_oldest_record_goes_when_the_ring_is_over_its_size_and_its_readers_fall_behind() {
        let count = RING_RECORDS as i64;
        let mut ring = ring_of(0, 0..count);
        assert!(ring.is_full());
        assert_eq!(offsets(ring.read(0, 1)), Some(vec![0]));
        ring.push(Arc::new(Record::test(count)));
        assert_eq!(offsets(ring.read(0, 1)), None, "offset 0 is gone: its reader catches up on its own");
        assert_eq!(offsets(ring.read(1, 1)), Some(vec![1]));
        ring.push(Arc::new(Record::test(3)));
        assert_eq!(ring.head(), count + 1, "a record before the head is ignored");
    }
}
