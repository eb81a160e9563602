//! The entrypoint connector both webhook plugins export, parameterised by their [`Edition`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use egress::EgressPolicy;

use plugin_api::abi_stable::sabi_trait::TD_Opaque;
use plugin_api::abi_stable::std_types::{RResult, RString, RVec};
use plugin_api::{
    ConfigError, ConfigErrors, EgressSettings, EntrypointSpec, PluginInstance, RawEntrypoint, RawRunning_TO,
    RunningBox, StartRequest,
};
use plugin_kit::{catch_panic, entrypoint_instance, PluginRuntime};
use tokio::sync::watch;

use crate::checked::CheckedSubscription;
use crate::config::{EntrypointConfig, SubscriptionConfig};
use crate::delivery::deliverer::Deliverer;
use crate::delivery::filtered::Filtered;
use crate::delivery::limit::adaptive::InFlightLimit;
use crate::delivery::limit::rate::Rate;
use crate::delivery::log::DeliveryLogger;
use crate::delivery::log_batch::LogBatch;
use crate::delivery::outcome::InterruptFlags;
use crate::delivery::request::RequestTemplate;
use crate::delivery::run_loop::DeliveryLoop;
use crate::delivery::scheduler::Scheduler;
use crate::delivery::trace::TraceLabels;
use crate::edition::Edition;
use crate::layers::LayerSetup;
use crate::running::Running;
use crate::transport::client::build_client;
use crate::transport::shared::{settings_key, SharedClients};
use standard_webhooks::Signer;

/// Worker threads of a webhook plugin's runtime: half the machine's cores, at least one. Delivery is I/O bound,
/// and each extra worker costs wake-ups across threads: on 2 cores, one worker instead of two cut the gateway's CPU
/// per message by a fifth and raised the rate by as much (`docs/benchmarks.md`).
fn runtime_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1))
}

/// A webhook entrypoint: validates configurations and runs subscriptions on its own runtime.
pub struct WebhookEntrypoint<E> {
    edition: E,
    runtime: PluginRuntime,
    /// What callbacks may reach, and which files subscriptions may name.
    egress: Arc<EgressPolicy>,
    /// The clients of running subscriptions, shared by those of the same settings.
    clients: SharedClients,
}

impl<E: Edition> WebhookEntrypoint<E> {
    /// The plugin's connector under the operator's `egress` settings, ready to hand to the host.
    pub fn instance(plugin_id: &str, edition: E, egress: &EgressSettings) -> Result<PluginInstance, String> {
        let files_dir = egress.subscription_files_dir.as_ref().into_option().map(|dir| PathBuf::from(dir.as_str()));
        let policy = EgressPolicy::new(&egress.allow_networks, files_dir)
            .map_err(|error| format!("egress.allow_networks: {error}"))?;
        let runtime = PluginRuntime::new(plugin_id, runtime_workers())?;
        Ok(entrypoint_instance(Self { edition, runtime, egress: Arc::new(policy), clients: SharedClients::default() }))
    }

    fn check_api(&self, spec: &EntrypointSpec) -> Result<Vec<String>, Vec<ConfigError>> {
        let parsed = EntrypointConfig::parse(&spec.configuration)
            .map_err(|errors| plugin_kit::prefix_errors("configuration", errors.into()).into_vec());
        let mut errors = self.edition.check_entrypoint(spec);
        match parsed {
            Ok(config) if errors.is_empty() => Ok(config.warnings(spec.qos)),
            Ok(_) => Err(errors),
            Err(parse_errors) => {
                errors.extend(parse_errors);
                Err(errors)
            }
        }
    }

    /// The shared schema's checks and this edition's.
    fn check_subscription(&self, json: &str) -> Result<CheckedSubscription, Vec<ConfigError>> {
        CheckedSubscription::check(SubscriptionConfig::parse(json)?, &self.egress, |config| {
            self.edition.check_subscription(config)
        })
    }

