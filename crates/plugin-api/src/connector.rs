//! The contracts of entrypoint and endpoint connectors.
//!
//! Configuration crosses the boundary as JSON text: each plugin owns and validates its own schema and returns errors
//! with JSON paths relative to the document it was given.

use abi_stable::{
    sabi_trait,
    std_types::{RArc, RBox, ROption, RResult, RString, RVec},
    StableAbi,
};
use async_ffi::FfiFuture;

use crate::{ConfigErrors, DeliveryMetrics, Message, Mode, PartitionLag, Qos};

/// What an entrypoint plugin is asked to check when an API is deployed.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct EntrypointSpec {
    /// The entrypoint's `configuration` as JSON (`{}` when absent).
    pub configuration: RString,
    /// The entrypoint's QoS.
    pub qos: Qos,
    /// The `dlq.endpoint` target, when the entrypoint names one.
    pub dlq_endpoint: ROption<RString>,
}

/// What an endpoint plugin is asked to check, and what it is given to open a source or a publisher.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct EndpointSpec {
    /// The effective shared configuration (the group's, or the endpoint's override) as JSON; errors about it use
    /// paths that start with `sharedConfiguration`.
    pub shared_configuration: RString,
    /// The endpoint's own `configuration` as JSON; errors about it use paths that start with `configuration`.
    pub configuration: RString,
}

/// What an endpoint configuration enables.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct EndpointCapabilities {
    /// Modes this configuration enables (kafka: `consumer.enabled`, `producer.enabled`).
    pub modes: RVec<Mode>,
}

/// Opens a source for one running subscription.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct SubscribeRequest {
    /// The API the subscription belongs to.
    pub api_id: RString,
    /// The subscription id (kafka: the consumer group).
    pub subscription_id: RString,
    /// The delivery guarantee, which decides when the source commits.
    pub qos: Qos,
    /// The endpoint to read from.
    pub endpoint: EndpointSpec,
}

/// Opens a publisher (for a dead letter queue).
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct PublishRequest {
    /// The API the publisher serves.
    pub api_id: RString,
    /// The endpoint to write to.
    pub endpoint: EndpointSpec,
}

/// Opens the dead letters of one subscription, to deliver them again.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct ReplayRequest {
    /// The API the subscription belongs to.
    pub api_id: RString,
    /// Whose dead letters (records whose `x-gravitee-dlq-subscription-id` names it).
    pub subscription_id: RString,
    /// The dead letter queue's endpoint (the one its publisher writes to).
    pub endpoint: EndpointSpec,
    /// Dead letters whose last attempt (`x-gravitee-dlq-last-attempt-at`) is at or after this, ms since the epoch.
    pub from_ms: i64,
    /// ... and at or before this.
    pub to_ms: i64,
}

/// Why a source or a publisher could not be opened.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct OpenError {
    /// What went wrong, for the subscription's `failureCause`; never contains a secret.
    pub message: RString,
    /// The backend is unavailable for now (unreachable broker): the host retries with backoff. Otherwise the
    /// configuration or the backend refuses it for good.
    pub retryable: bool,
}

/// Messages handed over by a source in one boundary crossing.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct Batch {
    /// At least one message unless `end` is set.
    pub messages: RVec<Message>,
    /// The source has nothing more to give, ever (a mock with a `messageCount`).
    pub end: bool,
}

/// A stream of messages for one subscription.
#[sabi_trait]
pub trait RawSource: Send + Sync {
    /// Waits for the next messages, at most `max` of them.
    fn next_batch(&self, max: u32) -> FfiFuture<RResult<Batch, RString>>;

    /// Marks messages as settled. The source commits the contiguous settled prefix as its QoS says: before delivery
    /// (at-most-once, where this is called first), right away (at-least-once), periodically (auto), never (none).
    /// Resolves with the tokens it refused: messages it no longer owns (their partition moved to another consumer,
    /// which delivers them), which must not be delivered under at-most-once.
    fn ack(&self, tokens: RVec<u64>) -> FfiFuture<RResult<RVec<u64>, RString>>;

    /// Commits what is settled and releases the backend (leaves the consumer group). Called once, after the last
    /// `ack`; the run is reported ended only once this resolves.
    #[sabi(last_prefix_field)]
    fn close(&self) -> FfiFuture<()>;
}

/// An owned source behind the boundary.
pub type SourceBox = RawSource_TO<'static, RBox<()>>;

/// A sink of messages (a dead letter queue).
#[sabi_trait]
pub trait RawPublisher: Send + Sync {
    /// Publishes messages; resolves once the backend acknowledged them.
    #[sabi(last_prefix_field)]
    fn publish(&self, messages: RVec<Message>) -> FfiFuture<RResult<(), RString>>;
}

/// An owned publisher behind the boundary.
pub type PublisherBox = RawPublisher_TO<'static, RBox<()>>;

/// An endpoint connector: the message backend.
#[sabi_trait]
pub trait RawEndpoint: Send + Sync {
    /// Checks an endpoint's configuration and says which modes it enables.
    fn validate(&self, spec: EndpointSpec) -> RResult<EndpointCapabilities, ConfigErrors>;

