//! A Kafka record as a message (SPEC §6).

use std::sync::Arc;

use base64::Engine;
use plugin_kit::api::abi_stable::std_types::RVec;
use plugin_kit::api::{Header, Message};
use rdkafka::message::{BorrowedMessage, Headers, Message as _};

/// A record as fetched, owned: kept once in a feed's ring and read by every subscription of the feed.
pub(crate) struct Record {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
    timestamp_ms: Option<i64>,
}

impl Record {
    /// The record librdkafka handed out, copied (`topic` is the feed's shared name of its topic).
    pub(crate) fn of(record: &BorrowedMessage<'_>, topic: Arc<str>) -> Self {
        let headers = record
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| (header.key.to_string(), header.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic,
            partition: record.partition(),
            offset: record.offset(),
            key: record.key().map(<[u8]>::to_vec),
            payload: record.payload().unwrap_or_default().to_vec(),
            headers,
            timestamp_ms: record.timestamp().to_millis(),
        }
    }

    /// The record as a message acknowledged with `token` (SPEC §6): content = value, headers = record headers,
    /// metadata = key, topic, partition, offset; the id is base64 of `topic@partition#offset` when encoded.
    pub(crate) fn message(&self, token: u64, encode_id: bool) -> Message {
        let (topic, partition, offset) = (&*self.topic, self.partition, self.offset);
        let position = format!("{topic}@{partition}#{offset}");
        let id = if encode_id { base64::engine::general_purpose::STANDARD.encode(&position) } else { position };
        let headers: Vec<Header> = self
            .headers
            .iter()
            .map(|(name, value)| Header { name: name.as_str().into(), value: value.clone().into() })
            .collect();
        let mut metadata = vec![
            Header::new("topic", topic),
            Header::new("partition", &partition.to_string()),
            Header::new("offset", &offset.to_string()),
        ];
        if let Some(key) = &self.key {
            metadata.push(Header { name: "key".into(), value: key.clone().into() });
        }
        Message {
            id: id.into(),
            content: self.payload.clone().into(),
            headers: headers.into(),
            metadata: metadata.into(),
            key: self.key.clone().map(RVec::from).into(),
            ack_token: token,
            timestamp_ms: self.timestamp_ms.unwrap_or_else(plugin_kit::now_ms),
        }
    }
}

#[cfg(test)]
impl Record {
    /// A record of topic `t`, partition 0, at `offset`.
    pub(crate) fn test(offset: i64) -> Self {
        Self {
            topic: "t".into(),
            partition: 0,
            offset,
            key: None,
            payload: Vec::new(),
            headers: Vec::new(),
            timestamp_ms: None,
        }
    }
}
