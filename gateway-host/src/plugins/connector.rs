//! Host-side wrappers of the plugin contracts: the rest of the host sees plain Rust types, never `R*` ones, save
//! the `RArc` of a subscription's delivery counters, which host and plugin share in place.

use std::sync::Arc;
use std::time::Duration;

use abi_stable::std_types::{RArc, RBox, ROption, RResult, RString};
use definition::FieldError;
use plugin_api::{
    ConfigErrors, DeliveryLogBox, DeliveryMetrics, EndpointSpec, EntrypointSpec, Mode, PublishRequest, PublisherBox,
    Qos, RawEndpoint_TO, RawEntrypoint_TO, ReplayRequest, RunningBox, SourceBox, StartRequest, SubscribeRequest,
    Termination,
};
use serde_json::Value;

/// An entrypoint connector loaded from a plugin.
pub struct EntrypointPlugin {
    raw: RawEntrypoint_TO<'static, RBox<()>>,
}

/// An endpoint connector loaded from a plugin.
pub struct EndpointPlugin {
    raw: RawEndpoint_TO<'static, RBox<()>>,
}

/// A source opened by an endpoint plugin, handed unopened to an entrypoint plugin.
pub struct Source(pub(crate) SourceBox);

/// A publisher opened by an endpoint plugin, handed unopened to an entrypoint plugin.
pub struct Publisher(pub(crate) PublisherBox);

/// What an entrypoint needs to run one subscription.
pub struct StartSpec {
    /// The API.
    pub api_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The subscribing application.
    pub application_id: String,
    /// The plan, empty when the API has none.
    pub plan_id: String,
    /// The delivery guarantee.
    pub qos: Qos,
    /// The entrypoint's API-level configuration.
    pub entrypoint_configuration: Value,
    /// The consumer's configuration.
    pub subscription_configuration: Value,
    /// Where messages come from.
    pub source: Source,
    /// Where failed messages go.
    pub dead_letter: Option<Publisher>,
    /// Where delivery log entries go.
    pub delivery_log: DeliveryLogBox,
    /// The subscription's delivery counters.
    pub metrics: RArc<DeliveryMetrics>,
    /// What each message goes through before its callback, as JSON (`flows::SubscribePhase`).
    pub subscribe_phase: String,
}

/// Why a source or publisher did not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFailure {
    /// What went wrong.
    pub message: String,
    /// Whether trying again later may work.
    pub retryable: bool,
}

impl From<plugin_api::OpenError> for OpenFailure {
    fn from(error: plugin_api::OpenError) -> Self {
        Self { message: error.message.into(), retryable: error.retryable }
    }
}

/// How a running subscription ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Its source ended and everything was settled.
    Finished,
    /// It was asked to stop.
    Stopped,
    /// A delivery failed it.
    Failed(String),
}

/// A subscription running inside an entrypoint plugin.
#[derive(Clone)]
pub struct RunningSubscription {
    raw: Arc<RunningBox>,
}

impl EntrypointPlugin {
    pub(super) fn new(raw: RawEntrypoint_TO<'static, RBox<()>>) -> Self {
        Self { raw }
    }

    /// Checks an entrypoint's API-level settings; error paths are relative to the entrypoint object.
    pub fn validate_api(
        &self,
        configuration: &Value,
        qos: Qos,
        dlq: Option<&str>,
    ) -> Result<Vec<String>, Vec<FieldError>> {
        let spec = EntrypointSpec {
            configuration: configuration.to_string().into(),
            qos,
            dlq_endpoint: dlq.map(RString::from).into(),
        };
        match self.raw.validate_api(spec) {
            RResult::ROk(warnings) => Ok(warnings.into_iter().map(String::from).collect()),
            RResult::RErr(errors) => Err(field_errors(errors)),
        }
    }

    /// Checks a consumer's configuration; error paths are relative to it.
    pub fn validate_subscription(&self, configuration: &Value) -> Result<(), Vec<FieldError>> {
        self.raw.validate_subscription(configuration.to_string().into()).into_result().map_err(field_errors)
    }

    /// Starts a subscription.
    pub fn start(&self, spec: StartSpec) -> Result<RunningSubscription, String> {
        let request = StartRequest {
            api_id: spec.api_id.into(),
            subscription_id: spec.subscription_id.into(),
            application_id: spec.application_id.into(),
            plan_id: spec.plan_id.into(),
            qos: spec.qos,
            entrypoint_configuration: spec.entrypoint_configuration.to_string().into(),
            subscription_configuration: spec.subscription_configuration.to_string().into(),
            source: spec.source.0,
            dead_letter: spec.dead_letter.map(|publisher| publisher.0).into(),
            delivery_log: spec.delivery_log,
            metrics: spec.metrics,
            subscribe_phase: spec.subscribe_phase.into(),
        };
        match self.raw.start(request) {
            RResult::ROk(running) => Ok(RunningSubscription { raw: Arc::new(running) }),
            RResult::RErr(error) => Err(error.into()),
        }
    }
}

