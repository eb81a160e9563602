//! `pacing.maxPerSecond`: deliveries start at most one every `1 / rate` seconds (a bucket of one token: an idle
//! subscription gets no burst), so a receiver that takes 50 requests a second is never sent more.

use std::time::{Duration, Instant};

/// The spacing of one subscription's deliveries.
#[derive(Debug)]
pub(crate) struct Rate {
    interval: Duration,
    /// When the next delivery may start.
    next: Option<Instant>,
}

impl Rate {
    /// At most `per_second` starts a second (checked: positive and bounded).
    pub(crate) fn new(per_second: f64) -> Self {
        Self { interval: Duration::from_secs_f64(1.0 / per_second), next: None }
    }

    /// Takes the next start at or after `now`: how long to wait for it.
    pub(crate) fn reserve(&mut self, now: Instant) -> Duration {
        let start = self.next.map_or(now, |next| next.max(now));
        self.next = Some(start + self.interval);
        start - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_are_spaced_and_an_idle_time_gives_no_burst() {
        let mut rate = Rate::new(2.0);
        let now = Instant::now();
        assert_eq!(rate.reserve(now), Duration::ZERO);
        assert_eq!(rate.reserve(now), Duration::from_millis(500));
        assert_eq!(rate.reserve(now), Duration::from_millis(1000));
        let later = now + Duration::from_secs(10);
        assert_eq!(rate.reserve(later), Duration::ZERO);
        assert_eq!(rate.reserve(later), Duration::from_millis(500));
    }

    #[test]
    fn a_fractional_rate_waits_seconds() {
        let mut rate = Rate::new(0.5);
        let now = Instant::now();
        rate.reserve(now);
        assert_eq!(rate.reserve(now), Duration::from_secs(2));
    }
}
