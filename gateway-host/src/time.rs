//! Timestamps as the management API shows them.

use std::time::SystemTime;

/// Now, in RFC 3339 with milliseconds (`2026-11-24T07:15:49.123Z`).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
