//! A feed's state under one lock: the rings of its assigned partitions, its readers, whether a rebalance is under
//! way, and why it failed.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::ring::{Found, Ring};
use super::Taken;
use crate::message::Record;
use crate::offsets::Partition;
use crate::reader::Reader;

/// Records left to read under which a reader counts as near a ring's head: the feed fetches on for it.
const NEAR_HEAD: i64 = 256;

#[derive(Default)]
pub(super) struct State {
    rings: HashMap<Partition, Ring>,
    readers: Vec<Arc<Reader>>,
    /// Counts rebalance steps: odd while one is under way.
    generation: u64,
    failure: Option<String>,
}

impl State {
    /// The generation and the assigned partitions, unless a rebalance is under way.
    pub(super) fn settled(&self) -> Option<(u64, Vec<Partition>)> {
        self.generation.is_multiple_of(2).then(|| (self.generation, self.rings.keys().cloned().collect()))
    }

    /// Counts rebalance steps: a commit point taken before a step may be on a partition that moved since.
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    pub(super) fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The first reader `suits`.
    pub(super) fn witness(&self, suits: impl Fn(&Reader) -> bool) -> Option<Arc<Reader>> {
        self.readers.iter().find(|reader| suits(reader)).cloned()
    }

    pub(super) fn add(&mut self, reader: Arc<Reader>) {
        self.readers.push(reader);
    }

    pub(super) fn remove(&mut self, reader: &Arc<Reader>) {
        self.readers.retain(|kept| !Arc::ptr_eq(kept, reader));
    }

    /// A rebalance begins: the readers it works on.
    pub(super) fn begin_rebalance(&mut self) -> Vec<Arc<Reader>> {
        self.generation += 1;
        self.readers.clone()
    }

    /// A rebalance ends with `rings` added (their readers are woken).
    pub(super) fn end_rebalance(&mut self, rings: HashMap<Partition, Ring>) {
        self.rings.extend(rings);
        self.generation += 1;
        self.wake_all();
    }

    /// Forgets the rings of `partitions`.
    pub(super) fn drop_rings(&mut self, partitions: &[Partition]) {
        self.rings.retain(|partition, _| !partitions.contains(partition));
    }

    /// The feed cannot go on: every reader is told.
    pub(super) fn fail(&mut self, cause: String) {
        self.failure = Some(cause);
        self.wake_all();
    }

    fn wake_all(&self) {
        for reader in &self.readers {
            reader.hungry.store(false, Ordering::Release);
            reader.wake.notify_one();
        }
    }

    /// Keeps fetched records and wakes the readers waiting for them.
    pub(super) fn push(&mut self, records: Vec<Record>) {
        for record in records {
            if let Some(ring) = self.rings.get_mut(&(record.topic.to_string(), record.partition)) {
                ring.push(Arc::new(record));
            }
        }
        for reader in &self.readers {
            reader.feed_if_hungry();
        }
    }

    /// Whether fetching should wait: a ring is full and no reader is near the head of one (each still has at least
    /// [`NEAR_HEAD`] records to read). Waiting for a reader to be out of records would let the feed fetch one batch
    /// per wake-up; waiting for none would let the fastest reader push the others out of the rings.
    pub(super) fn should_hold(&self) -> bool {
        self.rings.values().any(Ring::is_full) && !self.readers.iter().any(|reader| self.near_head(reader))
    }

    fn near_head(&self, reader: &Reader) -> bool {
        reader.hungry.load(Ordering::Acquire)
            || reader.offsets.lock().expect("offsets lock").cursors().any(|(partition, cursor)| {
                self.rings.get(partition).is_some_and(|ring| ring.head() - cursor < NEAR_HEAD)
            })
    }

    /// See [`super::Shared::take`]; `near_head` says whether the reader is near a ring's head after taking.
    pub(super) fn take(&self, reader: &Reader, max: usize) -> Result<Taken, String> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let mut taken = Taken { records: Vec::new(), behind: HashMap::new(), near_head: false };
        let offsets = reader.offsets.lock().expect("offsets lock");
        for (partition, cursor) in offsets.cursors() {
            let Some(ring) = self.rings.get(partition) else { continue };
            match ring.read(cursor, max - taken.records.len()) {
                Found::Behind => {
                    taken.behind.insert(partition.clone(), cursor);
                }
                Found::Records(records) => {
                    let next = records.last().map_or(cursor, |record| record.offset + 1);
                    taken.near_head |= ring.head() - next < NEAR_HEAD;
                    taken.records.extend(records);
                }
            }
            if taken.records.len() >= max {
                break;
            }
        }
        if taken.records.is_empty() && taken.behind.is_empty() {
            reader.hungry.store(true, Ordering::Release);
        }
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use plugin_kit::api::Qos;

    use super::*;
    use crate::config::OffsetReset;

    fn partition() -> Partition {
        ("t".to_string(), 0)
    }

    /// A feed state with one ring of `records` offsets from 0 and readers at `cursors`.
    fn state_with(records: i64, cursors: &[i64]) -> (State, Vec<Arc<Reader>>) {
        let mut state = State::default();
        let mut ring = Ring::starting_at(0);
        for offset in 0..records {
            ring.push(Arc::new(Record::test(offset)));
        }
        state.end_rebalance(HashMap::from([(partition(), ring)]));
        let readers: Vec<Arc<Reader>> = cursors
            .iter()
            .map(|cursor| {
                let reader = Arc::new(Reader::new("sub", Qos::Auto, OffsetReset::Earliest, true));
                reader.assign_all(HashMap::from([(partition(), (*cursor, None))]));
                state.add(Arc::clone(&reader));
                reader
            })
            .collect();
        (state, readers)
    }

    #[test]
    fn a_full_ring_holds_the_feed_only_while_every_reader_has_plenty_left() {
        let full = super::super::ring::RING_RECORDS as i64;
        let (state, _) = state_with(full, &[0, 10]);
        assert!(state.should_hold(), "both readers have over a thousand records left");
        let (state, _) = state_with(full, &[0, full - 10]);
        assert!(!state.should_hold(), "one reader is near the head: the feed fetches on for it");
        let (state, _) = state_with(10, &[0]);
        assert!(!state.should_hold(), "the ring is not full");
    }

    #[test]
    fn a_reader_takes_from_its_cursor_and_says_when_it_is_near_the_head_or_behind() {
        let (state, readers) = state_with(300, &[0]);
        let taken = state.take(&readers[0], 10).unwrap();
        assert_eq!(taken.records.len(), 10);
        assert!(!taken.near_head, "290 left");
        let (state, readers) = state_with(300, &[100]);
        let taken = state.take(&readers[0], 64).unwrap();
        assert!(taken.near_head, "136 left after taking 64");
        let (state, readers) = state_with(300, &[300]);
        let taken = state.take(&readers[0], 64).unwrap();
        assert!(taken.records.is_empty() && readers[0].hungry.load(Ordering::Acquire), "at the head: hungry");
        let (mut state, readers) = state_with(0, &[0]);
        state.drop_rings(&[partition()]);
        state.end_rebalance(HashMap::from([(partition(), Ring::starting_at(50))]));
        let taken = state.take(&readers[0], 64).unwrap();
        assert_eq!(taken.behind, HashMap::from([(partition(), 0)]), "before the floor: catches up on its own");
    }

    #[test]
    fn a_failed_feed_fails_every_take() {
        let (mut state, readers) = state_with(10, &[0]);
        state.fail("broken".to_string());
        assert_eq!(state.take(&readers[0], 1).err().as_deref(), Some("broken"));
    }
}
