//! The host's log: text lines for people, or JSON lines for log shippers.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogSection;

/// Installs the log `log` asks for: text lines for people (the default), or one JSON object per line.
pub fn init_logging(log: &LogSection) -> Result<(), String> {
    let filter = EnvFilter::try_new(&log.level).map_err(|error| format!("log.level: {error}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match log.format.as_str() {
        "text" => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        "json" => builder.json().with_current_span(false).init(),
        other => return Err(format!("log.format (GATEWAY_LOG_FORMAT): `{other}`; expected text or json")),
    }
    Ok(())
}
