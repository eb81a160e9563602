//! `proxy` of the entrypoint configuration (SPEC §3, §7).

use plugin_api::ConfigError;
use serde::Deserialize;

use super::secret::Secret;

/// How callback calls reach the network.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyOptions {
    /// Whether calls go through a proxy.
    #[serde(default)]
    pub enabled: bool,
    /// Use the gateway's own settings (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).
    #[serde(default)]
    pub use_system_proxy: bool,
    /// The proxy's protocol, when not the system's.
    #[serde(default, rename = "type")]
    pub proxy_type: Option<ProxyType>,
    /// The proxy's host.
    #[serde(default)]
    pub host: Option<String>,
    /// The proxy's port.
    #[serde(default)]
    pub port: Option<u16>,
    /// User name, when the proxy asks for one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password, when the proxy asks for one.
    #[serde(default)]
    pub password: Option<Secret>,
}

/// `proxy.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProxyType {
    /// An HTTP proxy, used through CONNECT tunnels (for http and https callbacks).
    Http,
    /// SOCKS4 (no credentials).
    Socks4,
    /// SOCKS5, with optional username and password.
    Socks5,
}

impl ProxyOptions {
    pub(super) fn check(&self) -> Vec<ConfigError> {
        if !self.enabled || self.use_system_proxy {
            return Vec::new();
        }
        let mut errors = Vec::new();
        if self.proxy_type.is_none() {
            errors.push(ConfigError::new("proxy.type", "required: HTTP, SOCKS4 or SOCKS5"));
        }
        if self.host.as_deref().is_none_or(|host| host.trim().is_empty()) {
            errors.push(ConfigError::new("proxy.host", "required"));
        }
        if self.port.is_none_or(|port| port == 0) {
            errors.push(ConfigError::new("proxy.port", "required"));
        }
        if self.proxy_type == Some(ProxyType::Socks4) && (self.username.is_some() || self.password.is_some()) {
            errors.push(ConfigError::new(
                "proxy.username",
                "SOCKS4 carries no credentials; use SOCKS5 for a username and password",
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            errors.push(ConfigError::new("proxy.username", "required with a password"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(json: &str) -> ProxyOptions {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_custom_proxy_needs_type_host_and_port() {
        let paths: Vec<_> =
            proxy(r#"{"enabled":true}"#).check().into_iter().map(|error| error.path.to_string()).collect();
        assert_eq!(paths, ["proxy.type", "proxy.host", "proxy.port"]);
        assert!(proxy(r#"{"enabled":true,"useSystemProxy":true}"#).check().is_empty());
        assert!(proxy(r#"{"enabled":true,"type":"SOCKS5","host":"h","port":1080,"username":"u","password":"p"}"#)
            .check()
            .is_empty());
    }

    #[test]
    fn socks4_refuses_credentials() {
        let errors = proxy(r#"{"enabled":true,"type":"SOCKS4","host":"h","port":1080,"username":"u"}"#).check();
        assert_eq!(errors[0].path.as_str(), "proxy.username");
    }
}
