//! Sampling deliveries for webhook logs (SPEC §8): the state that applies an API's `analytics.messageSampling`
//! (parsed by the `definition` crate) to one subscription.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use definition::Sampling;

/// The sampling state of one subscription.
pub struct Sampler {
    sampling: Sampling,
    seen: AtomicU64,
    window: Mutex<Option<(Instant, u64)>>,
}

impl Sampler {
    /// A sampler that has seen nothing yet.
    pub fn new(sampling: Sampling) -> Self {
        Self { sampling, seen: AtomicU64::new(0), window: Mutex::new(None) }
    }

    /// Whether the delivery about to happen is logged.
    pub fn sample(&self) -> bool {
        let seen = self.seen.fetch_add(1, Ordering::Relaxed);
        match self.sampling {
            Sampling::Count(count) => seen.is_multiple_of(count),
            Sampling::Probability(probability) => fastrand::f64() < probability,
            Sampling::Temporal(period) => self.take_in_window(period, 1),
            Sampling::WindowedCount(count, window) => self.take_in_window(window, count),
        }
    }

    /// Takes one of the `allowed` places of the current window, starting a new window when it is over.
    fn take_in_window(&self, window: Duration, allowed: u64) -> bool {
        let mut current = self.window.lock().expect("sampler lock");
        let now = Instant::now();
        match current.as_mut() {
            Some((started, taken)) if now.duration_since(*started) < window => {
                if *taken < allowed {
                    *taken += 1;
                    true
                } else {
                    false
                }
            }
            _ => {
                *current = Some((now, 1));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_takes_one_in_n_and_windows_cap_their_count() {
        let one_in_three = Sampler::new(Sampling::Count(3));
        let taken: Vec<bool> = (0..9).map(|_| one_in_three.sample()).collect();
        assert_eq!(taken.iter().filter(|taken| **taken).count(), 3);
        let windowed = Sampler::new(Sampling::WindowedCount(2, Duration::from_secs(60)));
        assert_eq!((0..5).filter(|_| windowed.sample()).count(), 2);
        let temporal = Sampler::new(Sampling::Temporal(Duration::from_secs(60)));
        assert_eq!((0..5).filter(|_| temporal.sample()).count(), 1);
        let never = Sampler::new(Sampling::Probability(0.0));
        assert_eq!((0..100).filter(|_| never.sample()).count(), 0);
    }
}
