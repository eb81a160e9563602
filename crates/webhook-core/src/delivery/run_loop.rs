//! The loop that runs one subscription: take batches from the source, run each message through the subscription's
//! flows ([`Chain`]), admit those kept by their ordering ([`Scheduler`]), deliver with the subscription's
//! concurrency, and acknowledge settled messages to the source (dropped ones with them, [`Filtered`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flows::{Chain, Decision};
use plugin_api::abi_stable::std_types::{RResult, RVec};
use plugin_api::{Batch, DeliveryOutcome, Gauge, Message, Qos, SourceBox, Termination};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};

use super::deliverer::{Deliverer, Verdict};
use super::filtered::Filtered;
use super::limit::rate::Rate;
use super::scheduler::{Admitted, Scheduler};

/// Messages asked of the source per boundary crossing (the boundary is crossed per batch, not per message).
const BATCH_SIZE: u32 = 64;
/// Messages asked at once while the flows drop most of them: a dropped message costs no callback, so the crossing
/// and the wake-ups between the runtimes are what it costs, and bigger batches share them (a kept message would wait
/// behind more others: the usual size comes back once most are kept).
const DROPPING_BATCH_SIZE: u32 = 1024;

/// One subscription's delivery loop.
pub(crate) struct DeliveryLoop {
    /// Where messages come from; shared with nothing else.
    pub(crate) source: SourceBox,
    /// How each message is delivered.
    pub(crate) deliverer: Arc<Deliverer>,
    /// The delivery guarantee.
    pub(crate) qos: Qos,
    /// Deliveries starting at most so many a second (`pacing.maxPerSecond`).
    pub(crate) rate: Option<Rate>,
    /// Which messages wait for others (their key's delivery under way).
    pub(crate) scheduler: Scheduler,
    /// The steps of the API's and the plan's flows each message goes through first.
    pub(crate) chain: Chain,
    /// Messages the flows dropped, not yet acknowledged.
    pub(crate) filtered: Mutex<Filtered>,
    /// Set, with the grace in-flight calls get, when the host asks the subscription to stop.
    pub(crate) stop: watch::Receiver<Option<Duration>>,
    /// For logs.
    pub(crate) subscription_id: String,
}

/// What the loop was woken by while it waited for the next batch.
enum Waited {
    Stop,
    Delivered(Result<(u64, Verdict), JoinError>),
    Batch(RResult<Batch, plugin_api::abi_stable::std_types::RString>),
}

/// Why the loop stops taking messages.
enum Exit {
    Stopped,
    Finished,
    Failed(String),
}

impl DeliveryLoop {
    /// Runs until the source ends, the host asks to stop, or a delivery fails the subscription. In-flight deliveries
    /// finish and are acknowledged before it returns, except after a stop: they then get the stop's grace, and
    /// those still running are abandoned unacknowledged (at-most-once already committed them: they count as lost in
    /// flight). So a stop is honoured within its grace whatever the callback does. Nothing after a failed message is acknowledged by it.
    pub(crate) async fn run(mut self) -> Termination {
        let mut in_flight: JoinSet<(u64, Verdict)> = JoinSet::new();
        let exit = self.take_and_deliver(&mut in_flight).await;
        let mut failure = match &exit {
            Exit::Failed(cause) => Some(cause.clone()),
            Exit::Stopped | Exit::Finished => None,
        };
        let abandoned = self.drain(&mut in_flight, &mut failure).await;
        if abandoned > 0 {
            tracing::warn!(subscription = %self.subscription_id, abandoned, "deliveries still running at the stop were abandoned unacknowledged");
        }
        // The run's webhook log entries reach the host before the end does (its last flush at a shutdown included).
        self.deliverer.log.flush();
        // What was held is left unacknowledged: it comes again with the next run (at-least-once).
        self.deliverer.metrics.set(Gauge::Held, 0);
        self.deliverer.metrics.set(Gauge::InFlightLimit, 0);
        if failure.is_none() {
            if let Err(error) = self.acknowledge_dropped().await {
                tracing::warn!(subscription = %self.subscription_id, error = %error, "dropped messages not acknowledged");
            }
        }
        self.source.close().await;
        match (failure, exit) {
            (Some(cause), _) => {
                tracing::warn!(subscription = %self.subscription_id, cause = %cause, "subscription failed");
                Termination::Failed(cause.into())
            }
            (None, Exit::Finished) => Termination::Finished,
            (None, _) => Termination::Stopped,
        }
    }

