//! Connections: one writer (SQLite allows one at a time anyway) and a handful of
//! readers that WAL lets run beside it.

use super::checkpoint::Checkpointer;
use super::connect::connect;
use super::StoreResult;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Mutex;

/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;

pub(super) struct Pool {
    pub(super) path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Checkpointer,
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