    /// Opens a source for one subscription. May block briefly (a broker round trip); the host calls it off its
    /// request path.
    fn subscribe(&self, request: SubscribeRequest) -> RResult<SourceBox, OpenError>;

    /// Opens a publisher.
    fn publisher(&self, request: PublishRequest) -> RResult<PublisherBox, OpenError>;

    /// Opens a finite source of a subscription's dead letters in the order they were written, with their record
    /// headers; it ends (`Batch.end`) after the last one. Acknowledging them commits nothing. May block briefly.
    fn replay(&self, request: ReplayRequest) -> RResult<SourceBox, OpenError>;

    /// The subscription is closed or deleted and will not run again: release what is kept for it (a position).
    fn forget(&self, subscription_id: RString);

    /// How far subscription `subscription_id`'s reading is behind each partition of its source (Kafka: the high
    /// watermark minus the committed offset); empty when the source has no such notion or nothing is known yet.
    fn lag(&self, subscription_id: RString) -> RVec<PartitionLag>;

    /// Why subscription `subscription_id`'s source cannot fully read or commit right now, while it lasts (a broker
    /// leading its partitions unreachable, its commits refused); `None` when nothing is wrong or the source keeps
    /// no such notion. Cheap (the host asks at every status read and scrape).
    #[sabi(last_prefix_field)]
    fn trouble(&self, subscription_id: RString) -> ROption<RString>;
}

/// Everything an entrypoint needs to run one subscription.
#[repr(C)]
#[derive(StableAbi)]
pub struct StartRequest {
    /// The API.
    pub api_id: RString,
    /// The subscription.
    pub subscription_id: RString,
    /// The subscribing application.
    pub application_id: RString,
    /// The plan subscribed to (empty when the API has none).
    pub plan_id: RString,
    /// The delivery guarantee.
    pub qos: Qos,
    /// The entrypoint's API-level `configuration` as JSON.
    pub entrypoint_configuration: RString,
    /// The consumer's `entrypointConfiguration` as JSON.
    pub subscription_configuration: RString,
    /// Where the messages come from.
    pub source: SourceBox,
    /// Where failed messages go, when the entrypoint has a dead letter queue.
    pub dead_letter: ROption<PublisherBox>,
    /// Where delivery log entries go (webhook logs); the host samples.
    pub delivery_log: DeliveryLogBox,
    /// The subscription's delivery metrics, counted in place for every delivery.
    pub metrics: RArc<DeliveryMetrics>,
    /// What each message goes through before its callback (the subscribe phase of the API's and the plan's flows),
    /// as JSON: `flows::SubscribePhase` (empty: nothing). Text, so that it grows without changing this layout.
    pub subscribe_phase: RString,
}

/// The host's end of the webhook logs of one subscription.
#[sabi_trait]
pub trait RawDeliveryLog: Send + Sync {
    /// Whether the next delivery is to be logged (the API's sampling); cheap, called once per delivery.
    fn sample(&self) -> bool;

    /// Records one delivery's entry, as JSON (`docs/webhook-logs.md`). Never blocks: the host queues it.
    fn record(&self, entry: RString);

    /// Records several deliveries' entries at once, each a JSON document on a line of its own (JSON text holds no
    /// raw line break). Never blocks: the host queues them. Since 0.7.1.
    #[sabi(last_prefix_field)]
    fn record_lines(&self, entries: RString);
}

/// An owned delivery log behind the boundary.
pub type DeliveryLogBox = RawDeliveryLog_TO<'static, RBox<()>>;

/// How a running subscription ended.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub enum Termination {
    /// The source has no more messages and every one was settled.
    Finished,
    /// The host asked it to stop; in-flight deliveries were finished.
    Stopped,
    /// Delivery stopped on a failure; the cause is for the subscription's `failureCause`.
    Failed(RString),
}

/// A running subscription owned by an entrypoint plugin.
#[sabi_trait]
pub trait RawRunning: Send + Sync {
    /// Resolves when the subscription ends, for whatever reason.
    fn wait(&self) -> FfiFuture<Termination>;

    /// Asks it to stop: no new message is taken, no retry is made, in-flight calls get `grace_ms` to finish and
    /// are then abandoned unacknowledged. `wait` resolves once the run has ended and its source is closed.
    #[sabi(last_prefix_field)]
    fn stop(&self, grace_ms: u64);
}

/// An owned running subscription behind the boundary.
pub type RunningBox = RawRunning_TO<'static, RBox<()>>;

/// An entrypoint connector: pushes messages to consumers.
#[sabi_trait]
pub trait RawEntrypoint: Send + Sync {
    /// Checks an entrypoint's API-level settings; returns warnings for what it accepts but ignores. Error paths are
    /// relative to the entrypoint object (`configuration.http.readTimeout`, `dlq`).
    fn validate_api(&self, spec: EntrypointSpec) -> RResult<RVec<RString>, ConfigErrors>;

    /// Checks a consumer's `entrypointConfiguration`; error paths are relative to it.
    fn validate_subscription(&self, configuration: RString) -> RResult<(), ConfigErrors>;

    /// Starts delivering a subscription.
    #[sabi(last_prefix_field)]
    fn start(&self, request: StartRequest) -> RResult<RunningBox, RString>;
}
