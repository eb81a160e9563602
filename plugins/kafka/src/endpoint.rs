//! The kafka endpoint connector: validates configurations, opens subscriptions on shared feeds and shares producers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use plugin_kit::api::abi_stable::sabi_trait::TD_Opaque;
use plugin_kit::api::abi_stable::std_types::{ROption, RResult, RString, RVec};
use plugin_kit::api::{
    ConfigErrors, EndpointCapabilities, EndpointSpec, OpenError, PartitionLag, PluginInstance, PublishRequest,
    PublisherBox, RawEndpoint, RawPublisher_TO, RawSource_TO, ReplayRequest, SourceBox, SubscribeRequest,
};
use plugin_kit::{catch_panic, endpoint_instance, PluginRuntime};

use crate::clients::{base_config, refused};
use crate::config::KafkaSettings;
use crate::feed::{FeedSpec, Feeds};
use crate::producer::{KafkaProducer, KafkaPublisher};
use crate::reader::Reader;
use crate::readers::OpenReaders;
use crate::replay;
use crate::source::{KafkaSource, SourceParts};
use kafka_client::KafkaContext;
use plugin_kit::dead_letters::finite_source;

/// librdkafka does the I/O on its own threads; the runtime only awaits: one worker is enough.
const RUNTIME_WORKERS: usize = 1;
/// How often a feed's statistics (and so its subscriptions' lag and the brokers it cannot reach) are refreshed.
const STATISTICS_INTERVAL_MS: &str = "1000";

/// The kafka endpoint.
pub(crate) struct KafkaEndpoint {
    runtime: PluginRuntime,
    /// One producer per configuration, shared by every open publisher of it; released with the last of them.
    producers: Mutex<HashMap<String, Weak<KafkaProducer>>>,
    /// One feed per topic list and client settings, shared by the subscriptions reading them.
    feeds: Arc<Feeds>,
    /// Every open subscription's reader (their lag and trouble).
    open: Arc<OpenReaders>,
}

impl KafkaEndpoint {
    /// The plugin's connector (it calls only the operator's brokers: the egress settings do not apply).
    pub(crate) fn instance(_egress: &plugin_kit::api::EgressSettings) -> Result<PluginInstance, String> {
        let runtime = PluginRuntime::new(crate::PLUGIN_ID, RUNTIME_WORKERS)?;
        Ok(endpoint_instance(Self {
            runtime,
            producers: Mutex::new(HashMap::new()),
            feeds: Arc::default(),
            open: Arc::default(),
        }))
    }

    fn open_source(&self, request: &SubscribeRequest) -> Result<SourceBox, OpenError> {
        let settings = KafkaSettings::parse(&request.endpoint).map_err(|errors| refused(&describe(&errors)))?;
        if !settings.consumer.enabled {
            return Err(refused("the endpoint's consumer is not enabled"));
        }
        let subscription_id = request.subscription_id.as_str();
        let admin_config = base_config(&settings)?;
        let mut catch_up_config = admin_config.clone();
        catch_up_config.set("enable.partition.eof", "false");
        for (key, value) in &settings.consumer.properties {
            catch_up_config.set(key, value);
        }
        let mut topics = settings.consumer.topics.clone();
        topics.sort();
        topics.dedup();
        // The feed group: gateways of one deployment reading these topics share their partitions through it.
        let group = (settings.consumer.properties.get("group.id").cloned())
            .unwrap_or_else(|| format!("gateway-feed.{}", topics.join(",")));
        let mut config = catch_up_config.clone();
        config.set("group.id", &group).set("client.id", &group).set("statistics.interval.ms", STATISTICS_INTERVAL_MS);
        let key = format!("{group}\n{:?}", catch_up_config.config_map());
        let slot = format!("{}\n{group}", settings.bootstrap_servers);
        let spec = FeedSpec { slot, key, topics, config, catch_up_config, admin_config };
        let reader = Arc::new(Reader::new(
            subscription_id,
            request.qos,
            settings.consumer.auto_offset_reset,
            settings.consumer.encode_message_id,
        ));
        let feed = self.feeds.join(spec, &reader)?;
        tracing::info!(subscription = %subscription_id, qos = request.qos.as_str(), "kafka subscription reading its feed");
        let source = KafkaSource::start(SourceParts {
            runtime: self.runtime.handle().clone(),
            feeds: Arc::clone(&self.feeds),
            feed,
            reader,
            open: Arc::clone(&self.open),
        });
        Ok(RawSource_TO::from_value(source, TD_Opaque))
    }