    fn start_loop(&self, request: StartRequest) -> Result<RunningBox, String> {
        let entrypoint = EntrypointConfig::parse(&request.entrypoint_configuration).map_err(describe)?;
        let CheckedSubscription { config, target, tls } =
            self.check_subscription(&request.subscription_configuration).map_err(describe)?;
        let phase = flows::SubscribePhase::from_json(&request.subscribe_phase)?;
        let chain = flows::Chain::compile(&phase)?;
        let concurrency = entrypoint.concurrency(request.qos);
        let settings =
            settings_key(&request.entrypoint_configuration, &request.subscription_configuration, concurrency);
        let client = self.clients.client(settings, || {
            build_client(&entrypoint.http, &entrypoint.proxy, tls, concurrency, Arc::clone(&self.egress))
        });
        let layers = self.edition.layers(LayerSetup {
            config: &config,
            subscription_id: &request.subscription_id,
            dead_letter: request.dead_letter.into_option(),
            client: &client,
            read_timeout: entrypoint.http.read_timeout(),
            body_limit: entrypoint.http.max_response_body_bytes,
            runtime: self.runtime.handle(),
            metrics: &request.metrics,
        })?;
        let (stop, stop_requested) = watch::channel(None);
        let signer = config
            .signature
            .as_ref()
            .and_then(|signature| Signer::new(signature.keys().into_iter().flatten().collect()));
        let trace_labels = TraceLabels::new(&request.api_id, &request.subscription_id, request.qos, &target.uri);
        let callback_url = target.uri.to_string();
        let deliverer = Arc::new(Deliverer {
            client,
            template: RequestTemplate::new(target, &request.subscription_id).signed_by(signer),
            read_timeout: entrypoint.http.read_timeout(),
            body_limit: entrypoint.http.max_response_body_bytes,
            interrupts: InterruptFlags {
                on_server_error: entrypoint.interrupt_consumption_on_server_error,
                on_exception: entrypoint.interrupt_consumption_on_exception,
                slow_down_is_unavailable: config.retry.is_enabled(),
            },
            retry: config.retry,
            layers,
            subscription_id: request.subscription_id.to_string(),
            metrics: request.metrics.clone(),
            log: DeliveryLogger {
                batch: LogBatch::new(request.delivery_log),
                options: entrypoint.logging,
                api_id: request.api_id.to_string(),
                subscription_id: request.subscription_id.to_string(),
                application_id: request.application_id.to_string(),
                plan_id: request.plan_id.to_string(),
                callback_url,
            },
            stop: stop_requested.clone(),
            limit: InFlightLimit::new(concurrency, config.pacing.adaptive, request.metrics.clone()),
            trace_labels,
        });
        let delivery = DeliveryLoop {
            source: request.source,
            deliverer,
            qos: request.qos,
            rate: config.pacing.max_per_second.map(Rate::new),
            scheduler: Scheduler::new(&entrypoint.ordering(request.qos), request.qos, concurrency),
            chain,
            filtered: Mutex::new(Filtered::default()),
            stop: stop_requested,
            subscription_id: request.subscription_id.to_string(),
        };
        tracing::info!(subscription = %request.subscription_id, qos = request.qos.as_str(), concurrency, "subscription started");
        let running = Running::spawn(self.runtime.handle(), delivery.run(), stop);
        Ok(RawRunning_TO::from_value(running, TD_Opaque))
    }
}

impl<E: Edition> RawEntrypoint for WebhookEntrypoint<E> {
    fn validate_api(&self, spec: EntrypointSpec) -> RResult<RVec<RString>, ConfigErrors> {
        match catch_panic(|| self.check_api(&spec)) {
            Ok(Ok(warnings)) => RResult::ROk(warnings.into_iter().map(RString::from).collect()),
            Ok(Err(errors)) => RResult::RErr(errors.into()),
            Err(panic) => RResult::RErr(vec![ConfigError::new("", panic)].into()),
        }
    }

    fn validate_subscription(&self, configuration: RString) -> RResult<(), ConfigErrors> {
        match catch_panic(|| self.check_subscription(&configuration)) {
            Ok(Ok(_)) => RResult::ROk(()),
            Ok(Err(errors)) => RResult::RErr(errors.into()),
            Err(panic) => RResult::RErr(vec![ConfigError::new("", panic)].into()),
        }
    }

    fn start(&self, request: StartRequest) -> RResult<RunningBox, RString> {
        match catch_panic(|| self.start_loop(request)) {
            Ok(Ok(running)) => RResult::ROk(running),
            Ok(Err(error)) | Err(error) => RResult::RErr(error.into()),
        }
    }
}

/// One line out of configuration errors, for a start that should not have been reached with them.
fn describe(errors: Vec<ConfigError>) -> String {
    errors.iter().map(|error| format!("{}: {}", error.path, error.message)).collect::<Vec<_>>().join("; ")
}
