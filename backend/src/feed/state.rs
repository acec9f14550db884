//! The local dispatcher's durable state, in the same SQLite file as the findings:
//! one cursor per sink (the last `seq` it was handed), each sink's health (tries,
//! last error), parked batches (self-contained: the changes are kept with them, so
//! trimming the feed never loses a parked change), and the keys alerting sinks
//! delivered (their [`Dedup`] memory).

use crate::sinks::dedup::Dedup;
use crate::sinks::SinkError;
use crate::store::{Change, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sink_cursors (
    sink TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sink_health (
    sink TEXT PRIMARY KEY,
    tries INTEGER NOT NULL DEFAULT 0,
    failing_since INTEGER,
    last_error TEXT,
    last_error_at INTEGER,
    delivered INTEGER NOT NULL DEFAULT 0,
    last_delivery_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parked (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sink TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    count INTEGER NOT NULL,
    tries INTEGER NOT NULL,
    error TEXT NOT NULL,
    parked_at INTEGER NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS parked_by_sink ON parked (sink, id);
CREATE TABLE IF NOT EXISTS sink_sent (
    sink TEXT NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (sink, key)
) WITHOUT ROWID;
";

/// Dispatcher state over one SQLite file.
#[derive(Clone)]
pub struct SinkState {
    conn: Arc<Mutex<Connection>>,
}

/// A batch a sink could not take, kept for an operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Parked {
    /// Its id (for `cspm sinks retry`).
    pub id: i64,
    /// The sink.
    pub sink: String,
    /// Its changes.
    pub changes: Vec<Change>,
    /// Tries before it was parked.
    pub tries: u32,
    /// The last error.
    pub error: String,
    /// When.
    pub parked_at: DateTime<Utc>,
}

/// A sink's health as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Failed tries of the batch being delivered (0 when healthy).
    pub tries: u32,
    /// Since when it fails.
    pub failing_since: Option<DateTime<Utc>>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Changes delivered since the state was created.
    pub delivered: u64,
    /// The last successful delivery.
    pub last_delivery_at: Option<DateTime<Utc>>,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Sets `sink`'s cursor to `seq` (inside the caller's transaction, if any).
fn move_cursor(c: &Connection, sink: &str, seq: u64, now: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO sink_cursors (sink, seq, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
    )?
    .execute(params![sink, seq as i64, now])
    .map(|_| ())
}

fn time(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.and_then(DateTime::from_timestamp_micros)
}

impl SinkState {
    /// Opens (creating its tables in) the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<SinkState, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        // NORMAL: a commit is not synced until the next checkpoint, so power loss may
        // take back the last cursor moves. That only redelivers changes, which
        // at-least-once delivery already allows; an fsync per delivered batch would
        // halve the dispatcher's throughput.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SinkState {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut c)
        })
        .await
        .map_err(backend)?
        .map_err(StoreError::from)
    }

    /// The sink's cursor, if it has one.
    pub async fn cursor(&self, sink: &str) -> Result<Option<u64>, StoreError> {
        let sink = sink.to_string();
        self.with(move |c| {
            c.query_row(
                "SELECT seq FROM sink_cursors WHERE sink = ?1",
                [sink],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|s| s.map(|s| s.max(0) as u64))
        })
        .await
    }

    /// Moves the sink's cursor to `seq`.
    pub async fn set_cursor(&self, sink: &str, seq: u64) -> Result<(), StoreError> {
        let sink = sink.to_string();
        self.with(move |c| move_cursor(c, &sink, seq, micros(Utc::now())))
            .await
    }

    /// Every cursor, by sink.
    pub async fn cursors(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT sink, seq FROM sink_cursors ORDER BY sink")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
            rows.collect()
        })
        .await
    }

    /// Records a failed try of the batch being delivered.
    pub async fn record_failure(
        &self,
        sink: &str,
        tries: u32,
        error: &str,
    ) -> Result<(), StoreError> {
        let (sink, error) = (sink.to_string(), error.to_string());
        self.with(move |c| {
            let now = micros(Utc::now());
            c.execute(
                "INSERT INTO sink_health (sink, tries, failing_since, last_error, last_error_at) \
                 VALUES (?1, ?2, ?3, ?4, ?3) ON CONFLICT (sink) DO UPDATE SET tries = excluded.tries, \
                 failing_since = COALESCE(sink_health.failing_since, excluded.failing_since), \
                 last_error = excluded.last_error, last_error_at = excluded.last_error_at",
                params![sink, tries, now, error],
            )
            .map(|_| ())
        })
        .await
    }

    /// Records a delivered batch of `n` changes (the sink is healthy again) and, with
    /// `cursor`, moves the sink's cursor to it in the same transaction: one commit
    /// per batch instead of two.
    pub async fn record_success(
        &self,
        sink: &str,
        n: usize,
        cursor: Option<u64>,
    ) -> Result<(), StoreError> {
        let sink = sink.to_string();
        self.with(move |c| {
            let tx = c.transaction()?;
            let now = micros(Utc::now());
            tx.prepare_cached(
                "INSERT INTO sink_health (sink, tries, delivered, last_delivery_at) \
                 VALUES (?1, 0, ?2, ?3) ON CONFLICT (sink) DO UPDATE SET tries = 0, \
                 failing_since = NULL, delivered = sink_health.delivered + excluded.delivered, \
                 last_delivery_at = excluded.last_delivery_at",
            )?
            .execute(params![sink, n as i64, now])?;
            if let Some(seq) = cursor {
                move_cursor(&tx, &sink, seq, now)?;
            }
            tx.commit()
        })
        .await
    }

    /// The sink's recorded health.
    pub async fn health(&self, sink: &str) -> Result<Health, StoreError> {
        let sink = sink.to_string();
        self.with(move |c| {
            c.query_row(
                "SELECT tries, failing_since, last_error, last_error_at, delivered, last_delivery_at \
                 FROM sink_health WHERE sink = ?1",
                [sink],
                |r| {
                    Ok(Health {
                        tries: r.get::<_, i64>(0)?.max(0) as u32,
                        failing_since: time(r.get(1)?),
                        last_error: r.get(2)?,
                        last_error_at: time(r.get(3)?),
                        delivered: r.get::<_, i64>(4)?.max(0) as u64,
                        last_delivery_at: time(r.get(5)?),
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
        .await
    }

    /// Parks `batch` for `sink` with its last error.
    pub async fn park(
        &self,
        sink: &str,
        batch: &[Change],
        tries: u32,
        error: &str,
    ) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        let json = serde_json::to_string(batch).map_err(backend)?;
        let (sink, error) = (sink.to_string(), error.to_string());
        let (first, last, n) = (first.seq as i64, last.seq as i64, batch.len() as i64);
        self.with(move |c| {
            c.execute(
                "INSERT INTO parked (sink, first_seq, last_seq, count, tries, error, parked_at, changes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![sink, first, last, n, tries, error, micros(Utc::now()), json],
            )
            .map(|_| ())
        })
        .await
    }

    /// Parked batches (of one sink, or all), oldest first.
    pub async fn parked(&self, sink: Option<&str>) -> Result<Vec<Parked>, StoreError> {
        let sink = sink.map(str::to_string);
        let rows: Vec<(i64, String, String, i64, String, i64)> = self
            .with(move |c| {
                let mut stmt = c.prepare(
                    "SELECT id, sink, changes, tries, error, parked_at FROM parked \
                     WHERE ?1 IS NULL OR sink = ?1 ORDER BY id",
                )?;
                let rows = stmt.query_map([sink], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?;
                rows.collect()
            })
            .await?;
        rows.into_iter()
            .map(|(id, sink, json, tries, error, at)| {
                Ok(Parked {
                    id,
                    changes: serde_json::from_str(&json).map_err(backend)?,
                    sink,
                    tries: tries.max(0) as u32,
                    error,
                    parked_at: time(Some(at)).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Removes a parked batch (delivered by `cspm sinks retry`).
    pub async fn unpark(&self, id: i64) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute("DELETE FROM parked WHERE id = ?1", [id])
                .map(|_| ())
        })
        .await
    }

    /// Forgets delivered keys recorded before `before`.
    pub async fn trim_sent(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.with(move |c| {
            c.execute("DELETE FROM sink_sent WHERE at < ?1", [micros(before)])
                .map(|n| n as u64)
        })
        .await
    }
}

fn sink_error(e: StoreError) -> SinkError {
    if e.is_retryable() {
        SinkError::retryable(format!("dedup memory: {e}"))
    } else {
        SinkError::permanent(format!("dedup memory: {e}"))
    }
}

#[async_trait::async_trait]
impl Dedup for SinkState {
    async fn seen(&self, sink: &str, key: &str) -> Result<bool, SinkError> {
        let (sink, key) = (sink.to_string(), key.to_string());
        self.with(move |c| {
            c.query_row(
                "SELECT 1 FROM sink_sent WHERE sink = ?1 AND key = ?2",
                [sink, key],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        })
        .await
        .map_err(sink_error)
    }

    async fn remember(&self, sink: &str, key: &str) -> Result<(), SinkError> {
        let (sink, key) = (sink.to_string(), key.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO sink_sent (sink, key, at) VALUES (?1, ?2, ?3)",
                params![sink, key, micros(Utc::now())],
            )
            .map(|_| ())
        })
        .await
        .map_err(sink_error)
    }
}
