//! Configuration errors that name the JSON path they are about.

use abi_stable::{std_types::RString, std_types::RVec, StableAbi};

/// One problem in a JSON document, located by its path (`http.maxConcurrentConnections`, `headers[0].name`).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// JSON path relative to the document the plugin was given; empty for the document itself.
    pub path: RString,
    /// What is wrong, in words for the person who wrote the document.
    pub message: RString,
}

/// Every problem found in one document, returned together.
pub type ConfigErrors = RVec<ConfigError>;

impl ConfigError {
    /// An error at `path` saying `message`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: RString::from(path.into()), message: RString::from(message.into()) }
    }
}

/// Joins a path prefix and a relative path: `a` + `b.c` is `a.b.c`, `a` + `[0]` is `a[0]`, either may be empty.
pub fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}
