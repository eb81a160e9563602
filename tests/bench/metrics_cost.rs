//! What counting every delivery costs: the operations one delivery makes on its subscription's counters (in flight
//! in and out, the answer's class, the call's duration, the message's age, the outcome), timed on two threads that
//! share the counters, as a subscription's concurrent deliveries do on the plugin's two workers.

use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use plugin_api::{DeliveryMetrics, DeliveryOutcome};

/// Deliveries counted per thread.
const ROUNDS: u32 = 2_000_000;
/// Threads counting at once.
const THREADS: u32 = 2;

/// CPU nanoseconds one delivery's counting takes.
pub fn nanos_per_delivery() -> f64 {
    let metrics = DeliveryMetrics::default();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for round in 0..ROUNDS {
                    let metrics = black_box(&metrics);
                    metrics.in_flight.fetch_add(1, Relaxed);
                    metrics.answered(black_box(200));
                    metrics.callback_duration.observe(f64::from(round % 1000) / 1e5);
                    metrics.message_age.observe(f64::from(round % 1000) / 1e4);
                    metrics.delivery(DeliveryOutcome::Delivered);
                    metrics.in_flight.fetch_sub(1, Relaxed);
                }
            });
        }
    });
    // Both threads ran the whole time: the CPU spent is the wall time on each.
    started.elapsed().as_nanos() as f64 * f64::from(THREADS) / f64::from(THREADS * ROUNDS)
}
