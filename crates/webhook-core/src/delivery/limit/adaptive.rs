//! The in-flight limit of one subscription: `http.maxConcurrentConnections`, or, with `pacing.adaptive`, AIMD on the
//! callback's answers (the way TCP and Vector's adaptive concurrency find a path's capacity): a 429, a 503 or a read
//! timeout halves it (at least 1; once per round of calls, so a burst of refusals halves it once), and each run of
//! successes as long as half the limit raises it by one, up to the maximum. `Retry-After` is honoured by the retries
//! as without it.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use http::StatusCode;
use plugin_api::abi_stable::std_types::RArc;
use plugin_api::{DeliveryMetrics, Gauge};
use tokio::sync::watch;

use crate::transport::attempt::{AttemptResult, CallbackErrorKind};

/// How often a retry looks for room among the calls under way.
const ROOM_POLL: Duration = Duration::from_millis(5);

/// One subscription's in-flight limit, shared by its delivery loop (which reads it) and its deliveries (which feed it).
#[derive(Debug)]
pub(crate) struct InFlightLimit {
    max: usize,
    adaptive: bool,
    current: AtomicUsize,
    /// Successes since the last change.
    successes: AtomicUsize,
    /// Calls to finish before a refusal may halve the limit again (those started before it halved).
    grace: AtomicUsize,
    /// Calls under way.
    calling: AtomicUsize,
    metrics: RArc<DeliveryMetrics>,
}

impl InFlightLimit {
    /// A limit of `max`, adapting when `adaptive`; shown in `metrics` ([`Gauge::InFlightLimit`]).
    pub(crate) fn new(max: usize, adaptive: bool, metrics: RArc<DeliveryMetrics>) -> Self {
        let max = max.max(1);
        metrics.set(Gauge::InFlightLimit, max as u64);
        Self {
            max,
            adaptive,
            current: AtomicUsize::new(max),
            successes: AtomicUsize::new(0),
            grace: AtomicUsize::new(0),
            calling: AtomicUsize::new(0),
            metrics,
        }
    }

    /// Deliveries that may be in flight now.
    pub(crate) fn current(&self) -> usize {
        self.current.load(Relaxed)
    }

    /// Feeds the result of one call.
    pub(crate) fn observe(&self, result: &AttemptResult) {
        if !self.adaptive {
            return;
        }
        let slow_down = match result {
            AttemptResult::Answered(status) => {
                *status == StatusCode::TOO_MANY_REQUESTS || *status == StatusCode::SERVICE_UNAVAILABLE
            }
            AttemptResult::Failed(error) => error.kind == CallbackErrorKind::ReadTimeout,
        };
        let in_grace = self.grace.fetch_update(Relaxed, Relaxed, |grace| grace.checked_sub(1)).is_ok();
        let current = self.current();
        if slow_down {
            if !in_grace {
                let halved = (current / 2).max(1);
                self.change(halved);
                self.grace.store(current - 1, Relaxed);
            }
        } else if matches!(result, AttemptResult::Answered(status) if status.is_success()) {
            let run = self.successes.fetch_add(1, Relaxed) + 1;
            if run >= (current / 2).max(1) && current < self.max {
                self.change(current + 1);
            }
        }
    }

    /// A call under way (a first attempt: its delivery was admitted under the limit already).
    pub(crate) fn call(&self) -> Call<'_> {
        self.calling.fetch_add(1, Relaxed);
        Call(&self.calling)
    }

    /// Waits for room among the calls under way, and takes it: a retry (its `Retry-After` waited first) goes only
    /// when fewer calls than the limit are under way, so that calls refused for being too many do not come back all
    /// at once. `None` when a stop came first.
    pub(crate) async fn room(&self, stop: &mut watch::Receiver<Option<Duration>>) -> Option<Call<'_>> {
        loop {
            let taken = self.calling.fetch_update(Relaxed, Relaxed, |calling| {
                (!self.adaptive || calling < self.current()).then_some(calling + 1)
            });
            if taken.is_ok() {
                return Some(Call(&self.calling));
            }
            tokio::select! {
                () = tokio::time::sleep(ROOM_POLL) => {}
                _ = stop.wait_for(Option::is_some) => return None,
            }
        }
    }

    fn change(&self, limit: usize) {
        self.current.store(limit, Relaxed);
        self.successes.store(0, Relaxed);
        self.metrics.set(Gauge::InFlightLimit, limit as u64);
    }
}

/// A call under way, counted until it is dropped.
pub(crate) struct Call<'a>(&'a AtomicUsize);

impl Drop for Call<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::attempt::CallbackError;

    fn answered(code: u16) -> AttemptResult {
        AttemptResult::Answered(StatusCode::from_u16(code).unwrap())
    }

    fn limit(max: usize, adaptive: bool) -> InFlightLimit {
        InFlightLimit::new(max, adaptive, RArc::new(DeliveryMetrics::default()))
    }

    #[test]
    fn refusals_halve_once_per_round_and_successes_raise_by_one() {
        let limit = limit(20, true);
        limit.observe(&answered(429));
        assert_eq!(limit.current(), 10);
        for _ in 0..19 {
            limit.observe(&answered(429)); // the calls already in flight when it halved
        }
        assert_eq!(limit.current(), 10);
        limit.observe(&answered(503));
        assert_eq!(limit.current(), 5);
        // Two successes (half of 5) raise it to 6, three more to 7.
        limit.observe(&answered(200));
        assert_eq!(limit.current(), 5);
        limit.observe(&answered(200));
        assert_eq!(limit.current(), 6);
        for _ in 0..3 {
            limit.observe(&answered(204));
        }
        assert_eq!(limit.current(), 7);
        for _ in 0..10 {
            limit.observe(&answered(200)); // past the grace of the halving
        }
        let before = limit.current();
        let timeout = CallbackError { kind: CallbackErrorKind::ReadTimeout, detail: String::new() };
        limit.observe(&AttemptResult::Failed(timeout));
        assert_eq!(limit.current(), before / 2);
        assert_eq!(limit.metrics.level(Gauge::InFlightLimit), limit.current() as u64);
    }

    #[test]
    fn it_never_leaves_one_to_max() {
        let limit = limit(3, true);
        for _ in 0..100 {
            limit.observe(&answered(200));
        }
        assert_eq!(limit.current(), 3);
        for _ in 0..100 {
            limit.observe(&answered(429));
        }
        assert_eq!(limit.current(), 1);
    }

    #[test]
    fn a_fixed_limit_ignores_answers() {
        let limit = limit(4, false);
        limit.observe(&answered(429));
        assert_eq!(limit.current(), 4);
    }
}
