//! The local queue and records of `cspm serve`: two tables in the SQLite file
//! of the findings (`DATA_DIR/cspm.db`), so an approval survives a restart of
//! the server (a queued remediation is applied once it is back) and a crash
//! mid-apply (the message comes back when its hiding time ends and the worker
//! plans again: an already-fixed resource makes no call). A table rather than
//! the ledger file: receiving must hide a message atomically from a second
//! receiver, which one SQLite transaction does and appending lines cannot.

use super::queue::{Delivery, QueueError, QueueMessage, RemediationQueue};
use super::records::{RecordQuery, RecordsError, RemediationRecords};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use shared_types::{RemediationRecord, RemediationStatus};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS remediations (
    id TEXT PRIMARY KEY,
    finding_id TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS remediations_by_finding ON remediations (finding_id, requested_at);
CREATE INDEX IF NOT EXISTS remediations_by_time ON remediations (requested_at);
CREATE TABLE IF NOT EXISTS remediation_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    remediation_id TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receipt TEXT,
    receives INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS remediation_queue_visible ON remediation_queue (visible_at, seq);
";

/// The queue and the records in one SQLite file.
#[derive(Clone)]
pub struct SqliteRemediations {
    conn: Arc<Mutex<Connection>>,
}

/// A SQLite failure: a busy or locked database may pass, anything else needs
/// someone to look.
#[derive(Debug)]
struct Failed {
    detail: String,
    retryable: bool,
}

impl From<rusqlite::Error> for Failed {
    fn from(e: rusqlite::Error) -> Self {
        let retryable = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        Failed {
            detail: e.to_string(),
            retryable,
        }
    }
}

impl From<serde_json::Error> for Failed {
    fn from(e: serde_json::Error) -> Self {
        Failed {
            detail: e.to_string(),
            retryable: false,
        }
    }
}

impl From<Failed> for QueueError {
    fn from(f: Failed) -> Self {
        QueueError {
            detail: f.detail,
            retryable: f.retryable,
        }
    }
}

impl From<Failed> for RecordsError {
    fn from(f: Failed) -> Self {
        RecordsError {
            detail: f.detail,
            retryable: f.retryable,
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

impl SqliteRemediations {
    /// The tables of the database in `data_dir` (`cspm.db`, created if needed).
    pub fn open_dir(data_dir: &Path) -> Result<Self, RecordsError> {
        std::fs::create_dir_all(data_dir).map_err(|e| RecordsError {
            detail: format!("{}: {e}", data_dir.display()),
            retryable: false,
        })?;
        Self::open(&data_dir.join(crate::store::sqlite::DB_FILE))
    }

    /// The tables (created if needed) in the database file `path`.
    pub fn open(path: &Path) -> Result<Self, RecordsError> {
        let open = || -> Result<Connection, Failed> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        };
        Ok(SqliteRemediations {
            conn: Arc::new(Mutex::new(open()?)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, Failed> + Send + 'static,
    ) -> Result<T, Failed> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut c)
        })
        .await
        .map_err(|e| Failed {
            detail: e.to_string(),
            retryable: false,
        })?
    }
}

impl SqliteRemediations {
    /// Queues again every record left `queued` without a message: a process
    /// that died between recording an approval and queuing it (two writes,
    /// through two ports). `cspm serve` calls it before it listens; a message
    /// sent twice is handled once (the worker reads the record's status first).
    pub async fn requeue_orphans(&self) -> Result<usize, QueueError> {
        Ok(self
            .with(|c| {
                Ok(c.execute(
                    "INSERT INTO remediation_queue (remediation_id, visible_at)
                     SELECT r.id, ?1 FROM remediations r WHERE r.status = 'queued'
                     AND NOT EXISTS (SELECT 1 FROM remediation_queue q WHERE q.remediation_id = r.id)",
                    params![now_ms()],
                )?)
            })
            .await?)
    }
}

#[async_trait]
impl RemediationQueue for SqliteRemediations {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let id = message.remediation_id.clone();
        Ok(self
            .with(move |c| {
                c.execute(
                    "INSERT INTO remediation_queue (remediation_id, visible_at) VALUES (?1, ?2)",
                    params![id, now_ms()],
                )?;
                Ok(())
            })
            .await?)
    }

    async fn receive(&self, max: usize, hide_for: Duration) -> Result<Vec<Delivery>, QueueError> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        Ok(self
            .with(move |c| {
                // One transaction: a message is handed to one receiver at a time.
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let now = now_ms();
                let due: Vec<(i64, String, u32)> = {
                    let mut stmt = tx.prepare(
                        "SELECT seq, remediation_id, receives FROM remediation_queue
                         WHERE visible_at <= ?1 ORDER BY visible_at, seq LIMIT ?2",
                    )?;
                    let rows = stmt
                        .query_map(params![now, max], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let mut out = Vec::with_capacity(due.len());
                for (seq, remediation_id, receives) in due {
                    let receipt = format!("{seq}.{:032x}", rand::random::<u128>());
                    tx.execute(
                        "UPDATE remediation_queue SET visible_at = ?2, receipt = ?3,
                         receives = receives + 1 WHERE seq = ?1",
                        params![seq, now.saturating_add(ms(hide_for)), receipt],
                    )?;
                    out.push(Delivery {
                        message: QueueMessage { remediation_id },
                        receipt,
                        receives: receives + 1,
                    });
                }
                tx.commit()?;
                Ok(out)
            })
            .await?)
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        Ok(self
            .with(move |c| {
                c.execute(
                    "DELETE FROM remediation_queue WHERE receipt = ?1",
                    params![receipt],
                )?;
                Ok(())
            })
            .await?)
    }

    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        Ok(self
            .with(move |c| {
                c.execute(
                    "UPDATE remediation_queue SET visible_at = ?2 WHERE receipt = ?1",
                    params![receipt, now_ms().saturating_add(ms(after))],
                )?;
                Ok(())
            })
            .await?)
    }
}

/// Inserts the record `r` whose JSON is `doc`.
fn insert_row(c: &Connection, r: &RemediationRecord, doc: &str) -> Result<(), Failed> {
    c.execute(
        "INSERT INTO remediations (id, finding_id, status, requested_at, doc)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            r.id,
            r.finding_id,
            r.status.as_str(),
            r.requested_at.timestamp_millis(),
            doc
        ],
    )?;
    Ok(())
}

