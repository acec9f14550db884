//! Opening a connection with the settings every connection needs. Its own module
//! because the pool and the checkpoint thread (which the pool starts) both open one.

use super::StoreResult;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

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
