//! The local audit log: records wait in an outbox table of the SQLite file until
//! the one writer (a task of `cspm serve`, holding an OS lock on the audit folder)
//! chains them into `AUDIT_DIR/dt=YYYY-MM-DD/part-<first seq>.jsonl`.
//!
//! The writer's commit point is one SQLite transaction: it empties the outbox of
//! what it wrote and records the new chain head (last seq, last hash, the part and
//! its committed length). The file is appended and fsynced before that commit, so
//! after a crash the file is never shorter than the head says; bytes after the
//! committed length (written, never committed) are cut off at the next write and
//! their records — still in the outbox — are chained again. The outbox can be
//! filled by any process on the same data dir (the SQLite file serializes them);
//! only the writer touches the chain.

use super::chain::{self, Head};
use super::record::AuditRecord;
use super::{Journal, SinkError};
use crate::file_lock::LOCK_WAIT;
use crate::metrics::{Registry, AUDIT_LINES};
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    part TEXT NOT NULL,
    len INTEGER NOT NULL
);
";

/// A part grows to this size, then the next lines start a new one.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Records chained per write (one file append, one commit).
const WRITE_BATCH: usize = 5000;
/// The lock file in the audit folder (not an object of the log).
pub const LOCK_FILE: &str = ".writer.lock";

/// Why the local audit log could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LocalAuditError {
    /// The SQLite file (outbox, head).
    #[error("audit outbox: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file of the log.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process writes this folder's chain.
    #[error("another cspm is writing the audit log in {0}")]
    Busy(PathBuf),
    /// An outbox record is not an audit record.
    #[error("audit outbox record {id}: {reason}")]
    BadRecord {
        /// Its row id.
        id: i64,
        /// Why.
        reason: String,
    },
}

fn open_db(db: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // As the store does: in WAL mode a commit survives the process dying (the
    // crash this log guards against); only a power loss may drop the newest ones.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// The outbox: where records wait for the writer. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    conn: Arc<Mutex<Connection>>,
    wake: Arc<Notify>,
}

impl Outbox {
    /// The outbox in the SQLite file at `db` (the store's file).
    pub fn open(db: &Path) -> Result<Outbox, LocalAuditError> {
        Ok(Outbox {
            conn: Arc::new(Mutex::new(open_db(db)?)),
            wake: Arc::new(Notify::new()),
        })
    }

    /// Adds records (one transaction), then wakes the writer of this process.
    pub fn push_blocking(&self, records: &[AuditRecord]) -> Result<(), rusqlite::Error> {
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO audit_outbox (record) VALUES (?1)")?;
            for r in records {
                stmt.execute([r.to_json()])?;
            }
        }
        tx.commit()?;
        drop(c);
        self.wake.notify_one();
        Ok(())
    }

    /// Records waiting for the writer.
    pub fn pending(&self) -> Result<u64, rusqlite::Error> {
        let c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        c.query_row("SELECT COUNT(*) FROM audit_outbox", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as u64)
    }
}

#[async_trait]
impl Journal for Outbox {
    async fn record(&self, records: &[AuditRecord]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        let (me, records) = (self.clone(), records.to_vec());
        tokio::task::spawn_blocking(move || me.push_blocking(&records))
            .await
            .map_err(|e| SinkError::retryable(format!("audit outbox: {e}")))?
            .map_err(|e| SinkError::retryable(format!("audit outbox: {e}")))
    }
}

/// The committed end of the chain, as the SQLite file records it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Committed {
    head: Head,
    part: String,
    len: u64,
}

/// The one writer of a folder's chain.
pub struct LocalWriter {
    dir: PathBuf,
    conn: Connection,
    wake: Arc<Notify>,
    metrics: Option<Arc<Registry>>,
    max_part: u64,
    _lock: File,
}

impl LocalWriter {
    /// The writer of the chain in `dir`, its outbox and head in the SQLite file
    /// `db`; fails when another process holds the folder.
    pub fn open(dir: &Path, db: &Path, outbox: &Outbox) -> Result<LocalWriter, LocalAuditError> {
        let io = |source| LocalAuditError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock = crate::file_lock::lock_exclusive(&dir.join(LOCK_FILE), LOCK_WAIT)
            .map_err(io)?
            .ok_or_else(|| LocalAuditError::Busy(dir.to_path_buf()))?;
        let writer = LocalWriter {
            dir: dir.to_path_buf(),
            conn: open_db(db)?,
            wake: outbox.wake.clone(),
            metrics: None,
            max_part: MAX_PART_BYTES,
            _lock: lock,
        };
        // After a crash the chain on disk holds again before anything new is written.
        if let Some(c) = writer.committed()? {
            writer.reopen(&c)?;
        }
        Ok(writer)
    }

    /// Starts a new part once one reaches `bytes` (tests use small parts).
    pub fn with_part_limit(mut self, bytes: u64) -> LocalWriter {
        self.max_part = bytes.max(1);
        self
    }

    /// Counts written lines in `registry`.
    pub fn with_metrics(mut self, registry: Arc<Registry>) -> LocalWriter {
        self.metrics = Some(registry);
        self
    }