/// The final statuses as an SQL list (`'verified', …`), from the one definition.
fn final_statuses() -> String {
    RemediationStatus::ALL
        .iter()
        .filter(|s| s.is_final())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl RemediationRecords for SqliteRemediations {
    async fn insert(&self, record: &RemediationRecord) -> Result<(), RecordsError> {
        let doc = serde_json::to_string(record).map_err(Failed::from)?;
        let r = record.clone();
        Ok(self.with(move |c| insert_row(c, &r, &doc)).await?)
    }

    async fn insert_unless_open(
        &self,
        record: &RemediationRecord,
    ) -> Result<Option<RemediationRecord>, RecordsError> {
        let doc = serde_json::to_string(record).map_err(Failed::from)?;
        let r = record.clone();
        Ok(self
            .with(move |c| {
                // IMMEDIATE: the write lock first, so another process's approval
                // cannot insert between this look and this insert.
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let open: Option<String> = tx
                    .query_row(
                        &format!(
                            "SELECT doc FROM remediations WHERE finding_id = ?1
                             AND status NOT IN ({}) ORDER BY requested_at DESC LIMIT 1",
                            final_statuses()
                        ),
                        params![r.finding_id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(open) = open {
                    return Ok(Some(serde_json::from_str(&open)?));
                }
                insert_row(&tx, &r, &doc)?;
                tx.commit()?;
                Ok(None)
            })
            .await?)
    }

    async fn update(&self, record: &RemediationRecord) -> Result<(), RecordsError> {
        let doc = serde_json::to_string(record).map_err(Failed::from)?;
        let r = record.clone();
        let changed = self
            .with(move |c| {
                Ok(c.execute(
                    "UPDATE remediations SET status = ?2, doc = ?3 WHERE id = ?1",
                    params![r.id, r.status.as_str(), doc],
                )?)
            })
            .await?;
        match changed {
            0 => Err(RecordsError {
                detail: format!("no remediation {:?} to update", record.id),
                retryable: false,
            }),
            _ => Ok(()),
        }
    }

    async fn replace(
        &self,
        seen: &RemediationRecord,
        record: &RemediationRecord,
    ) -> Result<bool, RecordsError> {
        // The stored document is the serialized record, and serializing the
        // same record gives the same text: equal text is an unchanged record.
        let was = serde_json::to_string(seen).map_err(Failed::from)?;
        let doc = serde_json::to_string(record).map_err(Failed::from)?;
        let r = record.clone();
        let changed = self
            .with(move |c| {
                Ok(c.execute(
                    "UPDATE remediations SET status = ?2, doc = ?3 WHERE id = ?1 AND doc = ?4",
                    params![r.id, r.status.as_str(), doc, was],
                )?)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn get(&self, id: &str) -> Result<Option<RemediationRecord>, RecordsError> {
        let id = id.to_string();
        Ok(self
            .with(move |c| {
                let doc: Option<String> = c
                    .query_row(
                        "SELECT doc FROM remediations WHERE id = ?1",
                        params![id],
                        |r| r.get(0),
                    )
                    .optional()?;
                Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
            })
            .await?)
    }

    async fn list(&self, query: &RecordQuery) -> Result<Vec<RemediationRecord>, RecordsError> {
        let q = query.clone();
        Ok(self
            .with(move |c| {
                let mut stmt = c.prepare(
                    "SELECT doc FROM remediations
                     WHERE (?1 IS NULL OR finding_id = ?1) AND (?2 IS NULL OR status = ?2)
                     ORDER BY requested_at DESC, id LIMIT ?3",
                )?;
                let rows = stmt.query_map(
                    params![q.finding_id, q.status.map(|s| s.as_str()), q.limit],
                    |r| r.get::<_, String>(0),
                )?;
                let mut out = Vec::new();
                for doc in rows {
                    out.push(serde_json::from_str(&doc?)?);
                }
                Ok(out)
            })
            .await?)
    }
}

#[cfg(test)]
mod tests;
