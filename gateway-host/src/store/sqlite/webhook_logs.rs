//! The `webhook_log_blocks` table: a writer's batch of one API's entries in one row ([`log_block`]), found by its
//! API and time range, filtered, counted and paged by its entries' index, its documents read for the page only.
//! Entries logged again under the same request id (a node of a cluster reading its log topic again) show once: the
//! latest.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::log_block::{self, Entry};
use super::SqliteStore;
use crate::store::{LogFilter, LogRow, StoreError};

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS webhook_log_blocks (
    id INTEGER PRIMARY KEY, api_id TEXT NOT NULL, first_timestamp INTEGER NOT NULL, last_timestamp INTEGER NOT NULL,
    entry_count INTEGER NOT NULL, statuses TEXT NOT NULL, application_ids TEXT NOT NULL, callback_urls TEXT NOT NULL,
    entries BLOB NOT NULL, documents BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_log_blocks_by_api ON webhook_log_blocks (api_id, last_timestamp);";

/// One entry a query selected: its block, its place there, its index entry.
struct Found {
    block: i64,
    position: usize,
    entry: Entry,
}

/// A block's summary and index, as queries read them.
struct Indexed {
    id: i64,
    statuses: Vec<u16>,
    applications: Vec<String>,
    callback_urls: Vec<String>,
    entries: Vec<Entry>,
}

impl SqliteStore {
    /// Keeps entries: one block per API of the batch, in one transaction.
    pub(super) fn insert_webhook_logs(&self, entries: &[LogRow]) -> Result<(), StoreError> {
        let mut connection = self.logs_connection();
        let transaction = connection.transaction()?;
        insert_blocks(&transaction, entries)?;
        transaction.commit()?;
        Ok(())
    }

    /// The entries `filter` selects, newest first, one page of them, and how many it selects in all.
    pub(super) fn webhook_logs(&self, filter: &LogFilter) -> Result<(Vec<Value>, u64), StoreError> {
        let connection = self.logs_connection();
        let from = filter.from.unwrap_or(i64::MIN);
        let to = filter.to.unwrap_or(i64::MAX);
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for block in indexed_blocks(&connection, &filter.api_id, from, to)? {
            let wanted = |values: &[String], chosen: &[String]| -> Vec<bool> {
                values.iter().map(|value| chosen.is_empty() || chosen.contains(value)).collect()
            };
            let applications = wanted(&block.applications, &filter.application_ids);
            let callbacks = wanted(&block.callback_urls, &filter.callback_urls);
            let statuses_match =
                filter.statuses.is_empty() || block.statuses.iter().any(|s| filter.statuses.contains(s));
            if !statuses_match || !applications.contains(&true) || !callbacks.contains(&true) {
                // Still seen: an older copy of one of these entries must not show in its place.
                seen.extend(block.entries.into_iter().map(|entry| entry.request_id));
                continue;
            }
            for (position, entry) in block.entries.into_iter().enumerate().rev() {
                if !seen.insert(entry.request_id.clone()) {
                    continue;
                }
                let selected = (from..=to).contains(&entry.timestamp)
                    && (filter.statuses.is_empty() || filter.statuses.contains(&entry.status))
                    && applications.get(entry.application as usize).copied().unwrap_or(false)
                    && callbacks.get(entry.callback_url as usize).copied().unwrap_or(false);
                if selected {
                    found.push(Found { block: block.id, position, entry });
                }
            }
        }
        found.sort_by_key(|one| std::cmp::Reverse((one.entry.timestamp, one.block, one.position)));
        let total = found.len() as u64;
        let skip = (filter.page.saturating_sub(1) as usize).saturating_mul(filter.per_page as usize);
        let page: Vec<Found> = found.into_iter().skip(skip).take(filter.per_page as usize).collect();
        Ok((documents_of(&connection, &page)?, total))
    }

    /// The entry `request_id` of `api_id` (its latest copy).
    pub(super) fn webhook_log(&self, api_id: &str, request_id: &str) -> Result<Option<Value>, StoreError> {
        let connection = self.logs_connection();
        for block in indexed_blocks(&connection, api_id, i64::MIN, i64::MAX)? {
            if let Some(position) = block.entries.iter().rposition(|entry| entry.request_id == request_id) {
                let entry = block.entries[position].clone();
                return Ok(documents_of(&connection, &[Found { block: block.id, position, entry }])?.pop());
            }
        }
        Ok(None)
    }

    /// Drops entries older than `oldest` (ms since the epoch) and all but the newest `keep`; returns how many. Blocks
    /// wholly out go at once; a block partly out is written again with the entries it keeps. Then merges the small
    /// blocks a quiet API leaves (a batch is what the writer found waiting) into full ones.
    pub(super) fn trim_webhook_logs(&self, oldest: i64, keep: u64) -> Result<usize, StoreError> {
        let mut connection = self.logs_connection();
        let transaction = connection.transaction()?;
        let mut kept_so_far = 0u64;
        let mut dropped = 0usize;
        let blocks: Vec<(i64, i64, i64, u64)> = transaction
            .prepare("SELECT id, first_timestamp, last_timestamp, entry_count FROM webhook_log_blocks ORDER BY last_timestamp DESC, id DESC")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (id, first, last, count) in blocks {
            let room = keep.saturating_sub(kept_so_far);
            if last < oldest || room == 0 {
                transaction.execute("DELETE FROM webhook_log_blocks WHERE id = ?1", params![id])?;
                dropped += count as usize;
            } else if first < oldest || count > room {
                let (rows, api_id) = block_rows(&transaction, id)?;
                let mut kept: Vec<&LogRow> = rows.iter().filter(|row| row.request_timestamp >= oldest).collect();
                kept.sort_by_key(|row| std::cmp::Reverse(row.request_timestamp));
                kept.truncate(room.min(usize::MAX as u64) as usize);
                kept.sort_by_key(|row| row.request_timestamp);
                dropped += rows.len() - kept.len();
                kept_so_far += kept.len() as u64;
                transaction.execute("DELETE FROM webhook_log_blocks WHERE id = ?1", params![id])?;
                if !kept.is_empty() {
                    write_block(&transaction, &api_id, &kept)?;
                }
            } else {
                kept_so_far += count;
            }
        }
        compact(&transaction)?;
        transaction.commit()?;
        Ok(dropped)
    }

    /// Forgets every entry (an index about to be rebuilt from its topic).
    pub(crate) fn clear_webhook_logs(&self) -> Result<(), StoreError> {
        self.logs_connection().execute("DELETE FROM webhook_log_blocks", [])?;
        Ok(())
    }
}

/// Blocks of fewer entries than this are merged by [`compact`].
const SMALL_BLOCK: i64 = 256;
/// Entries of one block at most (the writer's batch).
const BLOCK_ENTRIES: usize = 1024;

/// Merges each API's small blocks, oldest first, into blocks of up to [`BLOCK_ENTRIES`].
fn compact(connection: &Connection) -> Result<(), StoreError> {
    let small: Vec<(i64, String)> = connection
        .prepare("SELECT id, api_id FROM webhook_log_blocks WHERE entry_count < ?1 ORDER BY api_id, id")?
        .query_map(params![SMALL_BLOCK], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for api_id in small.iter().map(|(_, api_id)| api_id.clone()).collect::<std::collections::BTreeSet<_>>() {
        let ids: Vec<i64> = small.iter().filter(|(_, api)| *api == api_id).map(|(id, _)| *id).collect();
        if ids.len() < 2 {
            continue;
        }
        let mut rows = Vec::new();
        for id in &ids {
            rows.extend(block_rows(connection, *id)?.0);
            connection.execute("DELETE FROM webhook_log_blocks WHERE id = ?1", params![id])?;
        }
        for chunk in rows.chunks(BLOCK_ENTRIES) {
            write_block(connection, &api_id, &chunk.iter().collect::<Vec<_>>())?;
        }
    }
    Ok(())
}

/// Writes `entries` as one block per API, in their order.
fn insert_blocks(connection: &Connection, entries: &[LogRow]) -> Result<(), StoreError> {
    let mut apis: Vec<&str> = Vec::new();
    for entry in entries {
        if !apis.contains(&entry.api_id.as_str()) {
            apis.push(&entry.api_id);
        }
    }
    for api_id in apis {
        let rows: Vec<&LogRow> = entries.iter().filter(|entry| entry.api_id == api_id).collect();
        write_block(connection, api_id, &rows)?;
    }
    Ok(())
}

fn write_block(connection: &Connection, api_id: &str, rows: &[&LogRow]) -> Result<(), StoreError> {
    let block = log_block::encode(rows);
    connection
        .prepare_cached(
            "INSERT INTO webhook_log_blocks (api_id, first_timestamp, last_timestamp, entry_count, statuses,
             application_ids, callback_urls, entries, documents) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            api_id,
            block.first_timestamp,
            block.last_timestamp,
            rows.len() as i64,
            block.statuses,
            block.applications,
            block.callback_urls,
            block.entries,
            block.documents
        ])?;
    Ok(())
}

