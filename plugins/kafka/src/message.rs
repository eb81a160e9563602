//! A Kafka record as a message (SPEC §6).

use std::sync::Mutex;

use base64::Engine;
use plugin_kit::api::abi_stable::std_types::RVec;
use plugin_kit::api::{Header, Message};
use rdkafka::message::{BorrowedMessage, Headers, Message as _};

use crate::offsets::Offsets;

/// A record as a message (SPEC §6): content = value, headers = record headers, metadata = key, topic, partition,
/// offset; the id is base64 of `topic@partition#offset` when encoded.
pub(crate) fn to_message(record: &BorrowedMessage<'_>, offsets: &Mutex<Offsets>, encode_id: bool) -> Message {
    let token = offsets.lock().expect("offsets lock").track(record.topic(), record.partition(), record.offset());
    message_of(record, token, encode_id)
}

/// A record as a message acknowledged with `token`.
pub(crate) fn message_of(record: &BorrowedMessage<'_>, token: u64, encode_id: bool) -> Message {
    let (topic, partition, offset) = (record.topic(), record.partition(), record.offset());
    let position = format!("{topic}@{partition}#{offset}");
    let id = if encode_id { base64::engine::general_purpose::STANDARD.encode(&position) } else { position };
    let headers: Vec<Header> = record
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| Header {
                    name: header.key.into(),
                    value: header.value.unwrap_or_default().to_vec().into(),
                })
                .collect()
        })
        .unwrap_or_default();
    let key = record.key().map(|key| key.to_vec());
    let mut metadata = vec![
        Header::new("topic", topic),
        Header::new("partition", &partition.to_string()),
        Header::new("offset", &offset.to_string()),
    ];
    if let Some(key) = &key {
        metadata.push(Header { name: "key".into(), value: key.clone().into() });
    }
    Message {
        id: id.into(),
        content: record.payload().unwrap_or_default().to_vec().into(),
        headers: headers.into(),
        metadata: metadata.into(),
        key: key.map(RVec::from).into(),
        ack_token: token,
        timestamp_ms: record.timestamp().to_millis().unwrap_or_else(plugin_kit::now_ms),
    }
}
