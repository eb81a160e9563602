//! What a plugin says about itself.

use abi_stable::{std_types::RString, std_types::RVec, StableAbi};

/// The manifest every plugin declares: who it is and what it supports.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Manifest {
    /// Identifier referenced from API definitions (`webhook`, `kafka`).
    pub id: RString,
    /// Human readable name.
    pub name: RString,
    /// Semver version of the plugin, checked against the host's compatibility matrix.
    pub version: RString,
    /// Entrypoint or endpoint connector.
    pub kind: PluginKind,
    /// Connector modes supported.
    pub modes: RVec<Mode>,
    /// Qualities of service supported.
    pub qos: RVec<Qos>,
    /// Optional features, such as `dlq`.
    pub features: RVec<RString>,
    /// Version of this interface crate the plugin was built against.
    pub interface_version: RString,
}

/// The two kinds of connector.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginKind {
    /// Receives consumers (the webhook entrypoints).
    EntrypointConnector,
    /// Talks to a message backend (kafka, mock).
    EndpointConnector,
}

/// Direction of a connector.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Reads messages from the backend.
    Subscribe,
    /// Writes messages to the backend.
    Publish,
}

/// Delivery guarantee of a subscription (SPEC §5).
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qos {
    /// No promise; the source is never acknowledged.
    None,
    /// 0..n: concurrent delivery, periodic acknowledgement of what was delivered.
    Auto,
    /// 0..1: one at a time, acknowledged before delivery.
    AtMostOnce,
    /// 1..n: one at a time, acknowledged after the delivery is settled.
    AtLeastOnce,
}

impl Qos {
    /// Every QoS, in the order of the SPEC.
    pub const ALL: [Qos; 4] = [Qos::None, Qos::Auto, Qos::AtMostOnce, Qos::AtLeastOnce];

    /// The spelling used in API definitions (`at-least-once`).
    pub fn as_str(self) -> &'static str {
        match self {
            Qos::None => "none",
            Qos::Auto => "auto",
            Qos::AtMostOnce => "at-most-once",
            Qos::AtLeastOnce => "at-least-once",
        }
    }

    /// Whether messages must be delivered one at a time, in order.
    pub fn is_ordered(self) -> bool {
        matches!(self, Qos::AtMostOnce | Qos::AtLeastOnce)
    }
}