/// The blocks of `api_id` that may hold entries of `from..=to`, newest first, with their summaries and indexes.
fn indexed_blocks(connection: &Connection, api_id: &str, from: i64, to: i64) -> Result<Vec<Indexed>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT id, statuses, application_ids, callback_urls, entries FROM webhook_log_blocks
         WHERE api_id = ?1 AND last_timestamp >= ?2 AND first_timestamp <= ?3 ORDER BY id DESC",
    )?;
    let rows = statement.query_map(params![api_id, from, to], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, Vec<u8>>(4)?,
        ))
    })?;
    let mut blocks = Vec::new();
    for row in rows {
        let (id, statuses, applications, callback_urls, entries) = row?;
        blocks.push(Indexed {
            id,
            statuses: serde_json::from_str(&statuses)?,
            applications: serde_json::from_str(&applications)?,
            callback_urls: serde_json::from_str(&callback_urls)?,
            entries: log_block::entries(&entries)?,
        });
    }
    Ok(blocks)
}

/// The documents of `found`, in its order, each block read and decompressed once.
fn documents_of(connection: &Connection, found: &[Found]) -> Result<Vec<Value>, StoreError> {
    let mut blocks: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut documents = Vec::with_capacity(found.len());
    for one in found {
        if !blocks.iter().any(|(id, _)| *id == one.block) {
            let compressed: Option<Vec<u8>> = connection
                .query_row("SELECT documents FROM webhook_log_blocks WHERE id = ?1", params![one.block], |row| {
                    row.get(0)
                })
                .optional()?;
            let compressed =
                compressed.ok_or_else(|| StoreError::DamagedBlock(format!("block {} is gone", one.block)))?;
            blocks.push((one.block, log_block::documents(&compressed)?));
        }
        let (_, bytes) = blocks.iter().find(|(id, _)| *id == one.block).expect("just read");
        documents.push(serde_json::from_str(log_block::document(bytes, &one.entry)?)?);
    }
    Ok(documents)
}

