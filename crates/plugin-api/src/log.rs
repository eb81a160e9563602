//! The bridge that carries a plugin's log events into the host's log.

use abi_stable::{sabi_trait, std_types::RBox, std_types::RStr, StableAbi};

/// Severity of a log record, in the order of `tracing`'s levels.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// Detailed.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that was handled.
    Warn,
    /// Something failed.
    Error,
}

/// One log event from a plugin.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct LogRecord<'a> {
    /// Severity.
    pub level: LogLevel,
    /// The module that logged.
    pub target: RStr<'a>,
    /// The message with its key/value fields already formatted.
    pub message: RStr<'a>,
}

/// Receives a plugin's log events; the host gives one to each plugin, tagged with the plugin's id.
#[sabi_trait]
pub trait RawLogSink: Send + Sync {
    /// Records one event.
    #[sabi(last_prefix_field)]
    fn log(&self, record: LogRecord<'_>);
}

/// An owned log sink behind the boundary.
pub type LogSinkBox = RawLogSink_TO<'static, RBox<()>>;
