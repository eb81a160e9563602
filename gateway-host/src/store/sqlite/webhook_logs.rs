//! The `webhook_logs` table: one row per logged delivery, the entry kept as JSON beside the columns filters use.

use rusqlite::{params, params_from_iter, OptionalExtension, ToSql};
use serde_json::Value;

use super::SqliteStore;
use crate::store::{LogFilter, LogRow, StoreError};

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS webhook_logs (
    request_id TEXT PRIMARY KEY, api_id TEXT NOT NULL, application_id TEXT NOT NULL, callback_url TEXT NOT NULL,
    status INTEGER NOT NULL, timestamp INTEGER NOT NULL, document TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_logs_by_api ON webhook_logs (api_id, timestamp);";

impl SqliteStore {
    /// Keeps entries, in one transaction.
    pub(super) fn insert_webhook_logs(&self, entries: &[LogRow]) -> Result<(), StoreError> {
        let mut connection = self.logs_connection();
        let transaction = connection.transaction()?;
        {
            let mut insert = transaction.prepare_cached(
                "INSERT OR REPLACE INTO webhook_logs
                 (request_id, api_id, application_id, callback_url, status, timestamp, document)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for entry in entries {
                insert.execute(params![
                    entry.request_id,
                    entry.api_id,
                    entry.application_id,
                    entry.callback_url,
                    entry.status,
                    entry.request_timestamp,
                    entry.document
                ])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// The entries `filter` selects, newest first, one page of them, and how many it selects in all.
    pub(super) fn webhook_logs(&self, filter: &LogFilter) -> Result<(Vec<Value>, u64), StoreError> {
        let mut clauses = vec!["api_id = ?".to_string()];
        let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(filter.api_id.clone())];
        let mut any_of = |column: &str, items: Vec<Box<dyn ToSql>>| {
            if !items.is_empty() {
                clauses.push(format!("{column} IN ({})", vec!["?"; items.len()].join(", ")));
                values.extend(items);
            }
        };
        any_of("status", filter.statuses.iter().map(|status| Box::new(*status) as Box<dyn ToSql>).collect());
        any_of(
            "callback_url",
            filter.callback_urls.iter().map(|url| Box::new(url.clone()) as Box<dyn ToSql>).collect(),
        );
        any_of(
            "application_id",
            filter.application_ids.iter().map(|id| Box::new(id.clone()) as Box<dyn ToSql>).collect(),
        );
        if let Some(from) = filter.from {
            clauses.push("timestamp >= ?".into());
            values.push(Box::new(from));
        }
        if let Some(to) = filter.to {
            clauses.push("timestamp <= ?".into());
            values.push(Box::new(to));
        }
        let condition = clauses.join(" AND ");
        let connection = self.logs_connection();
        let total: u64 = connection.query_row(
            &format!("SELECT COUNT(*) FROM webhook_logs WHERE {condition}"),
            params_from_iter(values.iter().map(|value| value.as_ref())),
            |row| row.get(0),
        )?;
        let offset = u64::from(filter.page.saturating_sub(1)) * u64::from(filter.per_page);
        let mut statement = connection.prepare(&format!(
            "SELECT document FROM webhook_logs WHERE {condition} ORDER BY timestamp DESC, rowid DESC LIMIT {} OFFSET {offset}",
            filter.per_page
        ))?;
        let rows = statement
            .query_map(params_from_iter(values.iter().map(|value| value.as_ref())), |row| row.get::<_, String>(0))?;
        let entries = rows.map(|document| Ok(serde_json::from_str(&document?)?)).collect::<Result<_, StoreError>>()?;
        Ok((entries, total))
    }

    /// The entry `request_id` of `api_id`.
    pub(super) fn webhook_log(&self, api_id: &str, request_id: &str) -> Result<Option<Value>, StoreError> {
        let document: Option<String> = self
            .logs_connection()
            .query_row(
                "SELECT document FROM webhook_logs WHERE api_id = ?1 AND request_id = ?2",
                params![api_id, request_id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(document.map(|document| serde_json::from_str(&document)).transpose()?)
    }

    /// Drops entries older than `oldest` (ms since the epoch) and all but the newest `keep`; returns how many.
    pub(super) fn trim_webhook_logs(&self, oldest: i64, keep: u64) -> Result<usize, StoreError> {
        let connection = self.logs_connection();
        let aged = connection.execute("DELETE FROM webhook_logs WHERE timestamp < ?1", params![oldest])?;
        let surplus = connection.execute(
            "DELETE FROM webhook_logs WHERE rowid IN
             (SELECT rowid FROM webhook_logs ORDER BY timestamp DESC, rowid DESC LIMIT -1 OFFSET ?1)",
            // Beyond i64::MAX entries, every entry is kept (no store holds that many).
            params![i64::try_from(keep).unwrap_or(i64::MAX)],
        )?;
        Ok(aged + surplus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: i64) -> LogRow {
        LogRow {
            request_id: format!("r{index}"),
            api_id: "api".into(),
            application_id: "app".into(),
            callback_url: "http://127.0.0.1:9/".into(),
            status: 200,
            request_timestamp: 1_000 + index,
            document: "{}".into(),
        }
    }

    #[test]
    fn a_limit_beyond_what_sqlite_counts_keeps_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("gateway.db"), secrets::Sealer::new(&[0; 32]).unwrap()).unwrap();
        store.insert_webhook_logs(&(0..3).map(row).collect::<Vec<_>>()).unwrap();
        for keep in [u64::MAX, 1 << 63, i64::MAX as u64] {
            assert_eq!(store.trim_webhook_logs(0, keep).unwrap(), 0, "{keep}");
        }
        assert_eq!(store.trim_webhook_logs(0, 2).unwrap(), 1, "the oldest beyond the limit goes");
    }
}
