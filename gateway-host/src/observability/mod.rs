//! What the gateway tells about itself besides its metrics: its log, with the plugins' events carried in through the
//! log bridge ([`plugin_log`]), and its traces, recorded by the plugins and exported here over OTLP ([`traces`]).

pub mod logging;
pub mod plugin_log;
pub mod traces;