impl EndpointPlugin {
    pub(super) fn new(raw: RawEndpoint_TO<'static, RBox<()>>) -> Self {
        Self { raw }
    }

    /// Checks an endpoint's configuration and returns the modes it enables. Error paths start with
    /// `sharedConfiguration` or `configuration`.
    pub fn validate(&self, shared: &Value, configuration: &Value) -> Result<Vec<Mode>, Vec<FieldError>> {
        match self.raw.validate(endpoint_spec(shared, configuration)) {
            RResult::ROk(capabilities) => Ok(capabilities.modes.into_vec()),
            RResult::RErr(errors) => Err(field_errors(errors)),
        }
    }

    /// Opens a source for a subscription.
    pub fn subscribe(
        &self,
        api_id: &str,
        subscription_id: &str,
        qos: Qos,
        shared: &Value,
        configuration: &Value,
    ) -> Result<Source, OpenFailure> {
        let request = SubscribeRequest {
            api_id: api_id.into(),
            subscription_id: subscription_id.into(),
            qos,
            endpoint: endpoint_spec(shared, configuration),
        };
        self.raw.subscribe(request).into_result().map(Source).map_err(OpenFailure::from)
    }

    /// Opens the dead letters of `subscription_id` whose last attempt is within `from_ms..=to_ms`, from the DLQ
    /// endpoint of `shared` and `configuration`: a finite source. May block (the DLQ is read).
    pub fn replay(
        &self,
        api_id: &str,
        subscription_id: &str,
        endpoint: (&Value, &Value),
        range: (i64, i64),
    ) -> Result<Source, OpenFailure> {
        let request = ReplayRequest {
            api_id: api_id.into(),
            subscription_id: subscription_id.into(),
            endpoint: endpoint_spec(endpoint.0, endpoint.1),
            from_ms: range.0,
            to_ms: range.1,
        };
        self.raw.replay(request).into_result().map(Source).map_err(OpenFailure::from)
    }

    /// Releases what the endpoint keeps for a subscription that will not run again.
    pub fn forget(&self, subscription_id: &str) {
        self.raw.forget(subscription_id.into());
    }

    /// How far a subscription's reading is behind its source: `(topic, partition, lag)` per partition.
    pub fn lag(&self, subscription_id: &str) -> Vec<(String, i32, i64)> {
        self.raw.lag(subscription_id.into()).into_iter().map(|lag| (lag.topic.into(), lag.partition, lag.lag)).collect()
    }

    /// Why a subscription's source cannot fully read or commit right now, while it lasts.
    pub fn trouble(&self, subscription_id: &str) -> Option<String> {
        self.raw.trouble(subscription_id.into()).into_option().map(String::from)
    }

    /// Opens a publisher.
    pub fn publisher(&self, api_id: &str, shared: &Value, configuration: &Value) -> Result<Publisher, OpenFailure> {
        let request = PublishRequest { api_id: api_id.into(), endpoint: endpoint_spec(shared, configuration) };
        self.raw.publisher(request).into_result().map(Publisher).map_err(OpenFailure::from)
    }
}

impl RunningSubscription {
    /// Resolves when the subscription ends.
    pub async fn wait(&self) -> Ended {
        match self.raw.wait().await {
            Termination::Finished => Ended::Finished,
            Termination::Stopped => Ended::Stopped,
            Termination::Failed(cause) => Ended::Failed(cause.into()),
        }
    }

    /// Asks it to stop taking messages; in-flight calls get `grace` to finish and are then abandoned
    /// unacknowledged; `wait` resolves once the run has ended.
    pub fn stop(&self, grace: Duration) {
        self.raw.stop(grace.as_millis() as u64);
    }
}

fn endpoint_spec(shared: &Value, configuration: &Value) -> EndpointSpec {
    EndpointSpec { shared_configuration: shared.to_string().into(), configuration: configuration.to_string().into() }
}

fn field_errors(errors: ConfigErrors) -> Vec<FieldError> {
    errors.into_iter().map(|error| FieldError::new(error.path, error.message)).collect()
}

/// Unwraps the connector a plugin instance carries.
pub(super) fn take<T>(connector: ROption<T>, kind: &str) -> Result<T, String> {
    connector.into_option().ok_or_else(|| format!("the plugin declares an {kind} connector but instantiated none"))
}
