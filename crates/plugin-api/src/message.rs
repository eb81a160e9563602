//! The message that travels from a source to a callback.

use abi_stable::{
    std_types::{ROption, RString, RVec},
    StableAbi,
};

/// One message of a stream. Its buffers move across the boundary; nothing is copied per hop.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Message {
    /// Identifier given by the source (mock: `0,1,2,..`; kafka: encoded `topic@partition#offset`).
    pub id: RString,
    /// Body, delivered untouched.
    pub content: RVec<u8>,
    /// Headers carried by the message (kafka record headers).
    pub headers: RVec<Header>,
    /// Source metadata (kafka: topic, partition, offset).
    pub metadata: RVec<Header>,
    /// Record key, when the source has one.
    pub key: ROption<RVec<u8>>,
    /// Token the entrypoint hands back to the source to acknowledge this message.
    pub ack_token: u64,
    /// When the message was produced or emitted, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// A name and a value.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Header name.
    pub name: RString,
    /// Header value, as bytes (kafka header values need not be text).
    pub value: RVec<u8>,
}

impl Header {
    /// A header from text.
    pub fn new(name: &str, value: &str) -> Self {
        Self { name: name.into(), value: value.as_bytes().to_vec().into() }
    }
}