    fn open_publisher(&self, request: &PublishRequest) -> Result<PublisherBox, OpenError> {
        let settings = KafkaSettings::parse(&request.endpoint).map_err(|errors| refused(&describe(&errors)))?;
        if !settings.producer.enabled {
            return Err(refused("the endpoint's producer is not enabled"));
        }
        let producer = self.shared_producer(&request.endpoint, &settings)?;
        let publisher = KafkaPublisher::new(self.runtime.handle().clone(), producer, settings.producer.topics.clone());
        Ok(RawPublisher_TO::from_value(publisher, TD_Opaque))
    }

    /// The producer of this configuration, created on first use.
    fn shared_producer(&self, spec: &EndpointSpec, settings: &KafkaSettings) -> Result<Arc<KafkaProducer>, OpenError> {
        let key = format!("{}\n{}", spec.configuration, spec.shared_configuration);
        let mut producers = self.producers.lock().expect("producers lock");
        producers.retain(|_, producer| producer.strong_count() > 0);
        if let Some(producer) = producers.get(&key).and_then(Weak::upgrade) {
            return Ok(producer);
        }
        let mut config = base_config(settings)?;
        config
            .set("enable.idempotence", "true")
            .set("compression.type", settings.producer.compression_type.as_librdkafka());
        let _runtime = self.runtime.handle().enter();
        let producer: KafkaProducer = config
            .create_with_context(KafkaContext::producer())
            .map_err(|error| refused(&format!("cannot create the Kafka producer: {error}")))?;
        let producer = Arc::new(producer);
        producers.insert(key, Arc::downgrade(&producer));
        Ok(producer)
    }
}

fn describe(errors: &ConfigErrors) -> String {
    errors.iter().map(|error| format!("{}: {}", error.path, error.message)).collect::<Vec<_>>().join("; ")
}

impl RawEndpoint for KafkaEndpoint {
    fn validate(&self, spec: EndpointSpec) -> RResult<EndpointCapabilities, ConfigErrors> {
        match KafkaSettings::parse(&spec) {
            Ok(settings) => RResult::ROk(EndpointCapabilities { modes: settings.modes().into() }),
            Err(errors) => RResult::RErr(errors),
        }
    }

    fn subscribe(&self, request: SubscribeRequest) -> RResult<SourceBox, OpenError> {
        catch_panic(|| self.open_source(&request)).unwrap_or_else(|panic| Err(refused(&panic))).into()
    }

    fn publisher(&self, request: PublishRequest) -> RResult<PublisherBox, OpenError> {
        catch_panic(|| self.open_publisher(&request)).unwrap_or_else(|panic| Err(refused(&panic))).into()
    }

    fn replay(&self, request: ReplayRequest) -> RResult<SourceBox, OpenError> {
        let opened = catch_panic(|| {
            let settings = KafkaSettings::parse(&request.endpoint).map_err(|errors| refused(&describe(&errors)))?;
            replay::dead_letters(&settings, &request).map(finite_source)
        });
        opened.unwrap_or_else(|panic| Err(refused(&panic))).into()
    }

    /// Positions live in the broker (the subscription's consumer group's offsets): nothing is kept here.
    fn forget(&self, _subscription_id: RString) {}

    fn lag(&self, subscription_id: RString) -> RVec<PartitionLag> {
        self.open.lag(&subscription_id)
    }

    fn trouble(&self, subscription_id: RString) -> ROption<RString> {
        self.open.trouble(&subscription_id)
    }
}
