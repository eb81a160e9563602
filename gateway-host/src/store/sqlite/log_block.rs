//! A block of webhook log entries: up to a writer's batch of one API's entries in one row, so that one SQLite write
//! carries a thousand of them. The row keeps a summary (time range, distinct statuses, applications and callback
//! URLs) that queries skip blocks by, the entries' index (request id, time, status, application, callback, where its
//! document ends) that they filter, sort and page by, and the documents, LZ4-compressed, read only for the page shown.

use std::collections::HashMap;

use crate::store::{LogRow, StoreError};

/// One entry of a block's index.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub(super) request_id: String,
    pub(super) timestamp: i64,
    pub(super) status: u16,
    /// Index into the block's applications.
    pub(super) application: u16,
    /// Index into the block's callback URLs.
    pub(super) callback_url: u16,
    /// Where its document starts and ends in the block's documents.
    pub(super) start: u32,
    pub(super) end: u32,
}

/// A block ready to be written.
pub(super) struct Encoded {
    pub(super) first_timestamp: i64,
    pub(super) last_timestamp: i64,
    pub(super) statuses: String,
    pub(super) applications: String,
    pub(super) callback_urls: String,
    pub(super) entries: Vec<u8>,
    pub(super) documents: Vec<u8>,
}

/// Distinct values in first-seen order, each with its index.
struct Distinct<'a> {
    values: Vec<&'a str>,
    index: HashMap<&'a str, u16>,
}

impl<'a> Distinct<'a> {
    fn new() -> Self {
        Self { values: Vec::new(), index: HashMap::new() }
    }

    fn of(&mut self, value: &'a str) -> u16 {
        *self.index.entry(value).or_insert_with(|| {
            self.values.push(value);
            (self.values.len() - 1) as u16
        })
    }
}

/// Encodes `rows` (of one API; at most 65,536 distinct applications and callbacks, which a batch never reaches) as
/// one block.
pub(super) fn encode(rows: &[&LogRow]) -> Encoded {
    let (mut applications, mut callback_urls) = (Distinct::new(), Distinct::new());
    let mut statuses: Vec<u16> = Vec::new();
    let mut entries = Vec::with_capacity(rows.len() * 64);
    let mut documents = Vec::with_capacity(rows.iter().map(|row| row.document.len()).sum());
    for row in rows {
        if !statuses.contains(&row.status) {
            statuses.push(row.status);
        }
        documents.extend_from_slice(row.document.as_bytes());
        let id = row.request_id.as_bytes();
        let id = &id[..id.len().min(u8::MAX as usize)];
        entries.extend_from_slice(&row.status.to_le_bytes());
        entries.extend_from_slice(&row.request_timestamp.to_le_bytes());
        entries.extend_from_slice(&applications.of(&row.application_id).to_le_bytes());
        entries.extend_from_slice(&callback_urls.of(&row.callback_url).to_le_bytes());
        entries.extend_from_slice(&(documents.len() as u32).to_le_bytes());
        entries.push(id.len() as u8);
        entries.extend_from_slice(id);
    }
    let times = rows.iter().map(|row| row.request_timestamp);
    Encoded {
        first_timestamp: times.clone().min().unwrap_or_default(),
        last_timestamp: times.max().unwrap_or_default(),
        statuses: serde_json::to_string(&statuses).expect("numbers"),
        applications: serde_json::to_string(&applications.values).expect("text"),
        callback_urls: serde_json::to_string(&callback_urls.values).expect("text"),
        entries,
        documents: lz4_flex::compress_prepend_size(&documents),
    }
}

/// The index of a block, as [`encode`] wrote it.
pub(super) fn entries(bytes: &[u8]) -> Result<Vec<Entry>, StoreError> {
    let mut reader = Reader { bytes, at: 0 };
    let mut entries = Vec::new();
    let mut start = 0u32;
    while reader.at < bytes.len() {
        let status = u16::from_le_bytes(reader.take()?);
        let timestamp = i64::from_le_bytes(reader.take()?);
        let application = u16::from_le_bytes(reader.take()?);
        let callback_url = u16::from_le_bytes(reader.take()?);
        let end = u32::from_le_bytes(reader.take()?);
        let [length] = reader.take()?;
        let request_id = String::from_utf8_lossy(reader.slice(length as usize)?).into_owned();
        entries.push(Entry { request_id, timestamp, status, application, callback_url, start, end });
        start = end;
    }
    Ok(entries)
}

/// Reads an index from its start.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn slice(&mut self, length: usize) -> Result<&'a [u8], StoreError> {
        let slice = self
            .bytes
            .get(self.at..self.at + length)
            .ok_or_else(|| StoreError::DamagedBlock("its index is cut short".into()))?;
        self.at += length;
        Ok(slice)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        Ok(self.slice(N)?.try_into().expect("N bytes"))
    }
}

/// A block's documents, decompressed.
pub(super) fn documents(compressed: &[u8]) -> Result<Vec<u8>, StoreError> {
    lz4_flex::decompress_size_prepended(compressed)
        .map_err(|error| StoreError::DamagedBlock(format!("a webhook log block's documents: {error}")))
}

/// The document of `entry` in `documents`.
pub(super) fn document<'a>(documents: &'a [u8], entry: &Entry) -> Result<&'a str, StoreError> {
    documents
        .get(entry.start as usize..entry.end as usize)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .ok_or_else(|| StoreError::DamagedBlock(format!("webhook log entry {} is out of its block", entry.request_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: u16, application: &str, at: i64) -> LogRow {
        LogRow {
            request_id: id.into(),
            api_id: "api".into(),
            application_id: application.into(),
            callback_url: "http://127.0.0.1:9/hook".into(),
            status,
            request_timestamp: at,
            document: format!("{{\"requestId\":\"{id}\"}}"),
        }
    }

    #[test]
    fn a_block_gives_back_its_entries_and_their_documents() {
        let rows = [row("a", 200, "app-1", 30), row("b", 503, "app-2", 10), row("c", 200, "app-1", 20)];
        let block = encode(&rows.iter().collect::<Vec<_>>());
        assert_eq!((block.first_timestamp, block.last_timestamp), (10, 30));
        assert_eq!(block.statuses, "[200,503]");
        assert_eq!(block.applications, r#"["app-1","app-2"]"#);
        let entries = entries(&block.entries).unwrap();
        assert_eq!(entries.iter().map(|entry| entry.request_id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!((entries[1].status, entries[1].application, entries[1].timestamp), (503, 1, 10));
        let documents = documents(&block.documents).unwrap();
        assert_eq!(document(&documents, &entries[2]).unwrap(), r#"{"requestId":"c"}"#);
        assert!(super::entries(&block.entries[..block.entries.len() - 1]).is_err(), "a cut index is refused");
    }
}