/// The entries of block `id` as rows, and its API.
fn block_rows(connection: &Connection, id: i64) -> Result<(Vec<LogRow>, String), StoreError> {
    let (api_id, applications, callback_urls, entries, compressed): (String, String, String, Vec<u8>, Vec<u8>) =
        connection.query_row(
            "SELECT api_id, application_ids, callback_urls, entries, documents FROM webhook_log_blocks WHERE id = ?1",
            params![id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
        )?;
    let applications: Vec<String> = serde_json::from_str(&applications)?;
    let callback_urls: Vec<String> = serde_json::from_str(&callback_urls)?;
    let documents = log_block::documents(&compressed)?;
    let rows = log_block::entries(&entries)?
        .into_iter()
        .map(|entry| {
            Ok(LogRow {
                document: log_block::document(&documents, &entry)?.to_string(),
                request_id: entry.request_id,
                api_id: api_id.clone(),
                application_id: applications.get(entry.application as usize).cloned().unwrap_or_default(),
                callback_url: callback_urls.get(entry.callback_url as usize).cloned().unwrap_or_default(),
                status: entry.status,
                request_timestamp: entry.timestamp,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok((rows, api_id))
}

/// Moves the entries of the row-per-entry table of earlier versions into blocks, then drops it.
pub(super) fn migrate_rows(connection: &mut Connection) -> Result<(), StoreError> {
    let exists: Option<String> = connection
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'webhook_logs'", [], |row| {
            row.get(0)
        })
        .optional()?;
    if exists.is_none() {
        return Ok(());
    }
    let transaction = connection.transaction()?;
    let rows: Vec<LogRow> = transaction
        .prepare(
            "SELECT request_id, api_id, application_id, callback_url, status, timestamp, document FROM webhook_logs
             ORDER BY rowid",
        )?
        .query_map([], |row| {
            Ok(LogRow {
                request_id: row.get(0)?,
                api_id: row.get(1)?,
                application_id: row.get(2)?,
                callback_url: row.get(3)?,
                status: row.get(4)?,
                request_timestamp: row.get(5)?,
                document: row.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    for batch in rows.chunks(BLOCK_ENTRIES) {
        insert_blocks(&transaction, batch)?;
    }
    transaction.execute_batch("DROP TABLE webhook_logs")?;
    transaction.commit()?;
    tracing::info!(entries = rows.len(), "webhook log entries moved into blocks");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: i64, status: u16) -> LogRow {
        LogRow {
            request_id: format!("r{index}"),
            api_id: "api".into(),
            application_id: if index % 2 == 0 { "even" } else { "odd" }.into(),
            callback_url: "http://127.0.0.1:9/".into(),
            status,
            request_timestamp: 1_000 + index,
            document: format!("{{\"requestId\":\"r{index}\"}}"),
        }
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("gateway.db"), secrets::Sealer::new(&[0; 32]).unwrap()).unwrap();
        (dir, store)
    }

    fn filter() -> LogFilter {
        LogFilter {
            api_id: "api".into(),
            statuses: vec![],
            callback_urls: vec![],
            application_ids: vec![],
            from: None,
            to: None,
            page: 1,
            per_page: 10,
        }
    }

    fn ids(entries: &[Value]) -> Vec<&str> {
        entries.iter().map(|entry| entry["requestId"].as_str().unwrap()).collect()
    }

    #[test]
    fn queries_filter_page_and_count_across_blocks_newest_first() {
        let (_dir, store) = store();
        store.insert_webhook_logs(&(0..5).map(|index| row(index, 200)).collect::<Vec<_>>()).unwrap();
        store.insert_webhook_logs(&(5..8).map(|index| row(index, 503)).collect::<Vec<_>>()).unwrap();
        let (all, total) = store.webhook_logs(&filter()).unwrap();
        assert_eq!((ids(&all), total), (vec!["r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"], 8));
        let (failed, total) = store.webhook_logs(&LogFilter { statuses: vec![503], ..filter() }).unwrap();
        assert_eq!((ids(&failed), total), (vec!["r7", "r6", "r5"], 3));
        let (odd, _) = store.webhook_logs(&LogFilter { application_ids: vec!["odd".into()], ..filter() }).unwrap();
        assert_eq!(ids(&odd), ["r7", "r5", "r3", "r1"]);
        let (window, _) = store.webhook_logs(&LogFilter { from: Some(1_002), to: Some(1_005), ..filter() }).unwrap();
        assert_eq!(ids(&window), ["r5", "r4", "r3", "r2"]);
        let (page, total) = store.webhook_logs(&LogFilter { page: 2, per_page: 3, ..filter() }).unwrap();
        assert_eq!((ids(&page), total), (vec!["r4", "r3", "r2"], 8));
        assert_eq!(store.webhook_log("api", "r6").unwrap().unwrap()["requestId"], "r6");
        assert_eq!(store.webhook_log("api", "nope").unwrap(), None);
        assert_eq!(store.webhook_log("other", "r6").unwrap(), None);
    }

    #[test]
    fn an_entry_logged_again_shows_once() {
        let (_dir, store) = store();
        store.insert_webhook_logs(&[row(1, 200), row(2, 200)]).unwrap();
        store.insert_webhook_logs(&[row(2, 200)]).unwrap();
        let (entries, total) = store.webhook_logs(&filter()).unwrap();
        assert_eq!((ids(&entries), total), (vec!["r2", "r1"], 2));
    }

    #[test]
    fn trimming_keeps_the_newest_and_writes_a_block_partly_out_again() {
        let (_dir, store) = store();
        store.insert_webhook_logs(&(0..4).map(|index| row(index, 200)).collect::<Vec<_>>()).unwrap();
        store.insert_webhook_logs(&(4..8).map(|index| row(index, 200)).collect::<Vec<_>>()).unwrap();
        assert_eq!(store.trim_webhook_logs(1_002, u64::MAX).unwrap(), 2, "two too old");
        assert_eq!(store.trim_webhook_logs(0, 5).unwrap(), 1, "one beyond the newest five");
        let (entries, total) = store.webhook_logs(&filter()).unwrap();
        assert_eq!((ids(&entries), total), (vec!["r7", "r6", "r5", "r4", "r3"], 5));
        let blocks: i64 =
            store.logs_connection().query_row("SELECT COUNT(*) FROM webhook_log_blocks", [], |row| row.get(0)).unwrap();
        assert_eq!(blocks, 1, "small blocks are merged");
        for keep in [u64::MAX, 1 << 63, i64::MAX as u64] {
            assert_eq!(store.trim_webhook_logs(0, keep).unwrap(), 0, "{keep}");
        }
        store.clear_webhook_logs().unwrap();
        assert_eq!(store.webhook_logs(&filter()).unwrap().1, 0);
    }

    #[test]
    fn entries_of_the_row_table_move_into_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.db");
        {
            let connection = Connection::open(&path).unwrap();
            connection
                .execute_batch(
                    "CREATE TABLE webhook_logs (request_id TEXT PRIMARY KEY, api_id TEXT NOT NULL,
                     application_id TEXT NOT NULL, callback_url TEXT NOT NULL, status INTEGER NOT NULL,
                     timestamp INTEGER NOT NULL, document TEXT NOT NULL);
                     INSERT INTO webhook_logs VALUES ('old', 'api', 'app', 'http://x/', 200, 5, '{\"requestId\":\"old\"}');",
                )
                .unwrap();
        }
        let store = SqliteStore::open(&path, secrets::Sealer::new(&[0; 32]).unwrap()).unwrap();
        let (entries, total) = store.webhook_logs(&filter()).unwrap();
        assert_eq!((ids(&entries), total), (vec!["old"], 1));
    }
}
