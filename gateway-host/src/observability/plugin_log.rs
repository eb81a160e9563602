//! The host's end of the log bridge: a plugin's events land in the host's log, tagged with the plugin id.

use abi_stable::sabi_trait::TD_Opaque;
use plugin_api::{LogLevel, LogRecord, LogSinkBox, RawLogSink, RawLogSink_TO};

/// Target of every plugin event, so that `plugin=debug` turns all of them up.
const TARGET: &str = "plugin";

struct HostLogSink {
    plugin_id: String,
}

impl RawLogSink for HostLogSink {
    fn log(&self, record: LogRecord<'_>) {
        let (plugin, module, message) = (self.plugin_id.as_str(), record.target.as_str(), record.message.as_str());
        match record.level {
            LogLevel::Error => tracing::error!(target: TARGET, plugin, module, "{message}"),
            LogLevel::Warn => tracing::warn!(target: TARGET, plugin, module, "{message}"),
            LogLevel::Info => tracing::info!(target: TARGET, plugin, module, "{message}"),
            LogLevel::Debug => tracing::debug!(target: TARGET, plugin, module, "{message}"),
            LogLevel::Trace => tracing::trace!(target: TARGET, plugin, module, "{message}"),
        }
    }
}

/// A sink for the plugin `plugin_id`.
pub fn sink_for(plugin_id: &str) -> LogSinkBox {
    RawLogSink_TO::from_value(HostLogSink { plugin_id: plugin_id.to_string() }, TD_Opaque)
}

/// The most detailed level the host prints, for plugins to filter early.
pub fn max_level() -> LogLevel {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        LevelFilter::TRACE => LogLevel::Trace,
        LevelFilter::DEBUG => LogLevel::Debug,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::WARN => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}
