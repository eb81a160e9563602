//! The stable ABI between the gateway host and its plugins.
//!
//! This crate is the only code the host and the plugins share at run time. It holds nothing but `StableAbi` types:
//! the root module every plugin exports ([`PluginMod`]), its [`Manifest`], the message type, and the FFI contracts of
//! entrypoint and endpoint connectors. The crate's semver version is the ABI interface version the loader checks;
//! `docs/plugins.md` says how to grow it without breaking plugins already built.
#![allow(non_local_definitions)] // raised by `#[sabi_trait]` expansions
#![warn(missing_docs)]

mod config_error;
mod connector;
mod log;
mod manifest;
mod message;
mod metrics;
mod module;
mod trace;

pub use abi_stable;
pub use async_ffi;

pub use config_error::{join_path, ConfigError, ConfigErrors};
pub use connector::{
    Batch, DeliveryLogBox, EndpointCapabilities, EndpointSpec, EntrypointSpec, OpenError, PublishRequest, PublisherBox,
    RawDeliveryLog, RawDeliveryLog_TO, RawEndpoint, RawEndpoint_TO, RawEntrypoint, RawEntrypoint_TO, RawPublisher,
    RawPublisher_TO, RawRunning, RawRunning_TO, RawSource, RawSource_TO, ReplayRequest, RunningBox, SourceBox,
    StartRequest, SubscribeRequest, Termination,
};
pub use log::{LogLevel, LogRecord, LogSinkBox, RawLogSink, RawLogSink_TO};
pub use manifest::{Manifest, Mode, PluginKind, Qos};
pub use message::{Header, Message};
pub use metrics::{
    attempt_result_label, DeliveryMetrics, DeliveryOutcome, DurationHistogram, Gauge, PartitionLag, Results,
    CALLBACK_ERROR_KEYS, DURATION_BUCKETS, GAUGE_SLOTS,
};
pub use module::{EgressSettings, HostServices, PluginInstance, PluginMod, PluginModRef, INTERFACE_VERSION};
pub use trace::{
    AttributeValue, RawSpanSink, RawSpanSink_TO, SpanAttribute, SpanKind, SpanRecord, SpanSinkBox, SpanStatus,
    TraceSettings,
};
