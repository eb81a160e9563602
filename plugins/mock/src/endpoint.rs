//! The mock endpoint connector.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use plugin_kit::api::abi_stable::sabi_trait::TD_Opaque;
use plugin_kit::api::abi_stable::std_types::{RNone, ROption, RResult, RString, RVec};
use plugin_kit::api::{
    ConfigErrors, EndpointCapabilities, EndpointSpec, Message, Mode, OpenError, PartitionLag, PluginInstance,
    PublishRequest, PublisherBox, RawEndpoint, RawPublisher_TO, RawSource_TO, ReplayRequest, SourceBox,
    SubscribeRequest,
};
use plugin_kit::dead_letters::{finite_source, replayed, ReplayFilter};
use plugin_kit::{endpoint_instance, PluginRuntime, SettledPrefix};

use crate::config::MockSettings;
use crate::publisher::{MockPublisher, Recorded};
use crate::source::{Cursor, MockSource};

/// The mock only sleeps and copies: one worker is plenty.
const RUNTIME_WORKERS: usize = 1;

/// The mock endpoint: keeps each subscription's cursor until the subscription is closed or deleted.
pub(crate) struct MockEndpoint {
    runtime: PluginRuntime,
    cursors: Mutex<HashMap<String, Cursor>>,
    /// What its publishers were sent.
    recorded: Recorded,
}

impl MockEndpoint {
    /// The plugin's connector (it calls only the operator's brokers: the egress settings do not apply).
    pub(crate) fn instance(_egress: &plugin_kit::api::EgressSettings) -> Result<PluginInstance, String> {
        let runtime = PluginRuntime::new(crate::PLUGIN_ID, RUNTIME_WORKERS)?;
        Ok(endpoint_instance(Self { runtime, cursors: Mutex::new(HashMap::new()), recorded: Recorded::default() }))
    }

    fn cursor(&self, subscription_id: &str) -> Cursor {
        let mut cursors = self.cursors.lock().expect("cursors lock");
        Arc::clone(
            cursors
                .entry(subscription_id.to_string())
                .or_insert_with(|| Arc::new(Mutex::new(SettledPrefix::starting_at(0)))),
        )
    }
}

impl RawEndpoint for MockEndpoint {
    fn validate(&self, spec: EndpointSpec) -> RResult<EndpointCapabilities, ConfigErrors> {
        match MockSettings::parse(&spec.configuration) {
            Ok(_) => RResult::ROk(EndpointCapabilities { modes: vec![Mode::Subscribe, Mode::Publish].into() }),
            Err(errors) => RResult::RErr(errors),
        }
    }

    fn subscribe(&self, request: SubscribeRequest) -> RResult<SourceBox, OpenError> {
        let settings = match MockSettings::parse(&request.endpoint.configuration) {
            Ok(settings) => settings,
            Err(errors) => {
                let message = format!("invalid mock configuration: {}", errors[0].message);
                return RResult::RErr(OpenError { message: message.into(), retryable: false });
            }
        };
        let cursor = self.cursor(&request.subscription_id);
        let source = MockSource::new(self.runtime.handle().clone(), settings, cursor);
        RResult::ROk(RawSource_TO::from_value(source, TD_Opaque))
    }

    fn publisher(&self, request: PublishRequest) -> RResult<PublisherBox, OpenError> {
        let publisher = MockPublisher::new(request.api_id.to_string(), Arc::clone(&self.recorded));
        RResult::ROk(RawPublisher_TO::from_value(publisher, TD_Opaque))
    }

    /// The dead letters its publishers recorded for the API, in the order they came.
    fn replay(&self, request: ReplayRequest) -> RResult<SourceBox, OpenError> {
        let filter = ReplayFilter::new(&request);
        let recorded = self.recorded.lock().expect("recorded lock");
        let records: Vec<Message> = recorded
            .get(request.api_id.as_str())
            .map(|messages| {
                messages.iter().filter(|message| filter.takes(&message.headers)).cloned().map(replayed).collect()
            })
            .unwrap_or_default();
        RResult::ROk(finite_source(records))
    }

    fn forget(&self, subscription_id: RString) {
        self.cursors.lock().expect("cursors lock").remove(subscription_id.as_str());
    }

    /// A generated stream has no lag to speak of.
    fn lag(&self, _subscription_id: RString) -> RVec<PartitionLag> {
        RVec::new()
    }

    /// A generated stream is never in trouble.
    fn trouble(&self, _subscription_id: RString) -> ROption<RString> {
        RNone
    }
}
