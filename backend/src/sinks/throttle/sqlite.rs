//! The throttle state in the SQLite file the server already uses (next to the
//! findings, the change feed and the dispatcher's cursors), so it survives
//! restarts. Locally one dispatcher task per sink sends in order, so reading a
//! view and committing its verdict need no more than one transaction per commit.

use super::decide::{DedupEntry, Facts, Subject, Verdict, View, Window};
use super::state::{DueWindow, Held, ThrottleState};
use crate::sinks::SinkError;
use crate::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS throttle_decided (
    sink TEXT NOT NULL, key TEXT NOT NULL, decision TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (sink, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttle_alerted (
    sink TEXT NOT NULL, finding TEXT NOT NULL, severity TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (sink, finding)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttle_dedup (
    sink TEXT NOT NULL, route TEXT NOT NULL, rule TEXT NOT NULL, resource TEXT NOT NULL,
    since INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (sink, route, rule, resource)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttle_windows (
    sink TEXT NOT NULL, route TEXT NOT NULL, started_at INTEGER NOT NULL,
    flush_at INTEGER NOT NULL, sent INTEGER NOT NULL, held INTEGER NOT NULL,
    flushed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sink, route)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttle_held (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sink TEXT NOT NULL, route TEXT NOT NULL, subject TEXT NOT NULL,
    severity TEXT NOT NULL, account TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_held_by_window ON throttle_held (sink, route, id);
";

/// How a decided key whose send is not confirmed yet is stored
/// (`pending:alert`, `pending:resolved`); confirmed, it reads `send`.
const PENDING: &str = "pending:";

/// Throttle state over one SQLite file.
#[derive(Clone)]
pub struct SqliteThrottle {
    conn: Arc<Mutex<Connection>>,
}

fn us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(v).unwrap_or_default()
}

fn sink_error(e: StoreError) -> SinkError {
    let reason = format!("throttle state: {e}");
    if e.is_retryable() {
        SinkError::retryable(reason)
    } else {
        SinkError::permanent(reason)
    }
}

impl SqliteThrottle {
    /// Opens (creating its tables in) the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<SqliteThrottle, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA)?;
        // Files made before windows counted their digests.
        let has_flushed: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('throttle_windows') WHERE name = 'flushed'",
            [],
            |r| r.get(0),
        )?;
        if !has_flushed {
            conn.execute_batch(
                "ALTER TABLE throttle_windows ADD COLUMN flushed INTEGER NOT NULL DEFAULT 0",
            )?;
        }
        Ok(SqliteThrottle {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, SinkError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut c)
        })
        .await
        .map_err(|e| SinkError::retryable(format!("throttle state: {e}")))?
        .map_err(|e| sink_error(StoreError::from(e)))
    }
}

fn window(r: &rusqlite::Row<'_>) -> rusqlite::Result<Window> {
    Ok(Window {
        started_at: time(r.get(0)?),
        flush_at: time(r.get(1)?),
        sent: r.get(2)?,
        held: r.get(3)?,
    })
}

/// The channel's view of change `f`, read on `c` (the view itself, and again
/// inside a commit's transaction to see whether it still holds).
fn read_view(c: &Connection, sink: &str, route: &str, f: &Facts) -> rusqlite::Result<View> {
    let decision = c
        .query_row(
            "SELECT decision FROM throttle_decided WHERE sink = ?1 AND key = ?2",
            params![sink, f.key],
            |r| r.get::<_, String>(0),
        )
        .optional()?;
    let pending = decision
        .as_deref()
        .and_then(|d| d.strip_prefix(PENDING))
        .and_then(Subject::parse);
    let last_alerted = c
        .query_row(
            "SELECT severity FROM throttle_alerted WHERE sink = ?1 AND finding = ?2",
            params![sink, f.finding],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|s| s.parse().ok());
    let dedup = c
        .query_row(
            "SELECT since, count FROM throttle_dedup \
                 WHERE sink = ?1 AND route = ?2 AND rule = ?3 AND resource = ?4",
            params![sink, route, f.rule, f.resource],
            |r| {
                Ok(DedupEntry {
                    since: time(r.get(0)?),
                    count: r.get(1)?,
                })
            },
        )
        .optional()?;
    let window = c
        .query_row(
            "SELECT started_at, flush_at, sent, held FROM throttle_windows \
                 WHERE sink = ?1 AND route = ?2",
            params![sink, route],
            window,
        )
        .optional()?;
    Ok(View {
        decided: decision.is_some(),
        pending,
        last_alerted,
        dedup,
        window,
    })
}

#[async_trait]
impl ThrottleState for SqliteThrottle {
    async fn view(&self, sink: &str, route: &str, f: &Facts) -> Result<View, SinkError> {
        let (sink, route, f) = (sink.to_string(), route.to_string(), f.clone());
        self.with(move |c| read_view(c, &sink, &route, &f)).await
    }

    async fn commit(
        &self,
        sink: &str,
        route: &str,
        f: &Facts,
        read: &View,
        verdict: &Verdict,
        now: DateTime<Utc>,
    ) -> Result<bool, SinkError> {
        let (sink, route, f, v, read) = (
            sink.to_string(),
            route.to_string(),
            f.clone(),
            verdict.clone(),
            read.clone(),
        );
        self.with(move |c| {
            // Immediate: the check and the writes are one step for every writer of
            // the file (the server's flush timer, another process).
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if read_view(&tx, &sink, &route, &f)? != read {
                return Ok(false);
            }
            let next = &v.next;
            if next.decided {
                let decision = match next.pending {
                    Some(subject) => format!("{PENDING}{}", subject.as_str()),
                    None => v.decision.label().to_string(),
                };
                tx.execute(
                    "INSERT OR IGNORE INTO throttle_decided (sink, key, decision, at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![sink, f.key, decision, us(now)],
                )?;
            }
            match next.last_alerted {
                Some(s) => tx.execute(
                    "INSERT INTO throttle_alerted (sink, finding, severity, at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sink, finding) \
                     DO UPDATE SET severity = excluded.severity, at = excluded.at",
                    params![sink, f.finding, s.as_str(), us(now)],
                )?,
                None => tx.execute(
                    "DELETE FROM throttle_alerted WHERE sink = ?1 AND finding = ?2",
                    params![sink, f.finding],
                )?,
            };
            if let Some(d) = next.dedup {
                tx.execute(
                    "INSERT INTO throttle_dedup (sink, route, rule, resource, since, count) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (sink, route, rule, resource) \
                     DO UPDATE SET since = excluded.since, count = excluded.count",
                    params![sink, route, f.rule, f.resource, us(d.since), d.count],
                )?;
            }
            if let Some(w) = next.window {
                tx.execute(
                    "INSERT INTO throttle_windows (sink, route, started_at, flush_at, sent, held) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sink, route) \
                     DO UPDATE SET started_at = excluded.started_at, flush_at = excluded.flush_at, \
                     sent = excluded.sent, held = excluded.held, \
                     flushed = CASE WHEN started_at = excluded.started_at THEN flushed ELSE 0 END",
                    params![
                        sink,
                        route,
                        us(w.started_at),
                        us(w.flush_at),
                        w.sent,
                        w.held
                    ],
                )?;
            }
            if let super::decide::Decision::Hold(subject) = v.decision {
                tx.execute(
                    "INSERT INTO throttle_held (sink, route, subject, severity, account, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        sink,
                        route,
                        subject.as_str(),
                        f.severity.as_str(),
                        f.account,
                        us(now)
                    ],
                )?;
            }
            tx.commit().map(|()| true)
        })
        .await
    }

    async fn settle(&self, sink: &str, key: &str) -> Result<(), SinkError> {
        let (sink, key) = (sink.to_string(), key.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE throttle_decided SET decision = 'send' \
                 WHERE sink = ?1 AND key = ?2 AND decision LIKE 'pending:%'",
                params![sink, key],
            )
            .map(|_| ())
        })
        .await
    }

    async fn due(&self, sink: &str, now: DateTime<Utc>) -> Result<Vec<DueWindow>, SinkError> {
        let sink = sink.to_string();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT started_at, flush_at, sent, held, route, flushed FROM throttle_windows \
                 WHERE sink = ?1 AND flush_at <= ?2 ORDER BY flush_at",
            )?;
            let windows = stmt
                .query_map(params![sink, us(now)], |r| {
                    Ok((window(r)?, r.get::<_, String>(4)?, r.get::<_, u32>(5)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut held_q = c.prepare(
                "SELECT subject, severity, account, at FROM throttle_held \
                 WHERE sink = ?1 AND route = ?2 ORDER BY id",
            )?;
            let mut out = Vec::new();
            for (window, route, flushed) in windows {
                let held = held_q
                    .query_map(params![sink, route], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .into_iter()
                    // A row this version cannot read (written by a newer one) is
                    // skipped rather than failing the whole digest.
                    .filter_map(|(subject, severity, account, at)| {
                        Some(Held {
                            subject: Subject::parse(&subject)?,
                            severity: severity.parse().ok()?,
                            account,
                            at: time(at),
                        })
                    })
                    .collect();
                out.push(DueWindow {
                    route,
                    window,
                    held,
                    flushed,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn close(&self, sink: &str, due: &DueWindow) -> Result<(), SinkError> {
        let (sink, route) = (sink.to_string(), due.route.clone());
        let (started_at, told, sent, flushed) = (
            us(due.window.started_at),
            due.window.held,
            due.window.sent,
            due.flushed,
        );
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now: Option<(u32, u32)> = tx
                .query_row(
                    "SELECT held, sent FROM throttle_windows \
                     WHERE sink = ?1 AND route = ?2 AND started_at = ?3 AND flushed = ?4",
                    params![sink, route, started_at, flushed],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match now {
                // Gone, a newer window, or closed by another flush: nothing to do.
                None => {}
                Some((held, s)) if held <= told && s == sent => {
                    tx.execute(
                        "DELETE FROM throttle_windows WHERE sink = ?1 AND route = ?2",
                        params![sink, route],
                    )?;
                    tx.execute(
                        "DELETE FROM throttle_held WHERE sink = ?1 AND route = ?2",
                        params![sink, route],
                    )?;
                }
                // More happened in it while the digest went: take out only what
                // was told; the rest goes in its next digest.
                Some(_) => {
                    tx.execute(
                        "UPDATE throttle_windows SET held = held - ?3, flushed = flushed + 1 \
                         WHERE sink = ?1 AND route = ?2",
                        params![sink, route, told],
                    )?;
                    tx.execute(
                        "DELETE FROM throttle_held WHERE id IN (SELECT id FROM throttle_held \
                         WHERE sink = ?1 AND route = ?2 ORDER BY id LIMIT ?3)",
                        params![sink, route, told],
                    )?;
                }
            }
            tx.commit()
        })
        .await
    }
}
