//! Forwards the plugin's `tracing` events to the host's log sink.
//!
//! Each plugin library has its own copy of `tracing`, so its events would otherwise be dropped silently.

use std::fmt::Write;

use plugin_api::{LogLevel, LogRecord, LogSinkBox};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Installs the bridge to the host's `sink` as this plugin library's global `tracing` subscriber, dropping what is
/// finer than `max_level`. Call once, from `instantiate`.
pub fn install_log_bridge(sink: LogSinkBox, max_level: LogLevel) {
    let filter = match max_level {
        LogLevel::Trace => LevelFilter::TRACE,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    };
    let subscriber = tracing_subscriber::registry().with(BridgeLayer { sink }.with_filter(filter));
    // A second call (a plugin instantiated twice) keeps the first bridge, which is the same host sink.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct BridgeLayer {
    sink: LogSinkBox,
}

impl<S: Subscriber> Layer<S> for BridgeLayer {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let mut text = MessageText::default();
        event.record(&mut text);
        let metadata = event.metadata();
        self.sink.log(LogRecord {
            level: level_of(*metadata.level()),
            target: metadata.target().into(),
            message: text.0.as_str().into(),
        });
    }
}

fn level_of(level: Level) -> LogLevel {
    match level {
        Level::TRACE => LogLevel::Trace,
        Level::DEBUG => LogLevel::Debug,
        Level::INFO => LogLevel::Info,
        Level::WARN => LogLevel::Warn,
        Level::ERROR => LogLevel::Error,
    }
}

/// The event's message followed by its other fields as `key=value`.
#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }
}