    /// Settles the deliveries still in flight; once a stop is asked, waits at most its grace more, then abandons the
    /// rest. Returns how many were abandoned.
    async fn drain(&mut self, in_flight: &mut JoinSet<(u64, Verdict)>, failure: &mut Option<String>) -> usize {
        let mut stop = self.stop.clone();
        let stopped = async {
            let grace = match stop.wait_for(Option::is_some).await {
                Ok(grace) => grace.unwrap_or_default(),
                Err(_) => Duration::ZERO, // the host dropped the run
            };
            tokio::time::sleep(grace).await;
        };
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                biased;
                joined = in_flight.join_next() => match joined {
                    Some(joined) => {
                        if let Err(cause) = self.settle(joined).await {
                            failure.get_or_insert(cause);
                        }
                    }
                    None => return 0,
                },
                _ = &mut stopped => break,
            }
        }
        let abandoned = in_flight.len();
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
        abandoned
    }

    async fn take_and_deliver(&mut self, in_flight: &mut JoinSet<(u64, Verdict)>) -> Exit {
        // The batch being waited for survives the settling of deliveries that finish meanwhile: dropping it would
        // cancel the source's read.
        let mut next_batch = None;
        let mut size = BATCH_SIZE;
        loop {
            let waiting = next_batch.get_or_insert_with(|| self.source.next_batch(size));
            let event = tokio::select! {
                biased;
                _ = self.stop.wait_for(Option::is_some) => Waited::Stop,
                Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => Waited::Delivered(joined),
                batch = waiting => Waited::Batch(batch),
            };
            let batch = match event {
                Waited::Stop => return Exit::Stopped,
                Waited::Delivered(joined) => {
                    if let Err(exit) = self.settle_and_go_on(in_flight, joined).await {
                        return exit;
                    }
                    continue;
                }
                Waited::Batch(batch) => batch,
            };
            next_batch = None;
            let Batch { messages, end } = match batch {
                RResult::ROk(batch) => batch,
                RResult::RErr(error) => return Exit::Failed(format!("source failed: {error}")),
            };
            let taken = messages.len();
            for message in messages {
                if self.stop.borrow().is_some() {
                    return Exit::Stopped;
                }
                if let Err(exit) = self.take(in_flight, message).await {
                    return exit;
                }
            }
            match self.acknowledge_dropped().await {
                Ok(dropped) => size = if dropped * 2 > taken { DROPPING_BATCH_SIZE } else { BATCH_SIZE },
                Err(cause) => return Exit::Failed(cause),
            }
            if end {
                // Every message waiting behind its key is delivered before the run finishes.
                while !in_flight.is_empty() {
                    if let Err(exit) = self.settle_next(in_flight).await {
                        return exit;
                    }
                }
                return Exit::Finished;
            }
        }
    }

    /// Runs `message` through the flows (a dropped one is settled as filtered, never admitted; a step that cannot
    /// run on it fails the subscription), then admits it: starts it as soon as a request may start, or holds it
    /// behind its key. Under at-most-once with keys, it is committed first, in source order, even when held (a later
    /// message of another key may start before it, and the source commits only past settled messages).
    async fn take(&mut self, in_flight: &mut JoinSet<(u64, Verdict)>, mut message: Message) -> Result<(), Exit> {
        if !self.chain.is_empty() {
            match self.chain.run(&mut message) {
                Decision::Deliver => {}
                Decision::Filter { ack } => {
                    self.deliverer.metrics.delivery(DeliveryOutcome::Filtered);
                    self.filtered.lock().expect("filtered lock").dropped(message.ack_token, ack);
                    return Ok(());
                }
                Decision::Fail(cause) => return Err(Exit::Failed(cause)),
            }
        }
        // Bounded: while too many messages wait behind their keys, take nothing more from the source.
        while self.scheduler.held() >= self.scheduler.held_limit() {
            self.settle_next(in_flight).await?;
        }
        if self.commits_when_taken() && self.commit_first(&message).await? {
            return Ok(());
        }
        match self.scheduler.admit(message) {
            Some(admitted) => self.start_when_free(in_flight, admitted).await,
            None => {
                self.show_held();
                Ok(())
            }
        }
    }

    /// Starts `admitted`, and what settling deliveries meanwhile lets start, each once a request may start.
    async fn start_when_free(
        &mut self,
        in_flight: &mut JoinSet<(u64, Verdict)>,
        admitted: Admitted,
    ) -> Result<(), Exit> {
        // Released messages queue here; without keys none ever does (no allocation per message).
        let mut ready = VecDeque::new();
        let mut next = Some(admitted);
        while let Some(admitted) = next.take().or_else(|| ready.pop_front()) {
            while in_flight.len() >= self.deliverer.limit.current() {
                let joined = tokio::select! {
                    biased;
                    _ = self.stop.wait_for(Option::is_some) => return Err(Exit::Stopped),
                    joined = in_flight.join_next() => joined.expect("the set is not empty"),
                };
                ready.extend(self.settle(joined).await.map_err(Exit::Failed)?);
            }
            if self.stop.borrow().is_some() {
                return Err(Exit::Stopped);
            }
            self.start(in_flight, admitted).await?;
        }
        Ok(())
    }

    /// Waits for the next delivery to end and settles it (what it lets start starts).
    async fn settle_next(&mut self, in_flight: &mut JoinSet<(u64, Verdict)>) -> Result<(), Exit> {
        let joined = tokio::select! {
            biased;
            _ = self.stop.wait_for(Option::is_some) => return Err(Exit::Stopped),
            joined = in_flight.join_next() => joined.expect("deliveries are under way"),
        };
        self.settle_and_go_on(in_flight, joined).await
    }

    /// Settles an ended delivery and starts the message of its key that waited for it, if any.
    async fn settle_and_go_on(
        &mut self,
        in_flight: &mut JoinSet<(u64, Verdict)>,
        joined: Result<(u64, Verdict), JoinError>,
    ) -> Result<(), Exit> {
        match self.settle(joined).await.map_err(Exit::Failed)? {
            Some(next) => self.start_when_free(in_flight, next).await,
            None => Ok(()),
        }
    }

    /// Starts delivering `admitted`, once `pacing.maxPerSecond` lets it. Under at-most-once (without keys) the
    /// source commits it first; a message the source refuses (its partition moved to another consumer, which
    /// delivers it) is not delivered.
    async fn start(&mut self, in_flight: &mut JoinSet<(u64, Verdict)>, admitted: Admitted) -> Result<(), Exit> {
        self.pace().await?;
        let Admitted { message, key } = admitted;
        if self.qos == Qos::AtMostOnce && !self.commits_when_taken() && self.commit_first(&message).await? {
            return Ok(());
        }
        let token = message.ack_token;
        let deliverer = Arc::clone(&self.deliverer);
        in_flight.spawn(async move { (token, deliverer.deliver(message, key).await) });
        Ok(())
    }

    /// Waits for the next start `pacing.maxPerSecond` allows (not an attempt: no retry is counted); a stop ends the
    /// wait at once.
    async fn pace(&mut self) -> Result<(), Exit> {
        let Some(rate) = &mut self.rate else {
            return Ok(());
        };
        let wait = rate.reserve(std::time::Instant::now());
        if wait.is_zero() {
            return Ok(());
        }
        self.deliverer.metrics.add(Gauge::PacingWaitMicros, wait.as_micros() as u64);
        tokio::select! {
            biased;
            _ = self.stop.wait_for(Option::is_some) => Err(Exit::Stopped),
            () = tokio::time::sleep(wait) => Ok(()),
        }
    }

    /// Whether at-most-once commits each message when it is taken rather than when it starts: with keys, a later key
    /// may start before a held message, and the source commits only past settled messages.
    fn commits_when_taken(&self) -> bool {
        self.qos == Qos::AtMostOnce && self.scheduler.is_keyed()
    }

    /// At-most-once: has the source commit `message` before it is delivered; says whether the source refused it.
    async fn commit_first(&self, message: &Message) -> Result<bool, Exit> {
        let mut stop = self.stop.clone();
        let refused = tokio::select! {
            biased;
            _ = stop.wait_for(Option::is_some) => return Err(Exit::Stopped),
            acked = self.ack(message.ack_token) => acked.map_err(Exit::Failed)?,
        };
        if refused {
            tracing::debug!(subscription = %self.subscription_id, message_id = %message.id, "message of a revoked partition not delivered");
        }
        Ok(refused)
    }

    /// Acknowledges a finished delivery and returns the message of its key that may start now, or says why the
    /// subscription must stop.
    async fn settle(&mut self, joined: Result<(u64, Verdict), JoinError>) -> Result<Option<Admitted>, String> {
        let (token, verdict) = joined.map_err(|error| format!("delivery task failed: {error}"))?;
        match verdict {
            Verdict::Settled => {}
            Verdict::Skipped(reason) => {
                tracing::warn!(subscription = %self.subscription_id, reason = %reason, "message skipped");
            }
            Verdict::DeadLettered => {
                tracing::info!(subscription = %self.subscription_id, "message handed to the dead letter queue");
            }
            Verdict::Fail(cause) => return Err(cause),
            Verdict::Abandoned => return Ok(None), // stopped between attempts: left unacknowledged
        }
        if self.qos != Qos::AtMostOnce {
            // A refused token belongs to a partition another consumer now delivers: nothing more to do for it.
            self.ack(token).await?;
        }
        let next = self.scheduler.settled(token);
        if next.is_some() {
            self.show_held();
        }
        Ok(next)
    }

    /// Shows how many messages wait behind their key (the subscription's `gateway_messages_held`).
    fn show_held(&self) {
        self.deliverer.metrics.set(Gauge::Held, self.scheduler.held() as u64);
    }

    /// Acknowledges one message (and the dropped ones waiting); says whether the source refused it.
    async fn ack(&self, token: u64) -> Result<bool, String> {
        // Without flows nothing is ever dropped: no lock on the way.
        let tokens =
            if self.chain.is_empty() { vec![token] } else { self.filtered.lock().expect("filtered lock").with(token) };
        match self.source.ack(RVec::from(tokens)).await {
            RResult::ROk(refused) => Ok(refused.contains(&token)),
            RResult::RErr(error) => Err(format!("source acknowledgement failed: {error}")),
        }
    }

    /// Acknowledges the dropped messages due (at the end of a batch, and of the run); says how many.
    async fn acknowledge_dropped(&self) -> Result<usize, String> {
        let due = self.filtered.lock().expect("filtered lock").due();
        if due.is_empty() {
            return Ok(0);
        }
        let count = due.len();
        match self.source.ack(RVec::from(due)).await {
            RResult::ROk(_) => Ok(count),
            RResult::RErr(error) => Err(format!("source acknowledgement failed: {error}")),
        }
    }
}
