//! tansu's group coordinator, and what makes its habits harmless. Switched on only for a broker detected as tansu
//! ([`crate::Broker::detect`]); on a broker that behaves like Kafka nothing here runs.
//!
//! tansu (0.6) has no join barrier:
//! - a new generation is handed out before every member has rejoined, so a member gaining partitions waits
//!   [`HANDOVER_WAIT`] for their previous owner to hear of the rebalance (its next heartbeat) and let them go;
//! - a member whose session expired is dropped without a new generation: the member that noticed rejoins into the
//!   same generation and the others never hear of it, so the dead member's partitions stay assigned to nobody alive.
//!   [`Workarounds`] sees an assignment come without a new generation; the member then leaves and joins again, which
//!   makes the broker start a new generation that every member joins.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use crate::HEARTBEAT_INTERVAL;

/// How long a member gaining partitions waits before using them: two heartbeats and the time for a previous owner
/// to revoke them.
pub const HANDOVER_WAIT: Duration = Duration::from_millis(2 * HEARTBEAT_INTERVAL.as_millis() as u64 + 500);

/// How often a handover wait looks whether the member is leaving.
const LEAVING_LOOK: Duration = Duration::from_millis(50);

/// What librdkafka's serialized group metadata starts with (`rd_kafka_consumer_group_metadata_write`), followed
/// by the generation in the host's byte order.
const METADATA_MAGIC: &[u8] = b"CGMDv2:";

/// The generation of the group `consumer` is a member of, as librdkafka last heard it.
pub fn generation<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> Option<i32> {
    // SAFETY: the client pointer lives as long as `consumer`; the metadata object and the buffer librdkafka
    // allocates are freed here, each once.
    unsafe {
        let metadata = rd::rd_kafka_consumer_group_metadata(consumer.client().native_ptr());
        if metadata.is_null() {
            return None;
        }
        let mut buffer: *mut c_void = std::ptr::null_mut();
        let mut size: usize = 0;
        let error = rd::rd_kafka_consumer_group_metadata_write(metadata, &mut buffer, &mut size);
        rd::rd_kafka_consumer_group_metadata_destroy(metadata);
        if !error.is_null() {
            rd::rd_kafka_error_destroy(error);
            return None;
        }
        let bytes = std::slice::from_raw_parts(buffer.cast::<u8>(), size);
        let generation = parse_generation(bytes);
        rd::rd_kafka_mem_free(std::ptr::null_mut(), buffer);
        generation
    }
}

/// The generation in serialized group metadata.
fn parse_generation(bytes: &[u8]) -> Option<i32> {
    let rest = bytes.strip_prefix(METADATA_MAGIC)?;
    Some(i32::from_ne_bytes(rest.get(..4)?.try_into().ok()?))
}

/// A member's workarounds on tansu: told of its revocations and assignments (in its rebalance callbacks), it waits
/// out the handover and says when the member should leave its group and join again (served by whoever polls).
#[derive(Debug, Default)]
pub struct Workarounds {
    generations: Mutex<Generations>,
    wanted: AtomicBool,
    /// Set when the member is leaving: a handover wait under way ends.
    leaving: AtomicBool,
}

impl Workarounds {
    /// Before partitions newly assigned to `consumer` are used: waits for their previous owner to let them go, and
    /// asks for a rejoin when the assignment came without a new generation (then true). Blocking.
    pub fn assigning<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, gained: bool) -> bool {
        if gained {
            tracing::info!(wait = ?HANDOVER_WAIT, "waiting for the partitions' previous owner to let them go (tansu)");
            let until = Instant::now() + HANDOVER_WAIT;
            while !self.leaving.load(Ordering::Relaxed) && Instant::now() < until {
                std::thread::sleep(LEAVING_LOOK.min(until.saturating_duration_since(Instant::now())));
            }
        }
        self.assigned(consumer)
    }

    /// The member is leaving its group: a handover wait under way ends at once (a stop waits for nobody).
    pub fn leave(&self) {
        self.leaving.store(true, Ordering::Relaxed);
    }

    /// Notes that `consumer`'s partitions are being revoked (a rebalance begins for it).
    pub fn revoked<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) {
        self.generations.lock().expect("generations lock").revoked(generation(consumer));
    }

    /// Notes an assignment `consumer` just received; true (and a rejoin wanted) when it came without a new
    /// generation.
    fn assigned<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) -> bool {
        let stale = self.generations.lock().expect("generations lock").assigned(generation(consumer));
        if stale {
            self.ask();
        }
        stale
    }

    /// Asks for a rejoin.
    pub fn ask(&self) {
        self.wanted.store(true, Ordering::Relaxed);
    }

    /// Leaves `consumer`'s group and subscribes to `topics` again, if a rejoin was asked for since the last call.
    /// Call it where the consumer is polled.
    pub fn serve<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, topics: &[&str]) {
        if self.wanted.swap(false, Ordering::Relaxed) {
            consumer.unsubscribe();
            if let Err(error) = consumer.subscribe(topics) {
                tracing::error!(error = %error, topics = ?topics, "cannot join the group again");
            }
        }
    }
}

/// The generation a member last held: at its last assignment or revocation.
#[derive(Debug, Default)]
struct Generations {
    last: Option<i32>,
}

impl Generations {
    /// Notes the generation of partitions being revoked (a rebalance begins for this member).
    fn revoked(&mut self, generation: Option<i32>) {
        if generation.is_some_and(|generation| generation >= 0) {
            self.last = generation;
        }
    }

    /// Notes the generation of an assignment just received; true when it is the one the member held before: the
    /// broker re-formed the group without a new generation, and the member should leave and join again.
    fn assigned(&mut self, generation: Option<i32>) -> bool {
        let stale = generation.is_some_and(|generation| generation >= 0) && generation == self.last;
        self.last = generation;
        stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generation_follows_the_magic() {
        let mut bytes = METADATA_MAGIC.to_vec();
        bytes.extend_from_slice(&7_i32.to_ne_bytes());
        bytes.extend_from_slice(b"group\0member\0");
        assert_eq!(parse_generation(&bytes), Some(7));
        assert_eq!(parse_generation(b"CGMDv1:\0\0\0\x07"), None);
        assert_eq!(parse_generation(b"CGMDv2:\0"), None);
    }

    #[test]
    fn an_assignment_without_a_new_generation_is_stale() {
        let mut generations = Generations::default();
        assert!(!generations.assigned(Some(3)), "the first");
        assert!(!generations.assigned(Some(4)));
        assert!(generations.assigned(Some(4)), "the same generation again");
        generations.revoked(Some(7));
        assert!(generations.assigned(Some(7)), "revoked and assigned again in one generation");
        generations.revoked(Some(7));
        generations.revoked(Some(-1));
        assert!(!generations.assigned(Some(8)), "a new generation");
        assert!(!generations.assigned(None), "unknown");
        assert!(!generations.assigned(None));
    }
}