    fn committed(&self) -> Result<Option<Committed>, LocalAuditError> {
        let row: Option<(i64, String, String, i64)> = self
            .conn
            .query_row(
                "SELECT seq, hash, part, len FROM audit_head WHERE one = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(match row {
            None => None,
            Some((seq, hash, part, len)) => Some(Committed {
                head: Head::from_hex(seq.max(0) as u64, &hash).ok_or_else(|| {
                    LocalAuditError::BadRecord {
                        id: 0,
                        reason: format!("chain head hash {hash:?} is not hex"),
                    }
                })?,
                part,
                len: len.max(0) as u64,
            }),
        })
    }

    /// The committed part opened at its committed end, cutting bytes written after
    /// it and never committed (a crash between the append and the commit: their
    /// records are still in the outbox). `None` when the part is gone or shorter.
    fn reopen(&self, c: &Committed) -> Result<Option<File>, LocalAuditError> {
        let path = self.dir.join(&c.part);
        let io = |source| LocalAuditError::Io {
            path: path.clone(),
            source,
        };
        let mut f = match OpenOptions::new().write(true).open(&path) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(part = %c.part, error = %e,
                    "the audit log's last part is gone; continuing in a new part — `cspm audit verify` will name the gap");
                return Ok(None);
            }
        };
        let actual = f.metadata().map_err(io)?.len();
        if actual < c.len {
            tracing::error!(part = %c.part, committed = c.len, actual,
                "the audit log's last part is shorter than committed (altered?); continuing in a new part — `cspm audit verify` will name the damage");
            return Ok(None);
        }
        if actual > c.len {
            tracing::warn!(part = %c.part, committed = c.len, actual,
                "cutting audit lines written but never committed (a crash); they are written again");
            f.set_len(c.len).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        f.seek(SeekFrom::Start(c.len)).map_err(io)?;
        Ok(Some(f))
    }

    /// Opens the file the next lines go to, positioned at its committed end.
    fn target(
        &self,
        committed: Option<&Committed>,
        today: NaiveDate,
    ) -> Result<(String, File, u64), LocalAuditError> {
        let head = committed.map_or(Head::GENESIS, |c| c.head);
        if let Some(c) = committed {
            let same_day = c.part.starts_with(&format!("dt={today}/"));
            if same_day && c.len < self.max_part {
                if let Some(f) = self.reopen(c)? {
                    return Ok((c.part.clone(), f, c.len));
                }
            }
        }
        // A part named after the next seq can only hold an uncommitted write.
        let part = format!("dt={today}/part-{:012}.jsonl", head.seq + 1);
        let path = self.dir.join(&part);
        let io = |source| LocalAuditError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        if let Some(parent) = path.parent() {
            if let Ok(d) = File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok((part, f, 0))
    }

    /// Chains up to `limit` waiting records; returns how many it wrote.
    pub fn write_pending(&mut self, limit: usize) -> Result<usize, LocalAuditError> {
        let rows: Vec<(i64, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT id, record FROM audit_outbox ORDER BY id LIMIT ?1")?;
            let rows = stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let Some(last_id) = rows.last().map(|(id, _)| *id) else {
            return Ok(0);
        };
        let committed = self.committed()?;
        let now = Utc::now();
        let (part, mut file, len) = self.target(committed.as_ref(), now.date_naive())?;
        let head = committed.as_ref().map_or(Head::GENESIS, |c| c.head);
        let records: Vec<&str> = rows.iter().map(|(_, r)| r.as_str()).collect();
        let mut buf = Vec::with_capacity(records.len() * 512);
        let new_head = chain::link(head, &records, now, &mut buf);
        let path = self.dir.join(&part);
        let io = |source| LocalAuditError::Io {
            path: path.clone(),
            source,
        };
        file.write_all(&buf).map_err(io)?;
        file.sync_data().map_err(io)?;
        let new_len = len + buf.len() as u64;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM audit_outbox WHERE id <= ?1", [last_id])?;
        tx.execute(
            "INSERT INTO audit_head (one, seq, hash, part, len) VALUES (1, ?1, ?2, ?3, ?4) \
             ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             part = excluded.part, len = excluded.len",
            params![new_head.seq as i64, new_head.hex(), part, new_len as i64],
        )?;
        tx.commit()?;
        if let Some(m) = &self.metrics {
            m.add(&AUDIT_LINES, &[], rows.len() as u64);
        }
        Ok(rows.len())
    }

    /// Writes until the outbox is empty.
    pub fn drain(&mut self) -> Result<usize, LocalAuditError> {
        let mut n = 0;
        loop {
            let wrote = self.write_pending(WRITE_BATCH)?;
            if wrote == 0 {
                return Ok(n);
            }
            n += wrote;
        }
    }

    /// Runs the writer until `stop`: wakes when this process adds records, and
    /// every `poll` for records other processes added; drains once more at the end.
    pub fn spawn(self, poll: Duration, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        let wake = self.wake.clone();
        let writer = Arc::new(Mutex::new(self));
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let w = writer.clone();
                let result = tokio::task::spawn_blocking(move || {
                    w.lock().unwrap_or_else(|p| p.into_inner()).drain()
                })
                .await;
                let wait = match result {
                    Ok(Ok(_)) => {
                        failures = 0;
                        poll
                    }
                    Ok(Err(e)) => {
                        failures += 1;
                        tracing::error!(error = %e, "writing the audit log failed; the records wait in the outbox");
                        poll.saturating_mul(failures.min(30))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the audit writer panicked");
                        poll
                    }
                };
                if *stop.borrow() {
                    return;
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {
                        // One last drain of what was recorded before stopping.
                        let w = writer.clone();
                        let _ = tokio::task::spawn_blocking(move || {
                            w.lock().unwrap_or_else(|p| p.into_inner()).drain()
                        })
                        .await;
                        return;
                    }
                }
            }
        })
    }
}
