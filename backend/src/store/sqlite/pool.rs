//! Connections: one writer (SQLite allows one at a time anyway) and a handful of
//! readers that WAL lets run beside it.

use super::checkpoint::Checkpointer;
use super::StoreResult;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;

pub(super) struct Pool {
    pub(super) path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Checkpointer,
}

/// Opens a connection with the settings every connection needs.
pub(super) fn connect(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // WAL: readers never block the writer; NORMAL sync is durable across process
    // crashes (only an OS crash can lose the last transactions).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -32_000)?; // 32 MB page cache
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

impl Pool {
    pub(super) fn new(path: PathBuf, writer: Connection) -> StoreResult<Self> {
        Ok(Pool {
            checkpointer: Checkpointer::start(&path)?,
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        // A panic while holding the lock cannot leave SQLite inconsistent (the
        // transaction rolls back on drop), so a poisoned lock is safe to reuse.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut conn);
        self.checkpointer.nudge();
        out
    }

    pub(super) fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let out = f(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}
